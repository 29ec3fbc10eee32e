package challenge

import (
	"math/rand/v2"
	"testing"
	"time"
)

// speaking scripts speech from start (seconds after the ack) for dur seconds, with the mouth
// following the loudness lead seconds earlier than the audio (lead > 0: audio lags video).
// With mouthMoves false the mouth stays still (a replayed face over live speech).
func speaking(start, dur, lead float64, mouthMoves bool) func(*rand.Rand, *subject) []AudioSample {
	return func(rng *rand.Rand, s *subject) []AudioSample {
		sp := newSpeech(rng, sh(start), dur)
		if mouthMoves {
			s.mouth = func(t float64) float64 { return 0.05 + 3*sp.rms(t+lead) }
		}
		return audio(rng, sp.rms)
	}
}

func TestVerifyReadDigits(t *testing.T) {
	ch := fixed(KindReadDigits, Params{Digits: "4 9 1 7"})
	offsetNear := func(want time.Duration) func(*testing.T, Result) {
		return func(t *testing.T, r Result) {
			t.Helper()
			got := time.Duration(r.Metrics["offset_ms"]) * time.Millisecond
			if d := got - want; d < -40*time.Millisecond || d > 40*time.Millisecond {
				t.Fatalf("A/V offset %v, want %v ± 40 ms (metrics %v)", got, want, r.Metrics)
			}
		}
	}
	runVerifyCases(t, []verifyCase{
		{name: "reads with the mouth in sync", ch: ch, audio: speaking(0.8, 3, 0.06, true), want: OutcomePassed,
			check: func(t *testing.T, r Result) {
				latency(0.75, 0.85)(t, r)
				offsetNear(60*time.Millisecond)(t, r)
				if r.Unit != "corr" || r.Peak < 0.6 {
					t.Fatalf("peak %v %s", r.Peak, r.Unit)
				}
			}},
		{name: "audio 200 ms behind video", ch: ch, audio: speaking(1.2, 3, 0.2, true), want: OutcomePassed,
			check: offsetNear(200 * time.Millisecond)},
		{name: "silent", ch: ch, audio: func(rng *rand.Rand, _ *subject) []AudioSample { return audio(rng, constant(0)) },
			want: OutcomeFailed, reason: ReasonNoResponse},
		{name: "speech over a still mouth", ch: ch, audio: speaking(0.8, 3, 0, false),
			want: OutcomeFailed, reason: ReasonNotSynced},
		{name: "audio 450 ms behind video", ch: ch, audio: speaking(0.8, 3, 0.45, true),
			want: OutcomeFailed, reason: ReasonOutOfSync, check: offsetNear(450 * time.Millisecond)},
		{name: "talking straight through the prompt", ch: ch, audio: speaking(-2.5, 8, 0.05, true),
			want: OutcomeFailed, reason: ReasonBeforePrompt},
		{name: "talking, pause, then reading", ch: ch, audio: func(rng *rand.Rand, s *subject) []AudioSample {
			before, after := newSpeech(rng, sh(-2.5), 2.6), newSpeech(rng, sh(0.7), 3)
			env := func(t float64) float64 { return before.rms(t) + after.rms(t) }
			s.mouth = func(t float64) float64 { return 0.05 + 3*env(t+0.05) }
			return audio(rng, env)
		}, want: OutcomePassed, check: latency(0.65, 0.75)},
		{name: "late", ch: ch, audio: speaking(8.5, 3, 0.05, true), want: OutcomeFailed, reason: ReasonLate},
		{name: "no audio track", ch: ch, want: OutcomeInconclusive, reason: ReasonNoAudio},
		{name: "face lost", ch: ch, audio: func(rng *rand.Rand, s *subject) []AudioSample {
			s.present = func(x float64) bool { return x < sh(0) }
			return speaking(0.8, 3, 0.05, true)(rng, s)
		}, want: OutcomeInconclusive, reason: ReasonFaceLost},
		{name: "too dark", ch: ch, audio: func(rng *rand.Rand, s *subject) []AudioSample {
			s.y = constant(28)
			return speaking(0.8, 3, 0.05, true)(rng, s)
		}, want: OutcomeInconclusive, reason: ReasonTooDark},
		{name: "noisy room", ch: ch, audio: func(rng *rand.Rand, s *subject) []AudioSample {
			sp := newSpeech(rng, sh(0.8), 3)
			s.mouth = func(t float64) float64 { return 0.05 + 3*sp.rms(t+0.05) }
			return audio(rng, func(t float64) float64 { return 0.008 + sp.rms(t) }) // floor ~−41 dBFS
		}, want: OutcomePassed},
	})
}

// TestLipSyncRates measures pass rates over 200 noise draws: synced mouths must all pass and
// still mouths none; a replayed talking face (mouth moving throughout, unrelated to the
// speech) and a mouth of other speech with exactly the same start and end are the hard cases,
// bounded here a little above the rates measured when the thresholds were set (3–6 % and
// 17–19 % depending on the noise draws).
func TestLipSyncRates(t *testing.T) {
	t.Parallel()
	ch := fixed(KindReadDigits, Params{Digits: "3 8 0 5 2"})
	cases := []struct {
		name     string
		audio    func(*rand.Rand, *subject) []AudioSample
		min, max float64 // pass-rate bounds
	}{
		{"synced", speaking(0.8, 3, 0.06, true), 1, 1},
		{"still mouth", speaking(0.8, 3, 0, false), 0, 0.01},
		{"replayed talking face", func(rng *rand.Rand, s *subject) []AudioSample {
			other := newSpeech(rng, sh(-3), 12)
			s.mouth = func(t float64) float64 { return 0.05 + 3*other.rms(t) }
			return speaking(0.8, 3, 0, false)(rng, s)
		}, 0, 0.10},
		{"other speech, same timing", func(rng *rand.Rand, s *subject) []AudioSample {
			other := newSpeech(rng, sh(0.8), 3)
			s.mouth = func(t float64) float64 { return 0.05 + 3*other.rms(t) }
			return speaking(0.8, 3, 0, false)(rng, s)
		}, 0, 0.25},
	}
	const n = 200
	for _, tc := range cases {
		passed := 0
		for seed := uint64(1); seed <= n; seed++ {
			s := newSubject(seed)
			au := tc.audio(rand.New(rand.NewPCG(seed, 11)), s)
			if r := (Verifier{}).Verify(input(ch, s.observations(), au)); r.Outcome == OutcomePassed {
				passed++
			}
		}
		rate := float64(passed) / n
		t.Logf("%-26s passes %3d/%d", tc.name, passed, n)
		if rate < tc.min || rate > tc.max {
			t.Errorf("%s: pass rate %.3f outside [%.2f, %.2f]", tc.name, rate, tc.min, tc.max)
		}
	}
}

// TestLipSyncJawSmoothed: a jaw does not follow the loudness envelope's 60 ms detail; it opens
// and closes over a syllable (here: the mouth follows the loudness averaged over 150 ms, with
// the helpers' landmark noise ×2, σ 0.03 of mouth opening; a stand-in for the red team's dim,
// noisy, 400 kbit/s face, whose noise was not measured separately). Such a synced
// mouth passes and a still mouth under the same noise fails. Compared frame to frame (before
// REDTEAM.md finding 14) the loudness's detail that the jaw does not reproduce and the noise
// outweighed the syllables' changes: 86 of 100 synced mouths passed (now 99); at noise ×3,
// 48 (now 81). A jaw averaging over 250 ms fails either way (1 of 100): not covered.
func TestLipSyncJawSmoothed(t *testing.T) {
	t.Parallel()
	ch := fixed(KindReadDigits, Params{Digits: "3 8 0 5 2"})
	const n, win = 100, 0.15 // seeds; the jaw's averaging window (s)
	for _, tc := range []struct {
		name     string
		moves    bool
		min, max int
	}{{"synced", true, n - 3, n}, {"still mouth", false, 0, 0}} {
		passed := 0
		for seed := uint64(1); seed <= n; seed++ {
			s := newSubject(seed)
			s.noise = 2
			rng := rand.New(rand.NewPCG(seed, 11))
			sp := newSpeech(rng, sh(0.8), 3)
			if tc.moves {
				s.mouth = func(t float64) float64 {
					var m float64
					for k := range 7 {
						m += sp.rms(t - win/2 + win*float64(k)/6)
					}
					return 0.05 + 3*m/7
				}
			}
			au := audio(rng, sp.rms)
			if r := (Verifier{}).Verify(input(ch, s.observations(), au)); r.Outcome == OutcomePassed {
				passed++
			}
		}
		t.Logf("%-12s passes %3d/%d", tc.name, passed, n)
		if passed < tc.min || passed > tc.max {
			t.Errorf("%s: %d of %d passed, want %d–%d", tc.name, passed, n, tc.min, tc.max)
		}
	}
}
