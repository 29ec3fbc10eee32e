package loadgen

import (
	"testing"
	"time"
)

// TestCaptureClock: while a sample stamped with its capture time is written, the sender
// reports' clock reads that capture time plus only the time spent since the write began (so
// pion's report maps the sample's RTP timestamp to its capture, however late it is sent);
// outside a write it is the wall clock; an unstamped write leaves it alone.
func TestCaptureClock(t *testing.T) {
	var c captureClock
	capture := time.Now().Add(-700 * time.Millisecond) // a frame sent 0.7 s after its capture
	var during time.Time
	before := time.Now()
	if err := c.write(capture, func() error { during = c.now(); return nil }); err != nil {
		t.Fatal(err)
	}
	spent := time.Since(before)
	if during.Before(capture) || during.After(capture.Add(spent)) {
		t.Errorf("clock during the write: %v after the capture, want 0..%v", during.Sub(capture), spent)
	}
	after := time.Now()
	if now := c.now(); now.Before(after) {
		t.Errorf("clock after the write is %v behind the wall clock", after.Sub(now))
	}
	var unstamped time.Time
	before = time.Now()
	_ = c.write(time.Time{}, func() error { unstamped = c.now(); return nil })
	if unstamped.Before(before) {
		t.Errorf("an unstamped write moved the clock %v back", before.Sub(unstamped))
	}
	var nilClock *captureClock
	called := false
	_ = nilClock.write(capture, func() error { called = true; return nil })
	if !called {
		t.Error("a nil clock did not write")
	}
}
