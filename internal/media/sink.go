package media

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// PacketSink takes the packets of one published track: the room relays the
// candidate's tracks and hands each packet to the track's sink as well (the
// analysis decodes them). WriteRTP and WriteRTCP are called from the track's
// own reader goroutines and must never block for long.
type PacketSink interface {
	// WriteRTP takes one RTP packet and its arrival time; pkt is valid only
	// during the call.
	WriteRTP(pkt *rtp.Packet, arrival time.Time)
	// WriteRTCP takes the RTCP packets the track's receiver read (sender
	// reports map RTP time to the sender's clock).
	WriteRTCP(pkts []rtcp.Packet)
	// Close ends the track.
	Close()
}

// TrackInfo describes a published track to the one who will decode it.
type TrackInfo struct {
	Video     bool
	ClockRate uint32
	SSRC      uint32
	// RequestKeyframe asks the publisher for a keyframe (rate-limited by the room).
	RequestKeyframe func()
}
