package writeq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var errDown = errors.New("database unreachable")

// TestWritesInOrderWithRetries: a write that fails is retried until it
// succeeds, and the writes after it wait: the order is kept.
func TestWritesInOrderWithRetries(t *testing.T) {
	q := New(quiet(), time.Minute)
	var mu sync.Mutex
	var done []string
	fails := 2
	q.Add("first", 1, func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return errDown
		}
		done = append(done, "first")
		return nil
	})
	for i := range 3 {
		name := fmt.Sprint("next", i)
		q.Add(name, 1, func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			done = append(done, name)
			return nil
		})
	}
	q.Close(context.Background())
	if fmt.Sprint(done) != "[first next0 next1 next2]" {
		t.Fatalf("writes %v", done)
	}
	if st := q.Stats(); st.Retries != 2 || st.Dropped != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
	q.Add("late", 1, func(context.Context) error { t.Error("a write after Close ran"); return nil })
	if st := q.Stats(); st.Dropped != 1 {
		t.Fatalf("a write after Close was not counted as lost: %+v", st)
	}
}

// TestCloseStopsRetrying: at shutdown, a write that keeps failing is not
// retried past Close's context; it and the writes behind it are counted as
// lost, and Close returns.
func TestCloseStopsRetrying(t *testing.T) {
	q := New(quiet(), time.Hour)
	attempts := make(chan struct{}, 100)
	q.Add("stuck", 1, func(ctx context.Context) error {
		attempts <- struct{}{}
		return errDown
	})
	q.Add("behind", 1, func(context.Context) error { t.Error("the write behind a lost one ran after shutdown"); return nil })
	<-attempts // the first attempt failed; the queue now waits to retry
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan struct{})
	go func() { q.Close(ctx); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return after its context ended: the retry ignored the shutdown")
	}
	if st := q.Stats(); st.Dropped != 2 || st.Pending != 0 {
		t.Fatalf("stats after an abandoned shutdown %+v, want both writes counted as lost", st)
	}
	// Close waited for the writer goroutine: nothing retries in the background any more.
	n := len(attempts)
	q.wg.Wait()
	if len(attempts) != n {
		t.Fatal("the stuck write was retried after Close returned")
	}
}

// TestFullQueueLosesLoudly: the queue never blocks its callers; beyond
// MaxPending writes are counted as lost.
func TestFullQueueLosesLoudly(t *testing.T) {
	q := New(quiet(), time.Minute)
	release := make(chan struct{})
	started := make(chan struct{})
	q.Add("blocking", 1, func(context.Context) error { close(started); <-release; return nil })
	<-started
	for range MaxPending + 5 {
		q.Add("filler", 1, func(context.Context) error { return nil })
	}
	if st := q.Stats(); st.Dropped != 5 || st.Pending != MaxPending {
		t.Fatalf("stats %+v, want 5 lost and the queue full", st)
	}
	close(release)
	q.Close(context.Background())
	if st := q.Stats(); st.Pending != 0 || st.Dropped != 5 {
		t.Fatalf("after draining %+v", st)
	}
}

// TestRefusedWriteIsNotRetried: a write refused for good (ErrRefused) runs
// once, is counted as refused, and the writes behind it go on.
func TestRefusedWriteIsNotRetried(t *testing.T) {
	q := New(quiet(), time.Minute)
	runs := 0
	var done []string
	q.Add("refused", 1, func(context.Context) error { runs++; return Refuse(errors.New("lease lost")) })
	q.Add("next", 1, func(context.Context) error { done = append(done, "next"); return nil })
	q.Close(context.Background())
	if runs != 1 || fmt.Sprint(done) != "[next]" {
		t.Fatalf("refused write ran %d times; after it: %v", runs, done)
	}
	if st := q.Stats(); st.Refused != 1 || st.Retries != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}
