package analysis

import (
	"context"
	"sync"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
)

// maxRefreshes bounds the refreshes of one due frame (frameQueue).
const maxRefreshes = 2

// refreshLimit is maxRefreshes, a variable so that BenchmarkLivePipeline can
// compare it with none.
var refreshLimit = maxRefreshes

// DefaultChallengeQueue is the most frames a live session holds for analysis
// at once (Config.ChallengeQueue): 8 s at 15 fps, about 55 MB at 640x480.
const DefaultChallengeQueue = 120

// frameQueue hands a live session's decoded frames from the RTP reader to its
// analysis goroutine without ever blocking the reader. Frames outside
// challenge windows go through a one-slot, latest-wins mailbox: when the
// analysis is behind, a waiting frame is replaced by a newer one (passive
// analysis wants the current picture). Frames of a challenge window (keep)
// wait in order instead, every one of them, up to max frames in all; at the
// bound the waiting window frame whose removal leaves the shortest gap in
// capture time goes, so a window analysed behind real time is thinned
// evenly instead of losing a stretch. Every frame that goes is counted and
// released.
//
// Freshness: outside the windows a frame that is due by the analysis rate may
// have to wait for an analysis slot (the Gate) while the camera sends newer
// ones. Those newer frames, not due themselves, may take its place (refresh):
// the one waiting in the mailbox, or the one the analysis goroutine holds
// while it waits for its slot (kept aside as the spare, taken by fresher once
// the slot is granted). One frame is analysed per due frame as before, so the
// session's rate stays what Session.due lets through and the session keeps
// its place in the Gate's line; only the picture is newer. Window frames are
// never replaced and never replace by refresh. Each refresh copies a picture
// (460 KB at 640x480), so a due frame is refreshed at most maxRefreshes
// times: at 15 fps that covers a wait of 200 ms, longer than the gap between
// two due frames at the default rate (after which the next due frame takes
// over), and an overloaded server, where every session waits long, does not
// copy every frame of every camera.
type frameQueue struct {
	max     int
	limit   int // refreshes allowed per due frame (refreshLimit)
	release func(*frameItem)
	ready   chan struct{} // holds a token while items may be waiting
	done    chan struct{} // closed by close

	mu      sync.Mutex
	items   []*frameItem // oldest first
	busy    bool         // the analysis goroutine is measuring a frame it took
	waiting bool         // the analysis goroutine holds a frame outside the windows and waits for a slot
	spare   *frameItem   // the newest frame offered to replace that one (refresh), or nil
	fresh   int          // refreshes since the last due frame came (put)
	closed  bool
	dropped uint64
}

func newFrameQueue(bound int, release func(*frameItem)) *frameQueue {
	return &frameQueue{max: max(3, bound), limit: refreshLimit, release: release, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// put adds it: a waiting frame outside the windows (the newest, if any) is
// replaced by it.
func (q *frameQueue) put(it *frameItem) {
	var out []*frameItem // dropped, released outside the lock
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.release(it)
		return
	}
	if n := len(q.items); n > 0 && !q.items[n-1].keep {
		out = append(out, q.items[n-1])
		q.items = q.items[:n-1]
		metrics.FrameDropped("mailbox", false)
	}
	q.items = append(q.items, it)
	q.fresh = 0
	if len(q.items) > q.max {
		out = append(out, q.thin())
		metrics.FrameDropped("queue_full", true)
	}
	q.dropped += uint64(len(out))
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	for _, d := range out {
		q.release(d)
	}
}

// thin removes and returns the frame between the oldest and the newest whose
// neighbours are closest in capture time (the first such on ties). q.mu is
// held and len(q.items) ≥ 3.
func (q *frameQueue) thin() *frameItem {
	best := 1
	bestGap := q.items[2].f.Capture.Sub(q.items[0].f.Capture)
	for i := 2; i < len(q.items)-1; i++ {
		if g := q.items[i+1].f.Capture.Sub(q.items[i-1].f.Capture); g < bestGap {
			best, bestGap = i, g
		}
	}
	it := q.items[best]
	q.items = append(q.items[:best], q.items[best+1:]...)
	return it
}

// get waits for the oldest waiting frame and takes it; the queue counts as
// busy until the next get (or idle). It fails when ctx ends or the queue is
// closed.
func (q *frameQueue) get(ctx context.Context) (*frameItem, error) {
	for {
		q.mu.Lock()
		q.busy = false
		if q.closed {
			q.mu.Unlock()
			return nil, media.ErrClosed
		}
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.busy = true
			q.waiting = !it.keep
			q.mu.Unlock()
			return it, nil
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-q.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// fresher, called once the analysis slot for it is granted, returns the
// frame to analyse in its place when it is outside the windows: the next
// waiting frame if one arrived meanwhile (a due frame or a window's first;
// it is then dropped and counted), else the spare a refresh left (a newer
// picture of the same due slot, not counted: the rate counted it). The
// frame replaced, and a spare not taken, are released. A window frame is
// never replaced.
func (q *frameQueue) fresher(it *frameItem) *frameItem {
	if it.keep {
		return it
	}
	q.mu.Lock()
	q.waiting = false
	spare := q.spare
	q.spare = nil
	if q.closed || (len(q.items) == 0 && spare == nil) {
		q.mu.Unlock()
		if spare != nil {
			q.release(spare)
		}
		return it
	}
	var newer *frameItem
	if len(q.items) > 0 {
		newer = q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.dropped++
		metrics.FrameDropped("mailbox", false)
	} else {
		newer, spare = spare, nil
	}
	q.mu.Unlock()
	q.release(it)
	if spare != nil {
		q.release(spare)
	}
	return newer
}

// wantsFresh reports whether a frame outside the windows, not due by the
// rate, could replace one waiting (refresh would take it): the picture is
// only copied then.
func (q *frameQueue) wantsFresh() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	return !q.closed && q.fresh < q.limit && (q.waiting || (n > 0 && !q.items[n-1].keep))
}

// refresh offers it, a frame outside the windows that the rate did not let
// through, in place of the frame outside the windows that waits for
// analysis: the newest in the mailbox, else the one the analysis goroutine
// holds while it waits for a slot (it becomes the spare), at most
// refreshLimit times per due frame. It reports whether it was taken; if
// not, the caller still owns it. Nothing is counted as dropped: the frame
// replaced stands for it, which the rate already counted as skipped.
func (q *frameQueue) refresh(it *frameItem) bool {
	q.mu.Lock()
	var out *frameItem
	switch n := len(q.items); {
	case q.closed || q.fresh >= q.limit:
		q.mu.Unlock()
		return false
	case n > 0 && !q.items[n-1].keep:
		out, q.items[n-1] = q.items[n-1], it
	case n == 0 && q.waiting:
		out, q.spare = q.spare, it
	default:
		q.mu.Unlock()
		return false
	}
	q.fresh++
	q.mu.Unlock()
	if out != nil {
		q.release(out)
	}
	return true
}

// idle marks the end of the frame taken last.
func (q *frameQueue) idle() {
	q.mu.Lock()
	q.busy, q.waiting = false, false
	q.mu.Unlock()
}

// behind reports whether frames wait for analysis or one is being measured.
func (q *frameQueue) behind() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.busy || len(q.items) > 0
}

// close wakes a waiting get, releases the waiting frames and makes later
// puts release theirs at once. Idempotent.
func (q *frameQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	out := q.items
	if q.spare != nil {
		out = append(out, q.spare)
	}
	q.items, q.spare, q.waiting = nil, nil, false
	close(q.done)
	q.mu.Unlock()
	for _, it := range out {
		q.release(it)
	}
}

// stats returns how many frames the queue dropped (replaced or thinned).
func (q *frameQueue) stats() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
