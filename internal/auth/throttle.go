package auth

import (
	"sync"
	"time"
)

// Throttle counts failures per key within a sliding window and locks a key out
// once it reaches the limit. It is safe for concurrent use.
type Throttle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
}

// NewThrottle allows limit failures per key within window; now is the clock (time.Now when nil).
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{limit: limit, window: window, now: now, fails: map[string][]time.Time{}}
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	f := t.fails[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= t.window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.fails, key)
		return nil
	}
	t.fails[key] = f
	return f
}

// Blocked reports whether key is locked out and for how long.
func (t *Throttle) Blocked(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.prune(key, now)
	if len(f) < t.limit {
		return false, 0
	}
	return true, f[len(f)-t.limit].Add(t.window).Sub(now)
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.prune(key, now)
	if len(f) > 4*t.limit { // bound memory per key
		f = f[len(f)-t.limit:]
	}
	t.fails[key] = append(f, now)
	if len(t.fails) > 100000 { // bound memory overall: drop stale keys
		for k := range t.fails {
			t.prune(k, now)
		}
	}
}

// Reset forgets key's failures (after a successful login).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}
