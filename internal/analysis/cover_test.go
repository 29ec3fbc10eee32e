package analysis

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// scriptedAnalyzer returns the observation its script gives for each frame's capture time,
// as vision does: a coasting frame keeps the last box with no landmarks.
type scriptedAnalyzer struct {
	obs func(at time.Time) models.Observation
}

func (a scriptedAnalyzer) Measure(f *models.Frame) (models.Observation, error) {
	return a.obs(f.Capture), nil
}
func (scriptedAnalyzer) Close() error { return nil }

// TestCoverFacePassesThroughTheSession is the regression test of the red team's finding that
// cover_face failed for honest responders over the live path: vision reports a hand over the
// face as a coasting box (detector missed, box kept, no landmarks), and the session cleared
// FacePresent on such frames before the challenge runner saw them, so every covered frame
// looked like an empty picture ("face vanished", or "no response"). The runner must get the
// coasting box; the session's own face series still counts it as no face.
func TestCoverFacePassesThroughTheSession(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	clock := t0
	now := func() time.Time { return clock }
	e := New(Config{Logger: quietLogger(), Now: now, Challenges: ChallengeConfig{Enabled: true,
		Plan: challenge.PlanConfig{Count: 1, Kinds: []challenge.Kind{challenge.KindCoverFace, challenge.KindBlink}}}})
	box := models.Rect{X: 250, Y: 120, W: 120, H: 120}
	issued := t0.Add(3 * time.Second)
	handFrom, handTo := issued.Add(900*time.Millisecond), issued.Add(3300*time.Millisecond)
	an := scriptedAnalyzer{obs: func(at time.Time) models.Observation {
		if !at.Before(handFrom) && at.Before(handTo) { // the hand: the detector misses, the box coasts
			return models.Observation{FacePresent: true, Coasting: true, Face: box, Occlusion: 0.89, FaceY: 150, FaceCb: 110, FaceCr: 152}
		}
		return models.Observation{FacePresent: true, Face: box, FaceConf: 0.9, LandmarksOK: true, PoseOK: true,
			Occlusion: 0.03, FaceY: 160, FaceCb: 112, FaceCr: 145, EAR: 0.33, Scale: 0.19}
	}}
	frame := func(s *Session, at time.Time) {
		if err := s.observe(an, &models.Frame{Width: 2, Height: 2, Y: make([]byte, 4), U: make([]byte, 1), V: make([]byte, 1), Capture: at}); err != nil {
			t.Fatal(err)
		}
	}
	step := time.Second / 15
	s, st, at := sessionAt(t, e, challenge.KindCoverFace, 9, t0, issued, step, func(at time.Time) { clock = at }, frame)
	id := st.Running.ID
	defer s.End(models.EndCompleted, now())
	s.Shown(id, issued.Add(50*time.Millisecond))
	for end := issued.Add(14 * time.Second); at.Before(end); at = at.Add(step) {
		frame(s, at)
	}
	clock = at.Add(3 * time.Second)
	res := s.ch.runner.Poll(clock)
	if len(res) != 1 {
		t.Fatalf("%d results after the window", len(res))
	}
	r := res[0]
	if r.Kind != challenge.KindCoverFace || r.Outcome != challenge.OutcomePassed {
		t.Fatalf("cover_face over the session: %s %s (%s), metrics %v; want passed", r.Kind, r.Outcome, r.Reason, r.Metrics)
	}
	if r.Metrics["covered_frames"] < 20 {
		t.Errorf("covered frames %v, want the ~36 frames of the hand", r.Metrics["covered_frames"])
	}
	// The session's own face series still counts a coasting box as no face.
	s.mu.Lock()
	defer s.mu.Unlock()
	var noFace int
	for _, p := range s.face {
		if p.V == 0 {
			noFace++
		}
	}
	if noFace < 30 {
		t.Errorf("face series: %d points without a face, want the covered frames", noFace)
	}
}

// sessionAt opens sessions of e until the first "challenge now" runs kind: the plan alternates
// its kinds from a random first one (1 in 2 each; 40 misses in a row: 1e-12). Each session gets
// frames every step from t0 to issued (frame), then the press at issued; setClock moves the
// engine's clock. It returns the session, its challenge state after the press and the time of
// the next frame.
func sessionAt(t *testing.T, e *Engine, kind challenge.Kind, firstID int64, t0, issued time.Time, step time.Duration,
	setClock func(time.Time), frame func(*Session, time.Time)) (*Session, wire.ChallengeState, time.Time) {
	t.Helper()
	for i := int64(0); i < 40; i++ {
		setClock(t0)
		s := e.Open(firstID+i, &recordingOutlet{})
		at := t0
		for ; at.Before(issued); at = at.Add(step) {
			frame(s, at)
		}
		setClock(issued)
		if err := s.ChallengeNow(); err != nil {
			t.Fatal(err)
		}
		if st := s.ChallengeState(); st.Running != nil && st.Running.Kind == string(kind) {
			return s, st, at
		}
		s.End(models.EndCompleted, issued)
	}
	t.Fatalf("no plan started with %s", kind)
	return nil, wire.ChallengeState{}, time.Time{}
}
