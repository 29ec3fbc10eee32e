package faceid

import (
	"math"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// poseEmbedder is an Embedder for the same-pose tests: the face of each frame is face(at),
// turned as vision measured (o.Yaw); it applies the gate's pixel-free criteria as the Model
// does.
type poseEmbedder struct {
	face  func(at time.Time) Descriptor
	calls int
}

func (e *poseEmbedder) Describe(_ *models.Frame, o *models.Observation, g Gate) (Sample, string, error) {
	e.calls++
	if why := g.Precheck(o); why != "" {
		return Sample{}, why, nil
	}
	return Sample{At: o.At, D: e.face(o.At), Yaw: o.Yaw, Pitch: o.Pitch, EyeDistance: 60, Sharpness: 100}, "", nil
}

// turnObs is a landmarked face at yaw.
func turnObs(at time.Time, yaw float64) *models.Observation {
	o := &models.Observation{At: at, FacePresent: true, LandmarksOK: true, PoseOK: true, Yaw: yaw}
	for i := 36; i < 48; i++ { // eyes 60 px apart
		o.Landmarks[i] = [2]float32{200, 200}
		if i >= 42 {
			o.Landmarks[i] = [2]float32{260, 200}
		}
	}
	return o
}

// feed runs frames at 15 fps from t0 as analysis/identity.go does: Due by the clock, else
// PairDue; yaw(i) is frame i's yaw; the challenge runs from frame on to frame off.
func feed(t *testing.T, s *Session, t0 time.Time, n, on, off int, yaw func(i int) float64) {
	t.Helper()
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second / 15)
		act := i >= on && i < off
		if act != s.inChal {
			s.ForceNext()
			s.SetChallenge(act)
		}
		o := turnObs(at, yaw(i))
		var err error
		if s.Due(at, act) {
			_, _, err = s.Observe(nil, o)
		} else if s.PairDue(o) {
			err = s.ObservePair(nil, o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionPairDue: turned faces are due for the same-pose comparison only while a challenge
// runs, within its budget (renewed by the next challenge), between PairConfig.MinYaw and
// MaxYaw, with landmarks on the frame; they never enter the identity track, and a clock-due
// face beyond ChallengeMaxYaw is kept for the pairs but refused by the track as before.
func TestSessionPairDue(t *testing.T) {
	a := person(1)
	e := &poseEmbedder{face: func(time.Time) Descriptor { return a }}
	s := NewSession(e, SessionConfig{Pairs: PairConfig{Budget: 3}})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.PairDue(turnObs(t0, 30)) {
		t.Error("due outside a challenge")
	}
	s.SetChallenge(true)
	for _, c := range []struct {
		o    *models.Observation
		want bool
	}{
		{turnObs(t0, 5), false},
		{turnObs(t0, -70), false},
		{&models.Observation{At: t0, FacePresent: true, Coasting: true, PoseOK: true, Yaw: 30}, false},
		{turnObs(t0, -12), true},
		{turnObs(t0, 45), true},
	} {
		if got := s.PairDue(c.o); got != c.want {
			t.Errorf("yaw %v coasting %v: due %v, want %v", c.o.Yaw, c.o.Coasting, got, c.want)
		}
	}
	for i := 0; i < 3; i++ {
		if err := s.ObservePair(nil, turnObs(t0.Add(time.Duration(i)*time.Second/15), 40)); err != nil {
			t.Fatal(err)
		}
	}
	if s.PairDue(turnObs(t0, 40)) {
		t.Error("due beyond the budget")
	}
	if s.Embedded() != 0 || len(s.Rejected()) != 0 {
		t.Errorf("pair faces reached the identity track: %d embedded, rejected %v", s.Embedded(), s.Rejected())
	}
	if !s.last.IsZero() {
		t.Error("a pair face moved the sampling clock")
	}
	// A clock-due face at 45° (beyond ChallengeMaxYaw, 35): embedded for the pairs, refused by
	// the track as the gate refused it before.
	if _, _, err := s.Observe(nil, turnObs(t0.Add(time.Second), 45)); err != nil {
		t.Fatal(err)
	}
	if s.Embedded() != 0 || s.Rejected()[RejectPose] != 1 {
		t.Errorf("a face at 45° in the track: %d embedded, rejected %v", s.Embedded(), s.Rejected())
	}
	if got := s.Pairs(t0, t0.Add(time.Hour), 0.7).Faces; got != 4 {
		t.Errorf("%d turned faces kept, want 4", got)
	}
	s.SetChallenge(false)
	s.SetChallenge(true)
	if !s.PairDue(turnObs(t0, 40)) {
		t.Error("a new challenge got no budget")
	}
	for i := 0; i < 2*maxPairFaces; i++ {
		s.keepPair(Sample{At: t0.Add(time.Duration(i) * time.Millisecond), D: a, Yaw: 30})
	}
	if len(s.pairs) != maxPairFaces || !s.pairs[maxPairFaces-1].at.Equal(t0.Add(time.Duration(2*maxPairFaces-1)*time.Millisecond)) {
		t.Errorf("%d faces kept, want the last %d", len(s.pairs), maxPairFaces)
	}
}

// TestSessionPairs: a head turning out to 45° and back stays one person at the same pose (no
// far pair, though the faces at 45° are 0.6 from the frontal ones: cross-pose distance is not
// compared); a swap that breaks beyond 25° (another person at 30–45° for 8 frames, then held
// at 25°) gives far pairs; faces 20° apart in yaw, on opposite sides, or farther apart in time
// than PairConfig.Gap are not compared.
func TestSessionPairs(t *testing.T) {
	a, b := person(1), person(2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	frame := func(at time.Time) int { return int(math.Round(at.Sub(t0).Seconds() * 15)) }
	// The turn: frames 30–60 of a 6 s challenge (15–75), out to 45° and back.
	turn := func(i int) float64 {
		switch {
		case i < 30 || i > 60:
			return 2
		case i < 40:
			return 2 + 4.3*float64(i-30)
		case i < 50:
			return 45
		}
		return 45 - 4.3*float64(i-50)
	}
	// The real head drifts with yaw: 0.6 from the frontal face at 45°.
	real := func(i int) Descriptor { return between(a, b, 0.6*math.Min(math.Abs(turn(i)), 45)/45) }
	for _, c := range []struct {
		name    string
		face    func(i int) Descriptor
		yaw     func(i int) float64
		wantFar bool
	}{
		{"honest", real, turn, false},
		{"yaw break", func(i int) Descriptor {
			if i >= 36 && i < 44 { // turn(36) is the first beyond 25°
				return a // the operator, for the first 8 frames beyond 25°
			}
			return b // the swap
		}, func(i int) float64 {
			if y := turn(i); y > 25 && !(i >= 36 && i < 44) {
				return 25 // held at 25°
			}
			return turn(i)
		}, true},
		// A mild break: the operator's face for 4 frames beyond 40°, 0.68 from the swap at the
		// same pose (under the 0.7 threshold: deeply turned faces of two people compare closer),
		// the swap held at 40° around it: an intruder between two faces of one identity.
		{"mild yaw break", func(i int) Descriptor {
			if i >= 40 && i < 44 {
				return between(b, a, 0.68)
			}
			return b
		}, func(i int) float64 {
			if y := turn(i); y > 40 && !(i >= 40 && i < 44) {
				return 40
			}
			return turn(i)
		}, true},
		// One odd face 0.6 from its neighbours (a blur, a glint): not an intruder (0.65).
		{"one odd face", func(i int) Descriptor {
			if i == 42 {
				return between(a, b, 0.6)
			}
			return a
		}, turn, false},
		// One frame misread (a decoding artefact after a loss, a face blurred at the turn's
		// fastest) as another person: far from each neighbour, its pairs count far (and fail the
		// turn), all through that one face (Apart 1, recorded).
		{"one misread face", func(i int) Descriptor {
			if i == 42 {
				return between(a, b, 0.95)
			}
			return a
		}, turn, true},
		{"other person 20° away", func(i int) Descriptor {
			if turn(i) > 35 {
				return b
			}
			return a
		}, func(i int) float64 {
			if y := turn(i); y > 35 {
				return 45
			} else if y > 15 {
				return 25
			}
			return turn(i)
		}, false},
		{"other side", func(i int) Descriptor {
			if i%2 == 0 {
				return b
			}
			return a
		}, func(i int) float64 {
			if i%2 == 0 {
				return -turn(i)
			}
			return turn(i)
		}, false},
	} {
		e := &poseEmbedder{}
		e.face = func(at time.Time) Descriptor { return c.face(frame(at)) }
		s := NewSession(e, SessionConfig{})
		feed(t, s, t0, 90, 15, 75, c.yaw)
		pc := s.Pairs(t0.Add(time.Second), t0.Add(5*time.Second), 0.7)
		if (pc.Far >= 2) != c.wantFar || pc.Faces < 10 || pc.Pairs == 0 {
			t.Errorf("%s: %+v, want far pairs %v", c.name, pc, c.wantFar)
		}
		// Apart: the breaking swaps' operator faces on several frames here, the misread face is one.
		wantApart := 0
		switch {
		case c.name == "one misread face":
			wantApart = 1
		case c.wantFar:
			wantApart = 2
		}
		if pc.Far > 0 && pc.Apart != wantApart || pc.Far == 0 && pc.Apart != 0 {
			t.Errorf("%s: %+v, want %d faces apart", c.name, pc, wantApart)
		}
		if c.name == "honest" && pc.Max > 0.21 {
			t.Errorf("honest: same-pose pairs up to %.3f", pc.Max)
		}
	}
	// Faces farther apart in time than the gap: not compared.
	s := NewSession(&poseEmbedder{face: func(at time.Time) Descriptor {
		if at.Before(t0.Add(2 * time.Second)) {
			return a
		}
		return b
	}}, SessionConfig{})
	s.SetChallenge(true)
	for _, ms := range []int{0, 250, 3000, 3250} {
		if err := s.ObservePair(nil, turnObs(t0.Add(time.Duration(ms)*time.Millisecond), 30)); err != nil {
			t.Fatal(err)
		}
	}
	if pc := s.Pairs(t0, t0.Add(time.Hour), 0.7); pc.Pairs != 2 || pc.Far != 0 {
		t.Errorf("gap: %+v, want 2 pairs within %v, none far", pc, DefaultPairGap)
	}
}
