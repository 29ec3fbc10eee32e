package vision

import (
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Several analysers (one per session goroutine) share one landmark model;
// their results must be the same as when run alone.
func TestConcurrentAnalyzersShareModel(t *testing.T) {
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := LoadLandmarker(DefaultLandmarkModel); again != lm {
		t.Error("LoadLandmarker loaded the model twice")
	}
	frames := make([]*models.Frame, len(stills))
	want := make([]models.Observation, len(stills))
	for i, name := range stills {
		frames[i] = loadFrame(t, name, 640, 480)
		a := newTestAnalyzer(t)
		want[i] = measureN(t, a, frames[i], 3)
	}
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			a, err := NewAnalyzer(Config{Landmarker: lm})
			if err != nil {
				errs <- err.Error()
				return
			}
			defer a.Close()
			i := w % len(frames)
			var o models.Observation
			for k := 0; k < 3; k++ {
				if o, err = a.Measure(frames[i]); err != nil {
					errs <- err.Error()
					return
				}
			}
			if o.Landmarks != want[i].Landmarks || o.Yaw != want[i].Yaw || o.Face != want[i].Face {
				errs <- stills[i] + ": result differs under concurrency"
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Analysers of one configuration share the loaded cascades: opening more
// analysers loads none (a session start costs no XML parsing), and two
// analysers taking turns on one pooled detector measure their streams
// exactly as each does alone.
func TestAnalyzersShareCascades(t *testing.T) {
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Landmarker: lm}
	first, err := NewAnalyzer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	p := poolFor(cfg.Detector)
	p.mu.Lock()
	created := p.created
	p.mu.Unlock()
	for i := 0; i < 8; i++ {
		a, err := NewAnalyzer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	p.mu.Lock()
	if p.created != created {
		t.Errorf("8 more analysers loaded %d more cascade sets", p.created-created)
	}
	p.mu.Unlock()

	// Two streams (a face moving, another face still with a miss in the
	// middle); each analysed alone, then both interleaved frame by frame.
	moving := movingFaceFrames(t, astro, 40)
	still := loadFrame(t, "obama.jpg", 640, 480)
	blank := loadFrame(t, "obama.jpg", 640, 480)
	for i := range blank.Y {
		blank.Y[i] = 40
	}
	other := make([]*models.Frame, 40)
	for i := range other {
		f := *still
		if i >= 15 && i < 20 {
			f = *blank
		}
		f.Capture = testEpoch.Add(time.Duration(i) * timeStep)
		other[i] = &f
	}
	run := func(a *Analyzer, f *models.Frame) models.Observation {
		o, err := a.Measure(f)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	alone := func(frames []*models.Frame) []models.Observation {
		a, err := NewAnalyzer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		var out []models.Observation
		for _, f := range frames {
			out = append(out, run(a, f))
		}
		return out
	}
	wantA, wantB := alone(moving), alone(other)
	a, _ := NewAnalyzer(cfg)
	b, _ := NewAnalyzer(cfg)
	defer a.Close()
	defer b.Close()
	faces := 0
	for i := range moving {
		oa, ob := run(a, moving[i]), run(b, other[i])
		if oa != wantA[i] {
			t.Errorf("moving frame %d: %+v interleaved, %+v alone", i, oa, wantA[i])
		}
		if ob != wantB[i] {
			t.Errorf("other frame %d: %+v interleaved, %+v alone", i, ob, wantB[i])
		}
		if oa.FacePresent && ob.FacePresent {
			faces++
		}
	}
	if faces < 20 {
		t.Errorf("faces found on both streams in only %d of %d frames", faces, len(moving))
	}
}
