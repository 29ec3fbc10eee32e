package redteam

import (
	"fmt"
	"math"
	"os"
	"slices"
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
	measuring(t, "REDTEAM_MEASURE_STALLS")
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
		var tot, told, tnp [2]challenge.StallCount
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
					win, rep := challengeWindow(res, obs, c.o.repeated)
					s := challenge.CountStalls(win, time.Second/15)
					tot[i].Moving += s.Moving
					tot[i].Stalls += s.Stalls
					old := oldCountStalls(win, time.Second/15)
					told[i].Moving += old.Moving
					told[i].Stalls += old.Stalls
					noPix := slices.Clone(win)
					for k := range noPix {
						noPix[k].ChangeOK = false
					}
					np := challenge.CountStalls(noPix, time.Second/15)
					tnp[i].Moving += np.Moving
					tnp[i].Stalls += np.Stalls
					t.Logf("%-11s %-16s seed %d %-10s %s: %2d of %3d moving frames stalled (%4.1f %%; landmarks only %d of %d; before finding 20 %d of %d); %d of %d window frames repeated; %s%s",
						lk.name, kd, seed, c.name, res.Outcome, s.Stalls, s.Moving, 100*s.Share(), np.Stalls, np.Moving, old.Stalls, old.Moving, rep, len(win), shifts(win), changes(win, c.o.repeated, obs))
				}
			}
		}
		t.Logf("%s: honest %d of %d (%.1f %%), fps_repeat %d of %d (%.1f %%); landmarks only: honest %d of %d, fps_repeat %d of %d; before finding 20: honest %d of %d, fps_repeat %d of %d", lk.name,
			tot[0].Stalls, tot[0].Moving, 100*tot[0].Share(), tot[1].Stalls, tot[1].Moving, 100*tot[1].Share(),
			tnp[0].Stalls, tnp[0].Moving, tnp[1].Stalls, tnp[1].Moving, told[0].Stalls, told[0].Moving, told[1].Stalls, told[1].Moving)
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

// changes lists the face region's change (Observation.Change) of the window's frames,
// REDTEAM_STALL_SERIES=1 only; a repeated frame is marked with *.
func changes(win []models.Observation, repeated map[int]bool, all []models.Observation) string {
	if os.Getenv("REDTEAM_STALL_SERIES") == "" || len(win) == 0 {
		return ""
	}
	first := slices.IndexFunc(all, func(o models.Observation) bool { return o.At.Equal(win[0].At) })
	s := "\n   change:"
	for k, o := range win {
		mark := ""
		if repeated[first+k] {
			mark = "*"
		}
		if o.ChangeOK {
			s += fmt.Sprintf(" %.1f%s", o.Change, mark)
		} else {
			s += " -" + mark
		}
	}
	return s
}

// oldCountStalls is challenge.CountStalls before finding 20 (a stall needed moving frames
// directly on both sides; no picture change), for the comparison in TestMeasureStalls.
func oldCountStalls(obs []models.Observation, interval time.Duration) challenge.StallCount {
	var c challenge.StallCount
	d := make([]float64, len(obs))
	for i := range obs {
		d[i] = -1
		if i == 0 || !obs[i].LandmarksOK || !obs[i-1].LandmarksOK || obs[i].Coasting || obs[i-1].Coasting {
			continue
		}
		gap := obs[i].At.Sub(obs[i-1].At) - interval
		if gap < -interval/4 || gap > interval/4 {
			continue
		}
		d[i] = challenge.LandmarkShift(&obs[i-1], &obs[i])
	}
	for i := 2; i+1 < len(obs); i++ {
		prev, own, next := d[i-1], d[i], d[i+1]
		if prev < 1 || next < 1 || own < 0 || fieldCos(&obs[i-2], &obs[i-1], &obs[i], &obs[i+1]) < 0.5 {
			continue
		}
		c.Moving++
		if own < 0.2*(prev+next)/2 {
			c.Stalls++
		}
	}
	return c
}

// fieldCos is the cosine between the landmarks' displacement from a to b and from c to d.
func fieldCos(a, b, c, d *models.Observation) float64 {
	var dot, n1, n2 float64
	for k := range a.Landmarks {
		for j := 0; j < 2; j++ {
			u := float64(b.Landmarks[k][j] - a.Landmarks[k][j])
			v := float64(d.Landmarks[k][j] - c.Landmarks[k][j])
			dot, n1, n2 = dot+u*v, n1+u*u, n2+v*v
		}
	}
	if n1 == 0 || n2 == 0 {
		return 0
	}
	return dot / math.Sqrt(n1*n2)
}

// TestMeasureStallsLoad (REDTEAM_MEASURE_STALLS_LOAD=1) is TestMeasureStalls under a loaded
// machine's two effects, offline (finding 25): the sender's encoder at libvpx's fastest speed
// (a starved encoder speeds up: realtime VP8 with a positive cpu_used picks its speed from the
// measured encode time) and the server's analysis skipping decoded frames (a queue thinned
// behind real time); REDTEAM_STALL_VARIANTS narrows them (e.g. base,skip25).
func TestMeasureStallsLoad(t *testing.T) {
	if os.Getenv("REDTEAM_MEASURE_STALLS_LOAD") == "" {
		t.Skip("REDTEAM_MEASURE_STALLS_LOAD=1 to measure")
	}
	f := testdataFace(t)
	other := testdataStill(t, "obama.jpg")
	kinds := []string{"turn_head/left", "turn_head/right", "move_closer/"}
	if k := os.Getenv("REDTEAM_STALL_KINDS"); k != "" {
		kinds = strings.Split(k, ",")
	}
	variants := []struct {
		name string
		cpu  int
		skip float64
		dim  bool // the honest dim look at 400 kbit/s
	}{
		{"base", 0, 0, false}, {"fast16", -16, 0, false}, {"skip10", 0, 0.1, false}, {"skip25", 0, 0.25, false},
		{"fast16+skip25", -16, 0.25, false}, {"dim400", 0, 0, true}, {"dim400+skip25", 0, 0.25, true},
	}
	want := map[string]bool{}
	if v := os.Getenv("REDTEAM_STALL_VARIANTS"); v != "" {
		for _, n := range strings.Split(v, ",") {
			want[n] = true
		}
	}
	for _, vr := range variants {
		if len(want) > 0 && !want[vr.name] {
			continue
		}
		var tot [2]challenge.StallCount
		var reps [2]int
		for _, kd := range kinds {
			kind, dir, _ := strings.Cut(kd, "/")
			for seed := uint64(1); seed <= 2; seed++ {
				for i, c := range []struct {
					name string
					o    offlineOpts
				}{
					{"honest", offlineOpts{}},
					{"fps_repeat", offlineOpts{swap: other, sc: Scenario{Swap: "fps_repeat"}, repeat: 0.2}},
				} {
					c.o.look, c.o.kbps, c.o.seed = Look{Noise: 2.5, Seed: seed + 10}, 800, seed
					if vr.dim {
						c.o.look, c.o.kbps = Look{Light: 0.8, Noise: 4, Size: 1.25, Seed: seed + 10}, 400
					}
					c.o.cpuUsed, c.o.skip = vr.cpu, vr.skip
					c.o.repeated = map[int]bool{}
					b := honestBehaviour([2]time.Duration{600 * time.Millisecond, 600 * time.Millisecond})
					res, obs, _ := offlineRun(t, f, b, c.o, newChallenge(t, challenge.Kind(kind), dir))
					win, rep := challengeWindow(res, obs, c.o.repeated)
					s := challenge.CountStalls(win, 0)
					tot[i].Moving += s.Moving
					tot[i].Stalls += s.Stalls
					reps[i] += rep
					t.Logf("%-14s %-16s seed %d %-10s %s: %2d of %3d moving frames stalled; %d of %d window frames repeated%s", vr.name, kd, seed, c.name, res.Outcome, s.Stalls, s.Moving, rep, len(win), changes(win, c.o.repeated, obs))
				}
			}
		}
		t.Logf("%s: honest %d of %d (%.1f %%), fps_repeat %d of %d (%.1f %%; %d analysed frames repeated)", vr.name,
			tot[0].Stalls, tot[0].Moving, 100*tot[0].Share(), tot[1].Stalls, tot[1].Moving, 100*tot[1].Share(), reps[1])
	}
}

// challengeWindow returns the observations from the challenge's issue to its deadline and how
// many of them were repeated frames (the indexes in repeated).
func challengeWindow(res challenge.Result, obs []models.Observation, repeated map[int]bool) (win []models.Observation, rep int) {
	for j, o := range obs {
		if !o.At.Before(res.Issued) && !o.At.After(res.Deadline) {
			win = append(win, o)
			if repeated[j] {
				rep++
			}
		}
	}
	return win, rep
}
