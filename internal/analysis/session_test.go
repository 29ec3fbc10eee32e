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
