package room

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// writer stores what rooms report, in order, retrying each write with
// exponential backoff while the database is unreachable. Its queue is bounded;
// a full queue is logged loudly (and counted) rather than blocking media.
type writer struct {
	log     *slog.Logger
	jobs    chan writeJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	dropped uint64
	retries uint64
	giveUp  time.Duration
	closed  bool
	once    sync.Once
}

type writeJob struct {
	what string
	id   int64
	fn   func(ctx context.Context) error
}

// writerQueue bounds the jobs waiting for the database (a job is one row or one
// small transaction; 20,000 jobs is hours of outage for a busy server).
const writerQueue = 20000

func newWriter(log *slog.Logger, giveUp time.Duration) *writer {
	w := &writer{log: log, jobs: make(chan writeJob, writerQueue), giveUp: giveUp}
	w.wg.Add(1)
	go w.run()
	return w
}

// add queues a write; it never blocks.
func (w *writer) add(what string, interviewID int64, fn func(ctx context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped++
		w.log.Error("room: write after shutdown, result lost", "what", what, "interview", interviewID)
		return
	}
	select {
	case w.jobs <- writeJob{what: what, id: interviewID, fn: fn}:
	default:
		w.dropped++
		w.log.Error("room: write queue full, result lost", "what", what, "interview", interviewID)
	}
}

func (w *writer) run() {
	defer w.wg.Done()
	for j := range w.jobs {
		backoff := 100 * time.Millisecond
		deadline := time.Now().Add(w.giveUp)
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := j.fn(ctx)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				w.log.Error("room: giving up a write", "what", j.what, "interview", j.id, "attempts", attempt, "err", err)
				w.mu.Lock()
				w.dropped++
				w.mu.Unlock()
				break
			}
			w.mu.Lock()
			w.retries++
			w.mu.Unlock()
			w.log.Warn("room: write failed, retrying", "what", j.what, "interview", j.id, "attempt", attempt, "err", err)
			time.Sleep(backoff)
			if backoff < 5*time.Second {
				backoff *= 2
			}
		}
	}
}

// close waits until every queued write is done or ctx ends.
func (w *writer) close(ctx context.Context) {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.jobs)
		w.mu.Unlock()
	})
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.log.Error("room: shutdown before every result was stored", "pending", len(w.jobs))
	}
}

// WriterStats are the persistence counters.
type WriterStats struct {
	Pending, Dropped, Retries uint64
}

func (w *writer) stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WriterStats{Pending: uint64(len(w.jobs)), Dropped: w.dropped, Retries: w.retries}
}
