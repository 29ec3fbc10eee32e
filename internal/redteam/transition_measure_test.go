package redteam

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureCoverFrames prints, for every frame of a cover_face response, whether the swap's
// pasted face shows, vision's measure and the face's identity distance to the session's
// identity (every frame the gate admits embedded; REDTEAM_MEASURE_FRAMES=1; development).
func TestMeasureCoverFrames(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_FRAMES")
	f, other, m := swapFaces(t)
	type fr struct {
		at     time.Time
		pasted bool
		o      models.Observation
		d      *faceid.Descriptor
		why    string
	}
	for _, lat := range measureLats() {
		b := honestBehaviour([2]time.Duration{lat, lat})
		for _, c := range []struct {
			name string
			look Look
			kbps int
			swap *Face
			sc   Scenario
		}{
			{"honest", Look{Noise: 2.5, Seed: 11}, 800, nil, Scenario{}},
			{"honest dim", Look{Light: 0.8, Noise: 4, Size: 1.25, Seed: 11}, 400, nil, Scenario{}},
			{"dropout_mild", Look{Noise: 2.5, Seed: 11}, 800, other, Scenario{Swap: "dropout", DropOut: 2}},
		} {
			ids := faceid.NewSession(m, faceid.SessionConfig{})
			var frames []fr
			g := faceid.Gate{}
			each := func(f *models.Frame, o *models.Observation, pasted bool) {
				x := fr{at: o.At, pasted: pasted, o: *o}
				s, why, err := m.Describe(f, o, g)
				if err != nil {
					t.Fatal(err)
				}
				x.why = why
				if why == "" {
					x.d = &s.D
				}
				frames = append(frames, x)
			}
			res, _, ds := offlineRun(t, f, b, offlineOpts{swap: c.swap, sc: c.sc, ids: ids, look: c.look, kbps: c.kbps, each: each}, newChallenge(t, challenge.KindCoverFace, ""))
			main, _ := ids.Main()
			t.Logf("lat %v %s: %s %q; regular samples %v", lat, c.name, res.Outcome, res.Reason, ds)
			for _, x := range frames {
				if x.at.Before(res.Issued) || x.at.After(res.Deadline) {
					continue
				}
				d := "    -"
				if x.d != nil {
					d = fmt.Sprintf("%.3f", faceid.Distance(*x.d, main.Template))
				}
				p := " "
				if x.pasted || c.swap == nil {
					p = " "
				} else {
					p = "O"
				}
				t.Logf("  %5.2fs %s %s present %v coast %v lm %v occ %.2f yaw %5.1f d %s %s", x.at.Sub(res.Issued).Seconds(), p,
					describe([]models.Observation{x.o}, x.at, x.at), x.o.FacePresent, x.o.Coasting, x.o.LandmarksOK, x.o.Occlusion, x.o.Yaw, d, x.why)
			}
		}
	}
}

// TestMeasureCoverTransitions prints cover_face's transition faces (faceid.CoverConfig, as the
// analysis samples them) and the outcome with the identity checks, for the honest person in the
// table's two looks and the dropping swaps, over REDTEAM_LATS and REDTEAM_SEEDS
// (REDTEAM_MEASURE_TRANSITIONS=1, or a comma-separated list of the cases' names; development).
func TestMeasureCoverTransitions(t *testing.T) {
	only := measuring(t, "REDTEAM_MEASURE_TRANSITIONS")
	f, other, m := swapFaces(t)
	for _, c := range []struct {
		name string
		look Look
		kbps int
		swap *Face
		sc   Scenario
	}{
		{"honest", Look{Noise: 2.5}, 800, nil, Scenario{}},
		{"honest_dim", Look{Light: 0.8, Noise: 4, Size: 1.25}, 400, nil, Scenario{}},
		{"dropout_mild", Look{Noise: 2.5}, 800, other, Scenario{Swap: "dropout", DropOut: 2}},
		{"dropout", Look{Noise: 2.5}, 800, other, Scenario{Swap: "dropout", DropOut: 8}},
	} {
		if only != "1" && !strings.Contains(","+only+",", ","+c.name+",") {
			continue
		}
		failed, clock, n := 0, 0, 0
		for _, lat := range measureLats() {
			for _, seed := range measureSeeds() {
				b := honestBehaviour([2]time.Duration{lat, lat})
				look := c.look
				look.Seed = seed + 10
				ids := faceid.NewSession(m, faceid.SessionConfig{})
				res, obs, ds := offlineRun(t, f, b, offlineOpts{swap: c.swap, sc: c.sc, ids: ids, look: look, kbps: c.kbps, seed: seed}, newChallenge(t, challenge.KindCoverFace, ""))
				v := res.Outcome
				challenge.CheckIdentity(&res, ds, 0)
				withClock := res.Outcome
				cc := ids.Covers(res.Issued, res.Issued.Add(time.Hour), challenge.DefaultIdentityFar)
				challenge.CheckCoverTransitions(&res, cc.Far, int(res.Metrics[challenge.MetricIdentityOther]))
				n++
				if withClock == challenge.OutcomeFailed && v != challenge.OutcomeFailed {
					clock++
				}
				if res.Outcome == challenge.OutcomeFailed {
					failed++
				}
				mx := 0.0
				for _, d := range ds {
					mx = max(mx, d)
				}
				t.Logf("%-12s lat %v seed %d: verifier %s, clock %s (max %.3f, %v far), transitions %d faces max %.3f far %d -> %s %q; %s",
					c.name, lat, seed, v, withClock, mx, res.Metrics[challenge.MetricIdentityOther], cc.Faces, cc.Max, cc.Far, res.Outcome, res.Reason, describe(obs, res.Issued, res.Deadline))
			}
		}
		t.Logf("%s: failed %d of %d with both checks (%d by the clock's faces alone)", c.name, failed, n, clock)
	}
}
