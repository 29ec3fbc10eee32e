package redteam

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureDarkCover measures the honest person's cover_face through VP8 at 800 kbit/s (the
// table's honest rows: a camera's noise) at the albedos in REDTEAM_ALBEDOS (default "1,0.4":
// the default and the darker row), the latencies and seeds (REDTEAM_LATS, REDTEAM_SEEDS,
// default 1–10) (REDTEAM_MEASURE_DARKCOVER=1; development, issue 16). For each cover it logs
// the verdict and, from the last frame of the hand, every frame for 1.5 s: how vision found
// the face (full/near/tracked, or coasting), its confidence, occlusion and the frame's state as
// the verifier's clear criterion reads it; then the time from the hand gone to the first
// clear frame and the non-clear frames after it. REDTEAM_SAVE=DIR saves each verifier input
// (observations without landmarks) as JSON for TestMeasureDarkCoverReverify. REDTEAM_RAW=1:
// without VP8; REDTEAM_GOOD=1: libvpx's good deadline (the same bytes every run).
func TestMeasureDarkCover(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKCOVER")
	f := testdataFace(t)
	albedos := []float64{1, 0.4}
	if s := os.Getenv("REDTEAM_ALBEDOS"); s != "" {
		albedos = nil
		for _, p := range strings.Split(s, ",") {
			v, _ := strconv.ParseFloat(p, 64)
			albedos = append(albedos, v)
		}
	}
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if os.Getenv("REDTEAM_SEEDS") != "" {
		seeds = measureSeeds()
	}
	save := os.Getenv("REDTEAM_SAVE")
	type tally struct{ n, passed, noRecovery, blip int }
	tallies := map[float64]*tally{}
	for _, alb := range albedos {
		tl := &tally{}
		tallies[alb] = tl
		for _, lat := range measureLats() {
			for _, seed := range seeds {
				look := Look{Noise: 2.5, Seed: seed + 10}
				if alb != 1 {
					look.Albedo = alb
				}
				var in challenge.Input
				b := honestBehaviour([2]time.Duration{lat, lat})
				o := offlineOpts{look: look, kbps: 800, seed: seed, input: func(i challenge.Input) { in = i }, good: os.Getenv("REDTEAM_GOOD") != ""}
				if os.Getenv("REDTEAM_RAW") != "" {
					o.kbps = 0
				}
				res, obs, _ := offlineRun(t, f, b, o,
					newChallenge(t, challenge.KindCoverFace, ""))
				tl.n++
				switch {
				case res.Outcome == challenge.OutcomePassed:
					tl.passed++
				case res.Reason == challenge.ReasonNoRecovery:
					tl.noRecovery++
				}
				gone := res.Shown.Add(lat + time.Duration(res.Params.HoldMS)*time.Millisecond + time.Second)
				line, blip := afterHand(obs, gone)
				if blip {
					tl.blip++
				}
				t.Logf("albedo %.1f lat %v seed %d: %s %q %v; %s", alb, lat, seed, res.Outcome, res.Reason, res.Metrics, describe(obs, res.Issued, res.Deadline))
				t.Logf("  after the hand: %s", line)
				if save != "" {
					for i := range in.Observations {
						in.Observations[i].Landmarks = [68][2]float32{} // never stored (json:"-" anyway)
					}
					js, err := json.Marshal(in)
					if err != nil {
						t.Fatal(err)
					}
					name := filepath.Join(save, fmt.Sprintf("a%.1f_l%d_s%d.json", alb, lat.Milliseconds(), seed))
					if err := os.WriteFile(name, js, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	for _, alb := range albedos {
		tl := tallies[alb]
		t.Logf("albedo %.1f: passed %d of %d, hand not removed %d, a non-clear frame within 1 s after the first clear one %d", alb, tl.passed, tl.n, tl.noRecovery, tl.blip)
	}
}

// afterHand describes the frames from the hand's last frame (the last non-clear frame before
// gone + 0.5 s) for 1.5 s, and reports whether a non-clear frame followed the first clear one
// within 1 s.
func afterHand(obs []models.Observation, gone time.Time) (string, bool) {
	th := challenge.DefaultThresholds()
	clear := func(o models.Observation) bool {
		return o.FacePresent && !o.Coasting && o.LandmarksOK && o.Occlusion < th.ClearOcclusion
	}
	last := -1
	for i, o := range obs {
		if o.At.After(gone.Add(500 * time.Millisecond)) {
			break
		}
		if !clear(o) {
			last = i
		}
	}
	if last < 0 {
		return "no hand seen", false
	}
	var sb strings.Builder
	firstClear := time.Time{}
	blip := false
	for _, o := range obs[last:] {
		if o.At.Sub(obs[last].At) > 1500*time.Millisecond {
			break
		}
		st := "clear"
		if !clear(o) {
			st = "NOT"
			if !firstClear.IsZero() && o.At.Sub(firstClear) <= time.Second {
				blip = true
			}
		} else if firstClear.IsZero() {
			firstClear = o.At
		}
		found := o.Found
		if o.Coasting {
			found = "coast"
		} else if !o.FacePresent {
			found = "none"
		}
		fmt.Fprintf(&sb, "[%+.2fs %s %.2f occ %.2f w %d %s] ", o.At.Sub(gone).Seconds(), found, o.FaceConf, o.Occlusion, o.Face.W, st)
	}
	if !firstClear.IsZero() {
		fmt.Fprintf(&sb, "first clear %+.2fs after the hand is gone", firstClear.Sub(gone).Seconds())
	}
	return sb.String(), blip
}

// TestMeasureDarkCoverReverify verifies the inputs TestMeasureDarkCover saved in
// REDTEAM_SAVE with this tree's verifier (REDTEAM_MEASURE_DARKCOVER=1; development): the same
// frames before and after a change to verify_cover.
func TestMeasureDarkCoverReverify(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKCOVER")
	dir := os.Getenv("REDTEAM_SAVE")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	counts := map[string]map[string]int{}
	for _, name := range files {
		js, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var in challenge.Input
		if err := json.Unmarshal(js, &in); err != nil {
			t.Fatal(err)
		}
		res := challenge.Verifier{}.Verify(in)
		a := strings.SplitN(filepath.Base(name), "_", 2)[0]
		if counts[a] == nil {
			counts[a] = map[string]int{}
		}
		counts[a][string(res.Outcome)+" "+res.Reason]++
		t.Logf("%s: %s %q hold %.0f ms", filepath.Base(name), res.Outcome, res.Reason, res.Metrics["hold_ms"])
	}
	for a, c := range counts {
		t.Logf("%s: %v", a, c)
	}
}
