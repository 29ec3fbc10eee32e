package faceid

import (
	"math"
	"time"

	"github.com/livecheck/livecheck/models"
)

// The same-pose check of a challenge's turned faces. A face swap that breaks at a deep turn
// shows the operator's own face for a few frames beyond the angle it was trained for, then the
// swap again, held at that angle. Compared with the session's frontal template a deeply turned
// face is unreliable (the gate refuses faces beyond 35°: docs/REDTEAM.md finding 5), but two
// faces at nearly the same yaw, a moment apart, compare as well as two frontal faces: a real
// head turning stays one person from frame to frame, a breaking swap does not. While a
// challenge runs, the Session embeds every analysed face turned at least PairConfig.MinYaw
// (beyond its 250 ms clock, within a budget per challenge) and keeps them apart from the
// identity track: they never shape a template and are never compared with one.

// PairConfig configures the same-pose faces of challenges. The zero value uses the defaults.
type PairConfig struct {
	// MinYaw is the smallest |yaw| (degrees) of a face kept for the comparison (default 10:
	// on the red team's renderer a swap held at 25° of head yaw measures 8–14°, its paste
	// turning less than the head under it).
	MinYaw float64
	// MaxYaw is the gate's yaw limit for these faces (default 60; the pose estimate's own
	// range ends about there).
	MaxYaw float64
	// Yaw is the largest yaw difference (degrees) of a compared pair (default 15: on the
	// devset's real faces the same person's largest pair distance is the same at 10° and
	// 15°, docs/REDTEAM.md finding 9).
	Yaw float64
	// Gap is the largest time between the faces of a compared pair (default 1.5 s: one turn).
	Gap time.Duration
	// Budget is the number of faces a challenge may embed beyond its 250 ms clock (default
	// 24: 1.6 s of a turn at 15 analysed frames a second, 0.3–0.7 s of one core at 11–30 ms
	// per face, once per challenge); negative: none.
	Budget int
	// IntruderFar and IntruderMargin find a face that two same-pose neighbours (each paired
	// with it) place apart from themselves: farther than IntruderFar from both, and by more
	// than IntruderMargin than they are from each other (defaults 0.65 and 0.55). A swap
	// breaking briefly at a deep turn shows the operator's face between faces of the swap
	// that measure ~0.06 from each other and 0.70–0.79 from it, where one person's turned
	// faces, at 30–45° measured yaw, compare closer than two people's do at 10–25° and the
	// pair threshold alone misses them (docs/REDTEAM.md finding 12).
	IntruderFar, IntruderMargin float64
}

// Default values of PairConfig.
const (
	DefaultPairMinYaw = 10
	DefaultPairMaxYaw = 60
	DefaultPairYaw    = 15
	DefaultPairGap    = 1500 * time.Millisecond
	DefaultPairBudget = 24

	DefaultPairIntruderFar    = 0.65
	DefaultPairIntruderMargin = 0.55
)

// maxPairFaces bounds the turned faces a Session keeps (64 × 512 bytes of descriptor): more
// than two challenges' worth, the older dropped first.
const maxPairFaces = 64

func (c PairConfig) withDefaults() PairConfig {
	if c.MinYaw <= 0 {
		c.MinYaw = DefaultPairMinYaw
	}
	if c.MaxYaw <= 0 {
		c.MaxYaw = DefaultPairMaxYaw
	}
	if c.Yaw <= 0 {
		c.Yaw = DefaultPairYaw
	}
	if c.Gap <= 0 {
		c.Gap = DefaultPairGap
	}
	if c.Budget == 0 {
		c.Budget = DefaultPairBudget
	}
	if c.IntruderFar <= 0 {
		c.IntruderFar = DefaultPairIntruderFar
	}
	if c.IntruderMargin <= 0 {
		c.IntruderMargin = DefaultPairIntruderMargin
	}
	return c
}

// poseFace is a turned face kept for the same-pose comparison. Biometric: never logged.
type poseFace struct {
	at  time.Time
	yaw float64
	d   Descriptor
}

// turned reports whether the observation's face is posed for the same-pose comparison: its
// landmarks on this frame, turned between MinYaw and MaxYaw.
func (c PairConfig) turned(o *models.Observation) bool {
	y := math.Abs(o.Yaw)
	return o.FacePresent && !o.Coasting && o.LandmarksOK && o.PoseOK && y >= c.MinYaw && y <= c.MaxYaw
}

// PairDue reports whether a frame that is not Due should still be embedded for the same-pose
// comparison: a challenge runs, its face is turned (PairConfig.MinYaw to MaxYaw) and the
// challenge's budget lasts. Take it with TakePair.
func (s *Session) PairDue(o *models.Observation) bool {
	return s.inChal && s.pairLeft > 0 && s.cfg.Pairs.turned(o)
}

// TakePair is Take for a frame PairDue chose: it leaves the Due clock alone and spends one of
// the challenge's budget. Its face goes only to the same-pose comparison.
func (s *Session) TakePair(at time.Time) Taken {
	s.pairLeft--
	return Taken{at: at, challenge: true, pairOnly: true}
}

// ObservePair is Observe for a frame PairDue chose (TakePair, Describe, Fold).
func (s *Session) ObservePair(f *models.Frame, o *models.Observation) error {
	p := s.TakePair(o.At)
	smp, why, err := s.Describe(p, f, o)
	_, _, err = s.Fold(p, smp, why, err)
	return err
}

// keepPair keeps a challenge's turned face for the same-pose comparison.
func (s *Session) keepPair(smp Sample) {
	if n := len(s.pairs); n >= maxPairFaces {
		copy(s.pairs, s.pairs[n-maxPairFaces+1:])
		s.pairs = s.pairs[:maxPairFaces-1]
	}
	s.pairs = append(s.pairs, poseFace{at: smp.At, yaw: smp.Yaw, d: smp.D})
}

// PairCheck is what the same-pose comparison found in a window: the turned faces, the pairs
// compared, the largest distance of a pair, the pairs counted far, and the intruder faces.
type PairCheck struct {
	Faces, Pairs, Far int
	Max               float64
	// Intruders is the number of faces set apart by two same-pose neighbours that are close
	// to each other (PairConfig.IntruderFar, IntruderMargin); their two pairs count in Far.
	Intruders int
	// Apart is the fewest faces that take part in every far pair, counted up to 2: 0 with no
	// far pair, 1 when one face is in all of them (a star around one face: one frame the
	// descriptor misread, or a lone swap face among the operator's), 2 when the far pairs
	// need two or more faces. A measurement for the challenge's metrics, not a criterion
	// (challenge.CheckSamePose, docs/REDTEAM.md finding 19 (b)).
	Apart int
}

// Pairs compares the turned faces sampled in [from, to] pairwise: every two within
// PairConfig.Yaw degrees of yaw (on the same side) and PairConfig.Gap of each other; far is the
// distance beyond which a pair counts as two people. An intruder face's two pairs with the
// neighbours that set it apart count as far too (each pair once).
func (s *Session) Pairs(from, to time.Time, far float64) PairCheck {
	c := s.cfg.Pairs
	var in []poseFace
	for _, p := range s.pairs {
		if !p.at.Before(from) && !p.at.After(to) {
			in = append(in, p)
		}
	}
	r := PairCheck{Faces: len(in)}
	n := len(in)
	d := make([]float64, n*n) // -1: not a pair
	for i := range d {
		d[i] = -1
	}
	farPair := make([]bool, n*n)
	for i := range in {
		for j := i + 1; j < n; j++ {
			a, b := in[i], in[j]
			dt := b.at.Sub(a.at)
			if dt < 0 {
				dt = -dt
			}
			if math.Abs(a.yaw-b.yaw) > c.Yaw || (a.yaw < 0) != (b.yaw < 0) || dt > c.Gap {
				continue
			}
			x := Distance(a.d, b.d)
			d[i*n+j], d[j*n+i] = x, x
			r.Pairs++
			r.Max = max(r.Max, x)
			if x > far {
				farPair[i*n+j] = true
			}
		}
	}
	for b := range in {
		found := false
		for a := 0; a < n && !found; a++ {
			ab := d[a*n+b]
			if a == b || ab <= c.IntruderFar {
				continue
			}
			for k := a + 1; k < n; k++ {
				kb := d[k*n+b]
				if k == b || kb <= c.IntruderFar {
					continue
				}
				ak := Distance(in[a].d, in[k].d) // not necessarily a pair: only each with b
				if min(ab, kb)-ak > c.IntruderMargin {
					farPair[min(a, b)*n+max(a, b)] = true
					farPair[min(k, b)*n+max(k, b)] = true
					r.Intruders++
					found = true
					break
				}
			}
		}
	}
	var farPairs [][2]int
	for k, f := range farPair {
		if f {
			r.Far++
			farPairs = append(farPairs, [2]int{k / n, k % n})
		}
	}
	r.Apart = apart(farPairs, n)
	return r
}

// apart is PairCheck.Apart of the far pairs among n faces.
func apart(far [][2]int, n int) int {
	if len(far) == 0 {
		return 0
	}
	for x := 0; x < n; x++ {
		all := true
		for _, p := range far {
			if p[0] != x && p[1] != x {
				all = false
				break
			}
		}
		if all {
			return 1
		}
	}
	return 2
}
