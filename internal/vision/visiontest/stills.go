// Package visiontest loads the repository's public-domain face stills
// (testdata/faces) for the tests of the vision and detect packages. It does
// not import vision, so that vision's own tests can use it.
package visiontest

import (
	"image"
	"path/filepath"
	"runtime"
	"testing"

	"gocv.io/x/gocv"
)

// FacesDir is testdata/faces at the repository root.
var FacesDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "faces")
}()

// Stills are the three test faces.
var Stills = []string{"astronaut.png", "obama.jpg", "biden.jpg"}

// LoadBGR reads a still and fits it into a w x h picture the way the dev set
// does: portrait images are cropped to their upper 3:4 part, scaled to fit
// and padded with black. The caller closes the Mat.
func LoadBGR(t testing.TB, name string, w, h int) gocv.Mat {
	t.Helper()
	img := gocv.IMRead(filepath.Join(FacesDir, name), gocv.IMReadColor)
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
