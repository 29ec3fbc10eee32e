package challenge

import (
	"hash/fnv"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// Flash verification. The page shows Colors[i] from ack + i·step (fade variant: a linear
// cross-fade from Colors[i] to Colors[i+1] over step i, the last colour held for one step).
// Light from the screen shifts the face-region chroma toward the screen colour's own (Cb, Cr),
// so the expected series is the colours converted to YCbCr (BT.601, full range), averaged over
// one frame interval centred on the frame time (the exposure).
//
// For each lag 0..FlashLagSearch in 10 ms steps, the frames with a detected face (not coasting:
// a stale box may hold a lit wall) in
// [ack+lag, ack+lag+length) are compared with the expected colour at (frame time − lag) with
// two statistics, each a Pearson correlation of Cb and Cr stacked together (a channel whose
// expected value barely changes then weighs little):
//
//	level – observed channels linearly detrended (slow white-balance and lighting drift);
//	diff  – changes over k frames, k ≈ a quarter step (1 for flashes, ~4–5 for fades): these
//	        whiten chroma that wanders like a random walk (head movement), which correlates
//	        by chance with any step sequence at some of the 100 lags searched.
//
// The score is the smaller of the two, and the best lag maximises it. Y is reported but not
// scored because auto-exposure fights luma changes.
//
// A score must also be specific to the shown sequence: the same frames are scored against 32
// surrogate sequences drawn like the page's (flashNull), and the shown one must beat the best
// of them by FlashNullMargin. A replayed clip's own chroma changes (the face moving through
// the light, a cut in the loop) correlate with some step sequence at some lag; they do so
// about as well with the surrogates. (Flake finding 1: a slow-moving loop scored 0.53 at
// 580 ms and passed.)
//
// A response is significant when it beats the best surrogate by FlashNullMargin and either
// scores ≥ FlashMinCorr (FadeMinCorr for fades) or lies FlashMinZ surrogate standard
// deviations above the surrogates' mean (z): a correlation is bounded by the reflection's
// signal-to-noise ratio whatever the sequence's length, so a darker skin's weak reflection
// never reaches 0.5 under the same noise, while the surrogates' spread — the statistic's own
// noise on these frames — shrinks with more frames. A significant response at a lag within
// [FlashLagMin, flashLagLimit] passes; at a longer lag it is "late response", at a shorter one
// "implausible lag". A first issue late by no more than FlashLagMax is inconclusive "late
// light, reissued" instead: its reissue (attempt 2) passes or fails on the same rule.
//
// A response that is not significant fails "no response" only on contrary evidence: z under
// FlashWeakZ where a reflection of FlashMinGain (a fiftieth of the red team's) put into these
// frames in place of the fitted one would have reached FlashMinZ (the power), or where the
// chroma changed more than FlashNoiseRatio times as much as before the flash without following
// it (a replayed response to other colours), or on a reissue. Otherwise it is inconclusive
// "weak reflection" and reissued as a sequence twice as long (NewLongFlash).

// flashLagLimit is the longest lag an honest camera shows, for frames interval apart:
//
//	FlashLagFixed + FlashLagFrames × interval   (interval within [1/30 s, 1/5 s]), ≤ FlashLagMax
//
// Light from the screen reaches the face at once. The lag is measured from the display ack's
// arrival to the anchored capture time of the frames that show the light (analysis/anchor.go),
// so what an honest candidate adds is:
//   - the display: the page acks two animation frames after drawing the colours
//     (web/static/prompts.js), about when the frame is presented; the panel shows it within
//     another refresh or two and its response time: ≤ ~50 ms at 60 Hz, 100 allowed;
//   - the pipeline: the anchor adds the video's least one-way delay (encode, pacing, network)
//     while the ack's own network delay is taken off, so encode and pacing remain: ≤ 50 ms;
//   - the camera: the frame time is mid-exposure (the exposure is up to one interval, longer
//     in low light, which is why a camera drops to 7.5 fps in the dark), and the capture
//     timestamp comes after the rest of the exposure, the readout (up to an interval on a
//     rolling shutter) and the transfer: ≤ 2 intervals.
//
// So 150 ms + 2 intervals: 217 ms at 30 fps, 283 ms at 15, 417 ms at 7.5 (FlashLagMax caps it
// below 5 fps). A face swap re-renders every frame after the camera and its processing time
// comes on top (0.2 s for the quickest tools, REDTEAM.md): 330–380 ms in the red team's
// harness at 15 fps, where the honest person reads 140–210 ms (finding 17). The allowances are
// from the physics, not measurements of real webcams (none were measured here). The interval is the analysed frames'
// median gap: a swap that sends 7.5 fps buys itself 133 ms more (the cost of the rule).
func flashLagLimit(th Thresholds, interval time.Duration) time.Duration {
	interval = max(time.Second/30, min(time.Second/5, interval))
	return min(th.FlashLagMax, th.FlashLagFixed+time.Duration(th.FlashLagFrames*float64(interval)))
}

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
	level     float64 // stacked Cb+Cr correlation of detrended levels
	diff      float64 // stacked Cb+Cr correlation of changes over k frames
	cb, cr, y float64 // level correlations per channel
	n         int
	peakAt    time.Time
	scored    bool
}

// score orders lags: both statistics must be high, so rank by the weaker one.
func (f flashScore) score() float64 { return math.Min(f.level, f.diff) }

// flashFrame is a face-present frame with its time since the ack.
type flashFrame struct {
	at        time.Time
	u         time.Duration
	y, cb, cr float64
}

// stackedCorr correlates several channels at once: each observed and expected channel is
// centred, then all are concatenated. Channels whose expected values barely change (yellow vs
// green in Cb) then weigh little instead of adding a noisy correlation of their own.
func stackedCorr(pairs ...[2][]float64) (float64, bool) {
	var x, y []float64
	for _, p := range pairs {
		x = append(x, centred(p[0])...)
		y = append(y, centred(p[1])...)
	}
	return dsp.Pearson(x, y)
}

func centred(v []float64) []float64 {
	var m float64
	for _, x := range v {
		m += x
	}
	m /= float64(max(len(v), 1))
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x - m
	}
	return out
}

// exposed is the screen colour averaged over an exposure of length expo centred on u (the
// frame time is taken as mid-exposure; a transition inside it gives a partial value).
func exposed(cols []ycc, step time.Duration, fade bool, u, expo time.Duration) ycc {
	const sub = 4
	var e ycc
	for k := range sub {
		c := expectedColor(cols, step, fade, u-expo/2+expo*time.Duration(k)/(sub-1))
		e.y, e.cb, e.cr = e.y+c.y/sub, e.cb+c.cb/sub, e.cr+c.cr/sub
	}
	return e
}

// flashWindow is the frames that saw the sequence at one lag, in order: each one's time on
// the sequence's clock (seconds from the first colour), its capture time, its observed face
// colour (o*) and the screen colour averaged over its exposure (e*).
type flashWindow struct {
	ts           []float64
	at           []time.Time
	oy, ocb, ocr []float64
	ey, ecb, ecr []float64
}

// alignFlash matches frames to the sequence's display times at lag: a frame at u (since the
// ack) saw the screen at u−lag; those before the first colour or from the end of the last
// (u−lag outside [0, len(cols)·step)) are left out.
func alignFlash(frames []flashFrame, cols []ycc, step time.Duration, fade bool, lag, expo time.Duration) flashWindow {
	total := time.Duration(len(cols)) * step
	var w flashWindow
	for _, f := range frames {
		u := f.u - lag
		if u < 0 || u >= total {
			continue
		}
		e := exposed(cols, step, fade, u, expo)
		w.ts = append(w.ts, seconds(u))
		w.at = append(w.at, f.at)
		w.oy, w.ocb, w.ocr = append(w.oy, f.y), append(w.ocb, f.cb), append(w.ocr, f.cr)
		w.ey, w.ecb, w.ecr = append(w.ey, e.y), append(w.ecb, e.cb), append(w.ecr, e.cr)
	}
	return w
}

func flashAt(frames []flashFrame, cols []ycc, step time.Duration, fade bool, lag, expo time.Duration, k int) flashScore {
	w := alignFlash(frames, cols, step, fade, lag, expo)
	ts, at := w.ts, w.at
	oy, ocb, ocr, ey, ecb, ecr := w.oy, w.ocb, w.ocr, w.ey, w.ecb, w.ecr
	fs := flashScore{lag: lag, n: len(ts)}
	if len(ts) < minFlashFrames {
		return fs
	}
	dcb, dcr, dy := slices.Clone(ocb), slices.Clone(ocr), slices.Clone(oy)
	dsp.Detrend(ts, dcb)
	dsp.Detrend(ts, dcr)
	dsp.Detrend(ts, dy)
	level, ok1 := stackedCorr([2][]float64{dcb, ecb}, [2][]float64{dcr, ecr})
	diff, ok2 := stackedCorr([2][]float64{diffs(ocb, k), diffs(ecb, k)}, [2][]float64{diffs(ocr, k), diffs(ecr, k)})
	if !ok1 || !ok2 {
		return fs
	}
	fs.level, fs.diff, fs.scored = level, diff, true
	fs.cb, _ = dsp.Pearson(dcb, ecb)
	fs.cr, _ = dsp.Pearson(dcr, ecr)
	fs.y, _ = dsp.Pearson(dy, ey)
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
	total := time.Duration(len(cols)) * step
	var frames, before []flashFrame
	var gaps []float64
	for _, o := range c.obs {
		u := o.At.Sub(c.ref)
		if seen(o) && u < 0 && !o.At.Before(c.baselineStart()) {
			before = append(before, flashFrame{at: o.At, u: u, y: o.FaceY, cb: o.FaceCb, cr: o.FaceCr})
		}
		if !seen(o) || u < 0 || u >= total+c.th.FlashLagSearch {
			continue
		}
		if n := len(frames); n > 0 {
			gaps = append(gaps, float64(o.At.Sub(frames[n-1].at)))
		}
		frames = append(frames, flashFrame{at: o.At, u: u, y: o.FaceY, cb: o.FaceCb, cr: o.FaceCr})
	}
	// Exposure ≈ one frame interval, within reason.
	interval := time.Duration(dsp.Median(gaps))
	expo := max(20*time.Millisecond, min(100*time.Millisecond, interval))
	k := 1 // changes over about a quarter step: one frame for flashes, several for fades
	if interval > 0 {
		k = max(1, int(math.Round(float64(step)/float64(4*interval))))
	}
	best := bestLag(frames, cols, step, p.Fade, expo, k, c.th.FlashLagSearch, flashStep)
	if !best.scored {
		return inconclusive(ReasonNoVideo)
	}
	minCorr := c.th.FlashMinCorr
	if p.Fade {
		minCorr = c.th.FadeMinCorr // longer series: chance correlations are smaller
	}
	null := flashNull(frames, cols, p, step, expo, k, best.lag, c.th.FlashLagSearch)
	z := null.z(best.score())
	lagMax := flashLagLimit(c.th, interval)
	if !c.acked {
		// Measured from the issue: the display came some unknown part of the ack's round trip
		// later, so only the cap can call it late (a pass becomes "no display ack" in Verify).
		lagMax = c.th.FlashLagMax
	}
	// The power: what a face reflecting FlashMinGain of the screen would have scored on
	// these frames' own noise (the fitted response taken out, the minimal one put in at an
	// honest lag). The noise is the window's, unless it is far above the skin signal's
	// before the flash (FlashNoiseRatio): chroma jumping during the flash in a way the shown
	// colours do not explain (a replayed response to another sequence) is not the skin's
	// noise, and a minimal reflection is judged against the pre-flash noise instead.
	nominal := (c.th.FlashLagMin + flashLagLimit(c.th, interval)) / 2
	resid := withResponse(frames, cols, step, p.Fade, expo, best.lag, nominal, 0)
	nw, nb := chromaNoise(resid), chromaNoise(before)
	quieted := len(before) >= minFlashFrames && nb > 0 && nw > c.th.FlashNoiseRatio*nb
	if quieted {
		resid = beforeNoise(frames, before)
	}
	faceY, minGain := flashMinGain(c.th, frames, before)
	minimal := addResponse(resid, cols, step, p.Fade, expo, nominal, minGain)
	power := bestLag(minimal, cols, step, p.Fade, expo, k, c.th.FlashLagSearch, flashStep)
	zMin := null.z(power.score())
	if quieted { // the surrogates' spread on the pre-flash noise, not on the jumping chroma
		zMin = flashNull(minimal, cols, p, step, expo, k, nominal, c.th.FlashLagSearch).z(power.score())
	}
	vd := verdict{
		peak: best.score(), unit: "corr", peakAt: best.peakAt,
		respEnd: c.ref.Add(best.lag + total),
		metrics: map[string]float64{
			"corr": best.score(), "corr_level": best.level, "corr_diff": best.diff,
			"corr_cb": best.cb, "corr_cr": best.cr, "corr_y": best.y,
			"lag_ms": ms(best.lag), "frames": float64(best.n),
			"null_max": null.max, "null_mean": null.mean, "null_sd": null.sd, "null_n": float64(null.n),
			"z": z, "z_min_gain": zMin, "noise": nw, "noise_before": nb, "gain": fittedGain(frames, cols, step, p.Fade, expo, best.lag),
			"lag_max_ms": ms(lagMax), "interval_ms": ms(interval), "face_y": faceY, "min_gain": minGain,
		},
	}
	significant := best.score() >= null.max+c.th.FlashNullMargin && (best.score() >= minCorr || z >= c.th.FlashMinZ)
	if !significant {
		// Not light from the screen, or too little of it to tell from these frames' noise.
		// Contrary evidence fails "no response": no evidence at all (z below FlashWeakZ)
		// where a minimal reflection would have passed (zMin at least FlashMinZ), or where
		// the face's chroma changed during the flash several times more than before it in a
		// way the shown colours do not explain (quieted: a replayed response to another
		// sequence), or on a reissue (a longer sequence). Quieted alone is not contrary: a
		// real reflection the linear fit leaves half in the residual (a codec's dead zone)
		// looks like that too (finding 21: an honest darker face read 0.63 against 0.07).
		// Otherwise the reflection may be there, too weak for this sequence's length:
		// inconclusive, reissued as a longer sequence (darker skin reflects less of the
		// screen; REDTEAM.md finding 21).
		contrary := z < c.th.FlashWeakZ && (quieted || zMin >= c.th.FlashMinZ)
		if contrary || (z < c.th.FlashWeakZ && c.ch.Attempt >= 2) {
			vd.outcome, vd.reason = OutcomeFailed, ReasonNoResponse
		} else {
			vd.outcome, vd.reason = OutcomeInconclusive, ReasonWeakFlash
		}
		return vd
	}
	switch {
	case best.lag > lagMax && best.lag <= c.th.FlashLagMax && c.ch.Attempt < 2:
		// Later than the camera's physics allow, but not by more than the old 600 ms: a
		// first issue is given another chance (ShouldReissue). A face swap's processing is
		// late every time; a sender starved for a few seconds or a one-off slow frame is not.
		vd.outcome, vd.reason = OutcomeInconclusive, ReasonLateOnce
	case best.lag > lagMax:
		vd.outcome, vd.reason = OutcomeFailed, ReasonLate
	case best.lag < c.th.FlashLagMin:
		vd.outcome, vd.reason = OutcomeFailed, ReasonImplausibleLag
	default:
		vd.outcome = OutcomePassed
	}
	vd.onset = c.ref.Add(best.lag)
	return vd
}

// flashMinGain returns the face's luma (the median over the flash's and the pre-flash frames)
// and the least reflection a real skin of that luma shows, for the power test:
// FlashMinGain at FlashGainLuma or brighter, scaled by luma/FlashGainLuma below it. Light from
// the screen reaches the face like the room's and is reflected with the same albedo, so the
// reflected chroma change and the face's own level both scale with the skin's albedo (and
// with the camera's exposure): a darker skin (albedo 0.4: the red team's face at luma 72
// instead of 169) shows 0.4 of a light skin's reflection in chroma levels for the same screen
// and room. An absolute minimum called a dark face's real but weak reflection contrary
// evidence ("no response") where it called a light face's of the same relative strength only
// weak (REDTEAM.md finding 24). Brighter faces keep FlashMinGain: the bar is never raised.
// The decision's other statistics (correlation, z, the surrogates' margin, the noise ratio)
// are ratios of the face's own chroma changes, unchanged by a scale of them.
func flashMinGain(th Thresholds, frames, before []flashFrame) (faceY, gain float64) {
	ys := make([]float64, 0, len(frames)+len(before))
	for _, f := range before {
		ys = append(ys, f.y)
	}
	for _, f := range frames {
		ys = append(ys, f.y)
	}
	gain = th.FlashMinGain
	if len(ys) == 0 || th.FlashGainLuma <= 0 {
		return 0, gain
	}
	faceY = dsp.Median(ys)
	if faceY > 0 && faceY < th.FlashGainLuma {
		gain *= faceY / th.FlashGainLuma
	}
	return faceY, gain
}

// fittedGain is the least-squares gain of the detrended face chroma on the screen's at lag:
// how much of the screen colour's offset the face reflects (≈ the red team renderer's Gain).
func fittedGain(frames []flashFrame, cols []ycc, step time.Duration, fade bool, expo, lag time.Duration) float64 {
	w := alignFlash(frames, cols, step, fade, lag, expo)
	ts, ocb, ocr, ecb, ecr := w.ts, w.ocb, w.ocr, w.ecb, w.ecr
	if len(ts) < minFlashFrames {
		return 0
	}
	dsp.Detrend(ts, ocb)
	dsp.Detrend(ts, ocr)
	var num, den float64
	for _, e := range [][2][]float64{{ocb, centred(ecb)}, {ocr, centred(ecr)}} {
		for j := range e[0] {
			num += e[0][j] * e[1][j]
			den += e[1][j] * e[1][j]
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// withResponse returns the frames with the response fitted at lag (its gain, if positive)
// taken out and a response of gain put in at lag at: what a face reflecting gain of the screen
// would have shown with these frames' other changes and noise.
func withResponse(frames []flashFrame, cols []ycc, step time.Duration, fade bool, expo, lag, at time.Duration, gain float64) []flashFrame {
	fit := max(0, fittedGain(frames, cols, step, fade, expo, lag))
	return addResponse(addResponse(frames, cols, step, fade, expo, lag, -fit), cols, step, fade, expo, at, gain)
}

// addResponse returns the frames with gain of the screen colour's offset added from lag on.
func addResponse(frames []flashFrame, cols []ycc, step time.Duration, fade bool, expo, lag time.Duration, gain float64) []flashFrame {
	total := time.Duration(len(cols)) * step
	out := slices.Clone(frames)
	for i := range out {
		if u := out[i].u - lag; u >= 0 && u < total && gain != 0 {
			e := exposed(cols, step, fade, u, expo)
			out[i].cb += gain * (e.cb - 128)
			out[i].cr += gain * (e.cr - 128)
		}
	}
	return out
}

// beforeNoise returns the frames with their chroma replaced by the pre-flash frames' (each
// channel detrended, then repeated over the window): the skin signal's own noise.
func beforeNoise(frames, before []flashFrame) []flashFrame {
	cb, cr := detrendedChroma(before)
	out := slices.Clone(frames)
	for i := range out {
		out[i].cb, out[i].cr = 128+cb[i%len(cb)], 128+cr[i%len(cr)]
	}
	return out
}

// chromaNoise is the standard deviation of the face chroma (Cb and Cr, each linearly
// detrended: white balance and lighting drift) about its trend.
func chromaNoise(frames []flashFrame) float64 {
	if len(frames) < 3 {
		return 0
	}
	cb, cr := detrendedChroma(frames)
	var ss float64
	for i := range cb {
		ss += cb[i]*cb[i] + cr[i]*cr[i]
	}
	return math.Sqrt(ss / float64(2*len(cb)))
}

// detrendedChroma is the frames' Cb and Cr, each linearly detrended over the frames' times.
func detrendedChroma(frames []flashFrame) (cb, cr []float64) {
	ts := make([]float64, len(frames))
	cb, cr = make([]float64, len(frames)), make([]float64, len(frames))
	for i, f := range frames {
		ts[i], cb[i], cr[i] = seconds(f.u), f.cb, f.cr
	}
	dsp.Detrend(ts, cb)
	dsp.Detrend(ts, cr)
	return cb, cr
}

// bestLag searches lags 0..search in steps of by for the best score.
func bestLag(frames []flashFrame, cols []ycc, step time.Duration, fade bool, expo time.Duration, k int, search, by time.Duration) flashScore {
	var best flashScore
	for lag := time.Duration(0); lag <= search; lag += by {
		fs := flashAt(frames, cols, step, fade, lag, expo, k)
		if fs.scored && (!best.scored || fs.score() > best.score()) {
			best = fs
		}
	}
	return best
}

// Surrogate sequences (flashNull).
const (
	flashSurrogates     = 32  // scored per verification
	flashCandidates     = 128 // sequences drawn to find them
	flashSurrogateMatch = 0.4 // a sequence scoring above this on the ideal response resembles the shown one
	flashNullStep       = 20 * time.Millisecond
)

// nullStats summarises the surrogate sequences' scores on the observed frames: the measured
// noise of the statistic, including the lag search's look-elsewhere effect and the frames' own
// autocorrelated chroma changes.
type nullStats struct {
	mean, sd, max float64
	n             int
}

// flashMinNullSD keeps z finite when the surrogates happen to agree closely.
const flashMinNullSD = 0.02

// z is how many surrogate standard deviations s lies above the surrogates' mean.
func (ns nullStats) z(s float64) float64 {
	if ns.n == 0 {
		return 0
	}
	return (s - ns.mean) / max(ns.sd, flashMinNullSD)
}

// flashNull scores the observed frames on sequences the page did not show:
// drawn as the page's are (same length, Palette, no colour twice in a row), deterministically
// from the challenge's parameters, each searched over the same lags. Sequences that an ideal
// response to the shown one (at any lag of the search) would also match are not used: they
// are the shown sequence in disguise. A face lit by the screen scores well on the shown
// sequence only; chroma that changes for any other reason (a replayed clip's own motion and
// lighting, a head moving) correlates about as well with the surrogates. Returns the
// surrogates' mean, standard deviation and highest score, and how many were scored.
func flashNull(frames []flashFrame, cols []ycc, p Params, step, expo time.Duration, k int, lag, search time.Duration) nullStats {
	h := fnv.New64a()
	for _, c := range p.Colors {
		h.Write([]byte(c))
	}
	rng := mrand.New(mrand.NewPCG(h.Sum64(), uint64(p.StepMS)))
	palette := make([]ycc, len(Palette))
	for i, c := range Palette {
		palette[i], _ = parseColor(c)
	}
	// The ideal response to the shown sequence at the frames' times (at lag, the best lag found).
	ideal := make([]flashFrame, len(frames))
	for i, f := range frames {
		e := exposed(cols, step, p.Fade, f.u-lag, expo)
		ideal[i] = flashFrame{at: f.at, u: f.u, y: e.y, cb: e.cb, cr: e.cr}
	}
	sur := make([]ycc, len(cols))
	var scores []float64
	for range flashCandidates {
		if len(scores) == flashSurrogates {
			break
		}
		prev := -1
		for i := range sur {
			c := rng.IntN(len(palette))
			if prev >= 0 {
				if c = rng.IntN(len(palette) - 1); c >= prev {
					c++
				}
			}
			sur[i], prev = palette[c], c
		}
		if m := bestLag(ideal, sur, step, p.Fade, expo, k, search, 2*flashNullStep); m.scored && m.score() > flashSurrogateMatch {
			continue
		}
		if s := bestLag(frames, sur, step, p.Fade, expo, k, search, flashNullStep); s.scored {
			scores = append(scores, s.score())
		}
	}
	ns := nullStats{n: len(scores)}
	if ns.n == 0 {
		return ns
	}
	ns.max = slices.Max(scores)
	for _, s := range scores {
		ns.mean += s / float64(ns.n)
	}
	for _, s := range scores {
		ns.sd += (s - ns.mean) * (s - ns.mean) / float64(max(1, ns.n-1))
	}
	ns.sd = math.Sqrt(ns.sd)
	return ns
}
