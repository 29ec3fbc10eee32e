package challenge

import (
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// Blink counting. The open-eye level is the 80th percentile of EAR over the baseline window
// (blinks pull a median down; the 80th percentile stays on open eyes), or over the whole window
// when the baseline has fewer than 5 frames. A blink is a run of frames under
// open·(1−BlinkReopen) that reaches under open·(1−BlinkClose) and reopens within BlinkMaxDur.
// Only blinks starting at or after the ack (minus AckSlack) count. The challenge passes when
// the requested number of blinks fall within BlinkBurst of each other, all starting by the
// deadline: natural blinking (~15/min) rarely packs 2–3 blinks into 4 s, which a bare count over
// the whole 6 s window would allow for a replay far too often.

// minOpenEAR is the lowest open-eye level at which blinks can be told from noise.
const minOpenEAR = 0.12

// dip is one blink: the eye aspect ratio falling and coming back.
type dip struct {
	start, end time.Time
	min        float64
	minAt      time.Time
}

// findDips returns the completed blinks of s.
func findDips(s []sample, closeLvl, reopen float64, maxDur time.Duration) []dip {
	var out []dip
	for i := 0; i < len(s); {
		if s[i].v >= reopen {
			i++
			continue
		}
		j, d := i, dip{start: s[i].t, min: s[i].v, minAt: s[i].t}
		for j < len(s) && s[j].v < reopen {
			if s[j].v < d.min {
				d.min, d.minAt = s[j].v, s[j].t
			}
			j++
		}
		// Keep dips that close enough, reopen inside the series and did not start before it.
		if d.min < closeLvl && j < len(s) && i > 0 {
			d.end = s[j].t
			if d.end.Sub(d.start) <= maxDur {
				out = append(out, d)
			}
		}
		i = j
	}
	return out
}

// burst returns the index of the first run of n dips whose starts lie within span, or -1.
func burst(ds []dip, n int, span time.Duration) int {
	for i := 0; i+n-1 < len(ds); i++ {
		if ds[i+n-1].start.Sub(ds[i].start) <= span {
			return i
		}
	}
	return -1
}

func (c *vctx) blink() verdict {
	s := c.series(func(o models.Observation) (float64, bool) {
		return o.EAR, o.FacePresent && o.LandmarksOK && o.EAR > 0
	})
	base := values(between(s, c.baselineStart(), c.issued))
	if len(base) < 5 {
		base = values(s)
	}
	open := dsp.Quantile(base, 0.8)
	if len(s) == 0 || open < minOpenEAR {
		return inconclusive(ReasonEyesUnmeasurable)
	}
	closeLvl, reopen := open*(1-c.th.BlinkClose), open*(1-c.th.BlinkReopen)
	dips := findDips(s, closeLvl, reopen, c.th.BlinkMaxDur)
	want := max(c.ch.Params.Count, 1)

	var pre, after []dip
	nb := c.notBefore()
	for _, d := range dips {
		if d.start.Before(nb) {
			pre = append(pre, d)
		} else {
			after = append(after, d)
		}
	}
	inTime := 0
	for _, d := range after {
		if !d.start.After(c.deadline) {
			inTime++
		}
	}
	metrics := map[string]float64{
		"open_ear": open, "close_level": closeLvl, "blinks": float64(inTime),
		"baseline_blinks": float64(len(between(dipStarts(pre), c.baselineStart(), c.issued))),
	}
	vd := verdict{peak: float64(inTime), unit: "blinks", metrics: metrics}
	if i := burst(after, want, c.th.BlinkBurst); i >= 0 {
		last := after[i+want-1]
		vd.onset, vd.peakAt, vd.respEnd = after[i].start, last.minAt, last.end
		if last.start.After(c.deadline) {
			vd.outcome, vd.reason = OutcomeFailed, ReasonLate
		} else {
			vd.outcome = OutcomePassed
		}
		return vd
	}
	vd.outcome = OutcomeFailed
	switch {
	case inTime > 0:
		vd.reason = ReasonTooFewBlinks
		vd.onset, vd.peakAt = after[0].start, after[inTime-1].minAt
	case burst(pre, want, c.th.BlinkBurst) >= 0: // the requested blinks came before display
		vd.reason = ReasonBeforePrompt
	default:
		vd.reason = ReasonNoResponse
	}
	return vd
}

// dipStarts returns the start times of ds as samples (for counting with between).
func dipStarts(ds []dip) []sample {
	out := make([]sample, len(ds))
	for i, d := range ds {
		out[i] = sample{t: d.start}
	}
	return out
}
