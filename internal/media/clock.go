package media

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// ntpUnixOffset is the number of seconds from the NTP epoch (1900) to the Unix epoch (1970).
const ntpUnixOffset = 2208988800

// NTPToTime converts a 64-bit NTP timestamp (32.32 fixed point seconds since 1900, as in RTCP
// sender reports) to a time.Time. Timestamps whose top bit is clear are taken to be in NTP era 1
// (from February 2036), as RFC 4330 section 3 suggests.
func NTPToTime(ntp uint64) time.Time {
	sec := int64(ntp >> 32)
	if sec&0x80000000 == 0 {
		sec += 1 << 32
	}
	frac := ntp & 0xffffffff
	nsec := int64((frac*1e9 + 1<<31) >> 32)
	return time.Unix(sec-ntpUnixOffset, 0).Add(time.Duration(nsec))
}

// TimeToNTP converts t to a 64-bit NTP timestamp (the inverse of NTPToTime, to within 1 ns).
func TimeToNTP(t time.Time) uint64 {
	sec := uint64(t.Unix() + ntpUnixOffset)
	frac := (uint64(t.Nanosecond())<<32 + 5e8) / 1e9
	return sec<<32 + frac
}

// Clock maps RTP timestamps of one stream to wall-clock capture times using the latest RTCP
// sender report. The mapping trusts the sender's NTP clock to be close to ours (true for
// NTP-synced hosts); as a guard a capture time is never later than the packet's arrival.
// Before the first sender report the arrival time is used. It is safe for concurrent use
// (sender reports arrive on the RTCP goroutine, packets on the RTP goroutine).
type Clock struct {
	rate uint32

	mu     sync.Mutex
	haveSR bool
	srWall time.Time
	srRTP  uint32
}

// NewClock returns a clock for an RTP clock rate in Hz (90000 for video, 48000 for Opus).
// A zero rate is treated as 90000.
func NewClock(clockRate uint32) *Clock {
	if clockRate == 0 {
		clockRate = 90000
	}
	return &Clock{rate: clockRate}
}

// OnSenderReport records the NTP and RTP timestamps of a sender report.
func (c *Clock) OnSenderReport(ntpTime uint64, rtpTime uint32) {
	wall := NTPToTime(ntpTime)
	c.mu.Lock()
	c.haveSR, c.srWall, c.srRTP = true, wall, rtpTime
	c.mu.Unlock()
}

// HandleRTCP feeds every sender report for ssrc found in pkts (as read from an RTPReceiver) to
// OnSenderReport and reports whether there was one.
func (c *Clock) HandleRTCP(pkts []rtcp.Packet, ssrc uint32) bool {
	found := false
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == ssrc {
			c.OnSenderReport(sr.NTPTime, sr.RTPTime)
			found = true
		}
	}
	return found
}

// Synced reports whether a sender report has been received.
func (c *Clock) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.haveSR
}

// Mapped returns the sender-report mapping of rtpTS, unclamped: the capture time on the
// sender's clock, which may be ahead of ours. ok is false before the first sender report.
// The analysis anchors it to arrival itself (internal/analysis/anchor.go): clamping it to
// the arrival first, as CaptureTime does, would leave the anchor only zero delays to work
// with whenever the sender's clock runs ahead of ours by more than the one-way delay.
func (c *Clock) Mapped(rtpTS uint32) (time.Time, bool) {
	c.mu.Lock()
	have, wall, ref := c.haveSR, c.srWall, c.srRTP
	c.mu.Unlock()
	if !have {
		return time.Time{}, false
	}
	ticks := int64(int32(rtpTS - ref))
	return wall.Add(time.Duration(ticks * int64(time.Second) / int64(c.rate))), true
}

// CaptureTime returns the capture time of the media with RTP timestamp rtpTS that arrived at
// arrival. RTP timestamps are compared with the sender report's as signed 32-bit differences, so
// wraparound is handled for timestamps within 2^31 ticks (6.6 hours at 90 kHz) of the report.
func (c *Clock) CaptureTime(rtpTS uint32, arrival time.Time) time.Time {
	t, have := c.Mapped(rtpTS)
	if !have {
		return arrival
	}
	if !arrival.IsZero() && t.After(arrival) {
		return arrival
	}
	return t
}
