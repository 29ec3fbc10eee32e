package analysis

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestAnalysisGatePriorityAndCancel(t *testing.T) {
	g := NewGate(1)
	ctx := context.Background()
	if !g.acquire(ctx, false, time.Time{}) {
		t.Fatal("first acquire")
	}
	order := make(chan string, 3)
	var wg sync.WaitGroup // the served goroutines, done once they released
	start := func(name string, high bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.acquire(ctx, high, time.Time{}) {
				order <- name
				g.release()
			}
		}()
	}
	start("passive", false)
	waitQueued(t, g, 0, 1)
	start("challenge", true)
	waitQueued(t, g, 1, 1)
	// A waiter whose session ends leaves the queue without taking a slot.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan bool)
	go func() { done <- g.acquire(cctx, true, time.Time{}) }()
	waitQueued(t, g, 2, 1)
	cancel()
	if <-done {
		t.Fatal("a cancelled acquire reported success")
	}
	g.release()
	if a, b := <-order, <-order; a != "challenge" || b != "passive" {
		t.Fatalf("served %s then %s, want challenge then passive", a, b)
	}
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free != 1 || len(g.hi)+len(g.lo) != 0 {
		t.Fatalf("gate not back to idle: free %d, queued %d/%d", g.free, len(g.hi), len(g.lo))
	}
}

func waitQueued(t *testing.T, g *Gate, hi, lo int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.mu.Lock()
		ok := len(g.hi) == hi && len(g.lo) == lo
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue never reached %d high, %d low", hi, lo)
		}
		time.Sleep(time.Millisecond)
	}
}

// Among waiters of one priority the frame captured first gets the next slot,
// whatever order the sessions began to wait in; challenge frames still come
// before all passive ones, and equal capture times are served in arrival
// order.
func TestGateServesOldestFrameFirst(t *testing.T) {
	g := NewGate(1)
	ctx := context.Background()
	if !g.acquire(ctx, false, time.Time{}) {
		t.Fatal("first acquire")
	}
	t0 := time.Unix(1700000000, 0)
	order := make(chan string, 8)
	var wg sync.WaitGroup
	hi, lo := 0, 0
	start := func(name string, high bool, at time.Time) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.acquire(ctx, high, at) {
				order <- name
				g.release()
			}
		}()
		if high {
			hi++
		} else {
			lo++
		}
		waitQueued(t, g, hi, lo) // each waits before the next comes
	}
	start("passive +40ms", false, t0.Add(40*time.Millisecond))
	start("passive +0ms", false, t0)
	start("challenge +90ms", true, t0.Add(90*time.Millisecond))
	start("passive +20ms (1st)", false, t0.Add(20*time.Millisecond))
	start("challenge +60ms", true, t0.Add(60*time.Millisecond))
	start("passive +20ms (2nd)", false, t0.Add(20*time.Millisecond))
	g.release()
	want := []string{"challenge +60ms", "challenge +90ms", "passive +0ms", "passive +20ms (1st)", "passive +20ms (2nd)", "passive +40ms"}
	for i, w := range want {
		if got := <-order; got != w {
			t.Fatalf("slot %d went to %q, want %q", i, got, w)
		}
	}
	wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free != 1 || len(g.hi)+len(g.lo) != 0 {
		t.Fatalf("gate not back to idle: free %d, queued %d/%d", g.free, len(g.hi), len(g.lo))
	}
}
