package media

import (
	"testing"
	"time"
)

func TestPLILimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewPLILimiter(0, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		want    bool
	}{
		{0, true},
		{0, false},
		{499 * time.Millisecond, false},
		{1 * time.Millisecond, true}, // 500 ms after the first
		{100 * time.Millisecond, false},
		{time.Second, true},
		{-10 * time.Second, true}, // the clock stepped back: do not stay blocked
		{10 * time.Millisecond, false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := l.Allow(); got != s.want {
			t.Fatalf("step %d: Allow() = %v, want %v", i, got, s.want)
		}
	}
	l2 := NewPLILimiter(2*time.Second, func() time.Time { return now })
	l2.Allow()
	now = now.Add(time.Second)
	if l2.Allow() {
		t.Fatal("custom interval not respected")
	}
}
