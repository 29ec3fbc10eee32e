package vision

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

func TestLandmarkerFitEdgeCases(t *testing.T) {
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	f := loadFrame(t, astro, 640, 480)
	// A box hanging over the frame corner: pixels outside read as 0, no crash.
	if _, err := lm.Fit(f.Y, f.Width, f.Height, f.Width, image.Rect(-60, -60, 80, 80)); err != nil {
		t.Errorf("box over the corner: %v", err)
	}
	// Bad buffers and boxes are errors, not crashes.
	if _, err := lm.Fit(f.Y[:1000], f.Width, f.Height, f.Width, image.Rect(10, 10, 100, 100)); err == nil {
		t.Error("short buffer accepted")
	}
	if _, err := lm.Fit(f.Y, f.Width, f.Height, f.Width-1, image.Rect(10, 10, 100, 100)); err == nil {
		t.Error("stride < width accepted")
	}
	if _, err := lm.Fit(f.Y, f.Width, f.Height, f.Width, image.Rect(10, 10, 12, 12)); err == nil {
		t.Error("2 px box accepted")
	}
	// A strided view (a region of the frame, rows f.Width apart) gives the
	// same points as the whole frame, shifted: the view is read in place.
	g, _ := grayView(f)
	dets, _ := DetectFaces(g)
	g.Close()
	box := LandmarkBox(dets[0].Box)
	full, err := lm.Fit(f.Y, f.Width, f.Height, f.Width, box)
	if err != nil {
		t.Fatal(err)
	}
	off := image.Pt(100, 20)
	sub := f.Y[off.Y*f.Width+off.X:]
	part, err := lm.Fit(sub, 400, 400, f.Width, box.Sub(off))
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		if math.Abs(float64(part[i][0]+float32(off.X)-full[i][0])) > 1e-3 || math.Abs(float64(part[i][1]+float32(off.Y)-full[i][1])) > 1e-3 {
			t.Fatalf("point %d: strided view %v, full frame %v", i, part[i], full[i])
		}
	}
	// A private instance can be closed; Fit then fails cleanly.
	own, err := NewLandmarker(DefaultLandmarkModel)
	if err != nil {
		t.Fatal(err)
	}
	own.Close()
	own.Close()
	if _, err := own.Fit(f.Y, f.Width, f.Height, f.Width, box); err == nil {
		t.Error("Fit on a closed Landmarker")
	}
}

// WebRTC senders change resolution under load: the track follows.
func TestResolutionChange(t *testing.T) {
	a := newTestAnalyzer(t)
	big := loadFrame(t, astro, 640, 480)
	o1 := measureN(t, a, big, 2)
	img := loadBGR(t, astro, 640, 480)
	small := gocv.NewMat()
	gocv.Resize(img, &small, image.Pt(320, 240), 0, 0, gocv.InterpolationArea)
	img.Close()
	sf := frameOf(t, small)
	small.Close()
	o2, err := a.Measure(sf)
	if err != nil {
		t.Fatal(err)
	}
	if !o2.FacePresent || !o2.LandmarksOK {
		t.Fatalf("after 640→320: present %v landmarks %v", o2.FacePresent, o2.LandmarksOK)
	}
	if r := float64(o2.Face.W) / float64(o1.Face.W); r < 0.4 || r > 0.6 {
		t.Errorf("box %v → %v after halving the resolution", o1.Face, o2.Face)
	}
	if math.Abs(o2.Scale-o1.Scale) > 0.03 {
		t.Errorf("Scale %.3f → %.3f: it is relative to the frame width", o1.Scale, o2.Scale)
	}
}
