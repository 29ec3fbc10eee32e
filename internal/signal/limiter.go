package signal

import "time"

// Limiter bounds the messages of one channel (a signaling socket, a control
// DataChannel): at most Max per Window, counted in fixed windows. The zero
// value allows nothing; not safe for concurrent use.
type Limiter struct {
	Max    int
	Window time.Duration

	n     int
	start time.Time
}

// Allow reports whether one more message at now fits in the current window.
func (l *Limiter) Allow(now time.Time) bool {
	if now.Sub(l.start) > l.Window || now.Before(l.start) {
		l.n, l.start = 0, now
	}
	l.n++
	return l.n <= l.Max
}

// First reports whether the last refused message was the window's first
// refusal (to tell the client once per window, not once per message).
func (l *Limiter) First() bool { return l.n == l.Max+1 }
