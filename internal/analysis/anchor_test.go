package analysis

import (
	"testing"
	"time"
)

func TestAnchorRemovesSenderClockOffset(t *testing.T) {
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	delays := []time.Duration{40, 25, 60, 18, 33, 90, 20} // one-way delays in ms, min 18
	for _, skew := range []time.Duration{0, -3 * time.Second, 2 * time.Second} {
		var a anchor
		var last time.Time
		for i := 0; i < 70; i++ { // 15 fps for ~4.7 s
			trueCapture := base.Add(time.Duration(i) * time.Second / 15)
			arrival := trueCapture.Add(delays[i%len(delays)] * time.Millisecond)
			sr := trueCapture.Add(skew) // what the sender's clock claims
			last = a.capture(sr, arrival)
			if last.After(arrival) {
				t.Fatalf("skew %v: anchored capture %v after arrival %v", skew, last, arrival)
			}
			if i >= len(delays) {
				if got := last.Sub(trueCapture); got != 18*time.Millisecond {
					t.Fatalf("skew %v frame %d: anchored capture is %v off the true capture, want the minimum delay 18ms", skew, i, got)
				}
			}
		}
	}
}

func TestAnchorFollowsAClockJumpWithinTheWindow(t *testing.T) {
	var a anchor
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	var got time.Duration
	for i := 0; i < 15*12; i++ {
		trueCapture := base.Add(time.Duration(i) * time.Second / 15)
		arrival := trueCapture.Add(20 * time.Millisecond)
		skew := time.Duration(0)
		if i >= 15*4 { // after 4 s the sender's clock jumps 1 s early
			skew = -time.Second
		}
		got = a.capture(trueCapture.Add(skew), arrival).Sub(trueCapture)
	}
	if got != 20*time.Millisecond {
		t.Fatalf("8 s after the jump the anchored capture is %v off, want 20ms", got)
	}
}
