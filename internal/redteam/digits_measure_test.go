package redteam

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// digitsCase is one read_digits answer of the darker-skin measurements: the honest person or
// an attack (the table's tts rows and voiceconv).
type digitsCase struct {
	name string
	b    Behaviour
}

func digitsCases() []digitsCase {
	honest := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	tts := honest
	tts.Mouth, tts.TTSLatency = "none", 1500*time.Millisecond
	tts2 := honest
	tts2.Mouth, tts2.MouthDelay, tts2.TTSLatency = "delayed", 500*time.Millisecond, 1500*time.Millisecond
	vc := honest
	vc.Voice, vc.VoiceDelay = "pitch", 600*time.Millisecond
	return []digitsCase{{"honest", honest}, {"tts", tts}, {"tts_late_mouth", tts2}, {"voiceconv", vc}}
}

// digitsChallenge is a read_digits prompt drawn from seed (the same digits every run).
func digitsChallenge(t *testing.T, seed uint64) challenge.Challenge {
	t.Helper()
	ch, err := challenge.NewChallenge(challenge.KindReadDigits, false, rand.NewChaCha8([32]byte{byte(seed), 16}))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// mouthTruth is the measured mouth opening against the rendered one over an answer.
type mouthTruth struct {
	corr           float64 // Pearson of measured and rendered opening, landmark frames
	open, shut     float64 // median measured opening where the rendered one is ≥ 0.3 / ≤ 0.05
	openN, shutN   int
	landmarkFrames int
}

func pdist(a, b [2]float32) float64 {
	return math.Hypot(float64(a[0]-b[0]), float64(a[1]-b[1]))
}

// mouthMeasures are alternative mouth openings from the 68 landmarks, over the eye spacing
// (IOD) or the mouth width.
var mouthMeasures = map[string]func(p *[68][2]float32) float64{
	// the outer lips' gap (upper lip top to lower lip bottom) over the mouth width
	"outer": func(p *[68][2]float32) float64 {
		return (pdist(p[50], p[58]) + pdist(p[51], p[57]) + pdist(p[52], p[56])) / 3 / pdist(p[48], p[54])
	},
	// nose tip to chin over the eye spacing: the jaw's drop
	"jaw": func(p *[68][2]float32) float64 {
		return pdist(p[33], p[8]) / pdist(p[39], p[42])
	},
	// nose tip to the lower lip's bottom over the eye spacing
	"lower": func(p *[68][2]float32) float64 {
		return pdist(p[33], p[57]) / pdist(p[39], p[42])
	},
	// inner gap over the eye spacing (not the mouth width)
	"inner_iod": func(p *[68][2]float32) float64 {
		return (pdist(p[61], p[67]) + pdist(p[62], p[66]) + pdist(p[63], p[65])) / 3 / pdist(p[39], p[42])
	},
}

// digitsRun answers one read_digits prompt (digits from seed) through VP8 at 800 kbit/s with
// libvpx's good deadline (the same bytes every run) at albedo alb, and compares the measured
// mouth opening with the rendered one.
func digitsRun(t *testing.T, b Behaviour, alb float64, seed uint64) (challenge.Result, mouthTruth) {
	t.Helper()
	res, mt, _ := digitsRunInput(t, b, alb, seed)
	return res, mt
}

// digitsRunInput is digitsRun that also returns the verifier's input.
func digitsRunInput(t *testing.T, b Behaviour, alb float64, seed uint64) (challenge.Result, mouthTruth, challenge.Input) {
	t.Helper()
	var in challenge.Input
	var x, y, open, shut []float64
	var mt mouthTruth
	res, _, _ := offlineRun(t, testdataFace(t), b, offlineOpts{look: Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed: seed, kbps: 800, good: true,
		state: func(st State, ob *models.Observation) {
			if !ob.LandmarksOK {
				return
			}
			mt.landmarkFrames++
			x, y = append(x, ob.Mouth), append(y, st.Mouth)
			switch {
			case st.Mouth >= 0.3:
				open = append(open, ob.Mouth)
			case st.Mouth <= 0.05:
				shut = append(shut, ob.Mouth)
			}
		}, input: func(i challenge.Input) { in = i }}, digitsChallenge(t, seed))
	mt.corr, _ = dsp.Pearson(x, y)
	mt.open, mt.shut, mt.openN, mt.shutN = math.NaN(), math.NaN(), len(open), len(shut)
	if len(open) > 0 {
		mt.open = dsp.Median(open)
	}
	if len(shut) > 0 {
		mt.shut = dsp.Median(shut)
	}
	return res, mt, in
}

// TestMeasureDarkerDigits answers read_digits offline at albedo 1 and 0.4 (REDTEAM_ALBEDO),
// seeds REDTEAM_SEEDS, the honest person and the attacks, through VP8 at 800 kbit/s (good
// deadline): the verifier's outcome and lip-sync metrics, and the measured mouth opening
// against the rendered one (REDTEAM_MEASURE_DARKER=1, REDTEAM_DARK_ONLY=1 for the darker skin alone; development,
// finding 29).
func TestMeasureDarkerDigits(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	dark := measureAlbedo()
	if dark == 0 {
		dark = 0.4
	}
	for _, seed := range measureSeeds() {
		for _, c := range digitsCases() {
			if k := os.Getenv("REDTEAM_CASES"); k != "" && !strings.Contains(","+k+",", ","+c.name+",") {
				continue
			}
			albs := []float64{1, dark}
			if os.Getenv("REDTEAM_DARK_ONLY") != "" {
				albs = albs[1:]
			}
			for _, alb := range albs {
				res, mt, in := digitsRunInput(t, c.b, alb, seed)
				for name, f := range mouthMeasures {
					alt := in
					alt.Observations = append([]models.Observation(nil), in.Observations...)
					for i := range alt.Observations {
						if o := &alt.Observations[i]; o.LandmarksOK {
							o.Mouth = f(&o.Landmarks)
						}
					}
					r := challenge.Verifier{}.Verify(alt)
					t.Logf("   seed %d %-14s albedo %.2f mouth %-9s: %s %q corr %.2f level %.2f diff %.2f offset %.0f ms", seed, c.name, alb, name,
						r.Outcome, r.Reason, r.Metrics["corr"], r.Metrics["corr_level"], r.Metrics["corr_diff"], r.Metrics["offset_ms"])
				}
				t.Logf("seed %d %-14s albedo %.2f: %s %q corr %.2f level %.2f diff %.2f offset %.0f ms | mouth vs rendered r %.2f, open %.3f (%d) shut %.3f (%d), %d landmark frames",
					seed, c.name, alb, res.Outcome, res.Reason, res.Metrics["corr"], res.Metrics["corr_level"], res.Metrics["corr_diff"], res.Metrics["offset_ms"],
					mt.corr, mt.open, mt.openN, mt.shut, mt.shutN, mt.landmarkFrames)
			}
		}
	}
}

// TestOfflineDarkerDigits: the darker skin's mouth (albedo 0.4, as `honest/darker`) follows
// its voice about as well as the default skin's (finding 29). Through VP8 at 800 kbit/s (good
// deadline: the same bytes every run), seeds 1–3, the read_digits lip-sync score at 0.4 is
// within 0.1 of albedo 1's on average and the honest answer passes; on the dark face the
// attacks still fail (TTS with no mouth, TTS with the mouth 0.5 s late, a voice 0.6 s after
// the mouth). With the inner lips' gap (before finding 29) the scores were 0.75, 0.76, 0.63
// against 0.90, 0.87, 0.88: a mean gap of 0.17.
func TestOfflineDarkerDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("renders, encodes and measures ~230 frames per answer, 9 answers")
	}
	cases := digitsCases()
	var gap float64
	seeds := []uint64{1, 2, 3}
	for _, seed := range seeds {
		var corr [2]float64
		for i, alb := range []float64{1, 0.4} {
			res, mt := digitsRun(t, cases[0].b, alb, seed)
			t.Logf("seed %d honest albedo %.1f: %s %q corr %.2f offset %.0f ms; inner gap vs rendered r %.2f",
				seed, alb, res.Outcome, res.Reason, res.Metrics["corr"], res.Metrics["offset_ms"], mt.corr)
			if res.Outcome != challenge.OutcomePassed {
				t.Errorf("seed %d albedo %.1f: honest read_digits %s %q", seed, alb, res.Outcome, res.Reason)
			}
			corr[i] = res.Metrics["corr"]
		}
		gap += (corr[0] - corr[1]) / float64(len(seeds))
	}
	t.Logf("mean lip-sync score gap, albedo 1 minus 0.4: %.3f", gap)
	if gap > 0.1 {
		t.Errorf("the darker skin's lip-sync score is %.2f below the default skin's on average (at most 0.1)", gap)
	}
	for _, c := range cases[1:] {
		res, _ := digitsRun(t, c.b, 0.4, 1)
		t.Logf("%s albedo 0.4: %s %q corr %.2f offset %.0f ms", c.name, res.Outcome, res.Reason, res.Metrics["corr"], res.Metrics["offset_ms"])
		if res.Outcome != challenge.OutcomeFailed {
			t.Errorf("%s on the darker skin: %s %q, want failed", c.name, res.Outcome, res.Reason)
		}
	}
}
