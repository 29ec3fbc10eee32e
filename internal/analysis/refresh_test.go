package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// TestFrameQueueRefresh: a frame outside the windows that the rate did not
// let through takes the place of the due frame outside the windows that
// waits (in the mailbox, or held by the analysis goroutine while it waits
// for a slot, as the spare), never of a window frame, and only while such a
// frame waits; nothing it replaces is counted as dropped (the rate counted
// the frame that stands for it).
func TestFrameQueueRefresh(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var released []uint64
	q := newFrameQueue(5, func(it *frameItem) { released = append(released, it.f.Seq) })
	item := func(seq uint64, keep bool) *frameItem {
		return &frameItem{f: *grey(4, 4, t0.Add(time.Duration(seq)*100*time.Millisecond), seq), keep: keep}
	}
	get := func() *frameItem {
		t.Helper()
		it, err := q.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	if q.wantsFresh() || q.refresh(item(1, false)) {
		t.Fatal("an idle queue took a frame that was not due")
	}
	q.put(item(2, false)) // due, in the mailbox
	if !q.wantsFresh() || !q.refresh(item(3, false)) || len(released) != 1 || released[0] != 2 {
		t.Fatalf("the mailbox frame was not refreshed: released %v", released)
	}
	held := get() // the goroutine takes 3 and waits for a slot
	if held.f.Seq != 3 || !q.wantsFresh() {
		t.Fatalf("took %d; wants fresh %v while waiting for a slot", held.f.Seq, q.wantsFresh())
	}
	if !q.refresh(item(4, false)) || len(released) != 1 {
		t.Fatalf("the held frame got no spare: released %v", released)
	}
	if q.wantsFresh() || q.refresh(item(5, false)) {
		t.Fatalf("a due frame was refreshed more than %d times (each is a copy)", maxRefreshes)
	}
	if got := q.fresher(held); got.f.Seq != 4 || len(released) != 2 || released[1] != 3 || q.stats() != 0 {
		t.Fatalf("fresher took %d, released %v, dropped %d; want the spare 4, 3 released, nothing dropped", got.f.Seq, released, q.stats())
	}
	q.idle()

	// A spare is replaced by a newer one while the budget lasts.
	q.put(item(40, false))
	held = get()
	if !q.refresh(item(41, false)) || !q.refresh(item(42, false)) || released[2] != 41 {
		t.Fatalf("the spare was not replaced by the newer one: released %v", released)
	}
	released = released[:0]
	if got := q.fresher(held); got.f.Seq != 42 || len(released) != 1 || released[0] != 40 {
		t.Fatalf("fresher took %d, released %v; want the newest spare 42, 40 released", got.f.Seq, released)
	}
	if q.wantsFresh() || q.refresh(item(6, false)) {
		t.Fatal("a frame not due was taken while the analysis measures (it would raise the rate)")
	}
	q.idle()

	// A due frame that arrives while the goroutine waits goes before the spare.
	q.put(item(7, false))
	held = get()
	if !q.refresh(item(8, false)) {
		t.Fatal("no spare while waiting")
	}
	q.put(item(9, false))
	if !q.refresh(item(10, false)) { // replaces 9 in the mailbox
		t.Fatal("the mailbox frame was not refreshed")
	}
	if got := q.fresher(held); got.f.Seq != 10 || q.stats() != 1 {
		t.Fatalf("fresher took %d, dropped %d; want 10 and one due frame dropped (two due, one analysed)", got.f.Seq, q.stats())
	}
	q.idle()

	// Window frames are never replaced, and a frame the goroutine holds in a
	// window gets no spare.
	released = released[:0]
	q.put(item(11, true))
	if q.wantsFresh() || q.refresh(item(12, false)) {
		t.Fatal("a window frame in the queue was refreshed")
	}
	held = get()
	if q.wantsFresh() || q.refresh(item(13, false)) {
		t.Fatal("a window frame held for a slot was refreshed")
	}
	if q.fresher(held) != held || len(released) != 0 {
		t.Fatalf("the window frame was replaced: released %v", released)
	}
	q.idle()

	// close releases the spare.
	q.put(item(14, false))
	held = get()
	q.refresh(item(15, false))
	q.close()
	if n := len(released); n != 1 || released[0] != 15 {
		t.Fatalf("close released %v, want the spare 15", released)
	}
	if q.refresh(item(16, false)) {
		t.Fatal("refreshed after close")
	}
}

// TestRefreshKeepsRate: a live session whose due frames each wait for an
// analysis slot while the camera sends two more analyses, per due frame, the
// newest picture, at the rate: as many frames as were due, none dropped,
// and the counts add up (each analysed newer frame stands for a due one the
// rate let through: decoded = analysed + skipped).
func TestRefreshKeepsRate(t *testing.T) {
	gate := NewGate(1)
	s := New(Config{AnalysisFPS: 5, Logger: quietLogger(), Gate: gate, Now: func() time.Time { return FileEpoch }}).Open(7, nil)
	t.Cleanup(func() { s.End(models.EndCompleted, time.Now()) })
	const rounds = 10
	frame := func(i int) *models.Frame {
		return grey(8, 8, FileEpoch.Add(time.Duration(i)*time.Second/15), uint64(i))
	}
	for k := range rounds {
		if !gate.acquire(context.Background(), true, time.Time{}) { // the machine is busy: the due frame waits
			t.Fatal("no slot")
		}
		s.frame(frame(3*k), time.Now()) // due at 5 fps on 15
		waitFor(t, "the analysis to wait for a slot", func() bool {
			s.queue.mu.Lock()
			defer s.queue.mu.Unlock()
			return s.queue.waiting
		})
		s.frame(frame(3*k+1), time.Now()) // not due: refreshes the waiting frame
		s.frame(frame(3*k+2), time.Now())
		gate.release()
		waitFor(t, "the frame's analysis", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.analysed == uint64(k+1) })
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.analysed != rounds || s.decoded != 3*rounds {
		t.Fatalf("analysed %d of %d decoded, want %d (one per due frame)", s.analysed, s.decoded, rounds)
	}
	if d := s.queue.stats(); d != 0 || s.analysed+s.rateSkipped != s.decoded {
		t.Fatalf("counts: analysed %d, skipped %d, dropped %d, decoded %d", s.analysed, s.rateSkipped, d, s.decoded)
	}
	for k, p := range s.face {
		if want := s.ms(frame(3*k + 2).Capture); p.T != want {
			t.Fatalf("analysed frame %d at %d ms, want the newest picture at %d ms", k, p.T, want)
		}
	}
}
