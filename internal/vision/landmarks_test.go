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

// TestFitMatchesDlib: Fit (packed leaves, prefetching, sub-pixel output) must
// give dlib's own shape_predictor result, which rounds to whole pixels: on
// every still, with the detector's box and with shifted and scaled boxes.
func TestFitMatchesDlib(t *testing.T) {
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, name := range stills {
		f := loadFrame(t, name, 640, 480)
		g, _ := grayView(f)
		dets, _ := DetectFaces(g)
		g.Close()
		if len(dets) == 0 {
			t.Fatalf("%s: no face", name)
		}
		b := LandmarkBox(dets[0].Box)
		w := b.Dx()
		for _, box := range []image.Rectangle{b, b.Add(image.Pt(w/8, -w/10)), image.Rect(b.Min.X-w/10, b.Min.Y-w/10, b.Max.X+w/10, b.Max.Y+w/10)} {
			got, err := lm.Fit(f.Y, f.Width, f.Height, f.Width, box)
			if err != nil {
				t.Fatal(err)
			}
			want, err := referenceFit(DefaultLandmarkModel, f.Y, f.Width, f.Height, f.Width, box)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				for k := 0; k < 2; k++ {
					if d := math.Abs(float64(got[i][k]) - float64(want[i][k])); d > 0.5+1e-4 {
						t.Fatalf("%s box %v point %d: Fit %v, dlib %v", name, box, i, got[i], want[i])
					}
				}
			}
			compared++
		}
	}
	if compared != 3*len(stills) {
		t.Fatalf("compared %d fits", compared)
	}
}
