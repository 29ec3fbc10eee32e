package detect

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// screenFrame films picture i of a replay attack: img shown on a screen
// that fills about 80 % of the view, tilted by a few degrees, with a dark
// bezel, moiré rings from the screen's pixel grid beating with the
// camera's, in a dim room with sensor noise.
func screenFrame(t *testing.T, img gocv.Mat, i int, r *rand.Rand) *models.Frame {
	t.Helper()
	w, h := img.Cols(), img.Rows()
	angle := 4 + 0.8*math.Sin(float64(i)/5)
	m := gocv.GetRotationMatrix2D(image.Pt(w/2, h/2), angle, 0.78)
	defer m.Close()
	dx, dy := 6*math.Sin(float64(i)/7), 3*math.Cos(float64(i)/9)
	m.SetDoubleAt(0, 2, m.GetDoubleAt(0, 2)+dx)
	m.SetDoubleAt(1, 2, m.GetDoubleAt(1, 2)+dy)
	out := gocv.NewMat()
	defer out.Close()
	gocv.WarpAffineWithParams(img, &out, m, image.Pt(w, h), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{18, 18, 20, 0})
	// The bezel around the picture's content (the still is pillarboxed).
	content := [4][2]float64{{64, 0}, {576, 0}, {576, 480}, {64, 480}}
	var quad [4]image.Point
	for k, c := range content {
		x := m.GetDoubleAt(0, 0)*c[0] + m.GetDoubleAt(0, 1)*c[1] + m.GetDoubleAt(0, 2)
		y := m.GetDoubleAt(1, 0)*c[0] + m.GetDoubleAt(1, 1)*c[1] + m.GetDoubleAt(1, 2)
		quad[k] = image.Pt(int(x), int(y))
	}
	for k := range quad {
		gocv.Line(&out, quad[k], quad[(k+1)%4], color.RGBA{40, 40, 44, 0}, 9)
	}
	f := frameOf(t, out)
	// Moiré: concentric rings centred off screen, on the lit picture only.
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			k := y*f.Width + x
			if f.Y[k] < 50 {
				continue
			}
			d := math.Hypot(float64(x+300), float64(y-700))
			v := float64(f.Y[k]) + 14*math.Sin(2*math.Pi*d/9)
			f.Y[k] = uint8(min(255, max(0, v)))
		}
	}
	addNoise(f, 2.5, r)
	return f
}

// TestReplayScreenOverlay: the face on a filmed screen (border, tilt, moiré)
// trips the replay detector; the same face filmed directly, with the
// letterbox bars many genuine streams carry, scores well below it.
func TestReplayScreenOverlay(t *testing.T) {
	img := loadBGR(t, "astronaut.png", 640, 480)
	defer img.Close()
	r := rand.New(rand.NewPCG(7, 7))
	var replay, direct []*models.Frame
	for i := 0; i < 40; i++ {
		replay = append(replay, screenFrame(t, img, i, r))
		w := warp(img, 5*math.Sin(float64(i)/6), 0, 1, 0)
		f := frameOf(t, w)
		w.Close()
		// Sensor noise on the picture, not on the bars, which software
		// adds after capture.
		bars := append([]byte(nil), f.Y...)
		addNoise(f, 2.5, r)
		for k, v := range bars {
			if v <= 20 {
				f.Y[k] = v
			}
		}
		direct = append(direct, f)
	}
	rs := signalOf(t, run(t, Config{}, replay, 125*time.Millisecond), KindReplay)
	ds := signalOf(t, run(t, Config{}, direct, 125*time.Millisecond), KindReplay)
	t.Logf("replay: %+v", rs)
	t.Logf("direct: %+v", ds)
	if rs.Score < 0.6 || rs.Confidence < 0.3 {
		t.Errorf("screen replay: score %.2f confidence %.2f, want >= 0.6 and >= 0.3", rs.Score, rs.Confidence)
	}
	// The direct view is not clean either: the rocket beside the face and
	// the collar below it are long straight edges (a corner of a "frame"),
	// which is what real rooms do to this detector too. The screen must
	// still stand well apart.
	if ds.Score > rs.Score-0.3 {
		t.Errorf("direct camera with letterbox bars: replay score %.2f, want at least 0.3 below the screen's %.2f", ds.Score, rs.Score)
	}
	if rs.Value < 3 {
		t.Errorf("border sides found on the screen: %.1f, want >= 3", rs.Value)
	}
}
