package detect

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// boxBlur smooths the Y plane inside r with three passes of a 5x5 mean.
func boxBlur(f *models.Frame, r image.Rectangle) {
	r = r.Intersect(image.Rect(2, 2, f.Width-2, f.Height-2))
	tmp := make([]int, len(f.Y))
	for pass := 0; pass < 3; pass++ {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				s := 0
				for dy := -2; dy <= 2; dy++ {
					for dx := -2; dx <= 2; dx++ {
						s += int(f.Y[(y+dy)*f.Width+x+dx])
					}
				}
				tmp[y*f.Width+x] = s / 25
			}
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				f.Y[y*f.Width+x] = uint8(tmp[y*f.Width+x])
			}
		}
	}
}

// TestTextureSmoothFace: a face rendered smoother than the grainy picture
// around it (a generated face pasted into camera video) trips the texture
// detector; the same face with the same grain as its surroundings does not.
func TestTextureSmoothFace(t *testing.T) {
	f, o := still(t)
	face := faceRect(o)
	r := rand.New(rand.NewPCG(1, 1))
	smooth := NewSuite(Config{})
	feed(smooth, f, o, 32, 125*time.Millisecond, func(_ int, f *models.Frame, _ *models.Observation) {
		addNoise(f, 4, r)
		boxBlur(f, face)
	})
	even := NewSuite(Config{})
	feed(even, f, o, 32, 125*time.Millisecond, func(_ int, f *models.Frame, _ *models.Observation) { addNoise(f, 4, r) })
	s, e := signalOf(t, smooth, KindTexture), signalOf(t, even, KindTexture)
	t.Logf("smooth face: %+v", s)
	t.Logf("even grain:  %+v", e)
	if s.Score < 0.7 || e.Score >= 0.3 {
		t.Errorf("texture scores: smooth face %.2f (want >= 0.7), even grain %.2f (want < 0.3)", s.Score, e.Score)
	}
}

// TestFlickerFaceOnly: the face's brightness jumping by a few levels from
// frame to frame while the scene stays put (a swap model rendering every
// frame on its own) trips the flicker detector; a global exposure drift
// that moves face and background together does not.
func TestFlickerFaceOnly(t *testing.T) {
	f, o := still(t)
	face := faceRect(o)
	r := rand.New(rand.NewPCG(2, 2))
	flick := NewSuite(Config{})
	feed(flick, f, o, 40, 125*time.Millisecond, func(_ int, f *models.Frame, _ *models.Observation) {
		addNoise(f, 1.5, r)
		shiftRegion(f, face, []int{-4, 4}[r.IntN(2)])
	})
	drift := NewSuite(Config{})
	feed(drift, f, o, 40, 125*time.Millisecond, func(i int, f *models.Frame, _ *models.Observation) {
		addNoise(f, 1.5, r)
		shiftRegion(f, image.Rect(0, 0, f.Width, f.Height), int(12*math.Sin(float64(i)/8)))
	})
	fs, ds := signalOf(t, flick, KindFlicker), signalOf(t, drift, KindFlicker)
	t.Logf("flicker: %+v", fs)
	t.Logf("drift:   %+v", ds)
	if fs.Score < 0.7 || ds.Score >= 0.3 {
		t.Errorf("flicker scores: face-only flicker %.2f (want >= 0.7), global drift %.2f (want < 0.3)", fs.Score, ds.Score)
	}
}

// TestLandmarkJitter: landmarks trembling independently by 3 % of the eye
// distance from frame to frame trip the jitter detector; steady ones do not.
func TestLandmarkJitter(t *testing.T) {
	f, o := still(t)
	iod := math.Hypot(float64(o.Landmarks[45][0]-o.Landmarks[36][0]), float64(o.Landmarks[45][1]-o.Landmarks[36][1]))
	r := rand.New(rand.NewPCG(3, 3))
	shaky := NewSuite(Config{})
	feed(shaky, f, o, 40, 66*time.Millisecond, func(_ int, _ *models.Frame, o *models.Observation) {
		for k := range o.Landmarks {
			o.Landmarks[k][0] += float32(0.03 * iod * r.NormFloat64())
			o.Landmarks[k][1] += float32(0.03 * iod * r.NormFloat64())
		}
	})
	steady := NewSuite(Config{})
	feed(steady, f, o, 40, 66*time.Millisecond, func(i int, _ *models.Frame, o *models.Observation) {
		for k := range o.Landmarks { // smooth head motion only
			o.Landmarks[k][0] += float32(float64(i) * 0.5)
		}
	})
	js, ss := signalOf(t, shaky, KindJitter), signalOf(t, steady, KindJitter)
	t.Logf("shaky:  %+v", js)
	t.Logf("steady: %+v", ss)
	if js.Score < 0.7 || ss.Score >= 0.3 {
		t.Errorf("jitter scores: trembling %.2f (want >= 0.7), steady %.2f (want < 0.3)", js.Score, ss.Score)
	}
}

// TestPulse: skin whose colour follows a 72 bpm blood-volume pulse shows a
// pulse; skin with only noise does not. The signal stays weak evidence.
func TestPulse(t *testing.T) {
	f, o := still(t)
	face := faceRect(o)
	r := rand.New(rand.NewPCG(4, 4))
	const fps = 15
	pulse := func(amp float64) models.Signal {
		s := NewSuite(Config{})
		feed(s, f, o, 15*fps, time.Second/fps, func(i int, f *models.Frame, _ *models.Observation) {
			a := amp * math.Sin(2*math.Pi*1.2*float64(i)/fps)
			// A pulse mostly in green: ΔY ≈ 0.6a, ΔCb ≈ ΔCr ≈ -0.25a, dithered.
			cw := f.Width / 2
			for y := face.Min.Y; y < face.Max.Y; y++ {
				for x := face.Min.X; x < face.Max.X; x++ {
					k := y*f.Width + x
					f.Y[k] = uint8(min(255, max(0, float64(f.Y[k])+0.6*a+r.NormFloat64())))
					if y%2 == 0 && x%2 == 0 {
						c := (y/2)*cw + x/2
						f.U[c] = uint8(min(255, max(0, float64(f.U[c])-0.25*a+r.NormFloat64())))
						f.V[c] = uint8(min(255, max(0, float64(f.V[c])-0.25*a+r.NormFloat64())))
					}
				}
			}
		})
		return signalOf(t, s, KindPulse)
	}
	with, without := pulse(3), pulse(0)
	t.Logf("pulse:    %+v", with)
	t.Logf("no pulse: %+v", without)
	if !(with.Value > without.Value+6) {
		t.Errorf("pulse SNR %.1f dB, noise-only SNR %.1f dB: want the pulse 6 dB clearer", with.Value, without.Value)
	}
	if !(with.Score < 0.3 && without.Score > with.Score+0.3) {
		t.Errorf("scores: pulse %.2f (want < 0.3), no pulse %.2f (want 0.3 higher)", with.Score, without.Score)
	}
	if without.Confidence > pulseConfCap {
		t.Errorf("pulse confidence %.2f above its cap %.2f", without.Confidence, pulseConfCap)
	}
}
