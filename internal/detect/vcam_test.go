package detect

import (
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// vcamStream feeds 10 s of 30 fps video to a live Suite: every frame's
// capture time through AddFrameTime, every fourth frame (7.5 fps) analysed.
// jitter is the standard deviation of the capture-time noise, sigma that of
// the sensor noise.
func vcamStream(t *testing.T, img gocv.Mat, o models.Observation, jitter time.Duration, sigma float64) models.Signal {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	s := NewSuite(Config{LiveCapture: true})
	const n = 300
	for i := 0; i < n; i++ {
		at := testEpoch.Add(time.Duration(i) * time.Second / 30)
		if jitter > 0 {
			at = at.Add(time.Duration(r.NormFloat64() * float64(jitter)))
		}
		s.AddFrameTime(at)
		if i%4 != 0 {
			continue
		}
		// A slow pan, so that consecutive frames differ.
		w := warp(img, float64(i)/10, 0, 1, 0)
		f := frameOf(t, w)
		w.Close()
		if sigma > 0 {
			addNoise(f, sigma, r)
		}
		f.Capture = at
		oc := o
		oc.At = at
		s.Add(f, oc)
	}
	return signalOf(t, s, KindVirtualCamera)
}

// TestVirtualCameraConstantNoiseless: a stream with perfectly regular frame
// intervals and no sensor noise (rendered video) trips the virtual-camera
// detector; jittered capture times and sensor noise do not.
func TestVirtualCameraConstantNoiseless(t *testing.T) {
	img := loadBGR(t, "astronaut.png", 640, 480)
	defer img.Close()
	smooth := gocv.NewMat()
	defer smooth.Close()
	// The still's own film grain is removed: rendered video has none.
	gocv.GaussianBlur(img, &smooth, image.Pt(0, 0), 2, 2, gocv.BorderReflect101)
	_, o := still(t)

	virtual := vcamStream(t, smooth, o, 0, 0)
	camera := vcamStream(t, smooth, o, 1500*time.Microsecond, 2.5)
	t.Logf("virtual: %+v", virtual)
	t.Logf("camera:  %+v", camera)
	if virtual.Score < 0.6 || virtual.Confidence < 0.5 {
		t.Errorf("constant-interval noiseless stream: score %.2f confidence %.2f, want >= 0.6 and >= 0.5", virtual.Score, virtual.Confidence)
	}
	if virtual.Value < 0.95 {
		t.Errorf("regular interval share %.2f, want >= 0.95", virtual.Value)
	}
	if camera.Score >= 0.3 {
		t.Errorf("jittered noisy camera: score %.2f, want < 0.3", camera.Score)
	}
}

// TestVirtualCameraFileTimesNotJudged: without LiveCapture (a recording,
// whose timestamps are synthetic) the regular timing is not evidence.
func TestVirtualCameraFileTimesNotJudged(t *testing.T) {
	f, o := still(t)
	r := rand.New(rand.NewPCG(5, 6))
	s := NewSuite(Config{})
	feed(s, f, o, 60, 125*time.Millisecond, func(i int, f *models.Frame, _ *models.Observation) { addNoise(f, 2.5, r) })
	sg := signalOf(t, s, KindVirtualCamera)
	if sg.Score >= 0.3 {
		t.Errorf("regular file timestamps: score %.2f, want < 0.3 (%s)", sg.Score, sg.Reason)
	}
}

// TestVirtualCameraRepeatedFrames: a source padded to the stream's rate
// with repeated frames is noticed even without live timing.
func TestVirtualCameraRepeatedFrames(t *testing.T) {
	f, o := still(t)
	r := rand.New(rand.NewPCG(8, 9))
	var last *models.Frame
	s := NewSuite(Config{})
	feed(s, f, o, 60, 125*time.Millisecond, func(i int, f *models.Frame, _ *models.Observation) {
		if i%2 == 1 && last != nil {
			copy(f.Y, last.Y) // every other frame repeats the previous one
			return
		}
		addNoise(f, 2.5, r)
		last = &models.Frame{Y: append([]byte(nil), f.Y...)}
	})
	sg := signalOf(t, s, KindVirtualCamera)
	t.Logf("%+v", sg)
	if sg.Score < 0.5 {
		t.Errorf("half the frames repeated: score %.2f, want >= 0.5", sg.Score)
	}
}
