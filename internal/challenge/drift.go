package challenge

import (
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// DriftUnknown is what Drift returns when fewer than two phases have enough usable frames.
const DriftUnknown = -1.0

// Drift frame selection and the landmark subset (dlib 68-point numbering).
const (
	driftMaxAngle  = 20.0 // |Yaw|, |Pitch| beyond this change the projected geometry too much
	driftMinFrames = 3    // frames per phase for a median shape
)

// driftPoints are the landmarks that carry rigid face geometry: the upper jaw contour (not the
// chin, which drops when the mouth opens), the nose, and the eye corners (not the lids, which
// blink). Brows and mouth move with expression and are left out.
var driftPoints = []int{0, 1, 2, 3, 4, 12, 13, 14, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45}

// Drift compares the face geometry before, during and after a challenge and returns the
// largest distance between the phases' median shapes, in inter-ocular distances.
//
// Each frame with landmarks and a solved, near-frontal pose (PoseOK, |Yaw|, |Pitch| ≤ 20°) is
// normalised:
// translated to the midpoint between the eye centres, rotated so the eyes are level (removes
// Roll) and scaled so the eye centres are 1 apart (removes distance to the camera). A phase's
// shape is the per-coordinate median over its frames (at least 3). The distance between two
// shapes is the root mean square of the point distances over driftPoints.
//
// Meaning: 0 is identical geometry. Landmark jitter on one person gives a few hundredths;
// a different face (a swap that re-initialised on another identity after an occlusion, or a
// switch of source) moves the jaw/nose/eye layout by roughly a tenth or more. These figures
// come from synthetic tests, not from calibration on real footage. Phases without enough
// frames — a turned head or a covered face "during" is typical — are skipped; with fewer than
// two measurable phases the result is DriftUnknown.
func Drift(before, during, after []models.Observation) float64 {
	var shapes [][]point
	for _, phase := range [][]models.Observation{before, during, after} {
		if s, ok := medianShape(phase); ok {
			shapes = append(shapes, s)
		}
	}
	if len(shapes) < 2 {
		return DriftUnknown
	}
	worst := 0.0
	for i := range shapes {
		for j := i + 1; j < len(shapes); j++ {
			worst = math.Max(worst, shapeDistance(shapes[i], shapes[j]))
		}
	}
	return worst
}

type point struct{ x, y float64 }

// normalize returns the driftPoints of o in the eye-aligned frame; ok is false when the frame
// is unusable.
func normalize(o models.Observation) ([]point, bool) {
	if !o.FacePresent || !o.LandmarksOK || !o.PoseOK ||
		math.Abs(o.Yaw) > driftMaxAngle || math.Abs(o.Pitch) > driftMaxAngle {
		return nil, false
	}
	centre := func(from, to int) point {
		var p point
		for i := from; i <= to; i++ {
			p.x += float64(o.Landmarks[i][0])
			p.y += float64(o.Landmarks[i][1])
		}
		n := float64(to - from + 1)
		return point{p.x / n, p.y / n}
	}
	a, b := centre(36, 41), centre(42, 47)
	dx, dy := b.x-a.x, b.y-a.y
	iod := math.Hypot(dx, dy)
	if iod < 1e-3 {
		return nil, false
	}
	cos, sin := dx/iod, dy/iod
	mid := point{(a.x + b.x) / 2, (a.y + b.y) / 2}
	out := make([]point, len(driftPoints))
	for k, i := range driftPoints {
		x, y := float64(o.Landmarks[i][0])-mid.x, float64(o.Landmarks[i][1])-mid.y
		out[k] = point{(x*cos + y*sin) / iod, (-x*sin + y*cos) / iod}
	}
	return out, true
}

// medianShape returns the per-coordinate median of the usable frames' normalised shapes.
func medianShape(obs []models.Observation) ([]point, bool) {
	var all [][]point
	for _, o := range obs {
		if s, ok := normalize(o); ok {
			all = append(all, s)
		}
	}
	if len(all) < driftMinFrames {
		return nil, false
	}
	out := make([]point, len(driftPoints))
	xs, ys := make([]float64, len(all)), make([]float64, len(all))
	for k := range driftPoints {
		for f, s := range all {
			xs[f], ys[f] = s[k].x, s[k].y
		}
		out[k] = point{dsp.Median(xs), dsp.Median(ys)}
	}
	return out, true
}

func shapeDistance(a, b []point) float64 {
	var sum float64
	for k := range a {
		sum += (a[k].x-b[k].x)*(a[k].x-b[k].x) + (a[k].y-b[k].y)*(a[k].y-b[k].y)
	}
	return math.Sqrt(sum / float64(len(a)))
}
