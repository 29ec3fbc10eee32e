package challenge

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// stallSeries is a head moving steadily at speed px a frame (landmark jitter ±0.3 px) at
// 15 fps; repeat marks frames that show the previous frame's picture again (a virtual camera),
// drop frames that never arrive (the next frame one interval later than usual).
func stallSeries(n int, speed float64, repeat, drop func(i int) bool) []models.Observation {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var out []models.Observation
	var last models.Observation
	for i := 0; i < n; i++ {
		if drop(i) {
			continue
		}
		at := t0.Add(time.Duration(i) * time.Second / 15)
		if repeat(i) && i > 0 {
			o := last // the same picture: the same landmarks, within a little jitter
			o.At = at
			for k := range o.Landmarks {
				o.Landmarks[k][0] += float32(rng.Float64()*0.2 - 0.1)
			}
			out = append(out, o)
			continue
		}
		o := models.Observation{At: at, FacePresent: true, LandmarksOK: true}
		for k := range o.Landmarks {
			x := 200 + float64(3*(k%17)) + speed*float64(i) + rng.Float64()*0.6 - 0.3
			o.Landmarks[k] = [2]float32{float32(x), float32(200 + 4*(k/17))}
		}
		out = append(out, o)
		last = o
	}
	return out
}

func never(int) bool { return false }

func TestCountStalls(t *testing.T) {
	// A camera: a head turning steadily at 3 px a frame never stalls.
	if s := CountStalls(stallSeries(60, 3, never, never), 0); s.Stalls != 0 || s.Moving < 50 {
		t.Errorf("steady motion: %+v, want no stall in ≥ 50 moving frames", s)
	}
	// A still head (jitter only) has no moving frames: nothing is judged.
	if s := CountStalls(stallSeries(60, 0, never, never), 0); s.Moving != 0 {
		t.Errorf("still head: %+v, want no moving frame", s)
	}
	// A virtual camera repeating every fifth frame: each repeat stalls.
	rep := func(i int) bool { return i%5 == 2 }
	s := CountStalls(stallSeries(60, 3, rep, never), 0)
	if s.Stalls < 10 || s.Share() < 0.15 {
		t.Errorf("every fifth frame repeated: %+v, want ≥ 10 stalls, ≥ 15 %%", s)
	}
	// An honest source padded 2:1 by a virtual camera (a 15 fps webcam through OBS at 30 fps):
	// every repeat is a stall and no catch-up frame moves, so the share is 1. This is why
	// motion_stall stays at review (docs/REDTEAM.md finding 16): honest virtual cameras repeat.
	every2 := func(i int) bool { return i%2 == 1 }
	if s := CountStalls(stallSeries(60, 3, every2, never), 0); s.Moving < 20 || s.Share() < 0.99 {
		t.Errorf("every other frame repeated: %+v, want ≥ 20 moving frames, all stalls", s)
	}
	// Frames dropped (the next frame arrives two intervals later, the head moved twice as far):
	// not stalls, and the frames around a gap are not compared (fewer moving frames than the
	// steady series' 58), with the interval given or taken from the median gap.
	drop := func(i int) bool { return i%5 == 2 }
	for _, iv := range []time.Duration{0, time.Second / 15} {
		if s := CountStalls(stallSeries(60, 3, never, drop), iv); s.Stalls != 0 || s.Moving == 0 || s.Moving > 40 {
			t.Errorf("every fifth frame dropped, interval %v: %+v, want moving frames and no stall", iv, s)
		}
	}
	// A camera halving its rate in low light (7.5 fps): the median gap is its interval.
	half := func(i int) bool { return i%2 == 1 }
	if s := CountStalls(stallSeries(120, 3, never, half), 0); s.Stalls != 0 || s.Moving < 50 {
		t.Errorf("7.5 fps: %+v, want ≥ 50 moving frames and no stall", s)
	}
	// A frame without landmarks (turned away) breaks the series rather than counting as a stall.
	obs := stallSeries(60, 3, never, never)
	obs[30].LandmarksOK = false
	if s := CountStalls(obs, 0); s.Stalls != 0 {
		t.Errorf("a frame without landmarks: %+v, want no stall", s)
	}
}

// TestVerifyStallMetrics: a turn_head answered by a steadily turning head carries its moving
// frames and no stall; the same answer through a virtual camera repeating every fifth frame
// (the previous observation again, one interval later) carries stalls; a blink carries neither.
func TestVerifyStallMetrics(t *testing.T) {
	ch := fixed(KindTurnHead, Params{Dir: DirLeft})
	for seed := uint64(1); seed <= 3; seed++ {
		s := newSubject(seed)
		s.yaw = trapezoid(2, 45, sh(0.6), 1.0, 0.8, 1.0)
		s.noise = 0.1 // pose noise 0.15° a frame: the whole field jitters by about 0.6 px, below the 1 px floor
		obs := s.observations()
		// The helpers' landmark shapes carry far more noise than the turn moves them: place the
		// landmarks as a camera would see a turning head instead (4 px a degree of yaw).
		for i := range obs {
			for k := range obs[i].Landmarks {
				obs[i].Landmarks[k] = [2]float32{float32(280 + float64(3*(k%17)) + 4*obs[i].Yaw), float32(200 + 4*(k/17))}
			}
		}
		r := Verifier{}.Verify(input(ch, obs, nil))
		if r.Outcome != OutcomePassed || r.Metrics[MetricStallMoving] < 10 || r.Metrics[MetricStalls] != 0 {
			t.Fatalf("seed %d honest: %s %q, metrics %v; want passed, ≥ 10 moving frames, no stall", seed, r.Outcome, r.Reason, r.Metrics)
		}
		rep := slices.Clone(obs)
		for i := 1; i < len(rep); i++ {
			if i%5 == 2 {
				at := rep[i].At
				rep[i] = rep[i-1]
				rep[i].At = at
			}
		}
		r = Verifier{}.Verify(input(ch, rep, nil))
		if r.Metrics[MetricStalls] < 2 || r.Metrics[MetricStalls] > r.Metrics[MetricStallMoving] {
			t.Fatalf("seed %d repeating: metrics %v; want ≥ 2 stalls", seed, r.Metrics)
		}
	}
	s := newSubject(1)
	s.ear = blinks(0.3, sh(1))
	r := Verifier{}.Verify(input(fixed(KindBlink, Params{}), s.observations(), nil))
	if _, ok := r.Metrics[MetricStalls]; ok {
		t.Fatalf("blink: metrics %v, want no stall count", r.Metrics)
	}
}

// withChange gives a series the face region's picture change: fresh sensor noise (noise(i)
// levels) on a camera's frames, the encoder's refinement (0.2-0.8) on a repeated one.
func withChange(obs []models.Observation, noise func(i int) float64, repeat func(i int) bool) []models.Observation {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 1; i < len(obs); i++ {
		obs[i].Change, obs[i].ChangeOK = noise(i), true
		if repeat(i) {
			obs[i].Change = 0.2 + 0.6*rng.Float64()
		}
	}
	return obs
}

// TestCountStallsStillHead (finding 25): a head holding still between movements is most of a
// challenge window. A camera's every frame carries fresh sensor noise (1.2-3.4 levels through
// VP8 on the renderer, steady from frame to frame), a repeated frame none: a virtual camera repeating every fifth frame
// stalls there too, the camera never does, and where the encoder codes no noise (near-skip
// frames at a low bitrate, under the floor) or frames are not neighbours (a camera dropping
// frames, an analysis at a lower rate) nothing is judged.
func TestCountStallsStillHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	noise := func(int) float64 { return 1.4 + rng.Float64() } // the renderer's still face at 800 kbit/s: 1.2-2.4
	every5 := func(i int) bool { return i%5 == 2 }
	if s := CountStalls(withChange(stallSeries(60, 0, never, never), noise, never), 0); s.Stalls != 0 || s.Moving < 50 {
		t.Errorf("a camera, still head: %+v, want ≥ 50 frames judged, no stall", s)
	}
	rep := withChange(stallSeries(60, 0, every5, never), noise, every5)
	if s := CountStalls(rep, 0); s.Stalls < 10 || s.Share() < 0.15 {
		t.Errorf("still head, every fifth frame repeated (12 repeats): %+v, want ≥ 10 stalls, ≥ 15 %%", s)
	}
	// Two repeats in a row (a swap twice late) are both stalls.
	two := func(i int) bool { return i%6 == 2 || i%6 == 3 }
	if s := CountStalls(withChange(stallSeries(60, 0, two, never), noise, two), 0); s.Stalls < 16 {
		t.Errorf("still head, two in six repeated (20 repeats): %+v, want ≥ 16 stalls", s)
	}
	skip := func(int) float64 { return 0.05 * rng.Float64() }
	if s := CountStalls(withChange(stallSeries(60, 0, never, never), skip, never), 0); s.Moving != 0 || s.Stalls != 0 {
		t.Errorf("near-skip frames (no noise coded): %+v, want nothing judged", s)
	}
	// A camera dropping every third frame (the next one interval late): no neighbours, no stall;
	// and the same for an analysis taking every second frame, with the camera's interval given.
	drop := func(i int) bool { return i%3 == 1 }
	if s := CountStalls(withChange(stallSeries(90, 0, never, drop), noise, never), time.Second/15); s.Stalls != 0 || s.Moving != 0 {
		t.Errorf("every third frame dropped: %+v, want nothing judged", s)
	}
	half := func(i int) bool { return i%2 == 1 }
	if s := CountStalls(withChange(stallSeries(90, 0, every5, half), noise, every5), time.Second/15); s.Stalls != 0 || s.Moving != 0 {
		t.Errorf("every second frame analysed: %+v, want nothing judged", s)
	}
	// A movement's first and last frames (changes of 4 levels and more) are the movement
	// rules', not the noise's: a head halting between two moves is no frozen frame.
	halt := withChange(stallSeries(30, 0, never, never), noise, never)
	for i := 10; i < 20; i++ {
		halt[i].Change = 20
	}
	halt[15].Change = 1.5
	if s := CountStalls(halt, 0); s.Stalls != 0 {
		t.Errorf("a halt between two moves: %+v, want no stall", s)
	}
	// A still frame between two small movements (the renderer's dim face settling after a turn
	// at 400 kbit/s: 1.4 levels between 3.4 and 3.1, its noise 1.1-1.7) is no stall: it changed
	// by the window's usual noise.
	settle := withChange(stallSeries(40, 0, never, never), func(int) float64 { return 1.1 + 0.6*rng.Float64() }, never)
	settle[20].Change, settle[21].Change, settle[22].Change = 3.4, 1.4, 3.1
	if s := CountStalls(settle, 0); s.Stalls != 0 || s.Moving < 30 {
		t.Errorf("a still frame between two small movements: %+v, want ≥ 30 judged, no stall", s)
	}
}
