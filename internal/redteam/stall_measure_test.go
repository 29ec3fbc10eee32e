package redteam

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureStalls (REDTEAM_MEASURE_STALLS=1) counts challenge.CountStalls over the motion
// challenges' windows for the honest responder and for a swap behind a virtual camera that
// repeats 20 % of frames (swap/fps_repeat), through VP8 at the table's bitrates: docs/REDTEAM.md
// finding 16's stall measure. REDTEAM_STALL_KINDS (e.g. turn_head/left,move_closer) and
// REDTEAM_STALL_SEEDS (a count) narrow or widen it.
func TestMeasureStalls(t *testing.T) {
	if os.Getenv("REDTEAM_MEASURE_STALLS") == "" {
		t.Skip("REDTEAM_MEASURE_STALLS=1 to measure")
	}
	f := testdataFace(t)
	other := testdataStill(t, "obama.jpg")
	kinds := []string{"turn_head/left", "turn_head/right", "look/up", "look/down", "move_closer/"}
	if k := os.Getenv("REDTEAM_STALL_KINDS"); k != "" {
		kinds = strings.Split(k, ",")
	}
	seeds := 2
	if os.Getenv("REDTEAM_STALL_SEEDS") == "3" {
		seeds = 3
	}
	looks := []struct {
		name string
		look Look
		kbps int
	}{
		{"default 800", Look{Noise: 2.5}, 800},
		{"dim 400", Look{Light: 0.8, Noise: 4, Size: 1.25}, 400},
	}
	for _, lk := range looks {
		var tot [2]challenge.StallCount
		for _, kd := range kinds {
			kind, dir, _ := strings.Cut(kd, "/")
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				for i, c := range []struct {
					name string
					o    offlineOpts
				}{
					{"honest", offlineOpts{}},
					{"fps_repeat", offlineOpts{swap: other, sc: Scenario{Swap: "fps_repeat"}, repeat: 0.2}},
				} {
					look := lk.look
					look.Seed = seed + 10
					c.o.look, c.o.kbps, c.o.seed = look, lk.kbps, seed
					c.o.repeated = map[int]bool{}
					b := honestBehaviour([2]time.Duration{600 * time.Millisecond, 600 * time.Millisecond})
					res, obs, _ := offlineRun(t, f, b, c.o, newChallenge(t, challenge.Kind(kind), dir))
					var win []models.Observation
					rep := 0
					for j, o := range obs {
						if !o.At.Before(res.Issued) && !o.At.After(res.Deadline) {
							win = append(win, o)
							if c.o.repeated[j] {
								rep++
							}
						}
					}
					s := challenge.CountStalls(win, time.Second/15)
					tot[i].Moving += s.Moving
					tot[i].Stalls += s.Stalls
					t.Logf("%-11s %-16s seed %d %-10s %s: %2d of %3d moving frames stalled (%4.1f %%); %d of %d window frames repeated; %s",
						lk.name, kd, seed, c.name, res.Outcome, s.Stalls, s.Moving, 100*s.Share(), rep, len(win), shifts(win))
				}
			}
		}
		t.Logf("%s: honest %d of %d (%.1f %%), fps_repeat %d of %d (%.1f %%)", lk.name,
			tot[0].Stalls, tot[0].Moving, 100*tot[0].Share(), tot[1].Stalls, tot[1].Moving, 100*tot[1].Share())
	}
}

// shifts summarises the per-frame landmark displacements in a window (REDTEAM_STALL_SERIES=1:
// all of them).
func shifts(obs []models.Observation) string {
	if os.Getenv("REDTEAM_STALL_SERIES") == "" {
		return ""
	}
	s := ""
	for i := 1; i < len(obs); i++ {
		if obs[i].LandmarksOK && obs[i-1].LandmarksOK {
			s += fmt.Sprintf(" %.1f", challenge.LandmarkShift(&obs[i-1], &obs[i]))
		} else {
			s += " -"
		}
	}
	return s
}
