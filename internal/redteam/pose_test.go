package redteam

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// poseFace is a face embedded during a challenge, with whether the swap's pasted face showed
// (the renderer's truth; the product never knows it).
type poseFace struct {
	at     time.Time
	yaw    float64
	d      faceid.Descriptor
	pasted bool
}

// swapOr: both faces pasted.
func (p poseFace) swapOr(o poseFace) bool { return p.pasted && o.pasted }

// TestMeasurePosePairs prints the same-pose pairwise distances of the faces of a turn
// (REDTEAM_MEASURE=pose or 1; development; docs/REDTEAM.md finding 9): every rendered frame of
// the challenge (15 fps) is embedded with the gate's yaw limit at 70°, and every two faces with
// |yaw| ≥ minYaw, within dyaw degrees of yaw and 1.5 s of each other are compared: the pairs of
// one identity (the renderer knows which frames show the pasted face) against the mixed pairs,
// and the faces far from two or more neighbours. Honest turns against yaw_break (the operator's
// own face for 8 frames beyond 25°, then the swap held at 25°) at reaction latencies 0.3, 0.7
// and 1.2 s, left and right; and yaw_break_mild (4 frames beyond 45°). REDTEAM_MEASURE_CASE
// keeps the cases named (comma-separated).
func TestMeasurePosePairs(t *testing.T) {
	if v := os.Getenv("REDTEAM_MEASURE"); v != "1" && v != "pose" {
		t.Skip("REDTEAM_MEASURE=pose to measure")
	}
	f, other, m := swapFaces(t)
	for _, lat := range []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, 1200 * time.Millisecond} {
		b := honestBehaviour([2]time.Duration{lat, lat})
		for _, c := range []measureCase{
			{"honest", challenge.KindTurnHead, challenge.DirLeft, nil, Scenario{}, Look{}},
			{"honest", challenge.KindTurnHead, challenge.DirRight, nil, Scenario{}, Look{}},
			{"honest dim", challenge.KindTurnHead, challenge.DirRight, nil, Scenario{}, Look{Light: 0.8, Noise: 4, Size: 1.25, Seed: 3}},
			{"swap yaw_break", challenge.KindTurnHead, challenge.DirLeft, other, Scenario{Swap: "yaw_break", DropOut: 8, Behaviour: Behaviour{YawLimit: 25}}, Look{}},
			{"swap yaw_break", challenge.KindTurnHead, challenge.DirRight, other, Scenario{Swap: "yaw_break", DropOut: 8, Behaviour: Behaviour{YawLimit: 25}}, Look{}},
			{"swap yaw_break_mild", challenge.KindTurnHead, challenge.DirLeft, other, Scenario{Swap: "yaw_break", DropOut: 4, Behaviour: Behaviour{YawLimit: 45}}, Look{}},
			{"swap yaw_break_mild", challenge.KindTurnHead, challenge.DirRight, other, Scenario{Swap: "yaw_break", DropOut: 4, Behaviour: Behaviour{YawLimit: 45}}, Look{}},
		} {
			if only := os.Getenv("REDTEAM_MEASURE_CASE"); only != "" && !strings.Contains(","+only+",", ","+c.name+",") {
				continue
			}
			bb := b
			bb.YawLimit = c.sc.Behaviour.YawLimit
			var faces []poseFace
			rej := map[string]int{}
			each := func(fr *models.Frame, ob *models.Observation, pasted bool) {
				s, why, err := m.Describe(fr, ob, faceid.Gate{MaxYaw: 70})
				if err != nil {
					t.Fatal(err)
				}
				if why != "" {
					rej[why]++
					return
				}
				faces = append(faces, poseFace{at: ob.At, yaw: s.Yaw, d: s.D, pasted: pasted})
			}
			res, _, _ := offlineRun(t, f, bb, offlineOpts{swap: c.swap, sc: c.sc, look: c.look, each: each}, newChallenge(t, c.kind, c.dir))
			var in []poseFace
			for _, p := range faces {
				if !p.at.Before(res.Issued) {
					in = append(in, p)
				}
			}
			var seq []string
			for _, p := range in {
				k := "s"
				if !p.pasted {
					k = "O"
				}
				seq = append(seq, fmt.Sprintf("%s%.0f", k, p.yaw))
			}
			t.Logf("lat %v %-14s %-5s: %s; %d faces |yaw|≥15 (rejected %v): %s", lat, c.name, c.dir, res.Outcome, len(in), rej, strings.Join(seq, " "))
			// Intruders: a face b far from two same-pose neighbours a and c (|yaw| ≥ 10, within 15°
			// of b, same side, 1.5 s of b) that are close to each other; margin = min(d(a,b),
			// d(b,c)) − d(a,c), its largest over the turn, and whether b is the operator's face.
			bestM, bestOp, bestAB, bestAC := -1.0, false, 0.0, 0.0
			nearB := func(a, b poseFace) bool {
				dt := a.at.Sub(b.at)
				if dt < 0 {
					dt = -dt
				}
				return math.Abs(a.yaw) >= 10 && math.Abs(b.yaw) >= 10 && (a.yaw < 0) == (b.yaw < 0) &&
					math.Abs(a.yaw-b.yaw) <= 15 && dt <= 1500*time.Millisecond
			}
			for bi, b := range in {
				var nb []int
				for ai, a := range in {
					if ai != bi && nearB(a, b) {
						nb = append(nb, ai)
					}
				}
				for x := range nb {
					for y := x + 1; y < len(nb); y++ {
						a, c := in[nb[x]], in[nb[y]]
						dab, dcb, dac := faceid.Distance(a.d, b.d), faceid.Distance(c.d, b.d), faceid.Distance(a.d, c.d)
						if m := min(dab, dcb) - dac; m > bestM {
							bestM, bestOp, bestAB, bestAC = m, !b.pasted && c.swapOr(a), min(dab, dcb), dac
						}
					}
				}
			}
			t.Logf("    intruder: largest margin %.3f (far %.3f, neighbours %.3f; the operator's face between two pasted: %v)", bestM, bestAB, bestAC, bestOp)
			for _, minYaw := range []float64{0, 10, 15, 20, 25, 30} {
				for _, dyaw := range []float64{10, 15} {
					var same, mixed []float64
					type pr struct {
						i, j int
						d    float64
					}
					var prs []pr
					for i := range in {
						for j := i + 1; j < len(in); j++ {
							a, b := in[i], in[j]
							if math.Abs(a.yaw) < minYaw || math.Abs(b.yaw) < minYaw || math.Abs(a.yaw-b.yaw) > dyaw || b.at.Sub(a.at) > 1500*time.Millisecond {
								continue
							}
							d := faceid.Distance(a.d, b.d)
							prs = append(prs, pr{i, j, d})
							if a.pasted != b.pasted {
								mixed = append(mixed, d)
							} else {
								same = append(same, d)
							}
						}
					}
					other := func(far float64) int {
						n := make([]int, len(in))
						for _, p := range prs {
							if p.d > far {
								n[p.i]++
								n[p.j]++
							}
						}
						k := 0
						for _, x := range n {
							if x >= 2 {
								k++
							}
						}
						return k
					}
					t.Logf("    |yaw|≥%2.0f dyaw %2.0f dt 1.5s: same-identity pairs %d max %.3f; mixed pairs %d %s; faces with 2+ far neighbours at .60/.65/.70: %d/%d/%d",
						minYaw, dyaw, len(same), maxOf(same), len(mixed), spread(mixed), other(.6), other(.65), other(.7))
				}
			}
		}
	}
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// spread: min, median, max and the counts beyond 0.55/0.60/0.65/0.70.
func spread(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := func(th float64) int {
		k := 0
		for _, x := range s {
			if x > th {
				k++
			}
		}
		return k
	}
	return fmt.Sprintf("min %.3f med %.3f max %.3f >.55 %d >.60 %d >.65 %d >.70 %d", s[0], s[len(s)/2], s[len(s)-1], n(.55), n(.60), n(.65), n(.70))
}
