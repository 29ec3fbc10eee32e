package vision

import (
	"image"
	"image/color"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision/visiontest"
	"github.com/livecheck/livecheck/models"
)

// facesDir holds the public-domain stills (see testdata/README.md at the
// repository root).
var facesDir = visiontest.FacesDir

// stills are the three test faces.
var stills = visiontest.Stills

// loadBGR fits a still into a w x h picture (see visiontest.LoadBGR).
var loadBGR = visiontest.LoadBGR

// loadFrame is loadBGR converted to an I420 frame.
func loadFrame(t testing.TB, name string, w, h int) *models.Frame {
	t.Helper()
	img := loadBGR(t, name, w, h)
	defer img.Close()
	f := FrameFromImage(img)
	if f == nil {
		t.Fatalf("FrameFromImage(%s) = nil", name)
	}
	return f
}

// frameOf converts a BGR Mat to a frame, failing the test on error.
func frameOf(t testing.TB, img gocv.Mat) *models.Frame {
	t.Helper()
	f := FrameFromImage(img)
	if f == nil {
		t.Fatal("FrameFromImage returned nil")
	}
	return f
}

// fillRect paints r on a BGR Mat with c.
func fillRect(img *gocv.Mat, r image.Rectangle, c color.RGBA) {
	gocv.Rectangle(img, r, c, -1)
}

var testEpoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// timeStep is one frame at 15 fps.
const timeStep = time.Second / 15

func timeDur(i int) time.Duration { return time.Duration(i) }
