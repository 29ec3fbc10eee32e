package vision

import (
	"errors"
	"image"
	"math/rand"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

func TestDetectFacesStills(t *testing.T) {
	for _, name := range stills {
		t.Run(name, func(t *testing.T) {
			f := loadFrame(t, name, 640, 480)
			g, err := grayView(f)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			dets, err := DetectFaces(g)
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != 1 {
				t.Fatalf("found %d faces, want 1: %v", len(dets), dets)
			}
			b := dets[0].Box
			// Each still fills its frame similarly: a face 60-250 px wide in
			// the upper two thirds.
			if b.Dx() < 60 || b.Dx() > 250 || b.Max.Y > 400 || dets[0].Kind != Frontal {
				t.Errorf("implausible face box %v kind %d", b, dets[0].Kind)
			}
			if dets[0].Conf < 0.5 {
				t.Errorf("confidence %.2f for a clear frontal face", dets[0].Conf)
			}
		})
	}
}

func TestNoFaceInBlankOrNoise(t *testing.T) {
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 110, 130, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	noise := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer noise.Close()
	buf, err := noise.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(1)).Read(buf)

	a := newTestAnalyzer(t)
	for name, img := range map[string]gocv.Mat{"blank": blank, "noise": noise} {
		f := frameOf(t, img)
		g, _ := grayView(f)
		dets, err := DetectFaces(g)
		g.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(dets) != 0 {
			t.Errorf("%s: DetectFaces found %v", name, dets)
		}
		a.Reset()
		for i := 0; i < 4; i++ {
			o, err := a.Measure(f)
			if err != nil {
				t.Fatal(err)
			}
			if o.FacePresent || o.LandmarksOK {
				t.Fatalf("%s frame %d: face reported: %+v", name, i, o.Face)
			}
		}
	}
}

func TestMeasureStills(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, name := range stills {
		t.Run(name, func(t *testing.T) {
			a.Reset()
			f := loadFrame(t, name, 640, 480)
			o := measureN(t, a, f, 2)
			if !o.FacePresent || !o.LandmarksOK || !o.PoseOK || o.Coasting {
				t.Fatalf("present %v landmarks %v pose %v coasting %v", o.FacePresent, o.LandmarksOK, o.PoseOK, o.Coasting)
			}
			// Open eyes, a near-frontal head, plausible colour and scale.
			if o.EAR < 0.18 || o.EAR > 0.45 {
				t.Errorf("EAR %.3f for open eyes", o.EAR)
			}
			if o.Yaw < -20 || o.Yaw > 20 || o.Pitch < -25 || o.Pitch > 25 || o.Roll < -15 || o.Roll > 15 {
				t.Errorf("pose yaw %.1f pitch %.1f roll %.1f for a frontal portrait", o.Yaw, o.Pitch, o.Roll)
			}
			if o.Scale < 0.1 || o.Scale > 0.4 {
				t.Errorf("scale %.3f", o.Scale)
			}
			if o.FaceY < 60 || o.FaceY > 220 || o.FaceCr < 135 || o.FaceCb > 125 {
				t.Errorf("face colour Y %.0f Cb %.0f Cr %.0f is not skin", o.FaceY, o.FaceCb, o.FaceCr)
			}
			if o.Sharpness < 20 {
				t.Errorf("sharpness %.1f", o.Sharpness)
			}
			if o.Occlusion > 0.2 {
				t.Errorf("occlusion %.2f on a clear face", o.Occlusion)
			}
			if o.FaceConf < 0.5 {
				t.Errorf("face confidence %.2f", o.FaceConf)
			}
		})
	}
}

func TestLandmarksOnFace(t *testing.T) {
	a := newTestAnalyzer(t)
	for _, name := range stills {
		t.Run(name, func(t *testing.T) {
			a.Reset()
			o := measureN(t, a, loadFrame(t, name, 640, 480), 1)
			if !o.LandmarksOK {
				t.Fatal("no landmarks")
			}
			box := growRect(fromRect(o.Face), 0.2)
			p := &o.Landmarks
			for i, q := range p {
				if !image.Pt(int(q[0]), int(q[1])).In(box) {
					t.Errorf("point %d (%.0f,%.0f) outside the face box %v", i, q[0], q[1], box)
				}
			}
			eyeL, eyeR := centroid(p, 36, 42), centroid(p, 42, 48)
			mouth, nose := centroid(p, 48, 68), centroid(p, 30, 31)
			if !(eyeL[1] < nose[1] && eyeR[1] < nose[1] && nose[1] < mouth[1]) {
				t.Errorf("eyes %v %v, nose %v, mouth %v not in top-to-bottom order", eyeL, eyeR, nose, mouth)
			}
			if !(eyeL[0] < nose[0] && nose[0] < eyeR[0]) {
				t.Errorf("nose %v not between the eyes %v %v", nose, eyeL, eyeR)
			}
			// Eye centres in the upper half of the cascade box, each in its
			// own half, about 0.3-0.5 box widths apart.
			fb := fromRect(o.Face)
			w, h := float64(fb.Dx()), float64(fb.Dy())
			for _, e := range [][2]float64{eyeL, eyeR} {
				if ry := (e[1] - float64(fb.Min.Y)) / h; ry < 0.2 || ry > 0.55 {
					t.Errorf("eye at %.2f of the box height", ry)
				}
			}
			if rx := (eyeL[0] - float64(fb.Min.X)) / w; rx < 0.15 || rx > 0.5 {
				t.Errorf("left eye at %.2f of the box width", rx)
			}
			if rx := (eyeR[0] - float64(fb.Min.X)) / w; rx < 0.5 || rx > 0.85 {
				t.Errorf("right eye at %.2f of the box width", rx)
			}
			if d := (eyeR[0] - eyeL[0]) / w; d < 0.25 || d > 0.55 {
				t.Errorf("eye distance %.2f box widths", d)
			}
		})
	}
}

func centroid(p *[NumLandmarks][2]float32, from, to int) [2]float64 {
	var c [2]float64
	for i := from; i < to; i++ {
		c[0] += float64(p[i][0])
		c[1] += float64(p[i][1])
	}
	n := float64(to - from)
	return [2]float64{c[0] / n, c[1] / n}
}

func TestConfigErrors(t *testing.T) {
	_, err := NewAnalyzer(Config{Detector: DetectorConfig{FrontalCascade: "/nonexistent/cascade.xml"}, NoLandmarks: true})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/cascade.xml") {
		t.Errorf("missing cascade: err = %v", err)
	}
	_, err = NewAnalyzer(Config{LandmarkModel: "/nonexistent/model.dat"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/model.dat") {
		t.Errorf("missing landmark model: err = %v", err)
	}
	// A file that is not a model must fail cleanly (C++ exception → error).
	_, err = NewLandmarker(facesDir + "/astronaut.png")
	if err == nil {
		t.Error("a PNG loaded as a landmark model")
	}
	_, err = NewFaceDetector(DetectorConfig{FrontalCascade: facesDir + "/astronaut.png"})
	if err == nil {
		t.Error("a PNG loaded as a cascade")
	}
}

func TestMeasureRejectsBadFrames(t *testing.T) {
	a := newTestAnalyzer(t)
	for name, f := range map[string]*models.Frame{
		"nil":        nil,
		"short Y":    {Width: 64, Height: 48, Y: make([]byte, 100)},
		"short U":    {Width: 64, Height: 48, Y: make([]byte, 64*48), U: make([]byte, 10), V: make([]byte, 32*24)},
		"tiny frame": {Width: 4, Height: 4, Y: make([]byte, 16)},
	} {
		if _, err := a.Measure(f); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// A grey-only frame (no chroma) is fine.
	f := loadFrame(t, "astronaut.png", 640, 480)
	f.U, f.V = nil, nil
	o, err := a.Measure(f)
	if err != nil || !o.FacePresent || o.FaceCr != 0 {
		t.Errorf("Y-only frame: err %v present %v Cr %.0f", err, o.FacePresent, o.FaceCr)
	}
}

// newTestAnalyzer returns an analyser closed at the end of the test.
func newTestAnalyzer(t testing.TB) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// measureN measures f n times (tracking settles) and returns the last result.
func measureN(t testing.TB, a *Analyzer, f *models.Frame, n int) models.Observation {
	t.Helper()
	var o models.Observation
	for i := 0; i < n; i++ {
		var err error
		if o, err = a.Measure(f); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// TestGroupHitsOrder: the grouped detections come in the order of their first raw hit, every
// call. Three groups of equal strength: a map's iteration order made their order (and with it
// the callers' first-of-equals picks) differ from call to call and process to process.
func TestGroupHitsOrder(t *testing.T) {
	var raw []image.Rectangle
	for _, x := range []int{400, 20, 220} { // far apart: three groups, three hits each
		for k := range 3 {
			raw = append(raw, image.Rect(x+k, 50+k, x+k+100, 150+k))
		}
	}
	for i := range 50 {
		dets := groupHits(raw, 3, Frontal)
		if len(dets) != 3 {
			t.Fatalf("call %d: %d groups, want 3", i, len(dets))
		}
		for j, want := range []int{401, 21, 221} {
			if dets[j].Box.Min.X != want || dets[j].Neighbors != 3 {
				t.Fatalf("call %d: group %d is %v (%d hits), want the one at x=%d first-hit order", i, j, dets[j].Box, dets[j].Neighbors, want)
			}
		}
	}
}
