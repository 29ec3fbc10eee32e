package analysis

import (
	"errors"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/voice"
	"github.com/livecheck/livecheck/models"
)

// Track returns the sink that decodes one of the candidate's tracks into the
// session: every VP8 frame, or the Opus audio.
func (s *Session) Track(t media.TrackInfo) (media.PacketSink, error) {
	tc := trackClock{clock: media.NewClock(t.ClockRate), ssrc: t.SSRC}
	if t.Video {
		dec, err := media.NewVP8Decoder()
		if err != nil {
			return nil, err
		}
		v := &videoPipe{trackClock: tc, sess: s, asm: media.NewVP8Assembler(media.VP8AssemblerConfig{}), dec: dec,
			requestKeyframe: t.RequestKeyframe, pkts: make(chan rtpIn, decodeQueue), done: make(chan struct{})}
		go v.decode()
		return v, nil
	}
	dec, err := media.NewOpusDecoder()
	if err != nil {
		return nil, err
	}
	return &audioPipe{trackClock: tc, sess: s, dec: dec, pcm: make([]int16, 5760)}, nil
}

// trackClock turns RTP timestamps into capture times: the sender reports'
// mapping, anchored to arrival (anchor.go).
type trackClock struct {
	clock *media.Clock
	ssrc  uint32
	anc   anchor // used by the single goroutine that decodes the track only
}

func (c *trackClock) WriteRTCP(pkts []rtcp.Packet) { c.clock.HandleRTCP(pkts, c.ssrc) }

// capture is the anchored sender-report capture time; before the first sender report, the
// arrival, which the anchor does not see. Both choices keep the anchor's minimum a delay of
// the sender's own clock: fed clamped mappings (a capture never after its arrival) from a
// sender whose clock runs ahead of ours, or arrivals standing in for captures before the
// first report, it took zero for the least delay and mapped every frame to its own arrival
// (each frame's jitter added to its time) or, for a sender whose clock runs behind, mapped
// frames up to the clock's offset too early for the anchor's window (REDTEAM.md finding 17).
func (c *trackClock) capture(rtpTS uint32, arrival time.Time) time.Time {
	sr, ok := c.clock.Mapped(rtpTS)
	if !ok {
		return arrival
	}
	return c.anc.capture(sr, arrival)
}

// decodeQueue is how many packets wait for a video track's decoder: 2–5 s
// of 640x480 VP8 (100–250 packets a second).
const decodeQueue = 512

// rtpIn is a received packet with its arrival time.
type rtpIn struct {
	pkt     *rtp.Packet
	arrival time.Time
}

// videoPipe assembles and decodes every VP8 frame of the candidate's video,
// on its own goroutine: the room's RTP reader, which also relays each packet
// to the other peers, only queues it and never waits for libvpx. When the
// decoder is so far behind that decodeQueue packets wait, further packets
// are dropped (the assembler counts the frames lost and asks for a keyframe).
type videoPipe struct {
	trackClock
	sess            *Session
	asm             *media.VP8Assembler
	dec             *media.VP8Decoder
	requestKeyframe func()
	pkts            chan rtpIn
	done            chan struct{}
	cadence         cadenceTracker
	drop            media.VP8DropTracker // the decoder's state that droppable frames may restate
	meta            models.Frame         // the last decoded frame's size, times and number (no planes: DecodeLazy)
}

func (v *videoPipe) keyframe() {
	if v.requestKeyframe != nil {
		v.requestKeyframe()
	}
}

// WriteRTP queues pkt for the decoder without waiting. Called by one goroutine, never after Close.
func (v *videoPipe) WriteRTP(pkt *rtp.Packet, arrival time.Time) {
	if v.sess.failed.Load() {
		return
	}
	select {
	case v.pkts <- rtpIn{pkt, arrival}:
	default: // the decoder is starved: the packet is lost to the analysis (not to the relay)
	}
}

// decode is the track's decoding goroutine. With Config.DecodeNice it runs
// on its own OS thread at that much lower a priority (see DecodeNice).
func (v *videoPipe) decode() {
	defer close(v.done)
	if n := v.sess.cfg.DecodeNice; n > 0 {
		if err := lowerThreadPriority(n); err != nil {
			v.sess.cfg.Logger.Warn("analysis: decoding at the normal priority", "interview", v.sess.id, "err", err)
		}
	}
	for in := range v.pkts {
		if !v.sess.failed.Load() {
			v.packet(in.pkt, in.arrival)
		}
	}
}

func (v *videoPipe) packet(pkt *rtp.Packet, arrival time.Time) {
	defer v.sess.guard("video decoding")
	frames, needKF := v.asm.Push(pkt, arrival)
	metrics.FramesReceived(len(frames))
	if needKF {
		v.keyframe()
	}
	for _, af := range frames {
		if c, ok := v.cadence.frame(af.RTPTimestamp, af.Follows); ok {
			v.sess.addCadence(c)
		}
		capture := v.capture(af.RTPTimestamp, af.FirstArrival)
		ref, refErr := media.ParseVP8Refresh(af.Data)
		tid := -1
		if af.Layer.HasTID {
			tid = int(af.Layer.TID)
		}
		skip := v.skippable(ref, refErr, capture)
		metrics.FrameLayer(tid, refErr == nil && v.drop.Droppable(ref))
		if skip {
			v.sess.frameSkipped(capture)
			metrics.FrameDropped("nonref", false)
			continue
		}
		t0 := time.Now()
		err := v.dec.DecodeLazy(af.Data, capture, &v.meta)
		if err == nil || errors.Is(err, media.ErrNoFrame) {
			v.drop.Decoded(ref, refErr)
		}
		if errors.Is(err, media.ErrNoFrame) {
			continue
		}
		if err != nil {
			v.sess.countDecodeError()
			metrics.FrameDropped("decode_error", false)
			v.keyframe()
			continue
		}
		metrics.FrameDecoded(t0)
		v.sess.framePicture(&v.meta, v.dec, arrival) // copies the picture only when the analysis takes it
	}
}

// skippable reports whether a frame need not be decoded: outside the
// challenge windows (and decodeAllMargin around them), a frame whose own VP8
// header says it refreshes no reference buffer, copies none and keeps the
// probabilities, segmentation and loop-filter deltas (the top layer of a
// sender's L1T2 or L1T3 temporal layers: media.VP8DropTracker). Its
// successors decode to the same pictures without it (no drift: libvpx obeys
// the same header), so only the frames the analysis could take are lost, and
// 7.5 of 15 fps remain for the 5.5 it takes. The RTP descriptor's TID and N
// bit are the sender's claims and are not used; a header that does not parse
// means decode. While the decoder waits for a keyframe it refuses inter
// frames anyway.
func (v *videoPipe) skippable(r media.VP8Refresh, err error, capture time.Time) bool {
	if v.sess.cfg.DecodeAll || v.dec.NeedKeyframe() || err != nil || !v.drop.Droppable(r) {
		return false
	}
	return !v.sess.decodeAllAt(capture)
}

// Close decodes what is queued, then releases the decoder.
func (v *videoPipe) Close() {
	close(v.pkts)
	<-v.done
	v.sess.addCadence(v.cadence.flush())
	metrics.FramesLost(v.asm.Stats().FramesLost)
	_ = v.dec.Close()
}

// audioPipe decodes the candidate's Opus into 48 kHz PCM for the session.
type audioPipe struct {
	trackClock
	sess *Session
	dec  *media.OpusDecoder
	pcm  []int16
	f32  []float32
}

func (a *audioPipe) WriteRTP(pkt *rtp.Packet, arrival time.Time) {
	if len(pkt.Payload) == 0 || a.sess.failed.Load() { // padding and bandwidth probes; or no analysis any more
		return
	}
	defer a.sess.guard("audio decoding")
	n, err := a.dec.DecodeTo(pkt.Payload, a.pcm)
	if err != nil || n == 0 {
		a.sess.countAudioError()
		metrics.AudioError()
		return
	}
	a.f32 = voice.Int16ToFloat32(a.f32[:0], a.pcm[:n])
	a.sess.audioDecoded(a.capture(pkt.Timestamp, arrival), a.f32)
}

func (a *audioPipe) Close() { _ = a.dec.Close() }
