package vision

import (
	"image/color"
	"math"
	"testing"
)

// Detect rarely, track often: on a steady, clear face most frames at 15 fps
// are measured by landmark tracking alone, with the same landmarks as the
// cascade frames; a hand over the face on the next frame is never tracked
// through but measured by the cascade (lost or covered), and so is the face
// after it.
func TestLandmarkTracking(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	clear := frameOf(t, img)
	o := measureImg(t, a, img, 1)
	cov := img.Clone()
	fillRect(&cov, growRect(fromRect(o.Face), 0.15), color.RGBA{R: 225, G: 170, B: 140})
	covered := frameOf(t, cov)
	cov.Close()

	a.Reset()
	var ref [NumLandmarks][2]float32
	refOK := false
	tracked := 0
	for i := 0; i < 30; i++ {
		f := *clear
		f.Capture = testEpoch.Add(timeStep * timeDur(i))
		before := a.tracked
		o, err := a.Measure(&f)
		if err != nil {
			t.Fatal(err)
		}
		if !o.FacePresent || o.Coasting || !o.LandmarksOK || o.Occlusion >= 0.15 {
			t.Fatalf("frame %d: present %v coasting %v landmarks %v occlusion %.2f", i, o.FacePresent, o.Coasting, o.LandmarksOK, o.Occlusion)
		}
		if a.tracked == before {
			ref, refOK = o.Landmarks, true
			continue
		}
		tracked++
		if !refOK {
			t.Fatalf("frame %d tracked before any cascade frame", i)
		}
		worst := 0.0
		for k := range ref {
			worst = math.Max(worst, math.Hypot(float64(o.Landmarks[k][0]-ref[k][0]), float64(o.Landmarks[k][1]-ref[k][1])))
		}
		if worst > 2 {
			t.Errorf("frame %d (tracked): a landmark %.1f px from the cascade frame's", i, worst)
		}
	}
	// The reference needs 3 clear frames; after that up to 3 of 4 frames at
	// 15 fps (DefaultCascadeEvery).
	if tracked < 15 {
		t.Errorf("%d of 30 steady frames tracked by landmarks, want at least 15", tracked)
	}
	if a.tracked == 0 || a.sinceCasc == 0 {
		t.Fatalf("the last steady frame was not tracked (sinceCasc %d): the cover check below would not test anything", a.sinceCasc)
	}
	for i := 30; i < 33; i++ {
		f := *covered
		f.Capture = testEpoch.Add(timeStep * timeDur(i))
		before := a.tracked
		o, err := a.Measure(&f)
		if err != nil {
			t.Fatal(err)
		}
		if a.tracked != before {
			t.Errorf("covered frame %d was tracked by landmarks", i)
		}
		if !o.Coasting && o.Occlusion < 0.4 {
			t.Errorf("covered frame %d: coasting %v occlusion %.2f", i, o.Coasting, o.Occlusion)
		}
	}
}
