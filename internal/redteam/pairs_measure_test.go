package redteam

import (
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// TestMeasurePairQuality (REDTEAM_MEASURE_PAIRS=1; REDTEAM_SEEDS; development) prints, for the
// honest dim turn through VP8 at 400 kbit/s and the mild yaw-break swap, every same-pose pair
// farther than 0.55 with the quality of both faces.
func TestMeasurePairQuality(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_PAIRS")
	f, other, m := swapFaces(t)
	type face struct {
		s     faceid.Sample
		o     models.Observation
		speed float64
		swap  bool
		key   bool
	}
	for _, seed := range measureSeeds() {
		for _, c := range []struct {
			name string
			dir  string
			swap *Face
			sc   Scenario
		}{
			{"honest", challenge.DirRight, nil, Scenario{}},
			{"honest", challenge.DirLeft, nil, Scenario{}},
			{"yaw_break_mild", challenge.DirRight, other, Scenario{Swap: "yaw_break", DropOut: 4, Behaviour: Behaviour{YawLimit: 45}}},
		} {
			if os.Getenv("REDTEAM_PAIRS_HONEST") != "" && c.swap != nil {
				continue
			}
			var faces []face
			var issued time.Time
			prevYaw, prevAt := math.NaN(), time.Time{}
			b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
			b.YawLimit = c.sc.Behaviour.YawLimit
			look := Look{Light: 0.8, Noise: 4, Size: 1.25, Seed: seed + 10}
			ch := newChallenge(t, challenge.KindTurnHead, c.dir)
			keys := map[int]bool{}
			if n, _ := strconv.Atoi(os.Getenv("REDTEAM_KEY_EVERY")); n > 0 { // keyframe requests every n frames
				for i := n; i < 1000; i += n {
					keys[i] = true
				}
			}
			res, _, _ := offlineRun(t, f, b, offlineOpts{swap: c.swap, sc: c.sc, look: look, kbps: 400, seed: seed, keyAt: keys,
				each: func(fr *models.Frame, ob *models.Observation, pasted bool) {
					sp := 0.0
					if ob.PoseOK && !math.IsNaN(prevYaw) {
						sp = math.Abs(ob.Yaw-prevYaw) / ob.At.Sub(prevAt).Seconds()
					}
					if ob.PoseOK {
						prevYaw, prevAt = ob.Yaw, ob.At
					}
					if math.Abs(ob.Yaw) < 10 || !ob.LandmarksOK || !ob.PoseOK {
						return
					}
					smp, why, err := m.Describe(fr, ob, faceid.Gate{MaxYaw: 60})
					if err != nil || why != "" {
						return
					}
					faces = append(faces, face{smp, *ob, sp, pasted, fr.Keyframe})
				}, input: func(in challenge.Input) { issued = in.Issued }}, ch)
			_ = issued
			n := 0
			for i := range faces {
				for j := i + 1; j < len(faces); j++ {
					a, b := faces[i], faces[j]
					if math.Abs(a.s.Yaw-b.s.Yaw) > 15 || (a.s.Yaw < 0) != (b.s.Yaw < 0) || b.s.At.Sub(a.s.At) > 1500*time.Millisecond {
						continue
					}
					d := faceid.Distance(a.s.D, b.s.D)
					if d > 0.55 {
						n++
						t.Logf("seed %d %s %s: pair %.3f  A yaw %5.1f eye %4.1f chipSharp %6.1f faceY %5.1f obsSharp %6.1f speed %5.1f swap %v key %v | B yaw %5.1f eye %4.1f chipSharp %6.1f faceY %5.1f obsSharp %6.1f speed %5.1f swap %v key %v",
							seed, c.name, c.dir, d, a.s.Yaw, a.s.EyeDistance, a.s.Sharpness, a.o.FaceY, a.o.Sharpness, a.speed, a.swap, a.key,
							b.s.Yaw, b.s.EyeDistance, b.s.Sharpness, b.o.FaceY, b.o.Sharpness, b.speed, b.swap, b.key)
					}
				}
			}
			t.Logf("seed %d %s %s: %s %q, %d turned faces, %d pairs > 0.55", seed, c.name, c.dir, res.Outcome, res.Reason, len(faces), n)
			for _, x := range faces {
				t.Logf("    face t %5.2f yaw %5.1f eye %4.1f chipSharp %6.1f faceY %5.1f obsSharp %6.1f speed %5.1f swap %v", x.s.At.Sub(res.Issued).Seconds(), x.s.Yaw, x.s.EyeDistance, x.s.Sharpness, x.o.FaceY, x.o.Sharpness, x.speed, x.swap)
			}
		}
	}
}
