package faceid

import (
	"time"

	"github.com/livecheck/livecheck/models"
)

// The transition faces of cover_face. A face swap loses the face as the hand comes over it and
// needs a moment to find it again after the hand left: for a frame or two on each side of the
// hand the operator's own face shows. The 250 ms clock of a challenge's identity samples
// often falls between those frames (docs/REDTEAM.md finding 13). While a cover_face challenge
// runs (SetCover), the Session embeds, beyond its clock and within a budget, every analysed
// face the gate admits near a transition: the CoverConfig.Before frames just before the
// hand arrives (the caller keeps them: CoverStep tells when to hand them in) and every face
// within CoverConfig.After of a frame the hand covered. Each is compared with the session's
// identity current when it is folded in; like the same-pose faces, they never shape a template.

// CoverConfig configures the transition faces of cover_face. The zero value uses the defaults.
type CoverConfig struct {
	// Before is how many faces just before the hand arrives are embedded (default 2: the
	// caller keeps copies of that many frames while a cover runs).
	Before int
	// After is how long after a frame the hand covered the following faces are embedded
	// (default 500 ms: 7 frames at 15 fps).
	After time.Duration
	// MaxOcclusion: a face vision reads as covered at least this much is a hand frame, never a
	// transition face (default 0.4, cover_face's own "covered" level): an honest face with a
	// hand over half of it and landmarks fitted came within 0.67–0.71 of the person's own
	// identity on the red team's renderer.
	MaxOcclusion float64
	// Budget is the number of faces a cover_face challenge may embed beyond its 250 ms clock
	// (default 24, as PairConfig.Budget); negative: none.
	Budget int
}

// Default values of CoverConfig.
const (
	DefaultCoverBefore       = 2
	DefaultCoverAfter        = 500 * time.Millisecond
	DefaultCoverMaxOcclusion = 0.4
	DefaultCoverBudget       = 24
)

// maxCoverFaces bounds the transition faces a Session keeps (their distances only).
const maxCoverFaces = 64

func (c CoverConfig) withDefaults() CoverConfig {
	if c.Before <= 0 {
		c.Before = DefaultCoverBefore
	}
	if c.After <= 0 {
		c.After = DefaultCoverAfter
	}
	if c.MaxOcclusion <= 0 {
		c.MaxOcclusion = DefaultCoverMaxOcclusion
	}
	if c.Budget == 0 {
		c.Budget = DefaultCoverBudget
	}
	return c
}

// coverFace is a transition face's distance to the identity current when it was folded in.
type coverFace struct {
	at time.Time
	d  float64
}

// usable reports whether the observation's face may be a transition face: the gate's
// criteria that need no pixels (Precheck) and less occlusion than a covered face.
func (c CoverConfig) usable(o *models.Observation, g Gate) bool {
	return o.Occlusion < c.MaxOcclusion && g.Precheck(o) == ""
}

// hand reports whether the hand (or anything) covers the face on this frame: no face, a
// coasting box, no landmarks, or occlusion at the covered level.
func (c CoverConfig) hand(o *models.Observation) bool {
	return !o.FacePresent || o.Coasting || !o.LandmarksOK || o.Occlusion >= c.MaxOcclusion
}

// CoverStep is called for every analysed frame while a cover_face challenge runs, in order.
// now: embed this frame as a transition face (a usable face within CoverConfig.After of a hand
// frame; take it with TakeCover if it is not Due anyway). flush: the hand just arrived after
// usable faces: embed the up to CoverConfig.Before usable frames the caller kept (KeepBefore)
// with TakeCover, as far as CoverLeft allows. keep: a usable face the caller should keep for
// a later flush (it is not embedded now).
func (s *Session) CoverStep(o *models.Observation) (now, flush, keep bool) {
	if !s.coverOn {
		return false, false, false
	}
	c := s.cfg.Cover
	if c.hand(o) {
		flush = !s.coverHand // the first hand frame after faces
		s.coverHand = true
		s.lastHand = o.At
		return false, flush, false
	}
	s.coverHand = false
	if !c.usable(o, s.gate()) {
		return false, false, false
	}
	if !s.lastHand.IsZero() && o.At.Sub(s.lastHand) <= c.After && s.coverLeft > 0 {
		return true, false, false
	}
	return false, false, true
}

// CoverBefore is how many frames the caller keeps for CoverStep's flush.
func (s *Session) CoverBefore() int { return s.cfg.Cover.Before }

// CoverFlushDue reports whether a face kept at kept is to be embedded (TakeCover) in the flush
// at the hand's first frame at hand: within CoverConfig.After of it and the challenge's budget.
func (s *Session) CoverFlushDue(kept, hand time.Time) bool {
	return s.coverLeft > 0 && hand.Sub(kept) <= s.cfg.Cover.After
}

// CoverLeft is how many transition faces the running cover_face challenge may still embed.
func (s *Session) CoverLeft() int { return s.coverLeft }

// TakeCover is Take for a transition face (CoverStep): it leaves the Due clock alone and spends
// one of the challenge's budget. Its face goes only to the transition comparison.
func (s *Session) TakeCover(at time.Time) Taken {
	s.coverLeft--
	return Taken{at: at, challenge: true, coverOnly: true}
}

// ObserveCover is Observe for a transition face (TakeCover, Describe, Fold).
func (s *Session) ObserveCover(f *models.Frame, o *models.Observation) error {
	p := s.TakeCover(o.At)
	smp, why, err := s.Describe(p, f, o)
	_, _, err = s.Fold(p, smp, why, err)
	return err
}

// SetCover tells the session whether the running challenge is cover_face (call after
// SetChallenge): a new cover gets its budget of transition faces.
func (s *Session) SetCover(on bool) {
	if on && !s.coverOn {
		s.coverLeft = max(s.cfg.Cover.Budget, 0)
		s.coverHand, s.lastHand = false, time.Time{}
	}
	s.coverOn = on
}

// keepCover keeps a transition face's distance to the current identity (none before the
// session has one).
func (s *Session) keepCover(smp Sample) {
	t, ok := s.tr.Current()
	if !ok {
		return
	}
	if n := len(s.covers); n >= maxCoverFaces {
		copy(s.covers, s.covers[n-maxCoverFaces+1:])
		s.covers = s.covers[:maxCoverFaces-1]
	}
	s.covers = append(s.covers, coverFace{at: smp.At, d: Distance(smp.D, t)})
}

// CoverCheck is what the transition faces in a window showed: how many were embedded, the
// largest distance to the session's identity, and how many were farther than the threshold.
type CoverCheck struct {
	Faces, Far int
	Max        float64
}

// Covers compares the transition faces embedded in [from, to] with the session's identity:
// far is the distance beyond which a face counts as another person.
func (s *Session) Covers(from, to time.Time, far float64) CoverCheck {
	var r CoverCheck
	for _, c := range s.covers {
		if c.at.Before(from) || c.at.After(to) {
			continue
		}
		r.Faces++
		r.Max = max(r.Max, c.d)
		if c.d > far {
			r.Far++
		}
	}
	return r
}
