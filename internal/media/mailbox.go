package media

import (
	"context"
	"fmt"
	"sync"
)

// Mailbox is a one-slot, latest-wins hand-off from one producer (the decode goroutine) to one
// consumer (the analysis goroutine). Put never blocks: a pending item that was not taken yet is
// replaced, counted as dropped and passed to the release function, so that pooled buffers go back
// (for frames from a VP8Decoder, use its Release). All methods are safe for concurrent use.
type Mailbox[T any] struct {
	release func(T)
	ready   chan struct{} // holds a token while an item may be pending
	done    chan struct{} // closed by Close

	mu      sync.Mutex
	item    T
	has     bool
	closed  bool
	put     uint64
	dropped uint64
}

// NewMailbox returns an empty mailbox. release, if not nil, is called (outside the lock) for
// every item the mailbox discards: replaced by a newer Put, put after Close, or pending at Close.
func NewMailbox[T any](release func(T)) *Mailbox[T] {
	return &Mailbox[T]{release: release, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// Put stores v, replacing a pending item, and reports whether v was accepted (false once the
// mailbox is closed; v is then released).
func (m *Mailbox[T]) Put(v T) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.drop(v)
		return false
	}
	old, hadOld := m.item, m.has
	m.item, m.has = v, true
	m.put++
	if hadOld {
		m.dropped++
	}
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
	if hadOld {
		m.drop(old)
	}
	return true
}

func (m *Mailbox[T]) drop(v T) {
	if m.release != nil {
		m.release(v)
	}
}

// Get waits for an item and takes it. It returns ctx's error when ctx is done, or an error
// wrapping ErrClosed once the mailbox is closed (a pending item is released by Close, not returned).
func (m *Mailbox[T]) Get(ctx context.Context) (T, error) {
	var zero T
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return zero, fmt.Errorf("media: mailbox get: %w", ErrClosed)
		}
		if m.has {
			v := m.item
			m.item, m.has = zero, false
			m.mu.Unlock()
			return v, nil
		}
		m.mu.Unlock()
		select {
		case <-m.ready:
		case <-m.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}

// TryGet takes the pending item without waiting; ok is false when there is none or the mailbox is closed.
func (m *Mailbox[T]) TryGet() (v T, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || !m.has {
		return v, false
	}
	v = m.item
	var zero T
	m.item, m.has = zero, false
	return v, true
}

// Close wakes a waiting Get, releases the pending item and makes later Puts fail. Idempotent.
func (m *Mailbox[T]) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	old, hadOld := m.item, m.has
	var zero T
	m.item, m.has = zero, false
	close(m.done)
	m.mu.Unlock()
	if hadOld {
		m.drop(old)
	}
}

// Stats returns how many items were accepted by Put and how many of those were dropped
// because a newer item replaced them before Get.
func (m *Mailbox[T]) Stats() (put, dropped uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.put, m.dropped
}
