package vision

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// Per-stage costs at 640x480 (astronaut.png letterboxed, face ~95 px).

func benchFrame(b *testing.B) (*models.Frame, gocv.Mat) {
	b.Helper()
	f := loadFrame(b, astro, 640, 480)
	g, err := grayView(f)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	return f, g
}

// BenchmarkFaceDetect is the full-frame path: resize to 320x240, equalise,
// frontal Haar cascade (profile cascades do not run: the face is found).
func BenchmarkFaceDetect(b *testing.B) {
	_, g := benchFrame(b)
	d, err := NewFaceDetector(DetectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dets, _ := d.Detect(g)
		if len(dets) != 1 {
			b.Fatal("no face")
		}
	}
}

// BenchmarkTrack is the per-frame tracking path: re-detection in the
// enlarged region around the last box.
func BenchmarkTrack(b *testing.B) {
	_, g := benchFrame(b)
	d, err := NewFaceDetector(DetectorConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	dets, _ := d.Detect(g)
	prev := dets[0].Box
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, _ := d.DetectNear(g, prev, 0); !ok {
			b.Fatal("lost")
		}
	}
}

// BenchmarkLandmarks is one 68-point fit (dlib shape predictor).
func BenchmarkLandmarks(b *testing.B) {
	f, g := benchFrame(b)
	lm, err := LoadLandmarker("")
	if err != nil {
		b.Fatal(err)
	}
	dets, _ := DetectFaces(g)
	box := LandmarkBox(dets[0].Box)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := lm.Fit(f.Y, f.Width, f.Height, f.Width, box); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPose is the PnP solve (full model plus the upper-face model the
// occlusion measure uses).
func BenchmarkPose(b *testing.B) {
	a := newTestAnalyzer(b)
	o := measureN(b, a, loadFrame(b, astro, 640, 480), 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		EstimatePose(&o.Landmarks, 640, 480)
		solvePose(&o.Landmarks, 640, 480, upperPoseModel)
	}
}

// BenchmarkRegion is face colour, sharpness and the occlusion grid.
func BenchmarkRegion(b *testing.B) {
	f, g := benchFrame(b)
	dets, _ := DetectFaces(g)
	box := dets[0].Box
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		measureRegion(f, innerFace(box))
		measureGrid(f, box, 5)
	}
}

// BenchmarkMeasure is the whole per-frame measurement (tracking with a
// full-frame detection every 10th frame, landmarks, pose, EAR, mouth,
// colour, sharpness, occlusion) on a 640x480 pan over 30 frames.
func BenchmarkMeasure(b *testing.B) {
	img := loadBGR(b, astro, 640, 480)
	defer img.Close()
	canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 40, 40, 0), 600, 800, gocv.MatTypeCV8UC3)
	defer canvas.Close()
	dst := canvas.Region(image.Rect(80, 60, 720, 540))
	img.CopyTo(&dst)
	dst.Close()
	var frames []*models.Frame
	for i := 0; i < 30; i++ {
		ox := 80 + int(60*math.Sin(float64(i)/5))
		oy := 60 + int(30*math.Sin(float64(i)/7))
		win := canvas.Region(image.Rect(ox, oy, ox+640, oy+480))
		frames = append(frames, frameOf(b, win))
		win.Close()
	}
	a := newTestAnalyzer(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, err := a.Measure(frames[i%len(frames)])
		if err != nil || !o.LandmarksOK {
			b.Fatalf("frame %d: err %v landmarks %v", i, err, o.LandmarksOK)
		}
	}
}

// BenchmarkNewAnalyzer is what opening a session costs the vision stage
// (the landmark model is shared and loaded before): an analyser for the
// server's configuration, then closed.
func BenchmarkNewAnalyzer(b *testing.B) {
	lm, err := LoadLandmarker("")
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Landmarker: lm}
	if a, err := NewAnalyzer(cfg); err != nil {
		b.Fatal(err)
	} else {
		a.Close()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := NewAnalyzer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		a.Close()
	}
}
