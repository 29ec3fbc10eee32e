package faceid

import (
	"math"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// Gate decides which face observations are good enough to embed: a
// descriptor of a small, turned, covered or blurred face is unreliable, and
// an unreliable descriptor looks like another person. The zero value uses
// the defaults (DefaultGate).
//
// vision's occlusion measure is deliberately not a criterion: it compares
// the face with the session's earlier appearance, so after a person switch
// it reads "covered" and would hide the new face from the identity check.
// A covered face loses its detection (no landmarks) or gives an outlier the
// tracker's confirmation rule absorbs.
type Gate struct {
	MinEyeDistance float64 // pixels between the eye centres (default 24)
	MaxYaw         float64 // degrees (default 35)
	MaxPitch       float64 // degrees (default 25)
	MinSharpness   float64 // variance of the Laplacian of the grey chip (default 10)
}

// DefaultGate is the gate calibrated on the development set (docs/EVAL.md).
var DefaultGate = Gate{MinEyeDistance: 24, MaxYaw: 35, MaxPitch: 25, MinSharpness: 10}

func (g Gate) withDefaults() Gate {
	d := DefaultGate
	if g.MinEyeDistance > 0 {
		d.MinEyeDistance = g.MinEyeDistance
	}
	if g.MaxYaw > 0 {
		d.MaxYaw = g.MaxYaw
	}
	if g.MaxPitch > 0 {
		d.MaxPitch = g.MaxPitch
	}
	if g.MinSharpness > 0 {
		d.MinSharpness = g.MinSharpness
	}
	return d
}

// Reject reasons of the gate.
const (
	RejectNoLandmarks = "no landmarks"
	RejectSmall       = "face too small"
	RejectPose        = "head turned too far"
	RejectBlur        = "face blurred"
)

// EyeDistance is the distance between the eye centres (landmarks 36–41 and
// 42–47) in pixels.
func EyeDistance(pts *[68][2]float32) float64 {
	var l, r [2]float64
	for i := 0; i < 6; i++ {
		l[0] += float64(pts[36+i][0]) / 6
		l[1] += float64(pts[36+i][1]) / 6
		r[0] += float64(pts[42+i][0]) / 6
		r[1] += float64(pts[42+i][1]) / 6
	}
	return math.Hypot(l[0]-r[0], l[1]-r[1])
}

// Precheck applies the gate's criteria that need no pixels: landmarks
// present on this frame, size and pose. It returns "" when the
// observation may be embedded, else the reason.
func (g Gate) Precheck(o *models.Observation) string {
	g = g.withDefaults()
	switch {
	case !o.FacePresent || o.Coasting || !o.LandmarksOK:
		return RejectNoLandmarks
	case EyeDistance(&o.Landmarks) < g.MinEyeDistance:
		return RejectSmall
	case !o.PoseOK || math.Abs(o.Yaw) > g.MaxYaw || math.Abs(o.Pitch) > g.MaxPitch:
		return RejectPose
	}
	return ""
}

// ChipSharpness is the variance of the 3x3 Laplacian over the grey chip: a
// focus measure comparable between frames because every chip has the same
// size and face scale.
func ChipSharpness(chip gocv.Mat) float64 {
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(chip, &grey, gocv.ColorBGRToGray)
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(grey, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderReplicate)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}

// SharpEnough applies the gate's blur criterion to an aligned chip.
func (g Gate) SharpEnough(sharpness float64) bool {
	return sharpness >= g.withDefaults().MinSharpness
}
