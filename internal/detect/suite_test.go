package detect

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// TestSuiteAbstainsWithoutInput: no frames, no face or a malformed frame
// give signals with zero confidence, never evidence.
func TestSuiteAbstainsWithoutInput(t *testing.T) {
	s := NewSuite(Config{})
	s.Add(nil, models.Observation{})
	s.Add(&models.Frame{Width: 640, Height: 480, Y: make([]byte, 10)}, models.Observation{}) // truncated planes
	sigs := s.Signals()
	var kinds []string
	for _, sg := range sigs {
		kinds = append(kinds, sg.Kind)
		if sg.Confidence != 0 || sg.Score != 0 {
			t.Errorf("%s: score %.2f confidence %.2f without input", sg.Kind, sg.Score, sg.Confidence)
		}
		if sg.Reason == "" {
			t.Errorf("%s: no reason", sg.Kind)
		}
	}
	if !slices.Equal(kinds, VideoKinds) {
		t.Errorf("kinds %v, want %v (no audio fed, so no voice kinds)", kinds, VideoKinds)
	}
	if st := s.Stats(); st.Frames != 0 {
		t.Errorf("malformed frames counted: %d", st.Frames)
	}

	// A grey picture without a face: the face detectors abstain.
	grey := &models.Frame{Width: 320, Height: 240, Y: make([]byte, 320*240), U: make([]byte, 160*120), V: make([]byte, 160*120)}
	for i := range grey.Y {
		grey.Y[i] = uint8(100 + i%7)
	}
	s2 := NewSuite(Config{})
	feed(s2, grey, models.Observation{}, 40, 125*time.Millisecond, nil)
	for _, sg := range s2.Signals() {
		if sg.Kind != KindVirtualCamera && sg.Confidence != 0 {
			t.Errorf("%s: confidence %.2f on a picture without a face", sg.Kind, sg.Confidence)
		}
	}
}

// TestSuiteWindows: windows follow Config.Window on the frames' times, are
// grouped by detector and ordered in time, and a short last window is kept
// only when it is long enough.
func TestSuiteWindows(t *testing.T) {
	f, o := still(t)
	s := NewSuite(Config{Window: 2 * time.Second, Disable: []string{KindSeam, KindReplay, KindPulse, KindVirtualCamera, KindFlicker, KindJitter, KindPhoto}})
	feed(s, f, o, 50, 125*time.Millisecond, nil) // 6.25 s: windows 0-2, 2-4, 4-6 and 0.125 s of a fourth
	ws := s.Windows()
	if len(ws) != 3 {
		t.Fatalf("%d windows, want 3 (the 1-frame tail is too short): %+v", len(ws), ws)
	}
	for i, w := range ws {
		if w.Kind != KindTexture {
			t.Errorf("window %d kind %q", i, w.Kind)
		}
		if i > 0 && !w.From.After(ws[i-1].To) {
			t.Errorf("windows overlap or are out of order: %+v", ws)
		}
		if d := w.To.Sub(w.From); d > 2*time.Second {
			t.Errorf("window %d spans %v", i, d)
		}
	}
	if got := s.Signals(); len(got) != 1 || got[0].Kind != KindTexture {
		t.Errorf("Disable not honoured: %+v", got)
	}
}

// TestSuiteConcurrent feeds video, frame times and audio from separate
// goroutines while reading signals, as the live room does (run with -race).
func TestSuiteConcurrent(t *testing.T) {
	f, o := still(t)
	s := NewSuite(Config{LiveCapture: true})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		feed(s, f, o, 24, 125*time.Millisecond, nil)
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 90; i++ {
			s.AddFrameTime(testEpoch.Add(time.Duration(i) * time.Second / 30))
		}
	}()
	go func() {
		defer wg.Done()
		pcm := make([]int16, 960)
		for i := 0; i < 150; i++ {
			for k := range pcm {
				pcm[k] = int16((k * 37 * (i + 1)) % 2000)
			}
			s.AddAudio(testEpoch, pcm)
		}
	}()
	for i := 0; i < 5; i++ {
		_ = s.Signals()
		_ = s.Features()
	}
	wg.Wait()
	sigs := s.Signals()
	if len(sigs) != len(VideoKinds)+2 {
		t.Errorf("%d signals, want %d video + synthetic_voice + av_sync", len(sigs), len(VideoKinds))
	}
	if st := s.Stats(); st.Frames != 24 {
		t.Errorf("frames %d, want 24", st.Frames)
	}
}

// BenchmarkSuite measures the detectors' cost per analysed frame (640x480
// with a face and landmarks, vision excluded): all together, the shared
// per-frame work alone ("none": frame checks and the block pass), and each
// detector with the shared work.
func BenchmarkSuite(b *testing.B) {
	f, o := still(b)
	for _, kind := range append([]string{"all", "none"}, VideoKinds...) {
		b.Run(kind, func(b *testing.B) {
			cfg := Config{}
			if kind != "all" {
				for _, k := range VideoKinds {
					if k != kind {
						cfg.Disable = append(cfg.Disable, k)
					}
				}
			}
			s := NewSuite(cfg)
			oc := o
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.Capture = testEpoch.Add(time.Duration(i) * 125 * time.Millisecond)
				oc.At = f.Capture
				oc.Landmarks[30][0] += 0.01 // keep the history moving
				s.Add(f, oc)
			}
		})
	}
}

// TestSuiteRestoreAndSeal: a session that goes on at another node restores
// the windows its first part closed (Closed, Seal at a hand-over) and its
// window-condensed signals weigh them as the first node's suite did; Seal
// keeps a current window Windows would report and drops a short tail.
func TestSuiteRestoreAndSeal(t *testing.T) {
	f, o := still(t)
	only := Config{Window: 2 * time.Second, Disable: []string{KindSeam, KindReplay, KindPulse, KindVirtualCamera, KindFlicker, KindJitter, KindPhoto}}
	a := NewSuite(only)
	feed(a, f, o, 50, 125*time.Millisecond, nil) // windows 0-2, 2-4, 4-6 closed, 0.125 s of a fourth
	if ws, n := a.Closed(0); len(ws) != 3 || n != 3 {
		t.Fatalf("closed %d windows (of %d), want 3", len(ws), n)
	}
	a.Seal() // the 1-frame tail is too short to report: dropped
	ws, n := a.Closed(1)
	if len(ws) != 2 || n != 3 || !ws[0].From.Equal(a.Windows()[1].From) {
		t.Fatalf("after Seal: %d windows from the second on, %d in all; want 2 of 3", len(ws), n)
	}
	all, _ := a.Closed(0)
	b := NewSuite(only)
	b.Restore(all)
	if got := b.Windows(); !slices.Equal(got, all) {
		t.Fatalf("restored windows %+v, want %+v", got, all)
	}
	sa, sb := a.Signals()[0], b.Signals()[0]
	if sa.Confidence == 0 || sa.Score != sb.Score || sa.Confidence != sb.Confidence || !sa.At.Equal(sb.At) {
		t.Fatalf("texture on the first node %+v, restored on the next %+v: want the same score and confidence", sa, sb)
	}

	c := NewSuite(only)
	feed(c, f, o, 8, 125*time.Millisecond, nil) // 0.875 s: long enough (40 % of 2 s)
	c.Seal()
	if ws, _ := c.Closed(0); len(ws) != 1 {
		t.Fatalf("a long current window sealed into %d windows, want 1", len(ws))
	}
}
