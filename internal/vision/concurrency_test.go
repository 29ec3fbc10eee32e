package vision

import (
	"sync"
	"testing"

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
