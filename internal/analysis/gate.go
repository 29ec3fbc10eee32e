package analysis

import (
	"context"
	"sync"
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
// One Gate is shared by every session of a server (Config.Gate); a nil Gate
// does not bound anything.
type Gate struct {
	mu     sync.Mutex
	free   int
	hi, lo []chan struct{}
}

// NewGate returns a gate with slots analysis slots (at least one); the
// server uses one per CPU.
func NewGate(slots int) *Gate {
	return &Gate{free: max(1, slots)}
}

// acquire waits for a slot, high-priority waiters first; false when ctx ended.
func (g *Gate) acquire(ctx context.Context, high bool) bool {
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
		g.hi = append(g.hi, ch)
	} else {
		g.lo = append(g.lo, ch)
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

func remove(q *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *q {
		if c == ch {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

// release returns a slot, to the first high-priority waiter if any.
func (g *Gate) release() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(g.hi) > 0:
		close(g.hi[0])
		g.hi = g.hi[1:]
	case len(g.lo) > 0:
		close(g.lo[0])
		g.lo = g.lo[1:]
	default:
		g.free++
	}
}
