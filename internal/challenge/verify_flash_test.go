package challenge

import (
	mrand "math/rand/v2"
	"testing"
	"time"
)

// litBy makes the subject's face chroma and luma follow the flash of ch, shown at the ack,
// with the given camera lag and gain (fraction of the screen colour's offset from neutral).
func litBy(ch Challenge, lag time.Duration, gain float64) func(*subject) {
	var cols []ycc
	for _, c := range ch.Params.Colors {
		col, _ := parseColor(c)
		cols = append(cols, col)
	}
	step := time.Duration(ch.Params.StepMS) * time.Millisecond
	total := time.Duration(len(cols)) * step
	start := sh(0) + lag.Seconds()
	return func(s *subject) {
		light := func(t float64) (ycc, bool) {
			u := secs(t - start)
			if u < 0 || u >= total {
				return ycc{}, false
			}
			return expectedColor(cols, step, ch.Params.Fade, u), true
		}
		s.cb = func(t float64) float64 {
			if e, ok := light(t); ok {
				return 110 + gain*(e.cb-128)
			}
			return 110
		}
		s.cr = func(t float64) float64 {
			if e, ok := light(t); ok {
				return 150 + gain*(e.cr-128)
			}
			return 150
		}
		s.y = func(t float64) float64 {
			if e, ok := light(t); ok {
				return 120 + gain*(e.y-128)
			}
			return 120
		}
	}
}

func TestVerifyFlash(t *testing.T) {
	ch := fixed(KindFlash, Params{StepMS: 250,
		Colors: []string{"#ff0000", "#00ffff", "#ffff00", "#0000ff", "#00ff00", "#ff00ff", "#ff0000", "#0000ff"}})
	hueWalk := fixed(KindFlash, Params{StepMS: 250,
		Colors: []string{"#ff0000", "#ffff00", "#ff00ff", "#0000ff", "#00ffff", "#00ff00", "#ffff00", "#ff0000"}})
	fade := fixed(KindFlash, Params{StepMS: 1250, Fade: true,
		Colors: []string{"#00ff00", "#ff00ff", "#ffff00", "#0000ff", "#ff0000"}})
	lagNear := func(want time.Duration) func(*testing.T, Result) {
		return func(t *testing.T, r Result) {
			t.Helper()
			if d := r.OnsetLatency - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Fatalf("lag %v, want %v ± 50 ms (metrics %v)", r.OnsetLatency, want, r.Metrics)
			}
			if r.Metrics["lag_ms"] != float64(r.OnsetLatency.Milliseconds()) || r.Unit != "corr" || r.Peak < 0.5 {
				t.Fatalf("peak %v %s, metrics %v", r.Peak, r.Unit, r.Metrics)
			}
		}
	}
	runVerifyCases(t, []verifyCase{
		{name: "face follows at 200 ms", ch: ch, script: litBy(ch, 200*time.Millisecond, 0.05), want: OutcomePassed,
			check: lagNear(200 * time.Millisecond)},
		{name: "face follows at 450 ms", ch: ch, script: litBy(ch, 450*time.Millisecond, 0.05), want: OutcomePassed,
			check: lagNear(450 * time.Millisecond)},
		{name: "weak response", ch: ch, script: litBy(ch, 200*time.Millisecond, 0.02), want: OutcomePassed,
			check: lagNear(200 * time.Millisecond)},
		{name: "static loop", ch: ch, want: OutcomeFailed, reason: ReasonNoResponse},
		// A face turning the opposite colour. Negating a sequence on the colour hexagon can
		// resemble the sequence a few steps later, which reads as a late response: either way
		// it must fail. (Not tested on ch: where every neighbour is the complement, a negated
		// response at lag L IS the response at L+step.)
		{name: "opposite colours", ch: hueWalk, script: litBy(hueWalk, 200*time.Millisecond, -0.05),
			want: OutcomeFailed, anyOf: []string{ReasonNoResponse, ReasonLate}},
		{name: "face follows at 800 ms", ch: ch, script: litBy(ch, 800*time.Millisecond, 0.05), want: OutcomeFailed, reason: ReasonLate},
		{name: "face follows at 0 ms", ch: ch, script: litBy(ch, 0, 0.05), want: OutcomeFailed, reason: ReasonImplausibleLag},
		{name: "slow fades at 300 ms", ch: fade, script: litBy(fade, 300*time.Millisecond, 0.05), want: OutcomePassed,
			check: lagNear(300 * time.Millisecond)},
		{name: "slow fades, static loop", ch: fade, want: OutcomeFailed, reason: ReasonNoResponse},
		{name: "face lost", ch: ch, script: func(s *subject) {
			litBy(ch, 200*time.Millisecond, 0.05)(s)
			s.present = func(x float64) bool { return x < sh(0) }
		}, want: OutcomeInconclusive, reason: ReasonFaceLost},
		{name: "too dark", ch: ch, script: func(s *subject) {
			litBy(ch, 200*time.Millisecond, 0.05)(s)
			y := s.y
			s.y = func(x float64) float64 { return y(x) - 95 }
		}, want: OutcomeInconclusive, reason: ReasonTooDark},
		{name: "no ack", ch: ch, script: litBy(ch, 200*time.Millisecond, 0.05),
			edit: func(in *Input) { in.Shown = time.Time{} }, want: OutcomeInconclusive, reason: ReasonNoAck},
	})
}

// TestFlashFalsePassRate runs random flash sequences (both variants) against faces that do not
// respond — frame noise plus chroma wandering as a random walk — and bounds how often chance
// correlation passes. Deterministic: seeded sequences and noise.
func TestFlashFalsePassRate(t *testing.T) {
	t.Parallel()
	const trials = 200
	seq := mrand.NewChaCha8([32]byte{'f', 'l', 'a', 's', 'h'})
	rng := mrand.New(mrand.NewPCG(42, 1))
	var worst float64
	for i := range trials {
		ch, err := NewChallenge(KindFlash, i%2 == 1, seq)
		if err != nil {
			t.Fatal(err)
		}
		s := newSubject(uint64(i))
		var wcb, wcr []float64
		var x, y float64
		for range int(clipLen.Seconds()*fps) + 1 {
			x, y = x+0.5*rng.NormFloat64(), y+0.5*rng.NormFloat64()
			wcb, wcr = append(wcb, x), append(wcr, y)
		}
		s.cb = func(t float64) float64 { return 110 + wcb[int(t*fps)] }
		s.cr = func(t float64) float64 { return 150 + wcr[int(t*fps)] }
		r := Verifier{}.Verify(input(ch, s.observations(), nil))
		if r.Outcome == OutcomePassed {
			t.Errorf("trial %d: a face ignoring the screen passed (%v)", i, r.Metrics)
		}
		worst = max(worst, r.Metrics["corr"])
	}
	t.Logf("highest chance score over %d static faces: %.2f", trials, worst)
}

// TestFlashCatchesWeakResponses: random sequences, faces following at 2 % of the screen
// colour's chroma offset with a 100–500 ms lag, all pass with the lag recovered.
func TestFlashCatchesWeakResponses(t *testing.T) {
	t.Parallel()
	seq := mrand.NewChaCha8([32]byte{'w', 'e', 'a', 'k'})
	var worst time.Duration
	for i := range 60 {
		ch, err := NewChallenge(KindFlash, i%3 == 2, seq)
		if err != nil {
			t.Fatal(err)
		}
		lag := time.Duration(100+(i*37)%400) * time.Millisecond
		s := newSubject(uint64(1000 + i))
		litBy(ch, lag, 0.02)(s)
		r := Verifier{}.Verify(input(ch, s.observations(), nil))
		if r.Outcome != OutcomePassed {
			t.Errorf("trial %d (fade %v, lag %v): %s %q %v", i, ch.Params.Fade, lag, r.Outcome, r.Reason, r.Metrics)
			continue
		}
		d := absDur(r.OnsetLatency - lag)
		worst = max(worst, d)
		if d > 70*time.Millisecond {
			t.Errorf("trial %d: lag %v recovered as %v", i, lag, r.OnsetLatency)
		}
	}
	t.Logf("worst lag error: %v", worst)
}
