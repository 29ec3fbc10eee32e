package challenge

import (
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Stalls: a camera samples the world at every frame time, so a head that moves steadily moves
// between every pair of consecutive frames. A virtual camera behind a late face swap sends its
// last frame again on time (docs/REDTEAM.md finding 16): during steady movement the repeated
// frame shows ~no motion from the previous one and the next frame ~double (a stall, then a
// catch-up). The measure: the mean displacement of the 68 landmarks from one frame to the next,
// compared only across frames exactly one frame interval apart (a dropped or unanalysed frame
// leaves a gap, which is not a stall). A frame is "moving" when both its neighbouring
// displacements (the one into the previous frame and the one out to the next) are at least
// StallMinMove pixels and point the same way (the cosine of the two 136-value displacement
// fields at least StallSameWay: a steady movement, turn or scale; a landmark fit flipping
// between two solutions at a deep turn, measured on the red team's renderer at 35-45° yaw,
// jumps back and forth instead); a moving frame is a stall when its own displacement is under
// StallRatio of the mean of its neighbours'.
const (
	StallMinMove = 1.0 // px a frame (640×480 at 15 fps): above a still head's landmark jitter (0.3-0.8 px on the renderer through VP8)
	StallRatio   = 0.2
	StallSameWay = 0.5
)

// StallCount is a series' moving frames and stalls.
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
	// d[i]: the displacement from obs[i-1] to obs[i], or -1 when they are not comparable.
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
	for i := 2; i+1 < len(obs); i++ {
		prev, own, next := d[i-1], d[i], d[i+1]
		if prev < StallMinMove || next < StallMinMove || own < 0 || sameWay(&obs[i-2], &obs[i-1], &obs[i], &obs[i+1]) < StallSameWay {
			continue
		}
		c.Moving++
		if own < StallRatio*(prev+next)/2 {
			c.Stalls++
		}
	}
	return c
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
