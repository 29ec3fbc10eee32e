package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// TestSessionHandOver: a live session handed over by a draining node stores
// no results; its final checkpoint (written through the write queue) holds
// the plan's progress with the challenge on screen and every face embedded
// up to the hand-over, at the hand-over's time; nothing is written after it
// and no challenge can be asked any more. The next node's session goes on
// from it: the same start, the plan where it was, every frame's measurement
// up to the hand-over.
func TestSessionHandOver(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	mem := &memStore{}
	var ended atomic.Int32
	emb := &twoPeople{rng: rand.New(rand.NewPCG(5, 5))}
	engine := func(w *writeq.Queue) *Engine {
		return New(Config{Logger: quietLogger(), Now: now, AnalysisFPS: -1, Writes: w,
			Store: Store{ChallengeResult: mem.result, Checkpoint: mem.save, Resume: mem.resume,
				SessionEnded: func(context.Context, *Result) error { ended.Add(1); return nil }},
			Identity:   IdentityConfig{Model: emb, Workers: -1},
			Challenges: ChallengeConfig{Enabled: true, Plan: challenge.PlanConfig{Count: 3, Kinds: []challenge.Kind{challenge.KindBlink, challenge.KindTurnHead}}}})
	}
	wA := writeq.New(quietLogger(), time.Minute)
	a := engine(wA).Open(9, &recordingOutlet{})
	var seq uint64
	for at := time.Duration(0); at < 25*time.Second; at += time.Second / 15 {
		seq++
		y := make([]byte, 64*48)
		for i := range y {
			y[i] = 100
		}
		clock.Store(t0.Add(at).UnixNano())
		a.frame(&models.Frame{Width: 64, Height: 48, Y: y, U: make([]byte, 32*24), V: make([]byte, 32*24), Capture: t0.Add(at), Seq: seq}, t0.Add(at))
		waitHandled(t, a, seq)
	}
	if err := a.ChallengeNow(); err != nil {
		t.Fatal(err)
	}
	clock.Store(t0.Add(26 * time.Second).UnixNano())
	handAt := now()
	a.HandOver(handAt)
	embedded := a.identity.ids.Embedded()
	a.mu.Lock()
	facePoints := len(a.face)
	a.mu.Unlock()
	a.checkpoint(Checkpoint{}) // a late checkpoint: none after the final one
	if err := a.ChallengeNow(); !errors.Is(err, ErrStopped) {
		t.Fatalf("challenge now after the hand-over: %v", err)
	}
	wA.Close(context.Background())

	if ended.Load() != 0 {
		t.Fatal("the session handed over stored its results")
	}
	mem.mu.Lock()
	at, chal, ident := mem.at, mem.chal, mem.ident
	mem.mu.Unlock()
	var p challenge.Progress
	var snap faceid.Snapshot
	if err := json.Unmarshal(chal, &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ident, &snap); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(handAt) || p.Next != 1 || p.Active == nil || snap.Samples != embedded || embedded == 0 {
		t.Fatalf("final checkpoint at %v (want %v), next %d, on screen %v, %d samples (want %d)", at, handAt, p.Next, p.Active != nil,
			snap.Samples, embedded)
	}

	clock.Store(t0.Add(30 * time.Second).UnixNano())
	wB := writeq.New(quietLogger(), time.Minute)
	defer wB.Close(context.Background())
	b := engine(wB).Open(9, &recordingOutlet{})
	defer b.finish(models.EndCompleted, now())
	if !b.started.Equal(a.started) || b.Resumed().IsZero() {
		t.Fatalf("the next node's session started %v (resumed %v), want %v", b.started, b.Resumed(), a.started)
	}
	if pb := b.ch.runner.Progress(); pb.Next != 1 || pb.Plan.Items[0].ID != p.Plan.Items[0].ID {
		t.Fatalf("the next node's plan: next %d, want 1 of the same plan", pb.Next)
	}
	// The measurements went with it, up to the hand-over (the final checkpoint holds
	// those since the last periodic part, at 20 s).
	mem.mu.Lock()
	parts := len(mem.parts)
	mem.mu.Unlock()
	b.mu.Lock()
	resumedPoints, decoded := len(b.face), b.decoded
	b.mu.Unlock()
	if parts != 3 || facePoints != int(seq) || resumedPoints != facePoints || decoded != seq {
		t.Fatalf("%d parts; %d face points at the hand-over, %d on the next node (%d frames decoded); want 3 parts and %d",
			parts, facePoints, resumedPoints, decoded, seq)
	}
}

// TestHandOverCarriesSignals: the detectors whose signal is not condensed
// from windows (the virtual camera's here) hand their first part's signal
// over; the next node keeps it when its own part has less confidence, so
// the result judges the whole session's frame stream, not its last seconds.
func TestHandOverCarriesSignals(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	mem := &memStore{}
	engine := func(w *writeq.Queue) *Engine {
		return New(Config{Logger: quietLogger(), Now: now, AnalysisFPS: -1, Detectors: true, Writes: w,
			Store: Store{Checkpoint: mem.save, Resume: mem.resume}})
	}
	var seq uint64
	feed := func(s *Session, from, to time.Duration) {
		for at := from; at < to; at += time.Second / 15 {
			seq++
			f := grey(64, 48, t0.Add(at), seq)
			f.Y[int(seq)%len(f.Y)] = 200 // no frame repeats the last
			clock.Store(f.Capture.UnixNano())
			s.frame(f, f.Capture)
			waitHandled(t, s, seq)
		}
	}
	wA := writeq.New(quietLogger(), time.Minute)
	a := engine(wA).Open(11, nil)
	feed(a, 0, 20*time.Second)
	a.HandOver(now())
	wA.Close(context.Background())
	var first models.Signal
	for _, sg := range a.suite.Signals() {
		if sg.Kind == detect.KindVirtualCamera {
			first = sg
		}
	}
	if first.Confidence == 0 {
		t.Fatalf("the first part's virtual camera signal %+v has no confidence: nothing to carry", first)
	}

	wB := writeq.New(quietLogger(), time.Minute)
	defer wB.Close(context.Background())
	b := engine(wB).Open(11, nil)
	b.mu.Lock()
	seq = b.decoded
	b.mu.Unlock()
	feed(b, 25*time.Second, 26*time.Second)
	r := b.finish(models.EndCompleted, now())
	var got models.Signal
	for _, sg := range r.DetectorSignals {
		if sg.Kind == detect.KindVirtualCamera {
			got = sg
		}
	}
	if got != first {
		t.Fatalf("virtual camera after the hand-over %+v, want the first part's %+v", got, first)
	}
}
