package redteam

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
)

// TestMeasureCover prints cover_face outcomes of the honest person with the table's dim look
// (through VP8 at 400 kbit/s) over reaction latencies and seeds (REDTEAM_MEASURE_COVER=1;
// development).
func TestMeasureCover(t *testing.T) {
	if os.Getenv("REDTEAM_MEASURE_COVER") == "" {
		t.Skip("REDTEAM_MEASURE_COVER=1 to measure")
	}
	f := testdataFace(t)
	dim := Look{Light: 0.8, Noise: 4, Size: 1.25}
	kbps := 400
	if os.Getenv("REDTEAM_RAW") != "" {
		kbps = 0
	}
	pass := 0
	n := 0
	for _, lat := range measureLats() {
		for _, seed := range measureSeeds() {
			b := honestBehaviour([2]time.Duration{lat, lat})
			look := dim
			look.Seed = seed + 10
			res, obs, _ := offlineRun(t, f, b, offlineOpts{look: look, kbps: kbps, seed: seed}, newChallenge(t, challenge.KindCoverFace, ""))
			n++
			if res.Outcome == challenge.OutcomePassed {
				pass++
			}
			t.Logf("lat %v seed %d: %s %q %v; %s", lat, seed, res.Outcome, res.Reason, res.Metrics, describe(obs, res.Issued, res.Deadline))
			if os.Getenv("REDTEAM_FRAMES") != "" {
				for _, o := range obs {
					if o.At.Before(res.Issued) || o.At.After(res.Deadline) {
						continue
					}
					t.Logf("  %5.2fs present %v coast %v lm %v occ %.2f Y %.0f CbCr %.0f/%.0f conf %.2f box %v",
						o.At.Sub(res.Issued).Seconds(), o.FacePresent, o.Coasting, o.LandmarksOK, o.Occlusion, o.FaceY, o.FaceCb, o.FaceCr, o.FaceConf, o.Face)
				}
			}
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
			look := dim
			look.Seed = 11
			c.o.look, c.o.kbps, c.o.ids = look, kbps, faceid.NewSession(m, faceid.SessionConfig{})
			res, obs, ds := offlineRun(t, f, c.b, c.o, newChallenge(t, challenge.KindCoverFace, ""))
			v := res.Outcome
			challenge.CheckIdentity(&res, ds, 0)
			t.Logf("lat %v %-16s: verifier %s, with identity %s %q; %s", lat, c.name, v, res.Outcome, res.Reason, describe(obs, res.Issued, res.Deadline))
		}
	}
	_ = fmt.Sprint
	_ = math.Abs
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
