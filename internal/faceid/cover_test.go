package faceid

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// coverObs is frame i of a cover at 15 fps from t0: a landmarked frontal face, or (hand) a
// coasting box without landmarks, covered.
func coverObs(t0 time.Time, i int, hand bool, occ float64) *models.Observation {
	at := t0.Add(time.Duration(i) * time.Second / 15)
	if hand {
		return &models.Observation{At: at, FacePresent: true, Coasting: true, Occlusion: 0.89}
	}
	o := turnObs(at, 2)
	o.Occlusion = occ
	return o
}

// TestSessionCoverStep: while a cover_face challenge runs, the usable faces (landmarks, less
// occlusion than CoverConfig.MaxOcclusion) within After of a hand frame are embedded at once,
// the faces before the hand are kept for a flush at the hand's first frame, a half-covered
// face is neither; transition faces never reach the identity track, are compared with the
// session's identity (Covers), and stop at the challenge's budget (renewed by the next cover).
// Outside a cover nothing is due.
func TestSessionCoverStep(t *testing.T) {
	a, b := person(1), person(2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	face := a
	e := &poseEmbedder{face: func(time.Time) Descriptor { return face }}
	s := NewSession(e, SessionConfig{Cover: CoverConfig{Budget: 5}})
	for i := 0; i < 5; i++ { // the session's identity: a
		if _, _, err := s.Observe(nil, coverObs(t0, i, false, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if now, flush, keep := s.CoverStep(coverObs(t0, 5, false, 0)); now || flush || keep {
		t.Error("a cover step outside cover_face")
	}
	s.SetChallenge(true)
	s.SetCover(true)
	type step struct{ now, flush, keep bool }
	for _, c := range []struct {
		i    int
		hand bool
		occ  float64
		want step
	}{
		{10, false, 0.02, step{keep: true}},             // before the hand: kept
		{11, false, 0.45, step{}},                       // half covered: a hand frame, the first after faces
		{12, true, 0, step{}},                           // the hand
		{13, false, 0.1, step{now: true}},               // just after it
		{14, false, 0.3, step{now: true}},               // just after it, mildly covered
		{20, false, 0.02, step{now: false, keep: true}}, // 0.47 s after the hand: too late
	} {
		now, flush, keep := s.CoverStep(coverObs(t0, c.i, c.hand, c.occ))
		if c.i == 11 {
			c.want.flush = true
		}
		if (step{now, flush, keep}) != c.want {
			t.Errorf("frame %d (hand %v, occlusion %.2f): %+v, want %+v", c.i, c.hand, c.occ, step{now, flush, keep}, c.want)
		}
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second / 15) }
	if !s.CoverFlushDue(at(10), at(11)) || s.CoverFlushDue(at(2), at(11)) {
		t.Error("the flush takes the kept faces within After of the hand, and only those")
	}
	// The operator's face (b) in transition faces: compared with the identity (a), kept apart.
	face = b
	n, last := s.Embedded(), s.last
	for i := 30; i < 35; i++ {
		if err := s.ObserveCover(nil, coverObs(t0, i, false, 0.02)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Embedded() != n || !s.last.Equal(last) {
		t.Errorf("transition faces reached the identity track (%d embedded, was %d) or moved its clock", s.Embedded(), n)
	}
	if s.CoverLeft() != 0 {
		t.Errorf("budget left %d", s.CoverLeft())
	}
	cc := s.Covers(t0, t0.Add(time.Hour), 0.7)
	if cc.Faces != 5 || cc.Far != 5 || cc.Max < 0.7 {
		t.Errorf("covers %+v, want 5 faces of another person", cc)
	}
	s.CoverStep(coverObs(t0, 41, true, 0))
	if now, _, _ := s.CoverStep(coverObs(t0, 42, false, 0.02)); now || s.CoverFlushDue(at(42), at(42)) {
		t.Error("due beyond the budget")
	}
	s.SetCover(false)
	s.SetChallenge(false)
	s.SetChallenge(true)
	s.SetCover(true)
	if s.CoverLeft() != 5 {
		t.Errorf("a new cover got %d faces of budget, want 5", s.CoverLeft())
	}
	if now, _, _ := s.CoverStep(coverObs(t0, 50, false, 0.02)); now {
		t.Error("the previous cover's hand made a face due")
	}
}
