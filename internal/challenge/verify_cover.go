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
// Where the face is (faceTrack): the box of the last clear frame of the whole face. While a
// hand is over the face, the cascades keep looking and, in a dim, noisy picture, fire on other
// things: the uncovered half of the face (a box about half the face's width, on the face, read
// "clear" with landmarks fitted to half a face) and things beside it (a shoulder, at the
// cascade's lowest confidence), which the tracker then follows and coasts on. A box under ¾ of
// the face's width is not the face seen clear (a face does not shrink to ¾ of its width, a
// third farther from the camera, within a cover), and a box whose centre is off the face says
// nothing about the face (neither covered nor vanished): both are "between". A face that
// moved is followed through its clear frames; two clear face-sized frames in a row elsewhere
// move it there.
//
// Runs of non-clear frames joined across clear gaps ≤ CoverBridge form holds. A hold of at
// least CoverMin whose frames are mostly covered (at least one, and no fewer than vanished)
// is a hand over half the face; it passes when it starts after the ack (minus AckSlack), by
// the deadline, and clear frames follow it for longer than CoverBridge inside the window.
// A hold made mostly of vanished frames (or of frames off the face, where the tracker lost it)
// is NOT a pass, but not proof either: the pipeline cannot always tell "camera covered" from
// "detector dropped a half-covered face", so it is inconclusive "face vanished" (reissued once).

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

// faceTrack follows where the face is, from the clear frames of the whole face.
type faceTrack struct {
	box     models.Rect // the face: the last clear face-sized box on it; empty before one
	pending models.Rect // a clear face-sized box off the face on the previous frame
}

// centreIn reports whether the centre of b lies in r.
func centreIn(b, r models.Rect) bool {
	cx, cy := b.X+b.W/2, b.Y+b.H/2
	return cx >= r.X && cx < r.X+r.W && cy >= r.Y && cy < r.Y+r.H
}

// classify adjusts the state st of o for where its box is against the face's, and follows the
// face. Frames without a box, or before a clear face was seen, keep their state.
func (f *faceTrack) classify(o models.Observation, st frameState) frameState {
	if !o.FacePresent || o.Face.Empty() {
		f.pending = models.Rect{}
		return st
	}
	if f.box.Empty() {
		if st == stateClear {
			f.box = o.Face
		}
		return st
	}
	on := centreIn(o.Face, f.box)
	if st != stateClear {
		f.pending = models.Rect{}
		if !on {
			return stateBetween // the tracker is on something else: nothing about the face
		}
		return st
	}
	if o.Face.W*4 < f.box.W*3 {
		f.pending = models.Rect{}
		return stateBetween // a part of the face (its uncovered half), not the face seen clear
	}
	switch {
	case on:
		f.box, f.pending = o.Face, models.Rect{}
	case !f.pending.Empty() && centreIn(o.Face, f.pending):
		f.box, f.pending = o.Face, models.Rect{} // the face moved: seen there twice in a row
	default:
		f.pending = o.Face
		return stateBetween // once elsewhere is not yet the face
	}
	return st
}

// coverStates classifies every frame of the window, the face followed from the first frame.
func (c *vctx) coverStates(ref coverRef) (states, raw []frameState) {
	var face faceTrack
	states, raw = make([]frameState, len(c.obs)), make([]frameState, len(c.obs))
	for i, o := range c.obs {
		raw[i] = c.coverState(o, ref)
		states[i] = face.classify(o, raw[i])
	}
	return states, raw
}

// hold is one run of non-clear frames.
type hold struct {
	start, end        time.Time
	covered, vanished int
	offFace           int // frames whose box was not on the face (between)
	maxOcc            float64
	mid               time.Time // a covered frame near the middle (evidence)
	recovered         bool      // two clear frames follow inside the window
}

func (h hold) duration() time.Duration { return h.end.Sub(h.start) }
func (h hold) mostlyCovered() bool     { return h.covered > 0 && h.covered >= h.vanished }
func (h hold) mostlyVanished() bool    { return h.vanished+h.offFace > h.covered }

func (c *vctx) holds() []hold {
	ref := c.coverRef()
	var out []hold
	var cur *hold
	clearRun := 0
	var lastNonClear time.Time
	nb := c.notBefore()
	states, raw := c.coverStates(ref)
	for i, o := range c.obs {
		st := states[i]
		if st == stateClear {
			clearRun++
			if cur != nil && clearRun >= 2 && o.At.Sub(lastNonClear) > c.th.CoverBridge {
				cur.recovered = true
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		clears := clearRun
		clearRun = 0
		if cur != nil && o.At.Sub(lastNonClear) > c.th.CoverBridge && (clears > 0 || c.blipBeforePrompt(*cur, o.At, nb)) {
			// The clear gap was long enough to end the hold. Two or more clear frames in it
			// are the recovery, as above: the same gap, measured to this frame instead of to
			// the last clear one. Without this, three clear frames at 15 fps (200 ms after
			// the hand, under the bridge) then one missed detection (267 ms) ended the hold
			// unrecovered: "hand not removed" with the face clear for the rest of the window
			// (the darker skin, docs/REDTEAM.md finding 34). Fewer than two clear frames:
			// close without recovery. Only a gap with a clear frame in it splits a hold:
			// frames the analysis did not measure (dropped under load) are not a clear face.
			// Except a blip before the prompt: it does not make a response after the prompt
			// one already under way.
			cur.recovered = clears >= 2
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
		case stateBetween:
			if raw[i] != stateBetween {
				cur.offFace++
			}
		}
		cur.maxOcc = max(cur.maxOcc, o.Occlusion)
	}
	if cur != nil {
		out = append(out, *cur)
	}
	for i := range out {
		out[i].mid = c.coveredNear(out[i], states)
	}
	return out
}

// blipBeforePrompt reports whether the open hold h, started before the earliest response time
// nb, is a blip that a frame at the response time at (after nb, past a gap of more than
// CoverBridge with no frame measured in it) must not extend. A starved analysis measures a few
// frames a second and a late sender delivers bursts of which it keeps the newest, so the gap
// can hold the prompt's display; a stray non-clear frame before it (a detector miss, a
// concealed frame in a dim, noisy, low-bitrate picture) is no hand over the face at the display.
// Joined, it made an honest cover that started after the prompt "response before prompt"
// (docs/REDTEAM.md, the dim row, 1 of 20). A blip is what cover() discards anyway as landmark
// noise: non-clear frames spanning less than CoverMin/3. A hand really there at the display
// is seen for longer, and a hand rising just before it, measured at the full frame rate, has
// no gap to split at.
func (c *vctx) blipBeforePrompt(h hold, at, nb time.Time) bool {
	return h.start.Before(nb) && !at.Before(nb) && h.end.Sub(h.start) < c.th.CoverMin/3
}

// coveredNear returns the covered frame closest to the middle of h.
func (c *vctx) coveredNear(h hold, states []frameState) time.Time {
	mid := h.start.Add(h.duration() / 2)
	var best time.Time
	for i, o := range c.obs {
		if o.At.Before(h.start) || o.At.After(h.end) || states[i] != stateCovered {
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
					"covered_frames": float64(h.covered), "vanished_frames": float64(h.vanished),
					"off_face_frames": float64(h.offFace)},
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
