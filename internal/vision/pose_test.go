package vision

import (
	"math"
	"testing"
)

// project renders the pose model at rotation vector r and translation t
// with the same camera EstimatePose assumes.
func project(r, t [3]float64, w, h int) [NumLandmarks][2]float32 {
	return projectR(rodrigues(r[0], r[1], r[2]), t, w, h)
}

func projectR(R [9]float64, t [3]float64, w, h int) [NumLandmarks][2]float32 {
	var pts [NumLandmarks][2]float32
	f := float64(w)
	for _, m := range poseModel {
		X := R[0]*m.x + R[1]*m.y + R[2]*m.z + t[0]
		Y := R[3]*m.x + R[4]*m.y + R[5]*m.z + t[1]
		Z := R[6]*m.x + R[7]*m.y + R[8]*m.z + t[2]
		pts[m.idx] = [2]float32{float32(f*X/Z + float64(w)/2), float32(f*Y/Z + float64(h)/2)}
	}
	return pts
}

func deg(d float64) float64 { return d * math.Pi / 180 }

func TestEstimatePoseSynthetic(t *testing.T) {
	// Rotation vectors about the camera axes and the angles they must read
	// (the camera→head line of sight is the optical axis here).
	cases := []struct {
		name             string
		r                [3]float64
		yaw, pitch, roll float64
	}{
		{"frontal", [3]float64{0, 0, 0}, 0, 0, 0},
		// Turning to the candidate's left moves the nose toward image right: +yaw.
		{"left30", [3]float64{0, -deg(30), 0}, 30, 0, 0},
		{"right40", [3]float64{0, deg(40), 0}, -40, 0, 0},
		// Nose up in the image (y decreasing): +pitch.
		{"up20", [3]float64{-deg(20), 0, 0}, 0, 20, 0},
		{"down15", [3]float64{deg(15), 0, 0}, 0, -15, 0},
		// Clockwise in the image: +roll.
		{"cw25", [3]float64{0, 0, deg(25)}, 0, 0, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pts := project(c.r, [3]float64{0, 0, 600}, 640, 480)
			hp, ok := EstimatePose(&pts, 640, 480)
			if !ok {
				t.Fatal("solver failed")
			}
			if math.Abs(hp.Yaw-c.yaw) > 0.5 || math.Abs(hp.Pitch-c.pitch) > 0.5 || math.Abs(hp.Roll-c.roll) > 0.5 {
				t.Errorf("got yaw %.2f pitch %.2f roll %.2f, want %.0f %.0f %.0f", hp.Yaw, hp.Pitch, hp.Roll, c.yaw, c.pitch, c.roll)
			}
			if hp.RMS > 0.01 {
				t.Errorf("RMS %.3f px on exact data", hp.RMS)
			}
		})
	}
}

func matMul(a, b [9]float64) [9]float64 {
	var m [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			m[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return m
}

// Combined poses decompose back into the same angles, and an in-plane
// rotation (image roll) leaves yaw and pitch alone.
func TestEstimatePoseCombined(t *testing.T) {
	for _, c := range [][3]float64{{30, -15, 20}, {-35, 10, -25}, {20, 20, 0}, {0, -20, 30}} {
		yaw, pitch, roll := c[0], c[1], c[2]
		R := matMul(rodrigues(0, 0, deg(roll)), matMul(rodrigues(-deg(pitch), 0, 0), rodrigues(0, -deg(yaw), 0)))
		pts := projectR(R, [3]float64{0, 0, 650}, 640, 480)
		hp, ok := EstimatePose(&pts, 640, 480)
		if !ok {
			t.Fatalf("%v: solver failed", c)
		}
		if math.Abs(hp.Yaw-yaw) > 0.5 || math.Abs(hp.Pitch-pitch) > 0.5 || math.Abs(hp.Roll-roll) > 0.5 {
			t.Errorf("want yaw %.0f pitch %.0f roll %.0f, got %.2f %.2f %.2f", yaw, pitch, roll, hp.Yaw, hp.Pitch, hp.Roll)
		}
	}
}

// A face off to the side that looks straight into the lens reads 0/0: the
// angles are relative to the line of sight, not the optical axis.
func TestEstimatePoseLineOfSight(t *testing.T) {
	tr := [3]float64{200, -90, 600}
	v := normalize(tr)
	// Rotation taking the model's forward axis (0,0,1) onto v.
	ax := [3]float64{-v[1], v[0], 0} // (0,0,1) × v
	s := math.Hypot(ax[0], ax[1])
	ang := math.Asin(s)
	r := [3]float64{ax[0] / s * ang, ax[1] / s * ang, 0}
	pts := project(r, tr, 640, 480)
	hp, ok := EstimatePose(&pts, 640, 480)
	if !ok {
		t.Fatal("solver failed")
	}
	if math.Abs(hp.Yaw) > 0.5 || math.Abs(hp.Pitch) > 0.5 || math.Abs(hp.Roll) > 0.5 {
		t.Errorf("face looking into the lens from the side: yaw %.2f pitch %.2f roll %.2f, want ~0", hp.Yaw, hp.Pitch, hp.Roll)
	}
	// The same head facing along the optical axis (not at the lens) is
	// turned away from the camera by the line-of-sight angle: a head at
	// image right must turn toward image left to face the lens, so it reads
	// positive yaw (nose toward image right of the line of sight).
	pts = project([3]float64{}, tr, 640, 480)
	hp, _ = EstimatePose(&pts, 640, 480)
	want := math.Atan2(tr[0], math.Hypot(tr[1], tr[2])) * 180 / math.Pi
	if math.Abs(hp.Yaw-want) > 1.5 {
		t.Errorf("axis-aligned head at the right: yaw %.2f, want about %.1f", hp.Yaw, want)
	}
}

func TestEstimatePoseDegenerate(t *testing.T) {
	var pts [NumLandmarks][2]float32 // all points at the origin
	if _, ok := EstimatePose(&pts, 640, 480); ok {
		t.Error("solver accepted collapsed landmarks")
	}
}
