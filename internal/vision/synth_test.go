package vision

import (
	"image"
	"image/color"
	"math"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// Tests on synthetic variants of astronaut.png (public domain; the White
// House stills are only used unmodified).

const astro = "astronaut.png"

// measureImg runs a fresh track (Reset) on img n times.
func measureImg(t testing.TB, a *Analyzer, img gocv.Mat, n int) models.Observation {
	t.Helper()
	a.Reset()
	return measureN(t, a, frameOf(t, img), n)
}

func TestPoseMirror(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	mir := gocv.NewMat()
	defer mir.Close()
	gocv.Flip(img, &mir, 1)
	o := measureImg(t, a, img, 2)
	m := measureImg(t, a, mir, 2)
	if !o.PoseOK || !m.PoseOK {
		t.Fatal("no pose")
	}
	t.Logf("original yaw %.1f pitch %.1f roll %.1f; mirrored %.1f %.1f %.1f", o.Yaw, o.Pitch, o.Roll, m.Yaw, m.Pitch, m.Roll)
	if math.Abs(m.Yaw+o.Yaw) > 3 || math.Abs(m.Roll+o.Roll) > 3 || math.Abs(m.Pitch-o.Pitch) > 3 {
		t.Errorf("mirror: yaw %.1f→%.1f roll %.1f→%.1f pitch %.1f→%.1f; want yaw and roll negated, pitch kept", o.Yaw, m.Yaw, o.Roll, m.Roll, o.Pitch, m.Pitch)
	}
	// The mirror also mirrors the face box.
	if d := (m.Face.X + m.Face.W/2) - (640 - (o.Face.X + o.Face.W/2)); d < -6 || d > 6 {
		t.Errorf("mirrored box %v vs %v", m.Face, o.Face)
	}
}

// rotateAbout rotates img by deg degrees counter-clockwise (OpenCV
// convention; negative = clockwise on screen) around c.
func rotateAbout(img gocv.Mat, c image.Point, deg float64) gocv.Mat {
	m := gocv.GetRotationMatrix2D(c, deg, 1)
	defer m.Close()
	out := gocv.NewMat()
	gocv.WarpAffineWithParams(img, &out, m, image.Pt(img.Cols(), img.Rows()), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	return out
}

func TestPoseRoll(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	o := measureImg(t, a, img, 2)
	c := image.Pt(o.Face.X+o.Face.W/2, o.Face.Y+o.Face.H/2)
	for _, rot := range []float64{-12, 12, -25, 25} {
		r := rotateAbout(img, c, rot)
		m := measureImg(t, a, r, 5) // a rolled face is searched for every other frame
		r.Close()
		if !m.PoseOK {
			t.Errorf("rotated %+.0f°: no pose (present %v)", rot, m.FacePresent)
			continue
		}
		// OpenCV's positive angle is counter-clockwise; our roll is positive
		// clockwise, so roll must change by -rot.
		if d := m.Roll - o.Roll; math.Abs(d+rot) > 4 {
			t.Errorf("image rotated %+.0f° (ccw): roll %.1f→%.1f, change %.1f, want %.0f", rot, o.Roll, m.Roll, d, -rot)
		}
		if math.Abs(m.Yaw-o.Yaw) > 5 {
			t.Errorf("rotated %+.0f°: yaw moved %.1f→%.1f", rot, o.Yaw, m.Yaw)
		}
	}
}

// shiftFeatures warps img so that the inner face (eyes, nose, mouth) moves by
// (dx, dy) pixels while the outline stays: what a small head turn (dx) or nod
// (dy) looks like. The displacement falls off as a Gaussian of sigma around c.
func shiftFeatures(t testing.TB, img gocv.Mat, c image.Point, sigma, dx, dy float64) gocv.Mat {
	t.Helper()
	w, h := img.Cols(), img.Rows()
	mx := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32F)
	my := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32F)
	defer mx.Close()
	defer my.Close()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			rx, ry := float64(x-c.X), float64(y-c.Y)
			g := math.Exp(-(rx*rx + ry*ry) / (2 * sigma * sigma))
			mx.SetFloatAt(y, x, float32(float64(x)-dx*g))
			my.SetFloatAt(y, x, float32(float64(y)-dy*g))
		}
	}
	out := gocv.NewMat()
	gocv.Remap(img, &out, &mx, &my, gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	return out
}

func TestPoseSyntheticTurnAndNod(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	o := measureImg(t, a, img, 2)
	// Centre on the nose, displacement field about the size of the inner face.
	c := image.Pt(int(o.Landmarks[30][0]), int(o.Landmarks[30][1]))
	sigma := float64(o.Face.W) * 0.3
	cases := []struct {
		name   string
		dx, dy float64
		check  func(m models.Observation) (float64, bool)
	}{
		// Features toward image right = turning to the candidate's left: +yaw.
		{"features right", 0.1, 0, func(m models.Observation) (float64, bool) { return m.Yaw - o.Yaw, m.Yaw-o.Yaw > 5 }},
		{"features left", -0.1, 0, func(m models.Observation) (float64, bool) { return m.Yaw - o.Yaw, m.Yaw-o.Yaw < -5 }},
		// Features up = looking up: +pitch.
		{"features up", 0, -0.08, func(m models.Observation) (float64, bool) { return m.Pitch - o.Pitch, m.Pitch-o.Pitch > 4 }},
		{"features down", 0, 0.08, func(m models.Observation) (float64, bool) { return m.Pitch - o.Pitch, m.Pitch-o.Pitch < -4 }},
	}
	for _, tc := range cases {
		warped := shiftFeatures(t, img, c, sigma, tc.dx*float64(o.Face.W), tc.dy*float64(o.Face.W))
		m := measureImg(t, a, warped, 2)
		warped.Close()
		if !m.PoseOK {
			t.Errorf("%s: no pose", tc.name)
			continue
		}
		if d, ok := tc.check(m); !ok {
			t.Errorf("%s: angle changed by %.1f°, wrong direction or too small", tc.name, d)
		} else {
			t.Logf("%s: angle changed by %+.1f°", tc.name, d)
		}
	}
}

// closeEyes paints each eye (from landmarks p) with the skin colour just
// below it and draws a thin lash line: a synthetic closed eye.
func closeEyes(img *gocv.Mat, p *[NumLandmarks][2]float32) {
	for _, e := range []int{36, 42} {
		minX, maxX := float32(1e9), float32(-1e9)
		minY, maxY := float32(1e9), float32(-1e9)
		for i := e; i < e+6; i++ {
			minX, maxX = min(minX, p[i][0]), max(maxX, p[i][0])
			minY, maxY = min(minY, p[i][1]), max(maxY, p[i][1])
		}
		w, h := maxX-minX, maxY-minY
		r := image.Rect(int(minX-0.15*w), int(minY-0.6*h), int(maxX+0.15*w), int(maxY+0.6*h))
		below := img.Region(image.Rect(r.Min.X, r.Max.Y+2, r.Max.X, r.Max.Y+2+r.Dy()/2))
		sc := below.Mean()
		below.Close()
		skin := color.RGBA{uint8(sc.Val3), uint8(sc.Val2), uint8(sc.Val1), 0}
		gocv.Ellipse(img, image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2), image.Pt(r.Dx()/2, r.Dy()/2), 0, 0, 360, skin, -1)
		ly := int((p[e][1] + p[e+3][1]) / 2)
		dark := color.RGBA{uint8(sc.Val3 * 0.35), uint8(sc.Val2 * 0.35), uint8(sc.Val1 * 0.35), 0}
		gocv.Line(img, image.Pt(int(p[e][0]), ly), image.Pt(int(p[e+3][0]), ly), dark, 2)
	}
}

func TestClosedEyesLowerEAR(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	o := measureImg(t, a, img, 2)
	closed := img.Clone()
	defer closed.Close()
	closeEyes(&closed, &o.Landmarks)
	c := measureImg(t, a, closed, 2)
	if !c.LandmarksOK {
		t.Fatal("no landmarks on the closed-eye face")
	}
	t.Logf("EAR open %.3f closed %.3f", o.EAR, c.EAR)
	if c.EAR > 0.7*o.EAR || c.EAR > 0.2 {
		t.Errorf("EAR open %.3f closed %.3f: not clearly lower", o.EAR, c.EAR)
	}
	if math.Abs(c.Mouth-o.Mouth) > 0.05 {
		t.Errorf("mouth changed %.3f→%.3f with the eyes", o.Mouth, c.Mouth)
	}
}

// session feeds clear frames and then frames of a variant, like a live
// call: the analyser learns the clear face first.
func session(t *testing.T, a *Analyzer, clear, variant *models.Frame, nClear, nVariant int) (models.Observation, []models.Observation) {
	t.Helper()
	a.Reset()
	var last models.Observation
	var out []models.Observation
	i := 0
	next := func(f *models.Frame) models.Observation {
		g := *f
		g.Capture = testEpoch.Add(timeStep * timeDur(i))
		i++
		o, err := a.Measure(&g)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for k := 0; k < nClear; k++ {
		last = next(clear)
	}
	for k := 0; k < nVariant; k++ {
		out = append(out, next(variant))
	}
	return last, out
}

func TestOcclusionPatches(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	clear := frameOf(t, img)
	o := measureImg(t, a, img, 1)
	fb := fromRect(o.Face)
	w, h := fb.Dx(), fb.Dy()
	p := o.Landmarks
	hand := color.RGBA{R: 225, G: 170, B: 140}
	grey := color.RGBA{R: 128, G: 128, B: 128}
	cases := []struct {
		name     string
		r        image.Rectangle
		c        color.RGBA
		min, max float64 // range the covered frames must stay in
	}{
		{"lower half grey", image.Rect(fb.Min.X-w/8, fb.Min.Y+h/2, fb.Max.X+w/8, fb.Max.Y+h/8), grey, 0.4, 1},
		{"lower half hand colour", image.Rect(fb.Min.X-w/8, fb.Min.Y+h/2, fb.Max.X+w/8, fb.Max.Y+h/8), hand, 0.4, 1},
		{"left half hand colour", image.Rect(fb.Min.X-w/8, fb.Min.Y-h/8, fb.Min.X+w/2, fb.Max.Y+h/8), hand, 0.4, 1},
		{"whole face hand colour", growRect(fb, 0.15), hand, 0.4, 1},
		// The mouth alone: the face stays detected, a partial occlusion.
		{"mouth hand colour", image.Rect(int(p[48][0])-8, int(p[33][1])+2, int(p[54][0])+8, int(p[8][1])-4), hand, 0.12, 0.4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cov := img.Clone()
			fillRect(&cov, tc.r, tc.c)
			covered := frameOf(t, cov)
			cov.Close()
			a.Reset()
			var occ []float64
			var coasting bool
			for i := 0; i < 22; i++ {
				f := *clear
				if i >= 8 && i < 16 {
					f = *covered
				}
				f.Capture = testEpoch.Add(timeStep * timeDur(i))
				ob, err := a.Measure(&f)
				if err != nil {
					t.Fatal(err)
				}
				if !ob.FacePresent {
					t.Fatalf("frame %d: face lost", i)
				}
				if i >= 8 && i < 16 {
					coasting = coasting || ob.Coasting
				}
				occ = append(occ, ob.Occlusion)
			}
			t.Logf("occlusion %.2f (coasting while covered: %v)", occ, coasting)
			if occ[7] > 0.15 {
				t.Errorf("clear face before: occlusion %.2f", occ[7])
			}
			for i := 8; i < 16; i++ {
				if occ[i] < tc.min || occ[i] > tc.max {
					t.Errorf("covered frame %d: occlusion %.2f, want %.2f..%.2f", i, occ[i], tc.min, tc.max)
				}
			}
			// Uncovered again: clear within a few frames.
			for i := 19; i < 22; i++ {
				if occ[i] > 0.15 {
					t.Errorf("uncovered frame %d: occlusion %.2f", i, occ[i])
				}
			}
		})
	}
}

// A colour flash from the screen tints the whole face (and scene): that is
// not an occlusion, and FaceCr/FaceCb must follow it.
func TestFlashIsNotOcclusion(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	clear := frameOf(t, img)
	tinted := img.Clone()
	defer tinted.Close()
	add := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 50, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer add.Close()
	gocv.Add(tinted, add, &tinted)
	base, obs := session(t, a, clear, frameOf(t, tinted), 8, 4)
	last := obs[len(obs)-1]
	if !last.FacePresent {
		t.Fatal("face lost under a red flash")
	}
	t.Logf("Cr %.1f → %.1f, occlusion %.2f → %.2f (cues %+v)", base.FaceCr, last.FaceCr, base.Occlusion, last.Occlusion, a.cues)
	if last.FaceCr-base.FaceCr < 10 {
		t.Errorf("red flash: FaceCr %.1f → %.1f", base.FaceCr, last.FaceCr)
	}
	if last.Occlusion >= 0.2 {
		t.Errorf("red flash read as occlusion %.2f", last.Occlusion)
	}
}

func TestTintFaceRaisesCr(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	o := measureImg(t, a, img, 2)
	red := img.Clone()
	defer red.Close()
	roi := red.Region(growRect(fromRect(o.Face), 0.1))
	tint := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 60, 0), roi.Rows(), roi.Cols(), gocv.MatTypeCV8UC3)
	gocv.Add(roi, tint, &roi)
	tint.Close()
	roi.Close()
	m := measureImg(t, a, red, 2)
	if !m.FacePresent {
		t.Fatal("tinted face not found")
	}
	t.Logf("Cr %.1f → %.1f, Cb %.1f → %.1f", o.FaceCr, m.FaceCr, o.FaceCb, m.FaceCb)
	if m.FaceCr-o.FaceCr < 12 {
		t.Errorf("red tint: FaceCr %.1f → %.1f", o.FaceCr, m.FaceCr)
	}
	if m.FaceCb > o.FaceCb+2 {
		t.Errorf("red tint raised FaceCb %.1f → %.1f", o.FaceCb, m.FaceCb)
	}
}

func TestScaleFollowsZoom(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	o := measureImg(t, a, img, 2)
	// Zoom 1.5x about the face centre: crop 640/1.5 x 480/1.5 and upscale.
	c := image.Pt(o.Face.X+o.Face.W/2, o.Face.Y+o.Face.H/2)
	cw, ch := 427, 320
	x0 := min(max(c.X-cw/2, 0), 640-cw)
	y0 := min(max(c.Y-ch/2, 0), 480-ch)
	crop := img.Region(image.Rect(x0, y0, x0+cw, y0+ch))
	zoom := gocv.NewMat()
	gocv.Resize(crop, &zoom, image.Pt(640, 480), 0, 0, gocv.InterpolationLinear)
	crop.Close()
	defer zoom.Close()
	m := measureImg(t, a, zoom, 2)
	if !m.FacePresent {
		t.Fatal("zoomed face not found")
	}
	r := m.Scale / o.Scale
	t.Logf("scale %.3f → %.3f (x%.2f)", o.Scale, m.Scale, r)
	if r < 1.35 || r > 1.65 {
		t.Errorf("1.5x zoom changed Scale by x%.2f", r)
	}
	// Landmark geometry is scale-free.
	if math.Abs(m.EAR-o.EAR) > 0.05 || math.Abs(m.Yaw-o.Yaw) > 5 {
		t.Errorf("zoom changed EAR %.3f→%.3f or yaw %.1f→%.1f", o.EAR, m.EAR, o.Yaw, m.Yaw)
	}
}

func TestTrackingShiftedFrames(t *testing.T) {
	a := newTestAnalyzer(t)
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	// A canvas larger than the frame; the frame is a moving window on it.
	canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 40, 40, 0), 600, 800, gocv.MatTypeCV8UC3)
	defer canvas.Close()
	dst := canvas.Region(image.Rect(80, 60, 720, 540))
	img.CopyTo(&dst)
	dst.Close()
	a.Reset()
	var first models.Observation
	full := 0
	for i := 0; i < 40; i++ {
		// Pan the window: the face moves by up to 9 px per frame.
		ox := 80 + int(70*math.Sin(float64(i)/5))
		oy := 60 + int(40*math.Sin(float64(i)/7))
		win := canvas.Region(image.Rect(ox, oy, ox+640, oy+480))
		f := frameOf(t, win)
		win.Close()
		f.Capture = testEpoch.Add(timeStep * timeDur(i))
		o, err := a.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		if a.sinceFull == 0 {
			full++
		}
		if !o.FacePresent || o.Coasting || !o.LandmarksOK {
			t.Fatalf("frame %d: present %v coasting %v landmarks %v", i, o.FacePresent, o.Coasting, o.LandmarksOK)
		}
		if i == 0 {
			first = o
			continue
		}
		// The face must move opposite to the window, by the same amount.
		wantX := first.Face.X + first.Face.W/2 - (ox - 80)
		wantY := first.Face.Y + first.Face.H/2 - (oy - 60)
		gotX, gotY := o.Face.X+o.Face.W/2, o.Face.Y+o.Face.H/2
		if math.Abs(float64(gotX-wantX)) > 10 || math.Abs(float64(gotY-wantY)) > 10 {
			t.Errorf("frame %d: box centre (%d,%d), want (%d,%d)", i, gotX, gotY, wantX, wantY)
		}
		nose := o.Landmarks[30]
		if math.Abs(float64(nose[0])-(float64(first.Landmarks[30][0])-float64(ox-80))) > 5 {
			t.Errorf("frame %d: nose x %.1f drifted", i, nose[0])
		}
	}
	// Detect rarely, track often.
	if full > 6 {
		t.Errorf("%d full-frame detections in 40 tracked frames", full)
	}
}

func TestCoastThenLose(t *testing.T) {
	a := newTestAnalyzer(t)
	face := loadFrame(t, astro, 640, 480)
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 40, 40, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	empty := frameOf(t, blank)
	_, obs := session(t, a, face, empty, 5, 60) // 4 s at 15 fps
	if !obs[0].FacePresent || !obs[0].Coasting || obs[0].LandmarksOK || obs[0].FaceConf != 0 {
		t.Errorf("first empty frame: present %v coasting %v landmarks %v conf %.2f; want a coasting box", obs[0].FacePresent, obs[0].Coasting, obs[0].LandmarksOK, obs[0].FaceConf)
	}
	if obs[0].Occlusion < 0.4 {
		t.Errorf("face gone but box coasting: occlusion %.2f", obs[0].Occlusion)
	}
	lost := -1
	for i, o := range obs {
		if !o.FacePresent {
			lost = i
			break
		}
	}
	// MaxCoast is 3 s: lost after 45-46 frames of 1/15 s.
	if lost < 44 || lost > 47 {
		t.Errorf("face dropped after %d empty frames, want ~45 (3 s)", lost)
	}
}

func TestEncodeFaceJPEG(t *testing.T) {
	a := newTestAnalyzer(t)
	f := loadFrame(t, astro, 640, 480)
	o := measureN(t, a, f, 1)
	b, err := EncodeFaceJPEG(f, o.Face, 90)
	if err != nil {
		t.Fatal(err)
	}
	img, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	// 25 % margin each side, even-aligned.
	if w := img.Cols(); w < o.Face.W*3/2-4 || w > o.Face.W*3/2+4 {
		t.Errorf("crop width %d for a %d px face", w, o.Face.W)
	}
	// The crop still shows the face.
	g := gocv.NewMat()
	defer g.Close()
	gocv.CvtColor(img, &g, gocv.ColorBGRToGray)
	if dets, _ := DetectFaces(g); len(dets) != 1 {
		t.Errorf("evidence crop: %d faces", len(dets))
	}
	if _, err := EncodeFaceJPEG(f, models.Rect{X: 700, Y: 10, W: 50, H: 50}, 90); err == nil {
		t.Error("box outside the frame encoded")
	}
}

func TestFrameRoundTrip(t *testing.T) {
	img := loadBGR(t, astro, 640, 480)
	defer img.Close()
	f := frameOf(t, img)
	if f.Width != 640 || f.Height != 480 || len(f.Y) != 640*480 || len(f.U) != 320*240 || len(f.V) != 320*240 {
		t.Fatalf("frame %dx%d planes %d/%d/%d", f.Width, f.Height, len(f.Y), len(f.U), len(f.V))
	}
	back, err := FrameToBGR(f)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(img, back, &diff)
	if m := diff.Mean(); m.Val1 > 4 || m.Val2 > 4 || m.Val3 > 4 {
		t.Errorf("BGR→I420→BGR mean error %.1f/%.1f/%.1f", m.Val1, m.Val2, m.Val3)
	}
	// Odd sizes are cropped to even.
	odd := img.Region(image.Rect(0, 0, 321, 241))
	defer odd.Close()
	if g := FrameFromImage(odd); g == nil || g.Width != 320 || g.Height != 240 {
		t.Errorf("odd image → %+v", g)
	}
	if _, err := FrameFromFile("/nonexistent.png"); err == nil {
		t.Error("FrameFromFile of a missing file")
	}
	if g, err := FrameFromFile(facesDir + "/" + astro); err != nil || g.Width != 512 {
		t.Errorf("FrameFromFile: %v", err)
	}
}
