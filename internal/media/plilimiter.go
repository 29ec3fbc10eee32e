package media

import (
	"sync"
	"time"
)

// DefaultPLIInterval is the minimum spacing of keyframe requests used when none is given.
const DefaultPLIInterval = 500 * time.Millisecond

// PLILimiter rate-limits keyframe requests (RTCP PLI/FIR): at most one per interval.
// It is safe for concurrent use.
type PLILimiter struct {
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	last time.Time
	sent bool
}

// NewPLILimiter returns a limiter allowing one request per interval (DefaultPLIInterval when
// interval <= 0). now is the clock (time.Now when nil); tests inject a fake.
func NewPLILimiter(interval time.Duration, now func() time.Time) *PLILimiter {
	if interval <= 0 {
		interval = DefaultPLIInterval
	}
	if now == nil {
		now = time.Now
	}
	return &PLILimiter{interval: interval, now: now}
}

// Allow reports whether a keyframe request may be sent now and, if so, records it as sent.
// The first call always allows.
func (l *PLILimiter) Allow() bool {
	t := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent && t.Sub(l.last) < l.interval && !t.Before(l.last) {
		return false
	}
	l.last, l.sent = t, true
	return true
}
