package vision

import (
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
)

// Head pose from 2D landmarks.
//
// gocv v0.31.0 has no SolvePnP binding, so this file implements a small
// perspective-n-point solver: Levenberg-Marquardt over a Rodrigues rotation
// vector and a translation, fitting a generic 3D face model to the rigid
// landmarks (nose, eye corners, mouth corners, chin; not eyelids, brows or
// the jaw contour, which move or slide with pose). The camera is a pinhole
// with focal length = frame width (about 53° horizontal field of view) and
// the principal point at the frame centre.
//
// The angles follow the package's sign conventions (see the package
// documentation). They are measured relative to the line of sight from the
// camera to the head, so a face looking straight into the lens reads 0/0
// wherever it sits in the frame. They are Tait-Bryan angles of the head
// rotation M (model → line-of-sight frame) decomposed as
// M = Rz(roll)·Rx(-pitch)·Ry(-yaw): yaw turns about the head's own vertical
// axis, pitch nods about its left-right axis, and roll is applied last about
// the line of sight, so rotating the image (or the camera) changes roll only.

// poseModel is a generic adult face in millimetres: X toward image right for
// a frontal face (the subject's left), Y down, Z away from the camera; origin
// at the nose tip. Values are approximate anthropometric means.
var poseModel = []posePoint{
	{27, 0, -38, 19, 1, true}, // nose bridge top
	{28, 0, -28, 13, 1, true},
	{29, 0, -17, 7, 1, true},
	{30, 0, 0, 0, 1, true},      // nose tip
	{31, -13, 9, 17, 1, false},  // nostril wing, image left
	{33, 0, 12, 11, 1, false},   // below the nose
	{35, 13, 9, 17, 1, false},   // nostril wing, image right
	{36, -44, -36, 32, 1, true}, // outer eye corner, image left
	{39, -15, -35, 25, 1, true}, // inner eye corner, image left
	{42, 15, -35, 25, 1, true},  // inner eye corner, image right
	{45, 44, -36, 32, 1, true},  // outer eye corner, image right
	{48, -25, 30, 27, 1, false}, // mouth corner, image left
	{54, 25, 30, 27, 1, false},  // mouth corner, image right
	{8, 0, 72, 18, 0.5, false},  // chin (moves when the mouth opens)
}

// posePoint is one landmark of the 3D model.
type posePoint struct {
	idx     int
	x, y, z float64
	w       float64 // residual weight
	upper   bool    // eyes and nose ridge: still visible with the mouth covered
}

// upperPoseModel is the subset of poseModel above the nostrils. A pose from
// it is noisier but does not move when the lower face is covered.
var upperPoseModel = func() []posePoint {
	var out []posePoint
	for _, m := range poseModel {
		if m.upper {
			out = append(out, m)
		}
	}
	return out
}()

// HeadPose is a solved head pose. Yaw, Pitch and Roll are Tait-Bryan angles
// relative to the camera→head line of sight (rotating the image changes Roll
// only).
type HeadPose struct {
	Yaw, Pitch, Roll float64    // degrees, see the package documentation
	Rotation         [3]float64 // Rodrigues vector, model → camera
	Translation      [3]float64 // model origin (nose tip) in camera coordinates, mm
	RMS              float64    // reprojection error, pixels
}

// EstimatePose solves the head pose from 68 landmarks of a frame of the given
// size. ok is false when the solver did not converge to a face in front of
// the camera.
func EstimatePose(pts *[NumLandmarks][2]float32, width, height int) (HeadPose, bool) {
	return solvePose(pts, width, height, poseModel)
}

// solvePose fits model to the landmarks (see EstimatePose).
func solvePose(pts *[NumLandmarks][2]float32, width, height int, model []posePoint) (HeadPose, bool) {
	f := float64(width)
	cx, cy := float64(width)/2, float64(height)/2
	n := len(model)
	obs := make([]float64, 2*n)
	for i, m := range model {
		obs[2*i] = float64(pts[m.idx][0])
		obs[2*i+1] = float64(pts[m.idx][1])
	}
	// Initial guess: frontal, distance from the outer eye-corner span.
	eyeDX := float64(pts[45][0] - pts[36][0])
	eyeDY := float64(pts[45][1] - pts[36][1])
	span := math.Hypot(eyeDX, eyeDY)
	if span < 4 {
		return HeadPose{}, false
	}
	tz := f * 88 / span
	p := [6]float64{0, 0, math.Atan2(eyeDY, eyeDX), (obs[6] - cx) * tz / f, (obs[7] - cy) * tz / f, tz}

	residuals := func(p *[6]float64, out []float64) float64 {
		R := rodrigues(p[0], p[1], p[2])
		var sum float64
		for i, m := range model {
			X := R[0]*m.x + R[1]*m.y + R[2]*m.z + p[3]
			Y := R[3]*m.x + R[4]*m.y + R[5]*m.z + p[4]
			Z := R[6]*m.x + R[7]*m.y + R[8]*m.z + p[5]
			if Z < 1 {
				Z = 1
			}
			w := math.Sqrt(m.w)
			out[2*i] = w * (f*X/Z + cx - obs[2*i])
			out[2*i+1] = w * (f*Y/Z + cy - obs[2*i+1])
			sum += out[2*i]*out[2*i] + out[2*i+1]*out[2*i+1]
		}
		return sum
	}

	r := make([]float64, 2*n)
	rt := make([]float64, 2*n)
	J := make([][6]float64, 2*n)
	cost := residuals(&p, r)
	lambda := 1e-3
	for iter := 0; iter < 50; iter++ {
		// Numeric Jacobian (forward differences).
		for k := 0; k < 6; k++ {
			h := 1e-6
			if k >= 3 {
				h = 1e-4 * math.Max(1, math.Abs(p[k]))
			}
			q := p
			q[k] += h
			residuals(&q, rt)
			for i := range r {
				J[i][k] = (rt[i] - r[i]) / h
			}
		}
		var A [6][6]float64
		var g [6]float64
		for i := range r {
			for a := 0; a < 6; a++ {
				g[a] += J[i][a] * r[i]
				for b := a; b < 6; b++ {
					A[a][b] += J[i][a] * J[i][b]
				}
			}
		}
		improved := false
		for try := 0; try < 10; try++ {
			var M [6][6]float64
			for a := 0; a < 6; a++ {
				for b := a; b < 6; b++ {
					M[a][b], M[b][a] = A[a][b], A[a][b]
				}
				M[a][a] += lambda * (A[a][a] + 1e-9)
			}
			step, ok := dsp.Solve6(M, g, 1e-15)
			if !ok {
				lambda *= 10
				continue
			}
			q := p
			for k := range q {
				q[k] -= step[k]
			}
			if c := residuals(&q, rt); c < cost {
				small := cost-c < 1e-10*cost
				p, cost = q, c
				copy(r, rt)
				lambda = math.Max(lambda/10, 1e-9)
				improved = true
				if small {
					iter = 1 << 30
				}
				break
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	if p[5] <= 0 || math.IsNaN(cost) {
		return HeadPose{}, false
	}
	var wsum float64
	for _, m := range model {
		wsum += m.w
	}
	hp := HeadPose{
		Rotation:    [3]float64{p[0], p[1], p[2]},
		Translation: [3]float64{p[3], p[4], p[5]},
		RMS:         math.Sqrt(cost / wsum),
	}
	hp.Yaw, hp.Pitch, hp.Roll = poseAngles(rodrigues(p[0], p[1], p[2]), [3]float64{p[3], p[4], p[5]})
	return hp, true
}

// poseAngles converts a model→camera rotation and the head position into
// yaw, pitch and roll in degrees relative to the camera→head line of sight.
func poseAngles(R [9]float64, t [3]float64) (yaw, pitch, roll float64) {
	// Rotate the camera frame so that its forward axis is the line of sight:
	// the minimal rotation taking v = t/|t| to (0,0,1).
	v := normalize(t)
	ax := [3]float64{v[1], -v[0], 0} // v × (0,0,1)
	s := math.Hypot(ax[0], ax[1])
	L := [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
	if s > 1e-9 {
		L = rodrigues(ax[0]/s*math.Asin(math.Min(s, 1)), ax[1]/s*math.Asin(math.Min(s, 1)), 0)
	}
	var M [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			M[3*i+j] = L[3*i]*R[j] + L[3*i+1]*R[3+j] + L[3*i+2]*R[6+j]
		}
	}
	// M = Rz(roll) · Rx(-pitch) · Ry(-yaw) about the line-of-sight axes.
	yaw = math.Atan2(M[6], M[8]) * 180 / math.Pi
	pitch = -math.Asin(math.Max(-1, math.Min(1, M[7]))) * 180 / math.Pi
	roll = math.Atan2(-M[1], M[4]) * 180 / math.Pi
	return yaw, pitch, roll
}

// rodrigues converts a rotation vector into a row-major 3x3 matrix.
func rodrigues(x, y, z float64) [9]float64 {
	th := math.Sqrt(x*x + y*y + z*z)
	if th < 1e-12 {
		return [9]float64{1, -z, y, z, 1, -x, -y, x, 1}
	}
	kx, ky, kz := x/th, y/th, z/th
	c, s := math.Cos(th), math.Sin(th)
	v := 1 - c
	return [9]float64{
		c + kx*kx*v, kx*ky*v - kz*s, kx*kz*v + ky*s,
		ky*kx*v + kz*s, c + ky*ky*v, ky*kz*v - kx*s,
		kz*kx*v - ky*s, kz*ky*v + kx*s, c + kz*kz*v,
	}
}

func normalize(v [3]float64) [3]float64 {
	n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
	if n == 0 {
		return [3]float64{0, 0, 1}
	}
	return [3]float64{v[0] / n, v[1] / n, v[2] / n}
}
