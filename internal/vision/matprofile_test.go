//go:build matprofile

package vision

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// Run with: go test -tags matprofile ./internal/vision/
// gocv then records every Mat created and not yet closed.

// closeSharedDetector frees the process-wide pooled detectors (DetectFaces,
// analysers; their scratch Mats live as long as the process otherwise).
func closeSharedDetector() {
	detectorPools.Range(func(k, v any) bool {
		p := v.(*detectorPool)
		p.mu.Lock()
		for _, d := range p.idle {
			d.Close()
		}
		p.idle = nil
		p.mu.Unlock()
		detectorPools.Delete(k)
		return true
	})
}

func matLeaks() string {
	var b bytes.Buffer
	gocv.MatProfile.WriteTo(&b, 1)
	return b.String()
}

func TestMatProfileAnalyzer(t *testing.T) {
	closeSharedDetector()
	if n := gocv.MatProfile.Count(); n != 0 {
		t.Fatalf("%d Mats open before the test (leaked by earlier tests):\n%s", n, matLeaks())
	}
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	img := loadBGR(t, astro, 640, 480)
	face := frameOf(t, img)
	o := measureImg(t, a, img, 3) // detect, track, landmarks
	// Rolled face (rotated ROI search), a miss (coasting, full detection,
	// profile cascades, rotated full frame), odd-sized frames.
	rolled := rotateAbout(img, image.Pt(o.Face.X+o.Face.W/2, o.Face.Y+o.Face.H/2), -25)
	img.Close()
	rf := frameOf(t, rolled)
	rolled.Close()
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(30, 30, 30, 0), 480, 640, gocv.MatTypeCV8UC3)
	empty := frameOf(t, blank)
	blank.Close()
	for _, f := range []*models.Frame{face, rf, rf, empty, empty, empty, empty, face} {
		if _, err := a.Measure(f); err != nil {
			t.Fatal(err)
		}
	}
	a.Reset()
	for i := 0; i < 7; i++ {
		a.Measure(empty)
	}
	small := loadFrame(t, astro, 320, 240)
	a.Measure(small)
	if _, err := EncodeFaceJPEG(face, o.Face, 80); err != nil {
		t.Fatal(err)
	}
	if bgr, err := FrameToBGR(face); err == nil {
		bgr.Close()
	}
	g, _ := grayView(face)
	DetectFaces(g)
	g.Close()
	if _, err := FrameFromFile("/nonexistent.png"); err == nil {
		t.Fatal("read a missing file")
	}
	a.Close()
	a.Close() // idempotent
	if _, err := a.Measure(face); err == nil {
		t.Error("Measure after Close succeeded")
	}
	closeSharedDetector()
	if n := gocv.MatProfile.Count(); n != 0 {
		t.Errorf("%d Mats leaked:\n%s", n, matLeaks())
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	closeSharedDetector()
	if n := gocv.MatProfile.Count(); n != 0 {
		fmt.Fprintf(os.Stderr, "%d Mats leaked by the package's tests:\n%s", n, matLeaks())
		code = 1
	}
	os.Exit(code)
}
