package redteam

import (
	crand "crypto/rand"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureCover prints cover_face outcomes of the honest person with the table's dim look
// (through VP8 at 400 kbit/s) over reaction latencies and seeds (REDTEAM_MEASURE_COVER=1;
// development). REDTEAM_RAW=1: without VP8; REDTEAM_DEFAULT_LOOK=1: the default look at 800
// kbit/s; REDTEAM_LATS, REDTEAM_SEEDS: the latencies and seeds; REDTEAM_ATTACKS=1: also the
// swaps painting over the hand and dropping out (8 and 2 frames), the photo and a person leaving,
// with the identity checks (the clock's faces and the transition faces), or with REDTEAM_KIND
// flash or read_digits the attacks those must fail, at the same
// latencies and seeds (REDTEAM_ATTACK=dropout, …: only the attacks whose name contains it;
// REDTEAM_HONEST=0: the attacks alone); REDTEAM_FRAMES=1: every frame's measure. Offline runs
// through VP8 are not exactly repeatable (libvpx's realtime mode adapts to the CPU time it
// gets): the same latency and seed can give other frames from run to run.
func TestMeasureCover(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_COVER")
	f := testdataFace(t)
	dim := Look{Light: 0.8, Noise: 4, Size: 1.25}
	kbps := 400
	if os.Getenv("REDTEAM_DEFAULT_LOOK") != "" { // the table's default row: a camera's noise, 800 kbit/s
		dim, kbps = Look{Noise: 2.5}, 800
	}
	if os.Getenv("REDTEAM_RAW") != "" {
		kbps = 0
	}
	pass := 0
	n := 0
	for _, lat := range measureLats() {
		for _, seed := range measureSeeds() {
			if os.Getenv("REDTEAM_HONEST") == "0" {
				break
			}
			b := honestBehaviour([2]time.Duration{lat, lat})
			if g, err := strconv.ParseFloat(os.Getenv("REDTEAM_FLASH_GAIN"), 64); err == nil {
				b.FlashGain = g // a skin reflecting less of the screen (darker skin: lower albedo)
			}
			look := dim
			look.Seed = seed + 10
			look.Albedo = measureAlbedo()
			kind, dir := challenge.KindCoverFace, ""
			if k := os.Getenv("REDTEAM_KIND"); k != "" { // e.g. turn_head/left, look/up
				k, d, _ := strings.Cut(k, "/")
				kind, dir = challenge.Kind(k), d
			}
			res, obs, _ := offlineRun(t, f, b, offlineOpts{look: look, kbps: kbps, seed: seed, input: reverify(t, "honest")}, measureChallenge(t, kind, dir))
			n++
			if res.Outcome == challenge.OutcomePassed {
				pass++
			}
			t.Logf("lat %v seed %d: %s %q (before the significance rule: %s) %v; %s", lat, seed, res.Outcome, res.Reason, oldFlash(res), res.Metrics, describe(obs, res.Issued, res.Deadline))
			logFrames(t, obs, res)
		}
	}
	t.Logf("passed %d of %d", pass, n)
	if os.Getenv("REDTEAM_ATTACKS") == "" {
		return
	}
	if k := challenge.Kind(os.Getenv("REDTEAM_KIND")); k == challenge.KindFlash || k == challenge.KindReadDigits {
		measureAttacks(t, f, k, dim, kbps)
		return
	}
	// The attacks and a person leaving, in the same dim look through VP8, over the same
	// latencies (the identity check applied as the analysis does).
	other := testdataStill(t, "obama.jpg")
	m := facetest.Model(t)
	for _, lat := range measureLats() {
		for _, seed := range measureSeeds() {
			measureCoverAttacks(t, f, other, m, dim, kbps, lat, seed)
		}
	}
}

// measureCoverAttacks logs cover_face for the attacks and a person leaving at one latency and
// seed (of the look's noise and blinks), with the identity check applied as the analysis does.
func measureCoverAttacks(t *testing.T, f, other *Face, m *faceid.Model, dim Look, kbps int, lat time.Duration, seed uint64) {
	b := honestBehaviour([2]time.Duration{lat, lat})
	for _, c := range []struct {
		name string
		b    Behaviour
		o    offlineOpts
	}{
		{"swap paint_over", b, offlineOpts{swap: other, sc: Scenario{Swap: "paint_over"}}},
		{"swap dropout", b, offlineOpts{swap: other, sc: Scenario{Swap: "dropout", DropOut: 8}}},
		{"swap dropout_mild", b, offlineOpts{swap: other, sc: Scenario{Swap: "dropout", DropOut: 2}}},
		{"photo", Behaviour{Sway: 1}, offlineOpts{}},
		{"leaves", b, offlineOpts{leave: true}},
	} {
		if k := os.Getenv("REDTEAM_ATTACK"); k != "" && !strings.Contains(c.name, k) {
			continue
		}
		look := dim
		look.Seed = seed + 10
		c.o.look, c.o.kbps, c.o.ids, c.o.seed = look, kbps, faceid.NewSession(m, faceid.SessionConfig{}), seed
		res, obs, ds := offlineRun(t, f, c.b, c.o, newChallenge(t, challenge.KindCoverFace, ""))
		v := res.Outcome
		challenge.CheckIdentity(&res, ds, 0)
		cc := c.o.ids.Covers(res.Issued, res.Issued.Add(time.Hour), challenge.DefaultIdentityFar) // as analysis/identity.go
		challenge.CheckCoverTransitions(&res, cc.Far, int(res.Metrics[challenge.MetricIdentityOther]))
		t.Logf("lat %v seed %d %-17s: verifier %s, with identity %s %q (transition faces %d, max %.3f, %d far) %v; %s", lat, seed, c.name, v, res.Outcome, res.Reason,
			cc.Faces, cc.Max, cc.Far, res.Metrics, describe(obs, res.Issued, res.Deadline))
		logFrames(t, obs, res)
	}
}

// logFrames logs every frame's measure from the issue to the deadline (REDTEAM_FRAMES=1).
func logFrames(t *testing.T, obs []models.Observation, res challenge.Result) {
	t.Helper()
	if os.Getenv("REDTEAM_FRAMES") == "" {
		return
	}
	for _, o := range obs {
		if o.At.Before(res.Issued) || o.At.After(res.Deadline) {
			continue
		}
		t.Logf("  %5.2fs mouth %.3f present %v coast %v lm %v occ %.2f Y %.0f CbCr %.0f/%.0f conf %.2f box %v",
			o.At.Sub(res.Issued).Seconds(), o.Mouth, o.FacePresent, o.Coasting, o.LandmarksOK, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr, o.FaceConf, o.Face)
	}
}

// measureAttacks prints the outcomes of the attacks that flash (a swap ignoring the screen,
// the stream 2 s late, a swap adding 1 s) or read_digits (TTS with no mouth, TTS with the
// mouth 0.5 s late, a converted voice 0.6 s after the mouth) must fail, in the given look,
// over the latencies and seeds.
func measureAttacks(t *testing.T, f *Face, kind challenge.Kind, dim Look, kbps int) {
	type attack struct {
		name string
		mut  func(*Behaviour)
		o    offlineOpts
	}
	var as []attack
	if kind == challenge.KindFlash {
		as = []attack{
			{"swap/no_flash", func(b *Behaviour) { b.IgnoreFlash = true }, offlineOpts{}},
			{"delayed 2 s", nil, offlineOpts{delay: 2 * time.Second}},
			{"swap/latency 1 s", nil, offlineOpts{delay: time.Second}},
			{"swap/latency 0.2 s", nil, offlineOpts{delay: 200 * time.Millisecond}},
		}
	} else {
		as = []attack{
			{"tts no mouth", func(b *Behaviour) { b.Mouth, b.TTSLatency = "none", 1500*time.Millisecond }, offlineOpts{}},
			{"tts mouth 0.5 s late", func(b *Behaviour) {
				b.Mouth, b.MouthDelay, b.TTSLatency = "delayed", 500*time.Millisecond, 1500*time.Millisecond
			}, offlineOpts{}},
			{"voiceconv 0.6 s", func(b *Behaviour) { b.Voice, b.VoiceDelay = "pitch", 600*time.Millisecond }, offlineOpts{}},
		}
	}
	for _, a := range as {
		if only := os.Getenv("REDTEAM_ATTACK"); only != "" && !strings.Contains(a.name, only) {
			continue
		}
		failed, n := 0, 0
		for _, lat := range measureLats() {
			for _, seed := range measureSeeds() {
				b := honestBehaviour([2]time.Duration{lat, lat})
				if a.mut != nil {
					a.mut(&b)
				}
				o := a.o
				o.look, o.kbps, o.seed = dim, kbps, seed
				o.look.Seed = seed + 10
				o.look.Albedo = measureAlbedo()
				o.input = reverify(t, a.name)
				res, _, _ := offlineRun(t, f, b, o, measureChallenge(t, kind, ""))
				n++
				if res.Outcome == challenge.OutcomeFailed {
					failed++
				}
				t.Logf("%-20s lat %v seed %d: %s %q (before the significance rule: %s) %v", a.name, lat, seed, res.Outcome, res.Reason, oldFlash(res), res.Metrics)
			}
		}
		t.Logf("%s: failed %d of %d", a.name, failed, n)
	}
}

// reverify, with EXP_VARIANTS="ENV=a|ENV=b|…", verifies the input again under each setting of
// an experimental environment knob and prints the outcomes (development).
func reverify(t *testing.T, name string) func(challenge.Input) {
	vs := os.Getenv("EXP_VARIANTS")
	if vs == "" {
		return nil
	}
	return func(in challenge.Input) {
		for _, v := range strings.Split(vs, "|") {
			k, val, _ := strings.Cut(v, "=")
			old := os.Getenv(k)
			os.Setenv(k, val)
			res := challenge.Verifier{}.Verify(in)
			os.Setenv(k, old)
			t.Logf("  VARIANT %s %s: %s %q corr %.3f level %.3f diff %.3f lag/offset %.0f/%.0f null %.3f", name, v, res.Outcome, res.Reason,
				res.Metrics["corr"], res.Metrics["corr_level"], res.Metrics["corr_diff"], res.Metrics["lag_ms"], res.Metrics["offset_ms"], res.Metrics["null_max"])
		}
	}
}

// measureAlbedo is REDTEAM_ALBEDO (Look.Albedo: a darker skin; 0: the still's).
func measureAlbedo() float64 {
	a, _ := strconv.ParseFloat(os.Getenv("REDTEAM_ALBEDO"), 64)
	return a
}

// measureChallenge draws the measured challenge; with REDTEAM_LONG=1 a flash is the longer
// reissue after a weak reflection (challenge.NewLongFlash, attempt 2).
func measureChallenge(t *testing.T, k challenge.Kind, dir string) challenge.Challenge {
	t.Helper()
	if k == challenge.KindFlash && os.Getenv("REDTEAM_LONG") != "" {
		ch, err := challenge.NewLongFlash(false, crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ch.Attempt = 2
		return ch
	}
	return newChallenge(t, k, dir)
}

// oldFlash is a flash result's outcome under the rule before the significance one (finding
// 21), from the same metrics: a correlation of 0.5 (fades 0.4) beating every surrogate by
// 0.15 at a lag within [FlashLagMin, lag_max_ms] passes, a first issue up to FlashLagMax is
// "late light", beyond "late"; else "no response". The correlation, lag and surrogates are
// computed as before (the surrogates no longer stop early, which only happened on failures).
func oldFlash(r challenge.Result) string {
	if r.Kind != challenge.KindFlash || r.Metrics["null_n"] == 0 {
		return "-"
	}
	th := challenge.DefaultThresholds()
	minCorr := th.FlashMinCorr
	if r.Params.Fade {
		minCorr = th.FadeMinCorr
	}
	corr, lag := r.Metrics["corr"], time.Duration(r.Metrics["lag_ms"])*time.Millisecond
	switch {
	case corr < minCorr || corr < r.Metrics["null_max"]+th.FlashNullMargin:
		return "no response"
	case lag > time.Duration(r.Metrics["lag_max_ms"]*float64(time.Millisecond)):
		if lag <= th.FlashLagMax && r.Attempt < 2 {
			return "late light, reissued"
		}
		return "late"
	case lag < th.FlashLagMin:
		return "implausible lag"
	}
	return "passed"
}

func measureLats() []time.Duration {
	if s := os.Getenv("REDTEAM_LATS"); s != "" {
		var out []time.Duration
		for _, p := range strings.Split(s, ",") {
			d, _ := time.ParseDuration(p)
			out = append(out, d)
		}
		return out
	}
	return []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, 1200 * time.Millisecond}
}

func measureSeeds() []uint64 {
	if s := os.Getenv("REDTEAM_SEEDS"); s != "" {
		var out []uint64
		for _, p := range strings.Split(s, ",") {
			v, _ := strconv.ParseUint(p, 10, 64)
			out = append(out, v)
		}
		return out
	}
	return []uint64{1, 2, 3}
}

// TestMeasurePitch prints the pitch the project's pose estimate reads on the renderer's tilts
// (REDTEAM_MEASURE_PITCH=1; development): the median of the last 6 of 10 frames held at each
// tilt after a gradual tilt from rest, against the rest pose's median.
func TestMeasurePitch(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_PITCH")
	f := testdataFace(t)
	for _, look := range []Look{{Noise: 2.5}, {Light: 0.8, Noise: 4, Size: 1.25, Seed: 3}} {
		r := NewRenderer(f, look)
		med := func(st State) (float64, float64) {
			seq := repeat(State{}, 8)
			for i := 1; i <= 8; i++ {
				k := float64(i) / 8
				seq = append(seq, State{Pitch: st.Pitch * k})
			}
			obs := measureSeq(t, r, append(seq, repeat(st, 10)...))
			var ps, ys []float64
			for _, o := range obs[len(obs)-6:] {
				if o.PoseOK {
					ps, ys = append(ps, o.Pitch), append(ys, o.Yaw)
				}
			}
			if len(ps) == 0 {
				return math.NaN(), math.NaN()
			}
			sort.Float64s(ps)
			sort.Float64s(ys)
			return ps[len(ps)/2], ys[len(ys)/2]
		}
		rest, _ := med(State{})
		for _, p := range []float64{35, 20, -20, -35, -50, -65} {
			m, y := med(State{Pitch: p})
			t.Logf("look %+v pitch %4.0f: measured %6.1f (rest %5.1f, change %6.1f), yaw %5.1f", look, p, m, rest, m-rest, y)
		}
	}
}
