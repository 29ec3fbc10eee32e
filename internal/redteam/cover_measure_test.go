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
