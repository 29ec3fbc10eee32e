package redteam

import (
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
// swaps painting over the hand and dropping out, the photo and a person leaving, at the same
// latencies and seeds (REDTEAM_ATTACK=dropout, …: only the attacks whose name contains it;
// REDTEAM_HONEST=0: the attacks alone); REDTEAM_FRAMES=1: every frame's measure. Offline runs
// through VP8 are not exactly repeatable (libvpx's realtime mode adapts to the CPU time it
// gets): the same latency and seed can give other frames from run to run.
func TestMeasureCover(t *testing.T) {
	if os.Getenv("REDTEAM_MEASURE_COVER") == "" {
		t.Skip("REDTEAM_MEASURE_COVER=1 to measure")
	}
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
			look := dim
			look.Seed = seed + 10
			kind, dir := challenge.KindCoverFace, ""
			if k := os.Getenv("REDTEAM_KIND"); k != "" { // e.g. turn_head/left, look/up
				k, d, _ := strings.Cut(k, "/")
				kind, dir = challenge.Kind(k), d
			}
			res, obs, _ := offlineRun(t, f, b, offlineOpts{look: look, kbps: kbps, seed: seed}, newChallenge(t, kind, dir))
			n++
			if res.Outcome == challenge.OutcomePassed {
				pass++
			}
			t.Logf("lat %v seed %d: %s %q %v; %s", lat, seed, res.Outcome, res.Reason, res.Metrics, describe(obs, res.Issued, res.Deadline))
			logFrames(t, obs, res)
		}
	}
	t.Logf("passed %d of %d", pass, n)
	if os.Getenv("REDTEAM_ATTACKS") == "" {
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
		t.Logf("lat %v seed %d %-16s: verifier %s, with identity %s %q %v; %s", lat, seed, c.name, v, res.Outcome, res.Reason, res.Metrics, describe(obs, res.Issued, res.Deadline))
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
		t.Logf("  %5.2fs present %v coast %v lm %v occ %.2f Y %.0f CbCr %.0f/%.0f conf %.2f box %v",
			o.At.Sub(res.Issued).Seconds(), o.FacePresent, o.Coasting, o.LandmarksOK, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr, o.FaceConf, o.Face)
	}
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
	if os.Getenv("REDTEAM_MEASURE_PITCH") == "" {
		t.Skip("REDTEAM_MEASURE_PITCH=1 to measure")
	}
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
