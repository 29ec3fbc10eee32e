package analysis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// grey returns a w x h mid-grey I420 frame captured at at.
func grey(w, h int, at time.Time, seq uint64) *models.Frame {
	f := &models.Frame{Width: w, Height: h, Capture: at, Seq: seq, Y: make([]byte, w*h), U: make([]byte, w*h/4), V: make([]byte, w*h/4)}
	for i := range f.Y {
		f.Y[i] = 120
	}
	for i := range f.U {
		f.U[i], f.V[i] = 128, 128
	}
	return f
}

// countingStage counts its frames and panics on frame panicAt (0: never).
type countingStage struct {
	mu      sync.Mutex
	frames  int
	panicAt int
}

func (c *countingStage) Frame(*models.Frame, models.Observation) {
	c.mu.Lock()
	c.frames++
	n := c.frames
	c.mu.Unlock()
	if n == c.panicAt {
		var m map[string]int
		m["boom"]++ // a nil-map write: a real runtime panic, not a test double's
	}
}

func (c *countingStage) Signals() []models.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []models.Signal{{Kind: "counting", Value: float64(c.frames), Reason: fmt.Sprint(c.frames, " frames")}}
}

func (c *countingStage) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPanicEndsOnlyThatSessionsAnalysis injects a stage that panics in one
// interview's analysis while another interview is analysed by the same
// engine: the first session's analysis stops with the failure recorded and
// stored, the second goes on to the end, the process survives.
func TestPanicEndsOnlyThatSessionsAnalysis(t *testing.T) {
	stages := map[int64]*countingStage{1: {panicAt: 3}, 2: {}}
	stored := make(chan *Result, 2)
	w := writeq.New(quietLogger(), time.Minute)
	defer w.Close(context.Background())
	e := New(Config{AnalysisFPS: -1, Detectors: true, Logger: quietLogger(), Gate: NewGate(1), Writes: w,
		Stages: []StageFactory{{Name: "injected", New: func(id int64) (Stage, error) { return stages[id], nil }}},
		Store:  Store{SessionEnded: func(_ context.Context, r *Result) error { stored <- r; return nil }}})
	bad, good := e.Open(1, nil), e.Open(2, nil)
	at := time.Now()
	feed := func(s *Session, n int) {
		for i := range n {
			at = at.Add(40 * time.Millisecond)
			s.frame(grey(64, 48, at, uint64(i+1)), at)
		}
	}
	for i := 1; i <= 6; i++ { // interleaved, one frame at a time, each analysed before the next
		feed(bad, 1)
		if i < 3 {
			waitFor(t, "the first frames of interview 1", func() bool { return stages[1].count() == i })
		}
		feed(good, 1)
		waitFor(t, "interview 2's frame", func() bool { return stages[2].count() == i })
	}
	waitFor(t, "interview 1's analysis to stop", func() bool { return bad.failed.Load() })
	for i := 7; i <= 16; i++ { // interview 2 keeps being analysed
		feed(good, 1)
		waitFor(t, "interview 2 to go on", func() bool { return stages[2].count() == i })
	}
	if n := stages[1].count(); n != 3 {
		t.Errorf("the failed stage saw %d frames, want 3 (none after its panic)", n)
	}
	if err := bad.ChallengeNow(); err != ErrNoChallenges && err != ErrStopped {
		t.Errorf("challenge on a stopped session: %v", err)
	}

	bad.End(models.EndCompleted, time.Now())
	good.End(models.EndCompleted, time.Now())
	got := map[int64]*Result{}
	for range 2 {
		select {
		case r := <-stored:
			got[r.InterviewID] = r
		case <-time.After(30 * time.Second):
			t.Fatal("a session's results were not stored")
		}
	}
	if r := got[1]; r.Failure != "stage injected" || r.FailedAt.IsZero() || r.FramesAnalysed != 3 {
		t.Errorf("interview 1: failure %q at %v after %d analysed frames", r.Failure, r.FailedAt, r.FramesAnalysed)
	}
	if r := got[1]; len(r.DetectorSignals) == 0 || len(r.StageSignals) != 1 || !strings.HasPrefix(r.StageSignals[0].Reason, "3 ") {
		t.Errorf("interview 1 lost what it measured before the failure: %d detector signals, stage %+v", len(r.DetectorSignals), r.StageSignals)
	}
	if r := got[2]; r.Failure != "" || r.FramesAnalysed != 16 || len(r.StageSignals) != 1 || r.StageSignals[0].Value != 16 {
		t.Errorf("interview 2: failure %q, %d analysed, stage %+v", r.Failure, r.FramesAnalysed, r.StageSignals)
	}
	if g := e.cfg.Gate; g.free != 1 {
		t.Errorf("the gate has %d free slots after the panic, want 1", g.free)
	}
}

// TestSessionEndSummarises drives a live session with frames whose timing
// has a pause and a black stretch, a round trip and a keyframe request, the
// candidate leaving, and checks the result End stores once through the
// write queue: counters, camera-off intervals (the pause and the black
// picture, not the time after the candidate left), the face-absent stretch.
func TestSessionEndSummarises(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	stored := make(chan *Result, 2)
	w := writeq.New(quietLogger(), time.Minute)
	e := New(Config{AnalysisFPS: -1, Logger: quietLogger(), Now: func() time.Time { return t0 }, Writes: w,
		Store: Store{SessionEnded: func(_ context.Context, r *Result) error { stored <- r; return nil }}})
	s := e.Open(5, nil)
	n := uint64(0)
	send := func(from, to time.Duration, luma byte) {
		for d := from; d < to; d += 100 * time.Millisecond {
			n++
			f := grey(64, 48, t0.Add(d), n)
			for i := range f.Y {
				f.Y[i] = luma
			}
			s.frame(f, f.Capture)
			waitFor(t, "the frame's analysis", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.analysed == n })
		}
	}
	send(0, 2*time.Second, 120)             // 0–1.9 s
	send(5*time.Second, 7*time.Second, 0)   // after a 3 s pause: 2 s of black
	send(7*time.Second, 8*time.Second, 120) // picture back until 7.9 s
	s.ControlRTT(t0.Add(3*time.Second), 42*time.Millisecond)
	s.KeyframeRequested()
	s.CandidateLeft(t0.Add(8500 * time.Millisecond))
	s.End(models.EndCompleted, t0.Add(20*time.Second))
	w.Close(context.Background())
	r := <-stored
	if len(stored) != 0 {
		t.Fatal("results stored twice")
	}
	if r.Reason != models.EndCompleted || r.FramesDecoded != 50 || r.FramesAnalysed != 50 || r.KeyframeRequests != 1 ||
		len(r.RTT) != 1 || r.RTT[0] != (models.Point{T: 3000, V: 42}) {
		t.Fatalf("result %+v", r)
	}
	// The pause (last frame 1.9 s, next 5 s) and the black picture (5 s until the picture at 7 s) merge.
	if fmt.Sprint(r.CameraOff) != fmt.Sprint([]models.Interval{{From: 1900, To: 7000}}) {
		t.Errorf("camera off %v, want the pause and the black stretch (1.9–7 s), nothing after the candidate left", r.CameraOff)
	}
	if len(r.FaceAbsent) != 1 || r.FaceAbsent[0].From != 0 || r.FaceAbsent[0].To != 7900 {
		t.Errorf("face absent %v, want 0–7.9 s (no analyser: no face)", r.FaceAbsent)
	}
	if !r.Video || !r.Audio || r.Failure != "" || !r.StartedAt.Equal(t0) {
		t.Errorf("result frame %+v", r)
	}
}
