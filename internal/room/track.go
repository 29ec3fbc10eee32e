package room

import (
	"errors"
	"io"
	"math"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
)

// forwardTrack relays one published track to the peers that receive it, and for
// the candidate's tracks feeds the analysis session.
type forwardTrack struct {
	owner *Peer
	local *webrtc.TrackLocalStaticRTP
	kind  webrtc.RTPCodecType
	ssrc  uint32
	pli   *media.PLILimiter
	clock *media.Clock
	anc   anchor // used by the single RTP reader goroutine only
}

func newForwardTrack(p *Peer, remote *webrtc.TrackRemote) (*forwardTrack, error) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.Kind().String(), string(p.role))
	if err != nil {
		return nil, err
	}
	return &forwardTrack{
		owner: p, local: local, kind: remote.Kind(), ssrc: uint32(remote.SSRC()),
		pli:   media.NewPLILimiter(media.DefaultPLIInterval, nil),
		clock: media.NewClock(remote.Codec().ClockRate),
	}, nil
}

// requestKeyframe asks the publisher for a keyframe, at most once per 500 ms.
func (t *forwardTrack) requestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo || !t.pli.Allow() {
		return
	}
	_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}})
	if s := t.owner.room.Session(); s != nil && t.owner.role == RoleCandidate {
		s.countKeyframeRequest()
		metrics.KeyframeRequest()
	}
}

// readRTCP reads the receiver's RTCP for sender reports (RTP → wall clock).
func (t *forwardTrack) readRTCP(recv *webrtc.RTPReceiver) {
	for {
		pkts, _, err := recv.ReadRTCP()
		if err != nil {
			return
		}
		t.clock.HandleRTCP(pkts, t.ssrc)
	}
}

// run reads RTP until the track ends: relay first, then analysis.
func (t *forwardTrack) run(remote *webrtc.TrackRemote) {
	var video *videoPipe
	var audio *audioPipe
	if t.owner.role == RoleCandidate {
		sess := t.owner.room.Session()
		if sess != nil {
			var err error
			if t.kind == webrtc.RTPCodecTypeVideo {
				video, err = newVideoPipe(t, sess)
			} else {
				audio, err = newAudioPipe(t, sess)
			}
			if err != nil {
				t.owner.room.m.cfg.Logger.Error("room: media pipeline", "kind", t.kind.String(), "err", err)
			}
		}
	}
	defer func() {
		if video != nil {
			video.close()
		}
		if audio != nil {
			audio.close()
		}
	}()
	if video != nil {
		t.requestKeyframe() // decode from a keyframe right away
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
		switch {
		case video != nil:
			video.push(pkt, arrival)
		case audio != nil:
			audio.push(pkt, arrival)
		}
	}
}

// videoPipe assembles and decodes every VP8 frame of the candidate's video.
type videoPipe struct {
	t    *forwardTrack
	sess *Session
	asm  *media.VP8Assembler
	dec  *media.VP8Decoder
}

func newVideoPipe(t *forwardTrack, s *Session) (*videoPipe, error) {
	dec, err := media.NewVP8Decoder()
	if err != nil {
		return nil, err
	}
	return &videoPipe{t: t, sess: s, asm: media.NewVP8Assembler(media.VP8AssemblerConfig{}), dec: dec}, nil
}

func (v *videoPipe) push(pkt *rtp.Packet, arrival time.Time) {
	frames, needKF := v.asm.Push(pkt, arrival)
	metrics.FramesReceived(len(frames))
	if needKF {
		v.t.requestKeyframe()
	}
	for _, af := range frames {
		capture := v.t.anc.capture(v.t.clock.CaptureTime(af.RTPTimestamp, af.FirstArrival), af.FirstArrival)
		t0 := time.Now()
		f, err := v.dec.Decode(af.Data, capture)
		if errors.Is(err, media.ErrNoFrame) {
			continue
		}
		if err != nil {
			v.sess.countDecodeError()
			metrics.FrameDropped("decode_error", false)
			v.t.requestKeyframe()
			continue
		}
		if f == nil {
			continue
		}
		metrics.FrameDecoded(t0)
		v.sess.frame(f, arrival)
		v.dec.Release(f)
	}
}

func (v *videoPipe) close() {
	metrics.FramesLost(v.asm.Stats().FramesLost)
	_ = v.dec.Close()
}

// audioPipe decodes the candidate's Opus into 48 kHz PCM and measures 20 ms levels.
type audioPipe struct {
	t    *forwardTrack
	sess *Session
	dec  *media.OpusDecoder
	pcm  []int16
}

func newAudioPipe(t *forwardTrack, s *Session) (*audioPipe, error) {
	dec, err := media.NewOpusDecoder()
	if err != nil {
		return nil, err
	}
	return &audioPipe{t: t, sess: s, dec: dec, pcm: make([]int16, 5760)}, nil
}

func (a *audioPipe) push(pkt *rtp.Packet, arrival time.Time) {
	if len(pkt.Payload) == 0 { // padding and bandwidth probes
		return
	}
	n, err := a.dec.DecodeTo(pkt.Payload, a.pcm)
	if err != nil || n == 0 {
		a.sess.countAudioError()
		metrics.AudioError()
		return
	}
	at := a.t.anc.capture(a.t.clock.CaptureTime(pkt.Timestamp, arrival), arrival)
	if a.sess.suite != nil {
		a.sess.suite.AddAudio(at, a.pcm[:n])
	}
	// One level per 20 ms chunk (a packet may carry 10–60 ms).
	const chunk = 960
	for off := 0; off < n; off += chunk {
		end := off + chunk
		if end > n {
			end = n
		}
		var sum float64
		for _, s := range a.pcm[off:end] {
			f := float64(s) / 32768
			sum += f * f
		}
		rms := math.Sqrt(sum / float64(end-off))
		metrics.AudioChunk()
		a.sess.audioLevel(at.Add(time.Duration(off)*time.Second/48000), rms)
	}
}

func (a *audioPipe) close() { _ = a.dec.Close() }
