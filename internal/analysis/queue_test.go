package analysis

import (
	"context"
	"testing"
	"time"
)

// TestFrameQueue: outside challenge windows a waiting frame is replaced by a
// newer one; window frames all wait, in order; at the bound the queue drops
// evenly (the waiting frame with the closest neighbours) and counts it; a
// fresher frame replaces only a frame outside the windows; behind says
// whether frames wait or one is being measured.
func TestFrameQueue(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var released []uint64
	q := newFrameQueue(5, func(it *frameItem) { released = append(released, it.f.Seq) })
	put := func(seq uint64, keep bool) {
		q.put(&frameItem{f: *grey(4, 4, t0.Add(time.Duration(seq)*100*time.Millisecond), seq), keep: keep})
	}
	get := func() uint64 {
		t.Helper()
		it, err := q.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return it.f.Seq
	}
	if q.behind() {
		t.Fatal("an empty queue is behind")
	}
	put(1, false)
	put(2, false) // replaces 1
	if !q.behind() || q.stats() != 1 || len(released) != 1 || released[0] != 1 {
		t.Fatalf("latest wins: dropped %d, released %v", q.stats(), released)
	}
	put(3, true) // a window starts: a frame outside it waiting before it is replaced too
	if got := get(); got != 3 || q.stats() != 2 || released[1] != 2 {
		t.Fatalf("got %d, dropped %d, released %v", got, q.stats(), released)
	}
	if !q.behind() {
		t.Fatal("not behind while a frame is being measured")
	}
	for seq := uint64(4); seq <= 8; seq++ {
		put(seq, true)
	}
	if q.stats() != 2 {
		t.Fatalf("window frames within the bound dropped: %d", q.stats())
	}
	put(9, true) // 4..9: one over the bound of 5
	if q.stats() != 3 || released[2] != 5 {
		t.Fatalf("at the bound: dropped %d, released %v, want frame 5 (the first with the closest neighbours)", q.stats(), released)
	}
	put(10, true)
	if q.stats() != 4 || released[3] != 7 {
		t.Fatalf("at the bound again: released %v, want frame 7 (neighbours 6 and 8, not 4 and 7 for frame 6)", released)
	}
	for _, want := range []uint64{4, 6, 8, 9, 10} {
		if got := get(); got != want {
			t.Fatalf("got %d, want %d (window frames in order)", got, want)
		}
	}
	put(11, false) // the window is over
	it := &frameItem{f: *grey(4, 4, t0, 12), keep: true}
	if q.fresher(it) != it {
		t.Fatal("a window frame was replaced by a fresher one")
	}
	out := &frameItem{f: *grey(4, 4, t0, 13)}
	if got := q.fresher(out); got.f.Seq != 11 || q.stats() != 5 || released[4] != 13 {
		t.Fatalf("fresher: got %d, dropped %d, released %v", got.f.Seq, q.stats(), released)
	}
	q.idle()
	if q.behind() {
		t.Fatal("behind with nothing waiting and nothing measured")
	}
	put(14, true)
	q.close()
	put(15, false)
	if len(released) != 7 || released[5] != 14 || released[6] != 15 || q.stats() != 5 {
		t.Fatalf("close: released %v, dropped %d (frames at the end are released, not counted as dropped)", released, q.stats())
	}
	if _, err := q.get(context.Background()); err == nil {
		t.Fatal("get after close")
	}
}
