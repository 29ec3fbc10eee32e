package analysis

import (
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/models"
)

// loopObservations measures the frames of the face fixture (a still portrait
// with a slow zoom and sway: a slow-moving replayed clip) with the vision
// analyser and repeats the measurements n times, as a looping virtual camera
// would show them.
func loopObservations(t *testing.T, n int) []models.Observation {
	t.Helper()
	_, newAnalyzer := visionFactory(t)
	an, err := newAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	src, err := OpenVideo(faceIVF(t), FileEpoch)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var clip []models.Observation
	for {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		o, err := an.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		o.At = f.Capture
		clip = append(clip, o)
	}
	period := clip[len(clip)-1].At.Sub(clip[0].At) + time.Second/15
	var out []models.Observation
	for k := range n {
		for _, o := range clip {
			o.At = o.At.Add(time.Duration(k) * period)
			out = append(out, o)
		}
	}
	return out
}

// TestFlashOnRealLoop is flake finding 1: a pre-recorded loop passed a flash
// challenge by chance (0.53 at 580 ms) because its own slow chroma changes
// correlated with the colour sequence at one of the lags searched. On the
// real measurements of a slow-moving clip, every random flash and fade
// sequence, issued anywhere in the loop, must fail "no response" (not pass,
// not "late response"; a first issue may be inconclusive "weak reflection", which is
// reissued and must not pass either); the same measurements with the face lit by the
// screen (2–5 % of the colour's offset, 100–500 ms after the ack) must pass.
func TestFlashOnRealLoop(t *testing.T) {
	obs := loopObservations(t, 7)
	faces := 0
	for _, o := range obs {
		if o.FacePresent && !o.Coasting {
			faces++
		}
	}
	if faces < len(obs)*9/10 {
		t.Fatalf("a face on %d of %d frames: the fixture should show one", faces, len(obs))
	}
	seq := mrand.NewChaCha8([32]byte{'l', 'o', 'o', 'p'})
	rng := mrand.New(mrand.NewPCG(3, 9))
	trials := 60
	if os.Getenv("FLASHLOOP_TRIALS") != "" {
		trials, _ = strconv.Atoi(os.Getenv("FLASHLOOP_TRIALS"))
	}
	var lm, hm []float64
	chance, late, worst := 0, 0, 0.0
	weak := 0
	for i := range trials {
		ch, err := challenge.NewChallenge(challenge.KindFlash, i%2 == 1, seq)
		if err != nil {
			t.Fatal(err)
		}
		issued := FileEpoch.Add(3*time.Second + time.Duration(rng.IntN(5000))*time.Millisecond)
		shown := issued.Add(200 * time.Millisecond)
		in := challenge.Input{Challenge: ch, Issued: issued, Shown: shown, Observations: obs}
		r := challenge.Verifier{}.Verify(in)
		th := challenge.DefaultThresholds()
		min := th.FlashMinCorr
		if ch.Params.Fade {
			min = th.FadeMinCorr
		}
		if r.Metrics["corr"] >= min { // what the verifier without the surrogates said
			if lag := time.Duration(r.Metrics["lag_ms"]) * time.Millisecond; lag >= th.FlashLagMin && lag <= time.Duration(r.Metrics["lag_max_ms"]*float64(time.Millisecond)) {
				chance++
			} else {
				late++
			}
		}
		worst = max(worst, r.Metrics["corr"]-r.Metrics["null_max"])
		lm = append(lm, r.Metrics["corr"]-r.Metrics["null_max"])
		// A first issue may be inconclusive "weak reflection" where the loop's own chroma
		// changes are too large for a minimal reflection to have stood out, or a little
		// evidence showed by chance (REDTEAM.md finding 21); it is reissued with a fresh,
		// longer sequence (challenge.TestFlashNoReflectionFails).
		if r.Outcome == challenge.OutcomeInconclusive && r.Reason == challenge.ReasonWeakFlash {
			weak++
			// Judged as the reissue, the same light must not pass either.
			re := in
			re.Challenge.Attempt = 2
			if r2 := (challenge.Verifier{}).Verify(re); r2.Outcome == challenge.OutcomePassed {
				t.Errorf("trial %d (fade %v): the loop passed as a reissue (corr %.2f)", i, ch.Params.Fade, r2.Metrics["corr"])
			}
		} else if r.Outcome != challenge.OutcomeFailed || r.Reason != challenge.ReasonNoResponse {
			t.Errorf("trial %d (fade %v): the loop got %s %q (corr %.2f at %v ms, best surrogate %.2f)", i, ch.Params.Fade,
				r.Outcome, r.Reason, r.Metrics["corr"], r.Metrics["lag_ms"], r.Metrics["null_max"])
		}

		// An honest face: the same measurements, lit by the screen at a lag a camera at the
		// loop's frame rate shows (within challenge's 150 ms + 2 frame intervals, less the
		// lag search's error; REDTEAM.md finding 17).
		lag := time.Duration(100+rng.IntN(120)) * time.Millisecond
		gain := 0.02 + 0.03*rng.Float64()
		in.Observations = litObservations(obs, ch, shown.Add(lag), gain)
		h := challenge.Verifier{}.Verify(in)
		hm = append(hm, h.Metrics["corr"]-h.Metrics["null_max"])
		if h.Outcome != challenge.OutcomePassed {
			t.Errorf("trial %d (fade %v, gain %.3f, lag %v): an honest face got %s %q (corr %.2f, best surrogate %.2f)", i, ch.Params.Fade,
				gain, lag, h.Outcome, h.Reason, h.Metrics["corr"], h.Metrics["null_max"])
		}
	}
	t.Logf("%d of %d first issues were inconclusive \"weak reflection\" (reissued), the rest failed \"no response\"", weak, trials)
	// The cost of finding 21's fairness rule: a weak reflection is reissued rather than failed,
	// and this loop's own chroma changes leave 35 of 60 first issues "weak" (measured
	// 2026-12-05 with the power's minimal reflection at 0.001; 2-5 of 60 at 0.0025, which
	// called honest darker faces contrary). Finding 24 scales that minimum with the face's luma
	// below 128. The count moved with the machine's load (35 quiet, 38 with three busy loops, 47
	// in a CI run) because the fixture was encoded with libvpx's realtime deadline, which adapts
	// its effort to the time it gets; faceIVF now encodes with the "good" deadline on one thread,
	// the same bytes every run, and this loop gives 41 of 60 (2026-12-06). It never passes, first
	// issue or reissue; the bound keeps the cost in view.
	if weak > trials*5/6 {
		t.Errorf("the loop: %d of %d first issues inconclusive", weak, trials)
	}
	sort.Float64s(lm)
	sort.Float64s(hm)
	t.Logf("loop margins top %v; honest margins bottom %v", lm[max(0, len(lm)-8):], hm[:min(8, len(hm))])
	t.Logf("on the loop, %d of %d sequences scored above the correlation threshold at a plausible lag and %d at a late one (the verifier without surrogates: %d passes, %d \"late response\"); best margin over the surrogates %.2f (needed %.2f)",
		chance, trials, late, chance, late, worst, challenge.DefaultThresholds().FlashNullMargin)
}

// litObservations adds the screen's light to the face chroma: gain of each
// colour's offset from neutral, from start (the colour's display plus the
// camera's lag) as the page shows it.
func litObservations(obs []models.Observation, ch challenge.Challenge, start time.Time, gain float64) []models.Observation {
	step := time.Duration(ch.Params.StepMS) * time.Millisecond
	out := make([]models.Observation, len(obs))
	for i, o := range obs {
		u := o.At.Sub(start)
		if n := len(ch.Params.Colors); u >= 0 && u < time.Duration(n)*step {
			k := int(u / step)
			cb, cr := chroma(ch.Params.Colors[k])
			if ch.Params.Fade && k+1 < n {
				f := float64(u-time.Duration(k)*step) / float64(step)
				cb2, cr2 := chroma(ch.Params.Colors[k+1])
				cb, cr = cb+(cb2-cb)*f, cr+(cr2-cr)*f
			}
			o.FaceCb += gain * (cb - 128)
			o.FaceCr += gain * (cr - 128)
		}
		out[i] = o
	}
	return out
}

// chroma is "#rrggbb" as BT.601 full-range Cb, Cr.
func chroma(hex string) (cb, cr float64) {
	var r, g, b int
	for i, p := range []*int{&r, &g, &b} {
		for _, c := range hex[1+2*i : 3+2*i] {
			*p *= 16
			switch {
			case c >= '0' && c <= '9':
				*p += int(c - '0')
			default:
				*p += int(c|0x20-'a') + 10
			}
		}
	}
	fr, fg, fb := float64(r), float64(g), float64(b)
	return 128 - 0.168736*fr - 0.331264*fg + 0.5*fb, 128 + 0.5*fr - 0.418688*fg - 0.081312*fb
}
