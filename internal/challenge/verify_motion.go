package challenge

import (
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// Head turns, looks and leaning closer are all a scalar signal that must rise beyond a
// threshold above its pre-prompt neutral level:
//
//	turn_head left: +Yaw, right: −Yaw (Yaw > 0 is the candidate's left; never "either way")
//	look up: +Pitch, down: −Pitch
//	move_closer: eye spacing / baseline eye spacing − 1 on frames with landmarks (Scale / baseline
//	Scale − 1 on the others, or throughout when the baseline has no landmarks)
//
// Neutral is the 20th percentile of the oriented signal over the baseline window, so a head
// that was already turning during part of the baseline does not raise it; for angles it is
// clamped to ±NeutralClampDeg (a camera off to the side). A response is an excursion of the
// 3-point-median-smoothed signal beyond the threshold; its onset is found by walking back from
// the crossing while the signal keeps falling, down to 20 % of the threshold. The excursion ends
// when the signal falls back under 40 % of the threshold (hysteresis, and "and back").
//
// move_closer measures the face's size by the spacing of the eye centres (landmarks 36–41 and
// 42–47) rather than by the detector's box. Both grow as 1/distance when a head comes closer, but
// the box is the cascade's window: it cannot extend beyond the picture, so a face that already
// fills the picture or sits near its edge — a larger head, a laptop camera looking up at it —
// reads its growth clipped (docs/REDTEAM.md finding 19 (a): the red team's dim look, head 1.25×, face
// box from y ≈ 36 of 480, leaning in 1.38×: the box read 1.19–1.22× with its top at the frame's
// edge, the eye spacing 67.5 → 93 px, 1.38×). The eyes stay inside the picture until the face
// is twice as close, and their spacing is measured to a pixel rather than in the cascade's
// scale steps. The requirement is unchanged (CloserRatio), so a photo swaying or a clip zooming
// slowly must show the same growth either way; the box is kept for frames without landmarks.
//
// Only an excursion whose onset is at or after the ack (minus AckSlack) counts; one already
// under way at display is "response before prompt" unless a later, separate one follows.

// motionSignal is a kind's oriented signal.
type motionSignal struct {
	value func(models.Observation) (float64, bool)
	ratio bool    // signal = value/neutral − 1 (scale) instead of value − neutral (angles)
	thr   float64 // threshold on the signal
	unit  string
	// alt, when set (ratios only), is the preferred measure of the same quantity: a frame on
	// which it is defined is measured by it relative to its own baseline, the others by value
	// (move_closer: the eye spacing and the face box).
	alt func(models.Observation) (float64, bool)
}

// eyeSpacing is the distance in pixels between the eye centres (landmarks 36–41 and 42–47) of
// a face with landmarks on this frame.
func eyeSpacing(o models.Observation) (float64, bool) {
	if !seen(o) || !o.LandmarksOK {
		return 0, false
	}
	var l, r [2]float64
	for i := 0; i < 6; i++ {
		l[0] += float64(o.Landmarks[36+i][0]) / 6
		l[1] += float64(o.Landmarks[36+i][1]) / 6
		r[0] += float64(o.Landmarks[42+i][0]) / 6
		r[1] += float64(o.Landmarks[42+i][1]) / 6
	}
	d := math.Hypot(l[0]-r[0], l[1]-r[1])
	return d, d > 0
}

func angle(sign float64, f func(models.Observation) float64) func(models.Observation) (float64, bool) {
	return func(o models.Observation) (float64, bool) {
		return sign * f(o), o.FacePresent && o.PoseOK
	}
}

func yaw(o models.Observation) float64   { return o.Yaw }
func pitch(o models.Observation) float64 { return o.Pitch }

// motionSignals returns the requested signal and, when a direction is involved, its opposite.
func (c *vctx) motionSignals() (want motionSignal, opposite *motionSignal) {
	p := c.ch.Params
	switch c.ch.Kind {
	case KindTurnHead:
		sign := 1.0 // left
		if p.Dir == DirRight {
			sign = -1
		}
		want = motionSignal{value: angle(sign, yaw), thr: c.th.TurnDeg, unit: "deg"}
		opposite = &motionSignal{value: angle(-sign, yaw), thr: c.th.TurnDeg, unit: "deg"}
	case KindLook:
		up := motionSignal{value: angle(1, pitch), thr: c.th.LookUpDeg, unit: "deg"}
		down := motionSignal{value: angle(-1, pitch), thr: c.th.LookDownDeg, unit: "deg"}
		want, opposite = up, &down
		if p.Dir == DirDown {
			want, opposite = down, &up
		}
	default: // KindMoveCloser
		want = motionSignal{
			value: func(o models.Observation) (float64, bool) { return o.Scale, seen(o) && o.Scale > 0 },
			ratio: true, thr: c.th.CloserRatio - 1, unit: "ratio",
			alt: eyeSpacing,
		}
	}
	return want, opposite
}

// excursion is one rise of a signal beyond the threshold.
type excursion struct {
	onset     time.Time
	peak      float64
	peakAt    time.Time
	end       time.Time // first sample back under the re-arm level; zero if none
	openStart bool      // above the onset level from the first sample: start unknown
}

// findExcursions returns the excursions of s beyond thr, with onsets at onsetLvl and the end
// at rearmLvl (onsetLvl < rearmLvl < thr).
func findExcursions(s []sample, thr, onsetLvl, rearmLvl float64) []excursion {
	m := median3(s)
	tol := 0.02 * thr
	var out []excursion
	var cur *excursion
	for i, x := range m {
		if cur == nil {
			if x.v < thr {
				continue
			}
			j := i
			for j > 0 && m[j-1].v > onsetLvl && m[j-1].v < m[j].v+tol {
				j--
			}
			cur = &excursion{onset: m[j].t, openStart: j == 0 && m[0].v > onsetLvl, peak: x.v, peakAt: x.t}
		}
		if x.v > cur.peak {
			cur.peak, cur.peakAt = x.v, x.t
		}
		if x.v <= rearmLvl {
			cur.end = x.t
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// signal builds the oriented, neutral-relative series of m. ok is false without a baseline
// where one is required (ratios).
func (c *vctx) signal(m motionSignal) (s []sample, neutral float64, baseN int, ok bool) {
	raw := c.series(m.value)
	base := values(between(raw, c.baselineStart(), c.issued))
	baseN = len(base)
	switch {
	case baseN >= 3:
		neutral = dsp.Quantile(base, 0.2)
	case m.ratio:
		return nil, 0, baseN, false
	}
	if !m.ratio {
		neutral = math.Max(-c.th.NeutralClampDeg, math.Min(c.th.NeutralClampDeg, neutral))
	}
	s = relative(raw, neutral, m.ratio)
	if m.alt != nil && m.ratio {
		s = c.preferAlt(s, m.alt)
	}
	return s, neutral, baseN, true
}

// preferAlt replaces the samples of s (a ratio series) at the frames where alt is defined by
// alt's own ratio to its baseline neutral (the 20th percentile, as signal's), and adds alt's
// frames s lacks. Without 3 baseline frames of alt, s is returned as it is.
func (c *vctx) preferAlt(s []sample, alt func(models.Observation) (float64, bool)) []sample {
	raw := c.series(alt)
	base := values(between(raw, c.baselineStart(), c.issued))
	if len(base) < 3 {
		return s
	}
	c.altNeutral = dsp.Quantile(base, 0.2)
	byT := make(map[time.Time]float64, len(raw))
	for _, x := range relative(raw, c.altNeutral, true) {
		byT[x.t] = x.v
	}
	out := make([]sample, 0, len(raw)+len(s))
	for _, x := range s {
		if v, ok := byT[x.t]; ok {
			x.v = v
			delete(byT, x.t)
			c.altFrames++
		}
		out = append(out, x)
	}
	for t, v := range byT {
		out = append(out, sample{t, v})
		c.altFrames++
	}
	slices.SortStableFunc(out, func(a, b sample) int { return a.t.Compare(b.t) })
	return out
}

// relative returns raw relative to neutral: a difference, or a ratio minus one.
func relative(raw []sample, neutral float64, ratio bool) []sample {
	s := make([]sample, len(raw))
	for i, x := range raw {
		if ratio {
			s[i] = sample{x.t, x.v/neutral - 1}
		} else {
			s[i] = sample{x.t, x.v - neutral}
		}
	}
	return s
}

// responses splits the excursions of s into the first that counts and the one (if any) that
// was already under way at display time.
func (c *vctx) responses(s []sample, thr float64) (first, pre *excursion) {
	exs := findExcursions(s, thr, 0.2*thr, 0.4*thr)
	nb := c.notBefore()
	for i := range exs {
		ex := &exs[i]
		if ex.openStart || ex.onset.Before(nb) {
			if ex.end.IsZero() || !ex.end.Before(c.ref) {
				pre = ex // still under way when the prompt was shown
			}
			continue
		}
		return ex, pre
	}
	return nil, pre
}

// lostAtPeak finds the face (or its pose) disappearing for more than lostGap while the
// movement was well under way (≥ 60 % of the threshold) after display: the turn may have gone
// beyond what the detector or the pose solver follows. That is not a pass — a forged face
// failing at large angles looks the same — but not a failure either.
func (c *vctx) lostAtPeak(s []sample, thr float64) (time.Time, bool) {
	nb := c.notBefore()
	for i, x := range s {
		if x.t.Before(nb) || x.t.After(c.deadline) || x.v < 0.6*thr {
			continue
		}
		if i+1 == len(s) && c.end.Sub(x.t) > lostGap || i+1 < len(s) && s[i+1].t.Sub(x.t) > lostGap {
			return x.t, true
		}
	}
	return time.Time{}, false
}

// lostGap is the shortest loss of the measurement that lostAtPeak reports.
const lostGap = 300 * time.Millisecond

func (c *vctx) motion() verdict {
	want, opposite := c.motionSignals()
	s, neutral, baseN, ok := c.signal(want)
	if !ok {
		return inconclusive(ReasonNoBaseline)
	}
	metrics := map[string]float64{"neutral": neutral, "baseline_frames": float64(baseN), "threshold": want.thr}
	if c.altNeutral > 0 { // move_closer measured by the eye spacing (px) on altFrames frames
		metrics["eye_neutral"], metrics["eye_frames"] = c.altNeutral, float64(c.altFrames)
	}
	peakOf := func(v float64) float64 {
		if want.ratio {
			return 1 + v
		}
		return v
	}
	first, pre := c.responses(s, want.thr)
	if first != nil {
		vd := verdict{onset: first.onset, peak: peakOf(first.peak), unit: want.unit, peakAt: first.peakAt, metrics: metrics}
		vd.respEnd = first.end
		switch {
		case first.onset.After(c.deadline):
			vd.outcome, vd.reason = OutcomeFailed, ReasonLate
		case c.ch.Kind == KindTurnHead && first.end.IsZero():
			vd.outcome, vd.reason = OutcomeFailed, ReasonNoReturn
		default:
			vd.outcome = OutcomePassed
		}
		return vd
	}
	if opposite != nil {
		// Same pose neutral, seen from the other side.
		os := relative(c.series(opposite.value), -neutral, false)
		if of, _ := c.responses(os, opposite.thr); of != nil && !of.onset.After(c.deadline) {
			vd := failed(ReasonWrongDirection)
			vd.onset, vd.peak, vd.unit, vd.peakAt, vd.metrics = of.onset, -of.peak, want.unit, of.peakAt, metrics
			return vd
		}
	}
	if pre != nil {
		vd := failed(ReasonBeforePrompt)
		vd.peak, vd.unit, vd.peakAt, vd.metrics = peakOf(pre.peak), want.unit, pre.peakAt, metrics
		metrics["early_onset_ms"] = ms(pre.onset.Sub(c.ref))
		return vd
	}
	if at, ok := c.lostAtPeak(s, want.thr); ok {
		vd := inconclusive(ReasonLostAtPeak)
		vd.onset, vd.unit, vd.metrics = time.Time{}, want.unit, metrics
		metrics["lost_after_ms"] = ms(at.Sub(c.ref))
		return vd
	}
	// No crossing: report how far the signal went after display.
	vd := failed(ReasonNoResponse)
	vd.unit, vd.metrics, vd.peak = want.unit, metrics, peakOf(0)
	best := math.Inf(-1)
	for _, x := range median3(s) {
		if !x.t.Before(c.notBefore()) && !x.t.After(c.deadline) && x.v > best {
			best, vd.peak, vd.peakAt = x.v, peakOf(x.v), x.t
		}
	}
	if best >= 0.4*want.thr {
		vd.reason = ReasonInsufficient
	}
	return vd
}
