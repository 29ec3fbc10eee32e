package challenge

import "testing"

func TestVerifyBlink(t *testing.T) {
	three := fixed(KindBlink, Params{Count: 3})
	two := fixed(KindBlink, Params{Count: 2})
	blinkAt := func(at ...float64) func(*subject) {
		return func(s *subject) {
			times := make([]float64, len(at))
			for i, x := range at {
				times[i] = sh(x)
			}
			s.ear = blinks(0.3, times...)
		}
	}
	runVerifyCases(t, []verifyCase{
		{name: "three blinks", ch: three, script: blinkAt(0.6, 1.2, 1.8), want: OutcomePassed,
			check: func(t *testing.T, r Result) {
				latency(0.35, 0.55)(t, r)
				if r.Peak != 3 || r.Unit != "blinks" {
					t.Fatalf("peak %v %s, want 3 blinks", r.Peak, r.Unit)
				}
				if d := r.PeakAt.Sub(t0.Add(secs(sh(1.8)))); d < -70e6 || d > 70e6 {
					t.Fatalf("evidence frame %v from the last blink", d)
				}
			}},
		{name: "two blinks asked, four given", ch: two, script: blinkAt(0.5, 1.0, 1.5, 2.0), want: OutcomePassed},
		{name: "one of three", ch: three, script: blinkAt(0.8), want: OutcomeFailed, reason: ReasonTooFewBlinks,
			check: func(t *testing.T, r Result) {
				if r.Peak != 1 {
					t.Fatalf("peak %v, want 1", r.Peak)
				}
			}},
		{name: "two of three", ch: three, script: blinkAt(0.8, 1.5), want: OutcomeFailed, reason: ReasonTooFewBlinks},
		{name: "no blinks", ch: two, want: OutcomeFailed, reason: ReasonNoResponse},
		{name: "natural blinking every 4.5 s", ch: two, script: blinkAt(-3.5, 1, 5.5), want: OutcomeFailed, reason: ReasonTooFewBlinks},
		{name: "blinked before the prompt", ch: three, script: blinkAt(-1.8, -1.2, -0.6), want: OutcomeFailed, reason: ReasonBeforePrompt},
		{name: "blink in progress at display does not count", ch: two, script: blinkAt(-0.05, 1.0), want: OutcomeFailed, reason: ReasonTooFewBlinks},
		{name: "late", ch: three, script: blinkAt(6.3, 6.8, 7.3), want: OutcomeFailed, reason: ReasonLate},
		{name: "eyes closed for 2 s is not blinking", ch: two, script: func(s *subject) {
			s.ear = trapezoid(0.3, -0.22, sh(1), 0.1, 2, 0.1)
		}, want: OutcomeFailed, reason: ReasonNoResponse},
		{name: "adaptive baseline: narrow eyes", ch: two, script: func(s *subject) {
			s.ear = blinks(0.19, sh(0.7), sh(1.3)) // open eyes under a fixed 0.2 "closed" rule
		}, want: OutcomePassed},
		{name: "face lost", ch: three, script: func(s *subject) {
			s.ear = blinks(0.3, sh(0.6), sh(1.2), sh(1.8))
			s.present = func(x float64) bool { return x < sh(0) || x > sh(5) }
		}, want: OutcomeInconclusive, reason: ReasonFaceLost},
		{name: "too dark", ch: three, script: func(s *subject) {
			s.ear, s.y = blinks(0.3, sh(0.6), sh(1.2), sh(1.8)), constant(30)
		}, want: OutcomeInconclusive, reason: ReasonTooDark},
		{name: "landmarks never found", ch: two, script: func(s *subject) {
			s.landmarks = func(float64) bool { return false }
		}, want: OutcomeInconclusive, reason: ReasonEyesUnmeasurable},
	})
}
