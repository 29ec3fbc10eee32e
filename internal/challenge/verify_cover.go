package challenge

import (
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// cover_face rule. Each frame is one of:
//
//	covered  – a face box is still there (detected, or the tracker coasting on it after the
//	           detector missed) with Occlusion ≥ CoverOcclusion or no landmarks, the box is not
//	           dark and its chroma is still skin-like (within CoverChromaDist of the
//	           baseline face): a hand over part of a face that is still there;
//	vanished – no face box; or a coasting box that went dark (camera covered: FaceY <
//	           MinFaceY) or whose chroma left the face's (the candidate left and the box now
//	           holds the wall);
//	clear    – face detected, landmarks found and Occlusion < ClearOcclusion;
//	between  – anything else (mild occlusion): neither starts nor ends a hold by itself.
//
// Runs of non-clear frames joined across clear gaps ≤ CoverBridge form holds. A hold of at
// least CoverMin whose frames are mostly covered (at least one, and no fewer than vanished)
// is a hand over half the face; it passes when it starts after the ack (minus AckSlack), by
// the deadline, and clear frames follow it for longer than CoverBridge inside the window.
// A hold made mostly of vanished frames is NOT a pass, but not proof either: the pipeline
// cannot always tell "camera covered" from "detector dropped a half-covered face", so it is
// inconclusive "face vanished" (reissued once).

type frameState int

const (
	stateClear frameState = iota
	stateCovered
	stateVanished
	stateBetween // face and landmarks there, occlusion between the two levels
)

// coverRef is the clear face's chroma from the baseline; ok is false without one.
type coverRef struct {
	cb, cr float64
	ok     bool
}

func (c *vctx) coverRef() coverRef {
	var cbs, crs []float64
	for _, o := range c.obs {
		if o.At.Before(c.issued) && seen(o) && o.LandmarksOK && o.Occlusion < c.th.ClearOcclusion {
			cbs, crs = append(cbs, o.FaceCb), append(crs, o.FaceCr)
		}
	}
	if len(cbs) < 3 {
		return coverRef{}
	}
	return coverRef{dsp.Median(cbs), dsp.Median(crs), true}
}

func (c *vctx) coverState(o models.Observation, ref coverRef) frameState {
	switch {
	case !o.FacePresent:
		return stateVanished
	case o.Coasting && o.FaceY < c.th.MinFaceY:
		return stateVanished // camera covered: the stale box is black
	case o.Coasting && ref.ok && math.Hypot(o.FaceCb-ref.cb, o.FaceCr-ref.cr) > c.th.CoverChromaDist:
		return stateVanished // not skin any more: the box holds the background
	case o.Occlusion >= c.th.CoverOcclusion || !o.LandmarksOK || o.Coasting:
		return stateCovered
	case o.Occlusion < c.th.ClearOcclusion:
		return stateClear
	}
	return stateBetween
}

// hold is one run of non-clear frames.
type hold struct {
	start, end        time.Time
	covered, vanished int
	maxOcc            float64
	mid               time.Time // a covered frame near the middle (evidence)
	recovered         bool      // two clear frames follow inside the window
}

func (h hold) duration() time.Duration { return h.end.Sub(h.start) }
func (h hold) mostlyCovered() bool     { return h.covered > 0 && h.covered >= h.vanished }
func (h hold) mostlyVanished() bool    { return h.vanished > h.covered }

func (c *vctx) holds() []hold {
	ref := c.coverRef()
	var out []hold
	var cur *hold
	clearRun := 0
	var lastNonClear time.Time
	for _, o := range c.obs {
		st := c.coverState(o, ref)
		if st == stateClear {
			clearRun++
			if cur != nil && clearRun >= 2 && o.At.Sub(lastNonClear) > c.th.CoverBridge {
				cur.recovered = true
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		hadClear := clearRun > 0
		clearRun = 0
		if cur != nil && hadClear && o.At.Sub(lastNonClear) > c.th.CoverBridge {
			// The clear gap was long, but fewer than two clear frames: close without recovery.
			// Only a gap with a clear frame in it splits a hold: frames the analysis did not
			// measure (dropped under load) are not a clear face.
			out = append(out, *cur)
			cur = nil
		}
		if cur == nil {
			cur = &hold{start: o.At}
		}
		lastNonClear = o.At
		cur.end = o.At
		switch st {
		case stateCovered:
			cur.covered++
		case stateVanished:
			cur.vanished++
		}
		cur.maxOcc = max(cur.maxOcc, o.Occlusion)
	}
	if cur != nil {
		out = append(out, *cur)
	}
	for i := range out {
		out[i].mid = c.coveredNear(out[i], ref)
	}
	return out
}

// coveredNear returns the covered frame closest to the middle of h.
func (c *vctx) coveredNear(h hold, ref coverRef) time.Time {
	mid := h.start.Add(h.duration() / 2)
	var best time.Time
	for _, o := range c.obs {
		if o.At.Before(h.start) || o.At.After(h.end) || c.coverState(o, ref) != stateCovered {
			continue
		}
		if best.IsZero() || absDur(o.At.Sub(mid)) < absDur(best.Sub(mid)) {
			best = o.At
		}
	}
	if best.IsZero() {
		return mid
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (c *vctx) cover() verdict {
	nb := c.notBefore()
	var short, vanished, pre *hold
	hs := c.holds()
	for i := range hs {
		h := &hs[i]
		long := h.duration() >= c.th.CoverMin
		switch {
		case h.start.Before(nb):
			if long && h.mostlyCovered() && !h.end.Before(c.ref) {
				pre = h // hand already over the face when the prompt was shown
			}
		case !long:
			// A try that was too brief; blips under a third of CoverMin are landmark noise.
			if h.mostlyCovered() && short == nil && !h.start.After(c.deadline) && h.duration() >= c.th.CoverMin/3 {
				short = h
			}
		case !h.mostlyCovered():
			if h.mostlyVanished() && vanished == nil && !h.start.After(c.deadline) {
				vanished = h
			}
		default:
			vd := verdict{
				onset: h.start, peak: seconds(h.duration()), unit: "s", peakAt: h.mid, respEnd: h.end,
				metrics: map[string]float64{"hold_ms": ms(h.duration()), "max_occlusion": h.maxOcc,
					"covered_frames": float64(h.covered), "vanished_frames": float64(h.vanished)},
			}
			switch {
			case h.start.After(c.deadline):
				vd.outcome, vd.reason = OutcomeFailed, ReasonLate
			case !h.recovered:
				vd.outcome, vd.reason = OutcomeFailed, ReasonNoRecovery
			default:
				vd.outcome = OutcomePassed
			}
			return vd
		}
	}
	describe := func(vd verdict, h *hold) verdict {
		vd.onset, vd.peak, vd.unit, vd.peakAt, vd.respEnd = h.start, seconds(h.duration()), "s", h.mid, h.end
		vd.metrics = map[string]float64{"hold_ms": ms(h.duration()), "max_occlusion": h.maxOcc}
		return vd
	}
	switch {
	case vanished != nil:
		return describe(inconclusive(ReasonFaceVanished), vanished)
	case pre != nil:
		vd := describe(failed(ReasonBeforePrompt), pre)
		vd.onset = time.Time{}
		return vd
	case short != nil:
		return describe(failed(ReasonCoverTooShort), short)
	}
	return verdict{outcome: OutcomeFailed, reason: ReasonNoResponse, unit: "s"}
}
