package room

import (
	"errors"
	"io"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
)

// forwardTrack relays one published track to the peers that receive it, and
// for the candidate's tracks hands every packet to the analysis's sink.
type forwardTrack struct {
	owner *Peer
	local *webrtc.TrackLocalStaticRTP
	kind  webrtc.RTPCodecType
	ssrc  uint32
	pli   *media.PLILimiter
	sink  media.PacketSink // nil: relayed only
}

func newForwardTrack(p *Peer, remote *webrtc.TrackRemote) (*forwardTrack, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.Kind().String(), string(p.role))
	if err != nil {
		return nil, err
	}
	t := &forwardTrack{
		owner: p, local: local, kind: remote.Kind(), ssrc: uint32(remote.SSRC()),
		pli: media.NewPLILimiter(media.DefaultPLIInterval, nil),
	}
	if p.role == RoleCandidate {
		if a := p.room.Session(); a != nil {
			t.sink, err = a.Track(media.TrackInfo{Video: t.kind == webrtc.RTPCodecTypeVideo, ClockRate: remote.Codec().ClockRate,
				SSRC: t.ssrc, RequestKeyframe: t.requestKeyframe})
			if err != nil {
				p.room.m.cfg.Logger.Error("room: media pipeline", "kind", t.kind.String(), "err", err)
				t.sink = nil
			}
		}
	}
	return t, nil
}

// requestKeyframe asks the publisher for a keyframe, at most once per 500 ms.
func (t *forwardTrack) requestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo || !t.pli.Allow() {
		return
	}
	_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}})
	if a := t.owner.room.Session(); a != nil && t.owner.role == RoleCandidate {
		a.KeyframeRequested()
		metrics.KeyframeRequest()
	}
}

// readRTCP reads the receiver's RTCP (sender reports map RTP to wall-clock
// time) and hands it to the sink.
func (t *forwardTrack) readRTCP(recv *webrtc.RTPReceiver) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		if t.sink != nil {
			t.sink.WriteRTCP(pkts)
		}
	}
}

// run reads RTP until the track ends: relay first, then the sink.
func (t *forwardTrack) run(remote *webrtc.TrackRemote) {
	if t.sink != nil {
		defer t.sink.Close()
		if t.kind == webrtc.RTPCodecTypeVideo {
			t.requestKeyframe() // decode from a keyframe right away
		}
	}
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			return
		}
		arrival := time.Now()
		metrics.RTPPacket(t.kind == webrtc.RTPCodecTypeVideo)
		if err := t.local.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.owner.room.m.cfg.Logger.Debug("room: relay", "err", err)
		}
		if t.sink != nil {
			t.sink.WriteRTP(pkt, arrival)
		}
	}
}
