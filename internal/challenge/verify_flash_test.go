package challenge

import (
	"math"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
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
	reissue := func(in *Input) { in.Challenge.Attempt = 2 }
	runVerifyCases(t, []verifyCase{
		{name: "face follows at 200 ms", ch: ch, script: litBy(ch, 200*time.Millisecond, 0.05), want: OutcomePassed,
			check: lagNear(200 * time.Millisecond)},
		{name: "weak response", ch: ch, script: litBy(ch, 200*time.Millisecond, 0.02), want: OutcomePassed,
			check: lagNear(200 * time.Millisecond)},
		// A face ignoring the screen: at the synthetic frames' noise (0.7 levels of chroma a
		// frame) a tenth of the red team's reflection would not always stand out of a short
		// sequence, so the first issue may be inconclusive "weak reflection"; its (longer)
		// reissue shows no evidence and fails (TestFlashNoReflectionFails).
		{name: "static loop", ch: ch, edit: reissue, want: OutcomeFailed, reason: ReasonNoResponse},
		{name: "face follows at 800 ms", ch: ch, script: litBy(ch, 800*time.Millisecond, 0.05), want: OutcomeFailed, reason: ReasonLate},
		{name: "face follows at 0 ms", ch: ch, script: litBy(ch, 0, 0.05), want: OutcomeFailed, reason: ReasonImplausibleLag},
		{name: "slow fades at 200 ms", ch: fade, script: litBy(fade, 200*time.Millisecond, 0.05), want: OutcomePassed,
			check: lagNear(200 * time.Millisecond)},
		{name: "slow fades, static loop", ch: fade, edit: reissue, want: OutcomeFailed, reason: ReasonNoResponse},
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

// TestFlashOppositeColours: a face turning the opposite colour. Negating a sequence on the
// colour hexagon can resemble the sequence a few steps later, which reads as a late
// response, or as a little evidence at some lag ("weak reflection", reissued): it must never
// pass, and with no evidence at all it fails. (Not tested on a sequence where every
// neighbour is the complement: there a negated response at lag L IS the response at L+step.)
func TestFlashOppositeColours(t *testing.T) {
	hueWalk := fixed(KindFlash, Params{StepMS: 250,
		Colors: []string{"#ff0000", "#ffff00", "#ff00ff", "#0000ff", "#00ffff", "#00ff00", "#ffff00", "#ff0000"}})
	failed := 0
	for seed := uint64(1); seed <= 10; seed++ {
		s := newSubject(seed)
		litBy(hueWalk, 200*time.Millisecond, -0.05)(s)
		r := Verifier{}.Verify(input(hueWalk, s.observations(), nil))
		switch {
		case r.Outcome == OutcomePassed:
			t.Errorf("seed %d: the opposite colours passed (%v)", seed, r.Metrics)
		case r.Outcome == OutcomeFailed:
			failed++
		case r.Reason != ReasonWeakFlash && r.Reason != ReasonLateOnce:
			t.Errorf("seed %d: %s %q", seed, r.Outcome, r.Reason)
		}
		if r.Outcome == OutcomeInconclusive && r.Metrics["z"] < DefaultThresholds().FlashWeakZ {
			t.Errorf("seed %d: no evidence (z %.2f) on chroma jumping %.1f against %.1f before, yet not failed", seed, r.Metrics["z"], r.Metrics["noise"], r.Metrics["noise_before"])
		}
	}
	t.Logf("opposite colours failed %d of 10 first issues, the rest inconclusive (reissued)", failed)
}

// halfRate keeps every other frame: a camera at 7.5 fps.
func halfRate(in *Input) {
	var out []models.Observation
	for i, o := range in.Observations {
		if i%2 == 0 {
			out = append(out, o)
		}
	}
	in.Observations = out
}

// TestFlashLagPhysicalBound: the lag an honest camera can show grows with its frame interval
// (150 ms + 2 intervals: 283 ms at 15 fps, 417 ms at 7.5), and a face swap's processing comes
// on top of it. The honest lags are the red team's measured ones (170–210 ms at 15 fps) and a
// slow camera's; the swap lags are an honest 150 ms plus the mildest tool's 200 ms. With the
// former bound (600 ms at any frame rate) every one of them passed. A first issue late by no
// more than 600 ms is reissued (inconclusive); the reissue fails.
func TestFlashLagPhysicalBound(t *testing.T) {
	ch := fixed(KindFlash, Params{StepMS: 250,
		Colors: []string{"#ff0000", "#00ffff", "#ffff00", "#0000ff", "#00ff00", "#ff00ff", "#ff0000", "#0000ff"}})
	fade := fixed(KindFlash, Params{StepMS: 1250, Fade: true,
		Colors: []string{"#00ff00", "#ff00ff", "#ffff00", "#0000ff", "#ff0000"}})
	bound := func(want time.Duration) func(*testing.T, Result) {
		return func(t *testing.T, r Result) {
			t.Helper()
			if got := time.Duration(r.Metrics["lag_max_ms"] * float64(time.Millisecond)); got < want-time.Millisecond || got > want+time.Millisecond {
				t.Fatalf("lag limit %v, want %v (metrics %v)", got, want, r.Metrics)
			}
		}
	}
	ms := time.Millisecond
	reissue := func(in *Input) { in.Challenge.Attempt = 2 }
	slowReissue := func(in *Input) { halfRate(in); reissue(in) }
	runVerifyCases(t, []verifyCase{
		{name: "15 fps honest 210 ms", ch: ch, script: litBy(ch, 210*ms, 0.05), want: OutcomePassed, check: bound(283 * ms)},
		{name: "15 fps honest, slow display 260 ms", ch: ch, script: litBy(ch, 260*ms, 0.05), want: OutcomePassed},
		// A first issue late within 600 ms is reissued; the reissue fails.
		{name: "15 fps swap 350 ms, first issue", ch: ch, script: litBy(ch, 350*ms, 0.05), want: OutcomeInconclusive, reason: ReasonLateOnce},
		{name: "15 fps swap 350 ms", ch: ch, script: litBy(ch, 350*ms, 0.05), edit: reissue, want: OutcomeFailed, reason: ReasonLate},
		{name: "15 fps swap 450 ms", ch: ch, script: litBy(ch, 450*ms, 0.05), edit: reissue, want: OutcomeFailed, reason: ReasonLate},
		{name: "15 fps fades, swap 350 ms", ch: fade, script: litBy(fade, 350*ms, 0.05), edit: reissue, want: OutcomeFailed, reason: ReasonLate},
		{name: "15 fps 800 ms, first issue", ch: ch, script: litBy(ch, 800*ms, 0.05), want: OutcomeFailed, reason: ReasonLate},
		{name: "7.5 fps honest 350 ms", ch: ch, script: litBy(ch, 350*ms, 0.05), edit: halfRate, want: OutcomePassed,
			check: bound(417 * ms)},
		{name: "7.5 fps fades, honest 350 ms", ch: fade, script: litBy(fade, 350*ms, 0.05), edit: halfRate, want: OutcomePassed},
		{name: "7.5 fps swap 550 ms", ch: ch, script: litBy(ch, 550*ms, 0.05), edit: slowReissue, want: OutcomeFailed, reason: ReasonLate},
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
// colour's chroma offset with a 100–219 ms lag (an honest camera's at 15 fps, with room for
// the search's error under the 283 ms limit), all pass with the lag recovered.
func TestFlashCatchesWeakResponses(t *testing.T) {
	t.Parallel()
	seq := mrand.NewChaCha8([32]byte{'w', 'e', 'a', 'k'})
	var worst time.Duration
	for i := range 60 {
		ch, err := NewChallenge(KindFlash, i%3 == 2, seq)
		if err != nil {
			t.Fatal(err)
		}
		lag := time.Duration(100+(i*37)%120) * time.Millisecond
		s := newSubject(uint64(1000 + i))
		litBy(ch, lag, 0.02)(s)
		r := Verifier{}.Verify(input(ch, s.observations(), nil))
		if r.Outcome != OutcomePassed {
			t.Errorf("trial %d (fade %v, lag %v): %s %q %v", i, ch.Params.Fade, lag, r.Outcome, r.Reason, r.Metrics)
			continue
		}
		d := absDur(r.OnsetLatency - lag)
		worst = max(worst, d)
		// 70 ms held for lags 100–500 ms; at 100–219 ms one trial (204 ms) reads 120 ms: the
		// error of a weak response's lag is part of the honest margin (REDTEAM.md finding 17).
		if d > 90*time.Millisecond {
			t.Errorf("trial %d: lag %v recovered as %v", i, lag, r.OnsetLatency)
		}
	}
	t.Logf("worst lag error: %v", worst)
}

// BenchmarkVerifyFlash is one flash verification of an honest face (surrogates included).
func BenchmarkVerifyFlash(b *testing.B) {
	seq := mrand.NewChaCha8([32]byte{'b', 'e', 'n', 'c', 'h'})
	ch, err := NewChallenge(KindFlash, false, seq)
	if err != nil {
		b.Fatal(err)
	}
	s := newSubject(7)
	litBy(ch, 300*time.Millisecond, 0.03)(s)
	in := input(ch, s.observations(), nil)
	for b.Loop() {
		Verifier{}.Verify(in)
	}
}

// TestFlashSpecificity: a face that did follow a colour sequence — but another one, as in
// a replayed recording of an earlier flash challenge — has strong chroma steps that can
// correlate with the shown sequence at some lag by chance. The surrogate sequences
// (flashNull) see that such a score is not specific to the shown sequence: it neither passes
// nor reads as a late response (at most 1 in 15 is inconclusive "weak reflection" and
// reissued). Unless the other sequence is the shown one in disguise (an
// ideal response to it scores above flashSurrogateMatch on the shown one at some lag: most
// colours the same or alike, e.g. yellow-cyan-magenta-cyan-magenta-green-magenta against
// red-cyan-magenta-green-magenta-green-red), which no verifier can tell apart; those are
// counted. Deterministic: seeded sequences and noise.
func TestFlashSpecificity(t *testing.T) {
	t.Parallel()
	const trials = 150
	seq := mrand.NewChaCha8([32]byte{'r', 'e', 'p', 'l', 'a', 'y'})
	chance, alike, alikePassed, weak := 0, 0, 0, 0
	for i := range trials {
		fade := i%3 == 2
		shown, err := NewChallenge(KindFlash, fade, seq)
		if err != nil {
			t.Fatal(err)
		}
		other, err := NewChallenge(KindFlash, fade, seq)
		if err != nil {
			t.Fatal(err)
		}
		lag := time.Duration(100+(i*53)%400) * time.Millisecond
		s := newSubject(uint64(2000 + i))
		litBy(other, lag, 0.05)(s)
		r := Verifier{}.Verify(input(shown, s.observations(), nil))
		th := DefaultThresholds()
		min := th.FlashMinCorr
		if fade {
			min = th.FadeMinCorr
		}
		if r.Metrics["corr"] >= min {
			chance++ // passed or "late"/"implausible lag" without the surrogates
		}
		if similar(shown, other, lag) {
			alike++
			if r.Outcome != OutcomeFailed || r.Reason != ReasonNoResponse {
				alikePassed++
			}
			continue
		}
		if r.Outcome == OutcomeInconclusive && r.Reason == ReasonWeakFlash {
			weak++ // a little evidence by chance: reissued as a longer, fresh sequence
			continue
		}
		if r.Outcome != OutcomeFailed || r.Reason != ReasonNoResponse {
			t.Errorf("trial %d (fade %v) %v vs %v: a response to another sequence got %s %q (corr %.2f at %v ms, best surrogate %.2f) %v",
				i, fade, shown.Params.Colors, other.Params.Colors, r.Outcome, r.Reason, r.Metrics["corr"], r.Metrics["lag_ms"], r.Metrics["null_max"], r.Metrics)
		}
	}
	t.Logf("%d of %d responses to another sequence scored above the correlation threshold (pass, late or implausible lag without the surrogates); %d other sequences were the shown one in disguise, of which %d did not fail \"no response\"",
		chance, trials, alike, alikePassed)
	t.Logf("%d of the others were inconclusive \"weak reflection\" (reissued)", weak)
	if weak > trials/15 {
		t.Errorf("%d of %d responses to another sequence were inconclusive", weak, trials)
	}
}

// similar reports whether an ideal response to other (at lag, 15 fps) scores above
// flashSurrogateMatch on shown at some lag searched.
func similar(shown, other Challenge, lag time.Duration) bool {
	colsOf := func(ch Challenge) []ycc {
		var cols []ycc
		for _, c := range ch.Params.Colors {
			col, _ := parseColor(c)
			cols = append(cols, col)
		}
		return cols
	}
	step := time.Duration(other.Params.StepMS) * time.Millisecond
	oc := colsOf(other)
	var frames []flashFrame
	for u := time.Duration(0); u < time.Duration(len(oc))*step+time.Second; u += time.Second / 15 {
		e := exposed(oc, step, other.Params.Fade, u-lag, time.Second/15)
		frames = append(frames, flashFrame{at: t0.Add(u), u: u, y: e.y, cb: e.cb, cr: e.cr})
	}
	k := max(1, int(math.Round(float64(time.Duration(shown.Params.StepMS)*time.Millisecond)/float64(4*time.Second/15))))
	best := bestLag(frames, colsOf(shown), time.Duration(shown.Params.StepMS)*time.Millisecond, shown.Params.Fade, time.Second/15, k,
		DefaultThresholds().FlashLagSearch, flashStep)
	return best.scored && best.score() > flashSurrogateMatch
}
