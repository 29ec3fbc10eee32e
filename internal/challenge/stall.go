package challenge

import (
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Stalls: a camera samples the world at every frame time, so a head that moves steadily moves
// between every pair of consecutive frames, and every frame carries fresh sensor noise. A
// virtual camera behind a late face swap sends its last frame again on time (docs/REDTEAM.md
// finding 16): during steady movement the repeated frame shows ~no motion from the previous one
// and the next frame ~double (a stall, then a catch-up). Steps are compared only across frames
// exactly one frame interval apart (a dropped or unanalysed frame leaves a gap, which is not a
// stall): the mean displacement of the 68 landmarks (d), and, where the analysis measured it,
// the face region's change in the decoded picture (Observation.Change, ChangeMeter).
//
// The picture decides where it is known (finding 20): a step is a stall when the picture
// changed by under StallChangeRatio of the smaller of the two moving steps around it, across at
// most StallRun-1 other still steps (a virtual camera repeating twice in a row); moving steps
// change the face region by StallMinChange levels or more (a still face's noise through VP8
// changes it by 1-3.4 on the renderer, and an encoder's near-skip frames by less: a still head
// has no moving steps, so its near-identical frames are never stalls) and move the landmarks
// by StallMinMove px or more, not back the way they came (cosine of the two 136-value landmark
// displacement fields at least StallNotBack: a head reversing at a turn's end halts for real,
// and a blink closes and opens). A repeat's decoded picture changes only by the encoder's
// refinement (0.1-1 level against 5-45 for its moving neighbours on the renderer through
// libvpx), while its landmark fit may even jump (20 px on a repeated frame at a deep turn).
// Finding 16's landmark rule also counts, confirmed by the picture on one side: a moving frame
// is one whose neighbouring steps are both at least StallMinMove px and point the same way
// (cosine at least StallSameWay; a landmark fit flipping between two solutions at a deep turn
// jumps back and forth instead), a stall when its own step is under StallRatio of the mean of
// theirs. Without the picture (observations from elsewhere) the landmark rule alone applies.
//
// The noise rule (finding 25): the head holds still for most of a challenge window, and the
// movement rules judge only the few frames of the movement itself (15-20 of a window's 90-105
// on the renderer), so a 20 % repeat gave only 1-4 stalls a challenge, and an analysis that
// skipped a quarter of the decoded frames (a loaded server) left 2 stalls in 59 judged frames
// over six challenges, under the verdict's floor. A camera's every frame carries fresh sensor
// noise, whatever the head does; a repeated picture carries none. So where neither movement
// rule applies, a step whose face-region change is under StallFrozenRatio of the smaller of
// its neighbours' and of the window's typical still step is a stall when both neighbours
// changed by a steady noise alone (StallNoiseFloor to StallMinChange levels, within
// StallNoiseAgree of each other: a frame next to a movement belongs to the movement rules, and
// a head halting between two moves is never judged by the noise). A camera that drops frames
// under load leaves a gap (no neighbours, nothing judged), and an encoder that codes no noise
// on a still face (near-skip frames at a low bitrate, 0.0-0.1 level) leaves both sides under
// the floor. Moving counts every frame a rule judged (the noise rule's still frames too).
const (
	StallMinMove     = 1.0 // px a frame (640×480 at 15 fps): above a still head's landmark jitter (0.3-0.8 px on the renderer through VP8)
	StallRatio       = 0.2
	StallSameWay     = 0.5
	StallRun         = 2    // still steps in a row that can each be a stall
	StallChangeRatio = 0.35 // a stall's face-region change against the smaller of its moving neighbours' (ChangeMeter)
	StallNotBack     = 0.0  // the picture's rule: the moving steps around a stall must not point back (a reversal halts the head for real)
	StallMinChange   = 4.0  // levels: a moving step's face-region change, above a still face's noise after VP8 (1-3.4 on the renderer)
	StallNoiseFloor  = 1.0  // levels: a still face's fresh sensor noise after VP8 (1.2-3.4 on the renderer at 800 kbit/s; finding 25)
	StallFrozenRatio = 0.5  // a frozen step's face-region change against the smaller of its noisy neighbours' (finding 25)
	StallNoiseAgree  = 2.0  // the noisy neighbours' changes within this factor of each other (a steady noise, not small movements)
)

// StallCount is a series' judged frames (Moving: by a movement rule or, still, by the noise
// rule) and stalls.
type StallCount struct {
	Moving, Stalls int
}

// Share is the share of moving frames that stalled.
func (s StallCount) Share() float64 {
	if s.Moving == 0 {
		return 0
	}
	return float64(s.Stalls) / float64(s.Moving)
}

// CountStalls counts the stalls of obs (in capture order) whose frames are interval apart
// (within a quarter interval; 0: the median gap between consecutive observations, the camera's
// frame interval when the analysis keeps up); frames without fitted landmarks break the series.
func CountStalls(obs []models.Observation, interval time.Duration) StallCount {
	var c StallCount
	if interval <= 0 {
		interval = medianGap(obs)
	}
	// d[i]: the step from obs[i-1] to obs[i], or -1 when they are not comparable.
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
		d[i] = LandmarkShift(&obs[i-1], &obs[i])
	}
	// px[i]: the face region's change from obs[i-1] to obs[i] (ChangeMeter), or -1 when unknown
	// or not one interval apart.
	px := make([]float64, len(obs))
	for i := range obs {
		px[i] = -1
		if i > 0 && obs[i].ChangeOK {
			if gap := obs[i].At.Sub(obs[i-1].At) - interval; gap >= -interval/4 && gap <= interval/4 {
				px[i] = obs[i].Change
			}
		}
	}
	noise := noiseLevel(px)
	moving := func(j int) bool { return j >= 1 && j < len(d) && d[j] >= StallMinMove }
	pmoving := func(j int) bool { return j >= 1 && j < len(px) && px[j] >= StallMinChange }
	// same: steps j and k (each the displacement into its frame) point the same way.
	same := func(j, k int) bool { return sameWay(&obs[j-1], &obs[j], &obs[k-1], &obs[k]) >= StallSameWay }
	// landmark: finding 16's rule, step j between directly neighbouring moving steps that point
	// the same way; ok when it applies, stall when j stood still.
	landmark := func(j int) (ok, stall bool) {
		if d[j] < 0 || !moving(j-1) || !moving(j+1) || !same(j-1, j+1) {
			return false, false
		}
		return true, d[j] < StallRatio*(d[j-1]+d[j+1])/2
	}
	for j := 1; j < len(d); j++ {
		lok, lstall := landmark(j)
		if px[j] < 0 { // no picture (observations without ChangeMeter): the landmarks alone
			if lok {
				c.Moving++
				if lstall {
					c.Stalls++
				}
			} else if moving(j) && ((moving(j-1) && same(j-1, j)) || (moving(j+1) && same(j, j+1))) {
				c.Moving++
			}
			continue
		}
		if pmoving(j) {
			if moving(j) || lok {
				c.Moving++
			}
			continue
		}
		// The picture: moving steps on both sides (the landmarks moving, not back the way they
		// came, and the picture changing by StallMinChange or more), this one still.
		l, r := j-1, j+1
		for l > j-StallRun && l >= 1 && px[l] >= 0 && !pmoving(l) {
			l--
		}
		for r < j+StallRun && r < len(px) && px[r] >= 0 && !pmoving(r) {
			r++
		}
		pok := pmoving(l) && pmoving(r) && moving(l) && moving(r) && sameWay(&obs[l-1], &obs[l], &obs[r-1], &obs[r]) >= StallNotBack
		pstall := pok && px[j] < StallChangeRatio*min(px[l], px[r])
		// The landmarks' stall, confirmed by the picture on at least one side (a movement's
		// first or last step can change the picture little).
		lstall = lstall && px[j-1] >= 0 && px[j+1] >= 0 && px[j] < StallChangeRatio*max(px[j-1], px[j+1])
		if pok || lok {
			c.Moving++
			if pstall || lstall {
				c.Stalls++
			}
			continue
		}
		// Neither movement rule judged it: the sensor's noise (finding 25).
		if nok, nstall := frozen(px, j, noise); nok {
			c.Moving++
			if nstall {
				c.Stalls++
			}
		}
	}
	return c
}

// frozen is the noise rule (finding 25) for step j of the face region's changes px (-1:
// unknown): ok when the nearest steps on both sides (across at most StallRun-1 steps under
// StallNoiseFloor, a virtual camera repeating twice in a row) changed the picture by the
// sensor's fresh noise, StallNoiseFloor or more but under StallMinChange (no movement: the
// movement rules judge those), and frozen when j changed it by under StallFrozenRatio of the
// smaller of the two and of the series' typical noise (noiseLevel): a picture sent again
// carries no fresh noise. The two must agree within StallNoiseAgree (a steady noise; a real
// face's small movements, a talking mouth, change the picture by 0.4-7 levels from frame to
// frame in the dev set's recordings). The encoder's near-skip frames of a still face at a low
// bitrate (0.0-0.1 level) are under the floor on both sides, so nothing is judged there.
func frozen(px []float64, j int, noise float64) (ok, stall bool) {
	noisy := func(k int) bool { return k >= 1 && k < len(px) && px[k] >= StallNoiseFloor && px[k] < StallMinChange }
	l, r := j-1, j+1
	for l > j-StallRun && l >= 1 && px[l] >= 0 && px[l] < StallNoiseFloor {
		l--
	}
	for r < j+StallRun && r < len(px) && px[r] >= 0 && px[r] < StallNoiseFloor {
		r++
	}
	if px[j] < 0 || !noisy(l) || !noisy(r) || max(px[l], px[r]) > StallNoiseAgree*min(px[l], px[r]) {
		return false, false
	}
	return true, px[j] < StallFrozenRatio*min(px[l], px[r], noise)
}

// noiseLevel is the median of the steps that changed the picture by the noise alone
// (StallNoiseFloor to StallMinChange levels; 0 without any): the series' typical still frame.
// A frozen step is judged against it too, so that a still frame between two small movements
// (a dim face settling: 1.4 levels between 3.4 and 3.1, the window's noise 1.4) is no stall.
func noiseLevel(px []float64) float64 {
	var n []float64
	for _, v := range px {
		if v >= StallNoiseFloor && v < StallMinChange {
			n = append(n, v)
		}
	}
	if len(n) == 0 {
		return 0
	}
	slices.Sort(n)
	return n[len(n)/2]
}

// ChangeMeter measures how much a frame's picture changed inside the face box since the
// previous decoded frame (Observation.Change): the mean absolute luma difference over every
// second pixel of every second row of the box. It keeps a copy of the last frame's luma; not
// safe for concurrent use.
type ChangeMeter struct {
	prev    []byte
	w, h    int
	prevSeq uint64
	have    bool
}

// Measure compares f with the frame measured before it inside face and keeps f. ok is false
// when there is no face box, no previous frame, a different size, or the previous frame was
// not f's direct predecessor by decode number (models.Frame.Seq; 0, unknown, is never one).
func (m *ChangeMeter) Measure(f *models.Frame, face models.Rect) (change float64, ok bool) {
	defer func() {
		m.prev = append(m.prev[:0], f.Y...)
		m.w, m.h, m.prevSeq, m.have = f.Width, f.Height, f.Seq, len(f.Y) == f.Width*f.Height
	}()
	if !m.have || m.w != f.Width || m.h != f.Height || len(f.Y) != f.Width*f.Height || face.Empty() {
		return 0, false
	}
	if f.Seq == 0 || f.Seq != m.prevSeq+1 {
		return 0, false
	}
	x0, y0 := max(face.X, 0), max(face.Y, 0)
	x1, y1 := min(face.X+face.W, f.Width), min(face.Y+face.H, f.Height)
	var sum, n int
	for y := y0; y < y1; y += 2 {
		row := y * f.Width
		for x := x0; x < x1; x += 2 {
			a, b := int(f.Y[row+x]), int(m.prev[row+x])
			if a > b {
				sum += a - b
			} else {
				sum += b - a
			}
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return float64(sum) / float64(n), true
}

// medianGap is the median time between consecutive observations (0 with fewer than two).
func medianGap(obs []models.Observation) time.Duration {
	if len(obs) < 2 {
		return 0
	}
	g := make([]time.Duration, 0, len(obs)-1)
	for i := 1; i < len(obs); i++ {
		g = append(g, obs[i].At.Sub(obs[i-1].At))
	}
	slices.Sort(g)
	return g[len(g)/2]
}

// sameWay is the cosine between the landmarks' displacement from a to b and from c to d.
func sameWay(a, b, c, d *models.Observation) float64 {
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

// LandmarkShift is the mean distance, in pixels, between two observations' landmarks.
func LandmarkShift(a, b *models.Observation) float64 {
	s := 0.0
	for k := range a.Landmarks {
		dx := float64(b.Landmarks[k][0] - a.Landmarks[k][0])
		dy := float64(b.Landmarks[k][1] - a.Landmarks[k][1])
		s += math.Hypot(dx, dy)
	}
	return s / float64(len(a.Landmarks))
}

// Metrics of the movement challenges (Result.Metrics): the moving frames of the window from the
// issue to the deadline and how many of them stalled. internal/verdict sums them over the
// session (a 20 % repeat gives each challenge only one or two stalls).
const (
	MetricStallMoving = "stall_moving"
	MetricStalls      = "stalls"
)
