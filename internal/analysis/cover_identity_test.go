package analysis

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// TestChallengeCoverTransitions: over the session's live path (challenge runner, identity stage
// inline), a cover_face whose hand covers the face from 0.93 s to 3.33 s passes with the same
// person throughout, and fails for the different face as the hand moved when the two frames
// just before the hand and the two just after it show another person (a swap dropping out as
// the hand comes and goes): the identity stage's 250 ms clock catches one of those four faces,
// the transition faces (faceid.CoverConfig) all of them. Their metrics are stored with the
// result.
func TestChallengeCoverTransitions(t *testing.T) {
	a, b := unitDescriptor(1), unitDescriptor(2)
	step := time.Second / 15
	for _, c := range []struct {
		name string
		swap bool
		want challenge.Outcome
	}{{"honest", false, challenge.OutcomePassed}, {"dropout", true, challenge.OutcomeFailed}} {
		t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
		clock := t0
		now := func() time.Time { return clock }
		issued := t0.Add(3 * time.Second)
		handFrom, handTo := issued.Add(14*step), issued.Add(50*step) // frames 14–49 of the challenge
		operator := func(at time.Time) bool {                        // the swap drops out: 2 frames either side
			return c.swap && ((!at.Before(handFrom.Add(-2*step)) && at.Before(handFrom)) || (!at.Before(handTo) && at.Before(handTo.Add(2*step))))
		}
		emb := turnEmbedder{face: func(at time.Time) faceid.Descriptor {
			if c.swap && !operator(at) {
				return b // the swap's face
			}
			return a // the operator's own (or the honest person's)
		}}
		e := New(Config{Logger: quietLogger(), Now: now, Challenges: ChallengeConfig{Enabled: true,
			Plan: challenge.PlanConfig{Count: 1, Kinds: []challenge.Kind{challenge.KindCoverFace, challenge.KindBlink}}},
			Identity: IdentityConfig{Model: emb, Workers: -1}})
		box := models.Rect{X: 250, Y: 120, W: 120, H: 120}
		an := scriptedAnalyzer{obs: func(at time.Time) models.Observation {
			if !at.Before(handFrom) && at.Before(handTo) { // the hand: the detector misses, the box coasts
				return models.Observation{FacePresent: true, Coasting: true, Face: box, Occlusion: 0.89, FaceY: 150, FaceCb: 110, FaceCr: 152}
			}
			o := models.Observation{FacePresent: true, Face: box, FaceConf: 0.9, LandmarksOK: true, PoseOK: true,
				Occlusion: 0.03, FaceY: 160, FaceCb: 112, FaceCr: 145, EAR: 0.33, Scale: 0.19}
			for i := 36; i < 48; i++ { // eyes 60 px apart (the identity gate's size)
				o.Landmarks[i] = [2]float32{280, 160}
				if i >= 42 {
					o.Landmarks[i] = [2]float32{340, 160}
				}
			}
			return o
		}}
		frame := func(s *Session, at time.Time) {
			if err := s.observe(an, &models.Frame{Width: 2, Height: 2, Y: make([]byte, 4), U: make([]byte, 1), V: make([]byte, 1), Capture: at}); err != nil {
				t.Fatal(err)
			}
		}
		s, st, at := sessionAt(t, e, challenge.KindCoverFace, 51, t0, issued, step, func(at time.Time) { clock = at }, frame)
		id := st.Running.ID
		s.Shown(id, issued.Add(50*time.Millisecond))
		for end := issued.Add(14 * time.Second); at.Before(end); at = at.Add(step) {
			clock = at
			frame(s, at)
		}
		clock = at.Add(3 * time.Second)
		res := s.ch.runner.Poll(clock)
		if len(res) != 1 {
			t.Fatalf("%s: %d results", c.name, len(res))
		}
		r := res[0]
		s.identity.challengeMetrics(&r, clock) // as challenges.finish
		s.End(models.EndCompleted, clock)
		m := r.Metrics
		t.Logf("%s: %s %q, clock's faces of another person %v; transition faces %v, max %v, %v far", c.name, r.Outcome, r.Reason,
			m[challenge.MetricIdentityOther], m[challenge.MetricCoverFaces], m[challenge.MetricCoverMax], m[challenge.MetricCoverFar])
		if r.Outcome != c.want || (c.swap && r.Reason != challenge.ReasonCoverTransition) {
			t.Errorf("%s: %s %q, want %s", c.name, r.Outcome, r.Reason, c.want)
		}
		// Two before the hand (flushed at its first frame) and every face within 0.5 s after it, but
		// those the clock took (at most 3 of the 9).
		if m[challenge.MetricCoverFaces] < 6 || m[challenge.MetricCoverFaces] > float64(faceid.DefaultCoverBudget) {
			t.Errorf("%s: %v transition faces, want the 2 before the hand and the 7 after it but the clock's", c.name, m[challenge.MetricCoverFaces])
		}
		if wantFar := map[bool]float64{false: 0, true: 3}[c.swap]; m[challenge.MetricCoverFar] < wantFar || (!c.swap && m[challenge.MetricCoverFar] > 0) {
			t.Errorf("%s: %v transition faces of another person", c.name, m[challenge.MetricCoverFar])
		}
		if c.swap && m[challenge.MetricIdentityOther] >= challenge.IdentityMinFaces {
			t.Errorf("%s: the clock alone saw %v faces of another person: the test does not need the transitions", c.name, m[challenge.MetricIdentityOther])
		}
	}
}
