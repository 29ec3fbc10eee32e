package vision

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// facesDir holds the public-domain stills (see testdata/README.md at the
// repository root).
var facesDir = filepath.Join("..", "..", "testdata", "faces")

// stills are the three test faces.
var stills = []string{"astronaut.png", "obama.jpg", "biden.jpg"}

// loadBGR reads a still and fits it into a w x h frame the way the dev set
// does: portrait images are cropped to their upper 3:4 part, scaled to fit
// and padded with black. The caller closes the Mat.
func loadBGR(t testing.TB, name string, w, h int) gocv.Mat {
	t.Helper()
	img := gocv.IMRead(filepath.Join(facesDir, name), gocv.IMReadColor)
	if img.Empty() {
		t.Fatalf("cannot read %s", name)
	}
	defer img.Close()
	src := img.Region(image.Rect(0, 0, img.Cols(), img.Rows()))
	if img.Rows()*3 > img.Cols()*4 {
		src.Close()
		src = img.Region(image.Rect(0, 0, img.Cols(), img.Cols()*4/3))
	}
	defer src.Close()
	s := min(float64(w)/float64(src.Cols()), float64(h)/float64(src.Rows()))
	sw, sh := int(float64(src.Cols())*s), int(float64(src.Rows())*s)
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
	out := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC3)
	x0, y0 := (w-sw)/2, (h-sh)/2
	dst := out.Region(image.Rect(x0, y0, x0+sw, y0+sh))
	scaled.CopyTo(&dst)
	dst.Close()
	return out
}

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
