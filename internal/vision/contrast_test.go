package vision

import (
	"image"
	"math"
	"testing"
)

func TestLandmarkGain(t *testing.T) {
	for _, c := range []struct{ mean, want float64 }{
		{200, 1}, {LandmarkMinMean, 1}, {LandmarkMinMean / 2, 2}, {LandmarkMinMean / 4, LandmarkMaxGain}, {0, 1},
	} {
		if got := landmarkGain(c.mean); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("landmarkGain(%v) = %v, want %v", c.mean, got, c.want)
		}
	}
}

// TestFitInDarkFace: the same face with 0.4 of its luma (a darker skin, or less light) has
// its pose fit on its exposed region, whose points come back in the frame's coordinates close
// to the bright face's, its other fit plain; the bright face (mean above LandmarkMinMean) is
// fitted once, as before.
func TestFitInDarkFace(t *testing.T) {
	f := loadFrame(t, stills[0], 640, 480)
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ob, err := a.Measure(f)
	if err != nil || !ob.FacePresent {
		t.Fatalf("no face in %s (%v)", stills[0], err)
	}
	box := image.Rect(ob.Face.X, ob.Face.Y, ob.Face.X+ob.Face.W, ob.Face.Y+ob.Face.H)
	if m, _ := FaceContrast(f.Y, f.Width, f.Height, LandmarkBox(box)); m < LandmarkMinMean {
		t.Skipf("%s: face mean luma %.0f, not a bright face", stills[0], m)
	}
	bf, err := a.fitIn(f.Y, f.Width, f.Height, box)
	if err != nil {
		t.Fatal(err)
	}
	if bf[1] != bf[0] {
		t.Error("bright face: the pose fit differs from the plain fit")
	}
	bright := bf[0]
	raw, err := a.lm.Fit(f.Y, f.Width, f.Height, f.Width, LandmarkBox(box))
	if err != nil {
		t.Fatal(err)
	}
	if d := meanDist(&bright, &raw); d > 1 { // at most the refinement pass's difference
		t.Errorf("bright face: fitIn %.2f px from the plain fit", d)
	}
	dark := make([]byte, len(f.Y))
	for i, v := range f.Y {
		dark[i] = byte(math.Round(float64(v) * 0.4))
	}
	df, err := a.fitIn(dark, f.Width, f.Height, box)
	if err != nil {
		t.Fatal(err)
	}
	got := df[1]
	plain, err := a.lm.Fit(dark, f.Width, f.Height, f.Width, LandmarkBox(box))
	if err != nil {
		t.Fatal(err)
	}
	d, dp := meanDist(&got, &bright), meanDist(&plain, &bright)
	t.Logf("dark face: exposed fit %.2f px from the bright face's, plain fit %.2f px", d, dp)
	if dr := meanDist(&df[0], &plain); dr > 1 {
		t.Errorf("dark face: fits[0] %.2f px from the plain fit, want the plain fit", dr)
	}
	if d > 1.5 {
		t.Errorf("dark face: exposed fit %.2f px from the bright face's points, want ≤ 1.5", d)
	}
}

func meanDist(a, b *[NumLandmarks][2]float32) float64 {
	var s float64
	for i := range a {
		s += math.Hypot(float64(a[i][0]-b[i][0]), float64(a[i][1]-b[i][1]))
	}
	return s / NumLandmarks
}
