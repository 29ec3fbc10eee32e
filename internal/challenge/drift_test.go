package challenge

import (
	"testing"

	"github.com/livecheck/livecheck/models"
)

// phase returns the subject's observations between from and to seconds.
func phase(s *subject, from, to float64) []models.Observation {
	var out []models.Observation
	for _, o := range s.observations() {
		if x := o.At.Sub(t0).Seconds(); x >= from && x < to {
			out = append(out, o)
		}
	}
	return out
}

func TestDrift(t *testing.T) {
	type script func(*subject)
	switchAt := func(x float64) script {
		return func(s *subject) {
			s.identity = func(t float64) int {
				if t >= x {
					return 1
				}
				return 0
			}
		}
	}
	tests := []struct {
		name     string
		script   script
		lo, hi   float64 // bounds on Drift
		noDuring bool
	}{
		{name: "same face", lo: 0, hi: 0.03},
		{name: "same face, leans in and tilts", script: func(s *subject) {
			s.scale = trapezoid(0.25, 0.1, 4, 0.5, 10, 0)
			s.roll = trapezoid(0, 15, 4, 0.5, 10, 0)
		}, lo: 0, hi: 0.03},
		{name: "same face, heavy landmark noise", script: func(s *subject) { s.noise = 4 }, lo: 0, hi: 0.06},
		{name: "other face after", script: switchAt(8), lo: 0.08, hi: 1},
		{name: "other face during only", script: func(s *subject) {
			s.identity = func(t float64) int {
				if t >= 5 && t < 8 {
					return 1
				}
				return 0
			}
		}, lo: 0.08, hi: 1},
		{name: "turned during: skipped, before vs after still measured", script: func(s *subject) {
			s.yaw = trapezoid(0, 40, 4.5, 0.2, 3, 0.2)
		}, lo: 0, hi: 0.03},
		{name: "turned during, other face after", script: func(s *subject) {
			s.yaw = trapezoid(0, 40, 4.5, 0.2, 3, 0.2)
			switchAt(8)(s)
		}, lo: 0.08, hi: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= seeds; seed++ {
				s := newSubject(seed)
				if tc.script != nil {
					tc.script(s)
				}
				d := Drift(phase(s, 1, 4), phase(s, 4.5, 7.5), phase(s, 8, 11))
				if d < tc.lo || d > tc.hi {
					t.Fatalf("seed %d: drift %.4f, want %.2f..%.2f", seed, d, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestDriftUnknown(t *testing.T) {
	s := newSubject(1)
	before := phase(s, 1, 4)
	if d := Drift(nil, nil, nil); d != DriftUnknown {
		t.Fatalf("no frames: %v", d)
	}
	if d := Drift(before, nil, nil); d != DriftUnknown {
		t.Fatalf("one phase: %v", d)
	}
	if d := Drift(before, before[:2], nil); d != DriftUnknown {
		t.Fatalf("one phase plus two frames: %v", d)
	}
	s.landmarks = func(float64) bool { return false }
	if d := Drift(before, phase(s, 4, 6), phase(s, 6, 8)); d != DriftUnknown {
		t.Fatalf("no landmarks after: %v", d)
	}
	if d := Drift(before, nil, before); d != 0 {
		t.Fatalf("identical phases: %v", d)
	}
}
