package media

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestNTPConversion(t *testing.T) {
	// 2024-01-01T00:00:00Z = Unix 1704067200 = NTP 3913056000.
	if got := NTPToTime(3913056000 << 32); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("NTPToTime = %v", got)
	}
	if got := NTPToTime(3913056000<<32 | 1<<31); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 5e8, time.UTC)) {
		t.Fatalf("NTPToTime half second = %v", got)
	}
	// Era 1: NTP seconds wrap on 2036-02-07T06:28:16Z.
	if got := NTPToTime(10 << 32); !got.Equal(time.Date(2036, 2, 7, 6, 28, 26, 0, time.UTC)) {
		t.Fatalf("era 1: %v", got)
	}
	for _, tm := range []time.Time{time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 1, time.UTC)} {
		if d := NTPToTime(TimeToNTP(tm)).Sub(tm); d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("round trip of %v off by %v", tm, d)
		}
	}
}

func TestClockMapping(t *testing.T) {
	c := NewClock(90000)
	arrival := time.Date(2026, 1, 1, 12, 0, 1, 0, time.UTC)
	if got := c.CaptureTime(1234, arrival); !got.Equal(arrival) || c.Synced() {
		t.Fatalf("before any SR: %v, want arrival time", got)
	}
	srWall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c.OnSenderReport(TimeToNTP(srWall), 900000)
	cases := []struct {
		rtp  uint32
		want time.Time
	}{
		{900000, srWall},
		{900000 + 9000, srWall.Add(100 * time.Millisecond)},
		{900000 - 45000, srWall.Add(-500 * time.Millisecond)},
		{900000 + 90000*10, arrival}, // 10 s after the SR would be after arrival: clamped
	}
	for _, tc := range cases {
		if got := c.CaptureTime(tc.rtp, arrival); !got.Equal(tc.want) {
			t.Errorf("CaptureTime(%d) = %v, want %v", tc.rtp, got, tc.want)
		}
	}
}

func TestClockWraparound(t *testing.T) {
	c := NewClock(48000)
	srWall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	arrival := srWall.Add(time.Hour)
	c.OnSenderReport(TimeToNTP(srWall), 0xFFFFFF00) // 256 ticks before the wrap
	if got, want := c.CaptureTime(0x00000100, arrival), srWall.Add(512*time.Second/48000); !got.Equal(want) {
		t.Errorf("after wrap: %v, want %v", got, want)
	}
	c.OnSenderReport(TimeToNTP(srWall), 0x00000010) // 16 ticks after the wrap
	if got, want := c.CaptureTime(0xFFFFFFF0, arrival), srWall.Add(-32*time.Second/48000); !got.Equal(want) {
		t.Errorf("before wrap: %v, want %v", got, want)
	}
}

func TestClockHandleRTCP(t *testing.T) {
	c := NewClock(90000)
	srWall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	pkts := []rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1},
		&rtcp.SenderReport{SSRC: 99, NTPTime: TimeToNTP(srWall.Add(time.Hour)), RTPTime: 0},
	}
	if c.HandleRTCP(pkts, 42) || c.Synced() {
		t.Fatal("sender report for another SSRC was used")
	}
	pkts = append(pkts, &rtcp.SenderReport{SSRC: 42, NTPTime: TimeToNTP(srWall), RTPTime: 1000})
	if !c.HandleRTCP(pkts, 42) {
		t.Fatal("sender report not found")
	}
	if got := c.CaptureTime(1000+90000, srWall.Add(time.Minute)); !got.Equal(srWall.Add(time.Second)) {
		t.Fatalf("CaptureTime = %v", got)
	}
}
