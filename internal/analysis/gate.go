package analysis

import (
	"context"
	"sync"
	"time"
)

// Gate bounds how many frames are analysed at once across all sessions
// and serves sessions in a challenge first. Without it every session's
// analysis goroutine runs its cgo vision call at once: with 20 sessions on two
// cores each frame took ~20x its CPU time, decoding (which must keep up) and
// database calls starved, and challenge frames waited behind passive ones.
// Measured under loadgen at N = 20 on a shared 2-core machine: capture→
// observation p50 0.8–2.5 s → 40–60 ms, p95 1.9–4.8 s → 0.12–0.19 s, decode p50
// 5–50 ms → 1.5 ms, frames dropped during challenges 76–80 % → 26–34 %, for the
// same analysed throughput. Waiting sessions keep only their latest frame (the
// mailbox), and take a fresher one when it arrived meanwhile.
//
// Among the waiters of one priority the frame captured first is served
// first (earliest deadline first: every frame's deadline is its capture time
// plus the same latency target), not the session that began to wait first:
// a frame that spent longer in the network, the jitter buffer or its
// decoder then does not also wait longest for a slot, which is what the
// capture→observation tail is made of. Each session waits with one frame
// at a time, so a session is served at most once ahead of a waiter whose
// frame is newer, and none starves.
//
// One Gate is shared by every session of a server (Config.Gate); a nil Gate
// does not bound anything.
type Gate struct {
	mu     sync.Mutex
	free   int
	hi, lo []waiter
}

// waiter is a session waiting for a slot with a frame captured at at.
type waiter struct {
	ch chan struct{}
	at time.Time
}

// NewGate returns a gate with slots analysis slots (at least one); the
// server uses one per CPU.
func NewGate(slots int) *Gate {
	return &Gate{free: max(1, slots)}
}

// acquire waits for a slot for a frame captured at at: high-priority waiters
// first, then the earliest capture (see Gate); false when ctx ended.
func (g *Gate) acquire(ctx context.Context, high bool, at time.Time) bool {
	if g == nil {
		return ctx.Err() == nil
	}
	g.mu.Lock()
	if g.free > 0 {
		g.free--
		g.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	if high {
		g.hi = append(g.hi, waiter{ch, at})
	} else {
		g.lo = append(g.lo, waiter{ch, at})
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		g.mu.Lock()
		removed := remove(&g.hi, ch) || remove(&g.lo, ch)
		g.mu.Unlock()
		if !removed { // granted meanwhile: pass it on
			g.release()
		}
		return false
	}
}

func remove(q *[]waiter, ch chan struct{}) bool {
	for i, w := range *q {
		if w.ch == ch {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// release returns a slot: to the high-priority waiter with the earliest
// frame if any, else to the low-priority one with the earliest frame (the
// first to wait on ties).
func (g *Gate) release() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(g.hi) > 0:
		serve(&g.hi)
	case len(g.lo) > 0:
		serve(&g.lo)
	default:
		g.free++
	}
}

// gateOldestFirst is the order of serve, a variable so that
// BenchmarkLivePipeline can compare it with first come, first served.
var gateOldestFirst = true

// serve wakes the waiter of q whose frame was captured first and removes
// it. q is not empty (at most one waiter per session: a linear scan).
func serve(q *[]waiter) {
	w := *q
	best := 0
	for i := 1; i < len(w) && gateOldestFirst; i++ {
		if w[i].at.Before(w[best].at) {
			best = i
		}
	}
	close(w[best].ch)
	*q = append(w[:best], w[best+1:]...)
}
