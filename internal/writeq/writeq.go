// Package writeq is the ordered, retrying writer of live interviews: what a
// room or an analysis session has to store (attempts, challenge results,
// session results with the verdict) is queued and written in order by one
// goroutine, each write retried with backoff while the database is
// unreachable. Writes must therefore be idempotent.
package writeq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Queue stores what rooms report, in order, retrying each write with
// exponential backoff while the database is unreachable. It is bounded; a
// full queue is logged loudly (and counted) rather than blocking media.
type Queue struct {
	log     *slog.Logger
	jobs    chan writeJob
	wg      sync.WaitGroup
	stop    context.Context // cancelled when Close gives up waiting: no more retries
	abandon context.CancelFunc
	mu      sync.Mutex
	dropped uint64
	retries uint64
	refused uint64
	giveUp  time.Duration
	closed  bool
	once    sync.Once
}

type writeJob struct {
	what string
	id   int64
	fn   func(ctx context.Context) error
}

// ErrRefused marks a write that must not be retried: it was refused for good
// (a node that lost an interview's lease may not write its rows any more).
// Such a write is logged as an error with its reason and counted in
// Stats.Refused, and the queue goes on with the next one.
var ErrRefused = errors.New("writeq: write refused")

// Refuse wraps err as a refusal (ErrRefused).
func Refuse(err error) error { return fmt.Errorf("%w: %w", ErrRefused, err) }

// MaxPending bounds the jobs waiting for the database (a job is one row or one
// small transaction; 20,000 jobs is hours of outage for a busy server).
const MaxPending = 20000

// New starts a queue whose writes are retried for at most giveUp each.
func New(log *slog.Logger, giveUp time.Duration) *Queue {
	w := &Queue{log: log, jobs: make(chan writeJob, MaxPending), giveUp: giveUp}
	w.stop, w.abandon = context.WithCancel(context.Background())
	w.wg.Add(1)
	go w.run()
	return w
}

// Add queues a write of what for an interview; it never blocks. fn must be
// idempotent (it is retried until it succeeds or the queue gives up) and
// must honour its context (it is cancelled at shutdown).
func (w *Queue) Add(what string, interviewID int64, fn func(ctx context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped++
		w.log.Error("writeq: write after shutdown, result lost", "what", what, "interview", interviewID)
		return
	}
	select {
	case w.jobs <- writeJob{what: what, id: interviewID, fn: fn}:
	default:
		w.dropped++
		w.log.Error("writeq: write queue full, result lost", "what", what, "interview", interviewID)
	}
}

func (w *Queue) run() {
	defer w.wg.Done()
	for j := range w.jobs {
		w.write(j)
	}
}

// write runs one job until it succeeds, the queue gives up on it (giveUp),
// or the queue is abandoned at shutdown; the last two lose the write, loudly.
func (w *Queue) write(j writeJob) {
	backoff := 100 * time.Millisecond
	deadline := time.Now().Add(w.giveUp)
	for attempt := 1; ; attempt++ {
		if w.stop.Err() != nil {
			w.lose(j, "shutdown before the write was stored, result lost", attempt-1, nil)
			return
		}
		ctx, cancel := context.WithTimeout(w.stop, 30*time.Second)
		err := j.fn(ctx)
		cancel()
		if err == nil {
			return
		}
		if errors.Is(err, ErrRefused) {
			w.mu.Lock()
			w.refused++
			w.mu.Unlock()
			w.log.Error("writeq: write refused, not retried", "what", j.what, "interview", j.id, "err", err)
			return
		}
		if time.Now().After(deadline) {
			w.lose(j, "giving up a write", attempt, err)
			return
		}
		w.mu.Lock()
		w.retries++
		w.mu.Unlock()
		w.log.Warn("writeq: write failed, retrying", "what", j.what, "interview", j.id, "attempt", attempt, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-w.stop.Done():
			t.Stop()
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (w *Queue) lose(j writeJob, msg string, attempts int, err error) {
	w.mu.Lock()
	w.dropped++
	w.mu.Unlock()
	w.log.Error("writeq: "+msg, "what", j.what, "interview", j.id, "attempts", attempts, "err", err)
}

// Close stops accepting writes and waits until every queued write is done.
// When ctx ends first, retrying stops: the write in progress gets a cancelled
// context, and it and every write still queued are lost (counted in Dropped
// and logged). Close returns once the writer goroutine has stopped.
// Idempotent.
func (w *Queue) Close(ctx context.Context) {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.jobs)
		w.mu.Unlock()
	})
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	defer w.abandon()
	select {
	case <-done:
	case <-ctx.Done():
		w.log.Error("writeq: shutdown before every result was stored", "pending", len(w.jobs))
		w.abandon()
		<-done
	}
}

// Stats are the persistence counters.
type Stats struct {
	Pending, Dropped, Retries uint64
	Refused                   uint64 // writes refused for good (ErrRefused)
}

// Stats returns the queue's counters.
func (w *Queue) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Pending: uint64(len(w.jobs)), Dropped: w.dropped, Retries: w.retries, Refused: w.refused}
}
