package faceid

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// person is a synthetic identity: a fixed direction plus per-sample noise
// of about 0.2 in distance (like one person's frames), different people
// about 1 apart.
func person(seed uint64) Descriptor {
	r := rand.New(rand.NewPCG(seed, 1))
	var d Descriptor
	for i := range d {
		d[i] = float32(r.NormFloat64() * 0.06)
	}
	return d
}

func noisy(p Descriptor, r *rand.Rand, at time.Time) Sample {
	var d Descriptor
	for i := range d {
		d[i] = p[i] + float32(r.NormFloat64()*0.012)
	}
	return Sample{At: at, D: d}
}

func TestTracker(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	a, b := person(1), person(2)
	if d := Distance(a, b); d < 0.8 {
		t.Fatalf("synthetic people only %.2f apart", d)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tr := NewTracker(TrackerConfig{})
	for s := 0; s < 10; s++ {
		tr.Add(noisy(a, r, at(s)))
	}
	// One odd sample (another face for one frame) is an outlier, not a change.
	tr.Add(noisy(b, r, at(10)))
	for s := 11; s < 20; s++ {
		if _, ok := tr.Add(noisy(a, r, at(s))); ok {
			t.Fatal("a change without a new face")
		}
	}
	if tr.Outliers() != 1 || len(tr.Changes()) != 0 {
		t.Fatalf("outliers %d changes %d", tr.Outliers(), len(tr.Changes()))
	}
	// b for two samples: a change at the first of them.
	tr.Add(noisy(b, r, at(20)))
	c, ok := tr.Add(noisy(b, r, at(21)))
	if !ok || !c.After.At.Equal(at(20)) || !c.Before.At.Equal(at(19)) || c.Returning != -1 || c.From != 0 || c.To != 1 || c.Distance < 0.5 {
		t.Fatalf("change %+v ok %v", c, ok)
	}
	for s := 22; s < 25; s++ {
		tr.Add(noisy(b, r, at(s)))
	}
	// a comes back: a change that returns to identity 0.
	tr.Add(noisy(a, r, at(25)))
	c, ok = tr.Add(noisy(a, r, at(26)))
	if !ok || c.Returning != 0 || c.To != 0 || c.From != 1 {
		t.Fatalf("return %+v ok %v", c, ok)
	}
	ids := tr.Identities()
	if len(ids) != 2 || ids[0].Samples != 21 || ids[1].Samples != 5 {
		t.Fatalf("identities %d: %d/%d samples", len(ids), ids[0].Samples, ids[1].Samples)
	}
	if m, ok := tr.Main(); !ok || Distance(m.Template, a) > 0.1 {
		t.Fatal("main identity is not a")
	}
	if d, n := tr.Window(at(0), at(9)); n != 9 || d > DefaultChangeDistance {
		t.Errorf("window before: %.2f over %d", d, n)
	}
	if d, n := tr.Window(at(20), at(21)); n != 2 || d < DefaultChangeDistance {
		t.Errorf("window at the switch: %.2f over %d", d, n)
	}
	if h := tr.History(); len(h) != 26 || !h[0].At.Equal(at(1)) || h[19].Distance < DefaultChangeDistance {
		t.Errorf("history of %d points", len(h))
	}
	sg, ok := ChangeSignal(tr, t0)
	if !ok || sg.Score < 0.8 || !strings.Contains(sg.Reason, "0:20") || !strings.Contains(sg.Reason, "earlier face came back") {
		t.Errorf("signal %+v", sg)
	}
	if _, ok := ChangeSignal(NewTracker(TrackerConfig{}), t0); ok {
		t.Error("a signal without samples")
	}
}

func TestReuseAndReferenceSignals(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	a, b := person(1), person(2)
	at := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	self := noisy(a, r, at).D
	sg, ok := ReuseSignal(self, []Candidate{{InterviewID: 41, At: at, D: noisy(b, r, at).D}, {InterviewID: 42, At: at, D: noisy(a, r, at).D}})
	if !ok || sg.Kind != KindReuse || sg.Score < 0.8 || !strings.Contains(sg.Reason, "interview 42 on 2026-03-04") || strings.Contains(sg.Reason, "interview 41") {
		t.Errorf("reuse %+v", sg)
	}
	sg, ok = ReuseSignal(self, []Candidate{{InterviewID: 41, At: at, D: b}})
	if !ok || sg.Score != 0 {
		t.Errorf("no reuse %+v", sg)
	}
	if _, ok := ReuseSignal(self, nil); ok {
		t.Error("a reuse signal without candidates")
	}
	if sg := ReferenceSignal(self, noisy(a, r, at).D); sg.Score != 0 || sg.Kind != KindReference {
		t.Errorf("reference match %+v", sg)
	}
	if sg := ReferenceSignal(self, b); sg.Score < 0.7 {
		t.Errorf("reference mismatch %+v", sg)
	}
	mid := self // 0.52 away: between the match and mismatch distances
	mid[0] += 0.52
	if sg := ReferenceSignal(self, mid); sg.Score >= 0.7 || sg.Score == 0 || sg.Confidence > 0.5 {
		t.Errorf("inconclusive %+v", sg)
	}
}

func TestSessionSampling(t *testing.T) {
	s := NewSession(nil, SessionConfig{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !s.Due(t0, false) {
		t.Fatal("first frame not due")
	}
	s.last = t0
	if s.Due(t0.Add(1500*time.Millisecond), false) || !s.Due(t0.Add(2*time.Second), false) {
		t.Error("outside challenges: one every 2 s")
	}
	if !s.Due(t0.Add(250*time.Millisecond), true) || s.Due(t0.Add(100*time.Millisecond), true) {
		t.Error("in challenges: four per second")
	}
}

// between is a descriptor on the line from a to b at distance d from a.
func between(a, b Descriptor, d float64) Descriptor {
	f := float32(d / Distance(a, b))
	var out Descriptor
	for i := range out {
		out[i] = a[i] + f*(b[i]-a[i])
	}
	return out
}

// TestTrackerUnsteady: a turned or half-covered face of the same person
// (0.6 from the template, sampled in a challenge) is no change and leaves
// the template alone; the same distance on steady faces is one; another
// person's face in a challenge (0.85) still is.
func TestTrackerUnsteady(t *testing.T) {
	a, b := person(1), person(2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	run := func(d float64, unsteady bool) (*Tracker, bool) {
		tr := NewTracker(TrackerConfig{})
		for s := 0; s < 5; s++ {
			tr.Add(Sample{At: at(1000 * s), D: a})
		}
		changed := false
		for i := 0; i < 8; i++ {
			_, ok := tr.Add(Sample{At: at(5000 + 250*i), D: between(a, b, d), Unsteady: unsteady})
			changed = changed || ok
		}
		return tr, changed
	}
	tr, changed := run(0.6, true)
	if changed {
		t.Fatal("unsteady faces 0.6 away made a change")
	}
	if m, _ := tr.Main(); m.Samples != 5 || Distance(m.Template, a) > 1e-6 {
		t.Fatalf("unsteady faces entered the template: %d samples, %.3f from a", m.Samples, Distance(m.Template, a))
	}
	if _, changed := run(0.6, false); !changed {
		t.Fatal("steady faces 0.6 away made no change")
	}
	if _, changed := run(0.85, true); !changed {
		t.Fatal("another person's face 0.85 away in a challenge made no change")
	}
}

// TestTrackerTemplateMaxYaw: faces turned beyond the steady gate (sampled
// in a challenge up to SessionConfig.ChallengeMaxYaw) never shape the
// template, even within ChangeDistance of it, and are no change up to
// UnsteadyDistance; another person's face at 45° still is one.
func TestTrackerTemplateMaxYaw(t *testing.T) {
	a, b := person(1), person(2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	run := func(d, yaw float64) (*Tracker, bool) {
		tr := NewTracker(TrackerConfig{})
		for s := 0; s < 5; s++ {
			tr.Add(Sample{At: at(1000 * s), D: a})
		}
		changed := false
		for i := 0; i < 8; i++ {
			_, ok := tr.Add(Sample{At: at(5000 + 250*i), D: between(a, b, d), Yaw: yaw, Unsteady: true})
			changed = changed || ok
		}
		return tr, changed
	}
	for _, d := range []float64{0.3, 0.6} {
		tr, changed := run(d, 45)
		if m, _ := tr.Main(); changed || m.Samples != 5 || Distance(m.Template, a) > 1e-6 {
			t.Errorf("faces at 45°, %.1f away: change %v, template of %d samples %.3f from a", d, changed, m.Samples, Distance(m.Template, a))
		}
	}
	if tr, _ := run(0.3, 30); func() int { m, _ := tr.Main(); return m.Samples }() != 13 {
		t.Error("faces at 30° within 0.50 left out of the template")
	}
	if _, changed := run(0.85, 45); !changed {
		t.Error("another person's face at 45° made no change")
	}
}

// TestSessionChallengeMaxYaw: a wider yaw limit for challenges applies
// only while a challenge runs; by default, and below the gate's own, the
// gate's limit holds. The embedder's gate in a challenge reaches the
// same-pose faces' limit (PairConfig.MaxYaw, 60), but the identity track
// takes a challenge's face only up to ChallengeMaxYaw.
func TestSessionChallengeMaxYaw(t *testing.T) {
	o := &models.Observation{}
	for _, c := range []struct {
		cfg   SessionConfig
		want  []float64 // the embedder's MaxYaw outside, in, after a challenge
		track float64   // the identity track's limit in a challenge
	}{
		{SessionConfig{}, []float64{35, 60, 35}, 35},
		{SessionConfig{ChallengeMaxYaw: 50}, []float64{35, 60, 35}, 50},
		{SessionConfig{ChallengeMaxYaw: 20}, []float64{35, 60, 35}, 35},
		{SessionConfig{Gate: Gate{MaxYaw: 40}, ChallengeMaxYaw: 50}, []float64{40, 60, 40}, 50},
		{SessionConfig{ChallengeMaxYaw: 70}, []float64{35, 70, 35}, 70},
	} {
		for _, yaw := range []float64{c.track - 1, c.track + 1} {
			s := NewSession(&poseEmbedder{face: func(time.Time) Descriptor { return person(1) }}, c.cfg)
			s.SetChallenge(true)
			if _, _, err := s.Observe(nil, turnObs(time.Now(), yaw)); err != nil {
				t.Fatal(err)
			}
			if in := s.Embedded() == 1; in != (yaw < c.track) {
				t.Errorf("%+v: a challenge face at %v° in the identity track: %v", c.cfg, yaw, in)
			}
		}
		rec := &gateRecorder{}
		s := NewSession(rec, c.cfg)
		for _, chal := range []bool{false, true, false} {
			s.SetChallenge(chal)
			if _, _, err := s.Observe(nil, o); err != nil {
				t.Fatal(err)
			}
		}
		for i, g := range rec.gates {
			if got := g.withDefaults().MaxYaw; got != c.want[i] {
				t.Errorf("%+v, observation %d: gate MaxYaw %v, want %v", c.cfg, i, got, c.want[i])
			}
		}
		if s.cfg.Tracker.TemplateMaxYaw != c.want[0] {
			t.Errorf("%+v: template yaw limit %v, want the gate's %v", c.cfg, s.cfg.Tracker.TemplateMaxYaw, c.want[0])
		}
	}
}

// gateRecorder is an Embedder that records the gates it was given and
// refuses every face.
type gateRecorder struct{ gates []Gate }

func (r *gateRecorder) Describe(_ *models.Frame, _ *models.Observation, g Gate) (Sample, string, error) {
	r.gates = append(r.gates, g)
	return Sample{}, RejectPose, nil
}
