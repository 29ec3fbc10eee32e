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
	if !g.acquire(ctx, false) {
		t.Fatal("first acquire")
	}
	order := make(chan string, 3)
	var wg sync.WaitGroup // the served goroutines, done once they released
	start := func(name string, high bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.acquire(ctx, high) {
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
	go func() { done <- g.acquire(cctx, true) }()
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
