package detect

import (
	"image"
	"image/color"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

// facesDir holds the public-domain stills (see testdata/README.md at the
// repository root). Only astronaut.png is ever altered.
var facesDir = visiontest.FacesDir

var testEpoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

var (
	lmOnce sync.Once
	lmErr  error
	lm     *vision.Landmarker
)

// newAnalyzer returns a vision analyser sharing the process-wide landmark
// model; it is closed when the test ends.
func newAnalyzer(t testing.TB) *vision.Analyzer {
	t.Helper()
	lmOnce.Do(func() { lm, lmErr = vision.LoadLandmarker("") })
	if lmErr != nil {
		t.Fatalf("landmark model: %v", lmErr)
	}
	an, err := vision.NewAnalyzer(vision.Config{Landmarker: lm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { an.Close() })
	return an
}

// loadBGR fits a still into a w x h picture (see visiontest.LoadBGR).
var loadBGR = visiontest.LoadBGR

// frameOf converts a BGR Mat to a frame.
func frameOf(t testing.TB, img gocv.Mat) *models.Frame {
	t.Helper()
	f := vision.FrameFromImage(img)
	if f == nil {
		t.Fatal("FrameFromImage returned nil")
	}
	return f
}

// warp returns img moved by (dx, dy), scaled by s about the centre and
// rotated by deg degrees: the motion of a photo held in front of a camera.
// The caller closes the result.
func warp(img gocv.Mat, dx, dy, s, deg float64) gocv.Mat {
	c := image.Pt(img.Cols()/2, img.Rows()/2)
	m := gocv.GetRotationMatrix2D(c, deg, s)
	defer m.Close()
	m.SetDoubleAt(0, 2, m.GetDoubleAt(0, 2)+dx)
	m.SetDoubleAt(1, 2, m.GetDoubleAt(1, 2)+dy)
	out := gocv.NewMat()
	gocv.WarpAffineWithParams(img, &out, m, image.Pt(img.Cols(), img.Rows()), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	return out
}

// addNoise adds Gaussian sensor noise of standard deviation sigma to the Y
// plane of f in place.
func addNoise(f *models.Frame, sigma float64, r *rand.Rand) {
	for i, v := range f.Y {
		n := float64(v) + r.NormFloat64()*sigma
		f.Y[i] = uint8(min(255, max(0, n+0.5)))
	}
}

// run measures every frame with a fresh analyser and feeds a fresh Suite at
// the given interval; frames[i] is shown at testEpoch + i*step.
func run(t testing.TB, cfg Config, frames []*models.Frame, step time.Duration) *Suite {
	t.Helper()
	an := newAnalyzer(t)
	s := NewSuite(cfg)
	for i, f := range frames {
		f.Capture = testEpoch.Add(time.Duration(i) * step)
		o, err := an.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		o.At = f.Capture
		s.Add(f, o)
	}
	return s
}

// signalOf returns the signal of kind, failing the test when it is missing.
func signalOf(t testing.TB, s *Suite, kind string) models.Signal {
	t.Helper()
	for _, sg := range s.Signals() {
		if sg.Kind == kind {
			return sg
		}
	}
	t.Fatalf("no %s signal", kind)
	return models.Signal{}
}

// repeat returns n copies of f (separate planes, so that noise can differ).
func repeat(f *models.Frame, n int) []*models.Frame {
	out := make([]*models.Frame, n)
	for i := range out {
		c := *f
		c.Y = append([]byte(nil), f.Y...)
		c.U = append([]byte(nil), f.U...)
		c.V = append([]byte(nil), f.V...)
		out[i] = &c
	}
	return out
}

// still returns the astronaut fitted into 640x480 as a frame, with the
// vision observation of it (landmarks fitted), for tests that build
// observation sequences by hand.
func still(t testing.TB) (*models.Frame, models.Observation) {
	t.Helper()
	img := loadBGR(t, "astronaut.png", 640, 480)
	defer img.Close()
	f := frameOf(t, img)
	o, err := newAnalyzer(t).Measure(f)
	if err != nil || !o.LandmarksOK || !o.FacePresent {
		t.Fatalf("no face on the astronaut still: %v %+v", err, o.Face)
	}
	return f, o
}

// feed adds n copies of f with observation o at the given interval, letting
// edit change the frame copy and the observation of frame i first.
func feed(s *Suite, f *models.Frame, o models.Observation, n int, step time.Duration, edit func(i int, f *models.Frame, o *models.Observation)) {
	for i := 0; i < n; i++ {
		c := *f
		c.Y = append([]byte(nil), f.Y...)
		c.U = append([]byte(nil), f.U...)
		c.V = append([]byte(nil), f.V...)
		c.Capture = testEpoch.Add(time.Duration(i) * step)
		oc := o
		oc.At = c.Capture
		if edit != nil {
			edit(i, &c, &oc)
		}
		s.Add(&c, oc)
	}
}

// shiftRegion adds dy to the luma of r (clipped) in place.
func shiftRegion(f *models.Frame, r image.Rectangle, dy int) {
	r = r.Intersect(image.Rect(0, 0, f.Width, f.Height))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := int(f.Y[y*f.Width+x]) + dy
			f.Y[y*f.Width+x] = uint8(min(255, max(0, v)))
		}
	}
}

// faceRect is the observation's face box.
func faceRect(o models.Observation) image.Rectangle {
	return image.Rect(o.Face.X, o.Face.Y, o.Face.X+o.Face.W, o.Face.Y+o.Face.H)
}
