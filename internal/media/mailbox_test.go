package media

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestMailboxLatestWins(t *testing.T) {
	var released []int
	m := NewMailbox(func(v int) { released = append(released, v) })
	for i := 1; i <= 3; i++ {
		if !m.Put(i) {
			t.Fatalf("Put(%d) refused", i)
		}
	}
	got, err := m.Get(context.Background())
	if err != nil || got != 3 {
		t.Fatalf("Get = %d, %v; want 3", got, err)
	}
	if put, dropped := m.Stats(); put != 3 || dropped != 2 {
		t.Fatalf("Stats = %d, %d; want 3, 2", put, dropped)
	}
	if len(released) != 2 || released[0] != 1 || released[1] != 2 {
		t.Fatalf("released %v, want [1 2]", released)
	}
	if _, ok := m.TryGet(); ok {
		t.Fatal("TryGet on an empty mailbox returned an item")
	}
}

func TestMailboxGetWaitsAndCancels(t *testing.T) {
	m := NewMailbox[int](nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with cancelled ctx: %v", err)
	}
	got := make(chan int)
	go func() {
		v, err := m.Get(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	m.Put(7)
	if v := <-got; v != 7 {
		t.Fatalf("Get = %d, want 7", v)
	}
}

func TestMailboxClose(t *testing.T) {
	var released []int
	m := NewMailbox(func(v int) { released = append(released, v) })
	m.Put(1)
	done := make(chan error)
	m2 := NewMailbox[int](nil)
	go func() {
		_, err := m2.Get(context.Background())
		done <- err
	}()
	m2.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Get after Close: %v, want ErrClosed", err)
	}
	m.Close()
	m.Close()
	if len(released) != 1 || released[0] != 1 {
		t.Fatalf("pending item not released by Close: %v", released)
	}
	if m.Put(2) {
		t.Fatal("Put after Close accepted")
	}
	if len(released) != 2 || released[1] != 2 {
		t.Fatalf("item put after Close not released: %v", released)
	}
	if _, err := m.Get(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}

// TestMailboxConcurrent checks under -race that every item is either delivered or released exactly once.
func TestMailboxConcurrent(t *testing.T) {
	const n = 20000
	var mu sync.Mutex
	seen := make([]int, n)
	mark := func(v int) {
		mu.Lock()
		seen[v]++
		mu.Unlock()
	}
	m := NewMailbox(mark)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	last := -1
	go func() {
		defer wg.Done()
		for {
			v, err := m.Get(ctx)
			if err != nil {
				return
			}
			if v <= last {
				t.Errorf("got %d after %d", v, last)
			}
			last = v
			mark(v)
		}
	}()
	for i := 0; i < n; i++ {
		m.Put(i)
	}
	m.Close()
	cancel()
	wg.Wait()
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("item %d delivered or released %d times", i, c)
		}
	}
	put, dropped := m.Stats()
	t.Logf("put %d dropped %d", put, dropped)
	if put != n {
		t.Fatalf("put %d, want %d", put, n)
	}
}
