package challenge

import (
	"math"
	"strconv"
	"time"
)

// Flash verification. The page shows Colors[i] from ack + i·step (fade variant: a linear
// cross-fade from Colors[i] to Colors[i+1] over step i, the last colour held for one step).
// Light from the screen shifts the face-region chroma toward the screen colour's own (Cb, Cr),
// so the expected series is the colours converted to YCbCr (BT.601, full range). For each lag
// 0..FlashLagSearch in 10 ms steps, the face-present frames in [ack+lag, ack+lag+length) are
// compared with the expected colour at (frame time − lag): each observed channel is detrended
// (removes slow auto-white-balance and lighting drift) and Pearson-correlated with the expected
// channel. The score is the mean of the Cb and Cr correlations; Y is reported but not scored
// because auto-exposure fights luma changes. Best score ≥ FlashMinCorr at a lag within
// [FlashLagMin, FlashLagMax] passes; a good score at a longer lag is "late response", at a
// shorter one "implausible lag"; otherwise — a replayed or injected face does not follow the
// colours — "no response".

// flashStep is the lag search resolution.
const flashStep = 10 * time.Millisecond

// minFlashFrames is the fewest frames a lag is scored on.
const minFlashFrames = 8

// ycc is a colour in YCbCr.
type ycc struct{ y, cb, cr float64 }

// parseColor converts "#rrggbb" to YCbCr (BT.601 full range); ok is false when malformed.
func parseColor(s string) (ycc, bool) {
	if len(s) != 7 || s[0] != '#' {
		return ycc{}, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return ycc{}, false
	}
	r, g, b := float64(v>>16&0xff), float64(v>>8&0xff), float64(v&0xff)
	return ycc{
		y:  0.299*r + 0.587*g + 0.114*b,
		cb: 128 - 0.168736*r - 0.331264*g + 0.5*b,
		cr: 128 + 0.5*r - 0.418688*g - 0.081312*b,
	}, true
}

// expectedColor returns the colour on screen at offset u from the first colour.
func expectedColor(cols []ycc, step time.Duration, fade bool, u time.Duration) ycc {
	i := int(u / step)
	i = max(0, min(i, len(cols)-1))
	if !fade || i+1 >= len(cols) {
		return cols[i]
	}
	f := float64(u-time.Duration(i)*step) / float64(step)
	a, b := cols[i], cols[i+1]
	return ycc{a.y + (b.y-a.y)*f, a.cb + (b.cb-a.cb)*f, a.cr + (b.cr-a.cr)*f}
}

// flashScore is the correlation at one lag.
type flashScore struct {
	lag       time.Duration
	corr      float64 // mean of the Cb and Cr correlations
	cb, cr, y float64
	n         int
	peakAt    time.Time
	scored    bool
}

func (c *vctx) flashAt(cols []ycc, step time.Duration, fade bool, lag time.Duration) flashScore {
	total := time.Duration(len(cols)) * step
	from := c.ref.Add(lag)
	to := from.Add(total)
	var ts, oy, ocb, ocr, ey, ecb, ecr []float64
	var at []time.Time
	for _, o := range c.obs {
		if !o.FacePresent || o.At.Before(from) || !o.At.Before(to) {
			continue
		}
		e := expectedColor(cols, step, fade, o.At.Sub(from))
		ts = append(ts, seconds(o.At.Sub(from)))
		at = append(at, o.At)
		oy, ocb, ocr = append(oy, o.FaceY), append(ocb, o.FaceCb), append(ocr, o.FaceCr)
		ey, ecb, ecr = append(ey, e.y), append(ecb, e.cb), append(ecr, e.cr)
	}
	fs := flashScore{lag: lag, n: len(ts)}
	if len(ts) < minFlashFrames {
		return fs
	}
	dcb, dcr := detrend(ts, ocb), detrend(ts, ocr)
	rcb, okcb := pearson(dcb, ecb)
	rcr, okcr := pearson(dcr, ecr)
	fs.y, _ = pearson(detrend(ts, oy), ey)
	fs.cb, fs.cr = rcb, rcr
	switch {
	case okcb && okcr:
		fs.corr = (rcb + rcr) / 2
	case okcb:
		fs.corr = rcb
	case okcr:
		fs.corr = rcr
	default:
		return fs
	}
	fs.scored = true
	best := -1.0
	for i := range dcb {
		if d := math.Hypot(dcb[i], dcr[i]); d > best {
			best, fs.peakAt = d, at[i]
		}
	}
	return fs
}

func (c *vctx) flash() verdict {
	p := c.ch.Params
	var cols []ycc
	for _, s := range p.Colors {
		col, ok := parseColor(s)
		if !ok {
			return failed("malformed colour " + strconv.Quote(s))
		}
		cols = append(cols, col)
	}
	if len(cols) == 0 || p.StepMS <= 0 {
		return failed("empty flash sequence")
	}
	step := time.Duration(p.StepMS) * time.Millisecond
	var best flashScore
	for lag := time.Duration(0); lag <= c.th.FlashLagSearch; lag += flashStep {
		fs := c.flashAt(cols, step, p.Fade, lag)
		if fs.scored && (!best.scored || fs.corr > best.corr) {
			best = fs
		}
	}
	if !best.scored {
		return inconclusive(ReasonNoVideo)
	}
	vd := verdict{
		peak: best.corr, unit: "corr", peakAt: best.peakAt,
		respEnd: c.ref.Add(best.lag + time.Duration(len(cols))*step),
		metrics: map[string]float64{
			"corr": best.corr, "corr_cb": best.cb, "corr_cr": best.cr, "corr_y": best.y,
			"lag_ms": ms(best.lag), "frames": float64(best.n),
		},
	}
	switch {
	case best.corr < c.th.FlashMinCorr:
		vd.outcome, vd.reason = OutcomeFailed, ReasonNoResponse
		return vd
	case best.lag > c.th.FlashLagMax:
		vd.outcome, vd.reason = OutcomeFailed, ReasonLate
	case best.lag < c.th.FlashLagMin:
		vd.outcome, vd.reason = OutcomeFailed, ReasonImplausibleLag
	default:
		vd.outcome = OutcomePassed
	}
	vd.onset = c.ref.Add(best.lag)
	return vd
}
