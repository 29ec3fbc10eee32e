package analysis

import (
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/media"
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

// trackCaptures runs 15 fps frames through a trackClock whose sender reports (from srAt on,
// one a second) carry the sender's clock, skew off ours, and returns each frame's anchored
// capture time minus its true capture time. Delays cycle through delays (ms, minimum 18).
func trackCaptures(skew, srAt time.Duration, frames int) []time.Duration {
	base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	delays := []time.Duration{40, 25, 160, 18, 33, 90, 20, 250}
	tc := trackClock{clock: media.NewClock(90000), ssrc: 1}
	var off []time.Duration
	for i := range frames {
		at := time.Duration(i) * time.Second / 15
		trueCapture := base.Add(at)
		rtpTS := uint32(i * 90000 / 15)
		if at >= srAt && (at-srAt)%time.Second < time.Second/15 {
			tc.clock.OnSenderReport(media.TimeToNTP(trueCapture.Add(skew)), rtpTS)
		}
		arrival := trueCapture.Add(delays[i%len(delays)] * time.Millisecond)
		off = append(off, tc.capture(rtpTS, arrival).Sub(trueCapture))
	}
	return off
}

// A sender whose clock runs ahead of ours by more than the one-way delay: the clamped mapping
// (CaptureTime) made every capture its own arrival, so each frame carried its own delay
// (18–250 ms here) into the flash lag instead of the least one.
func TestTrackClockSenderClockAhead(t *testing.T) {
	for _, skew := range []time.Duration{300 * time.Millisecond, 2 * time.Second} {
		off := trackCaptures(skew, 0, 90)
		for i, d := range off[8:] {
			if d != 18*time.Millisecond {
				t.Fatalf("skew %v frame %d: anchored capture %v off the true capture, want the least delay 18ms", skew, i+8, d)
			}
		}
	}
}

// Before the first sender report captures are arrivals; they must not enter the anchor's
// window, where (zero delays on our clock) they mapped the next seconds' frames of a sender
// whose clock runs behind ours early by the clock's offset.
func TestTrackClockFirstReportLate(t *testing.T) {
	off := trackCaptures(-700*time.Millisecond, 2*time.Second, 15*6)
	for i, d := range off {
		switch {
		case i < 30 && d < 18*time.Millisecond: // arrivals: at least the delay
			t.Fatalf("frame %d before the first report: capture %v off, want its arrival", i, d)
		case i >= 30+8 && d != 18*time.Millisecond:
			t.Fatalf("frame %d after the first report: anchored capture %v off the true capture, want 18ms", i, d)
		}
	}
}
