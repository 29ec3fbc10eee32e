package media

import (
	"time"

	"github.com/pion/rtp"
)

// Assembler limits (defaults of VP8AssemblerConfig).
const (
	defaultMaxPendingFrames  = 32
	defaultMaxFramePackets   = 1024
	defaultMaxPendingPackets = 4096
	// seqWindow is how many recent sequence numbers are remembered, for duplicate detection and
	// for the continuity check across padding packets.
	seqWindow = 2048
	// resetAfterLate is the number of consecutive late packets after which the assembler assumes
	// the stream jumped (sender restart) and starts over.
	resetAfterLate = 64
	maxSpareBufs   = 256
)

// AssembledFrame is one complete VP8 frame reassembled from RTP packets.
type AssembledFrame struct {
	Data         []byte    // the VP8 frame (descriptors removed); owned by the caller
	RTPTimestamp uint32    // RTP timestamp shared by the frame's packets
	Keyframe     bool      // VP8 frame tag P bit is 0
	FirstArrival time.Time // arrival time of the frame's first-arriving packet
	Packets      int       // number of RTP packets the frame spanned
	// Follows says that every packet between the previously emitted frame and this one arrived:
	// the sender sent no other frame in between (none was lost on the network or dropped here),
	// so a gap between their RTP timestamps is a frame the source never produced.
	Follows bool
	// Layer is the payload descriptor of the frame's first packet: the sender's claims about
	// its temporal layer (HasTID, TID, LayerSync) and NonReference (the N bit). Unverified:
	// ParseVP8Refresh reads what the frame itself does.
	Layer VP8Descriptor
}

// AssemblerStats counts what a VP8Assembler did.
type AssemblerStats struct {
	Packets          uint64 // packets pushed (including duplicates, late, padding, invalid)
	Padding          uint64 // packets with an empty payload (padding, probes): skipped
	Invalid          uint64 // packets with a malformed descriptor, or a frame start without a frame tag: skipped
	Duplicates       uint64 // packets whose sequence number was already seen
	Late             uint64 // packets for a frame already emitted, dropped or lost
	FramesEmitted    uint64 // complete frames returned by Push
	KeyframesEmitted uint64 // of which keyframes
	FramesLost       uint64 // incomplete frames given up on
	FramesDropped    uint64 // complete inter frames discarded while waiting for a keyframe
	LossEvents       uint64 // times the assembler started waiting for a keyframe after a loss
	Resets           uint64 // times the stream jumped so far that the assembler started over
}

// VP8AssemblerConfig tunes a VP8Assembler; the zero value gives the defaults.
type VP8AssemblerConfig struct {
	// ReorderFrames is how many newer complete frames are held back while an older frame is
	// incomplete (or packets before a complete frame are missing) before the older one is given up.
	// 0 (default) emits with the least latency: an older incomplete frame counts as lost as soon as a
	// newer frame completes. 1 tolerates packets reordered across a frame boundary, at the cost of
	// up to one frame interval of extra latency only when that happens.
	ReorderFrames int
	// MaxPendingFrames bounds the frames being assembled (default 32); the oldest is lost beyond it.
	MaxPendingFrames int
	// MaxFramePackets bounds the packets of one frame (default 1024); a larger frame is lost.
	MaxFramePackets int
	// MaxPendingPackets bounds the packets held in total (default 4096).
	MaxPendingPackets int
}

type asmPacket struct {
	seq  int64 // extended sequence number
	data []byte
}

type asmFrame struct {
	ts           int64 // extended RTP timestamp
	pkts         []asmPacket
	hasStart     bool
	start        int64
	hasEnd       bool
	end          int64
	keyframe     bool
	overflow     bool
	firstArrival time.Time
	layer        VP8Descriptor // of the start packet
}

func (f *asmFrame) complete() bool {
	if f.overflow || !f.hasStart || !f.hasEnd || f.end < f.start {
		return false
	}
	want := f.end - f.start + 1
	n := int64(0)
	for _, p := range f.pkts {
		if p.seq >= f.start && p.seq <= f.end {
			n++
		}
	}
	return n == want
}

// VP8Assembler rebuilds VP8 frames from RTP packets with no added latency: a frame is emitted as
// soon as its first packet (S=1, PID=0), its marker packet and every sequence number in between
// are present, instead of waiting for the next frame as pion's samplebuilder does.
//
// Frames come out in order. It handles reordering within a frame, duplicates, 16-bit sequence
// and 32-bit timestamp wraparound and padding packets. An older frame that is still incomplete
// when a newer frame completes counts as lost (see VP8AssemblerConfig.ReorderFrames); after a
// loss, and at the start, inter frames are dropped until a keyframe is emitted, and Push reports
// that a keyframe is needed. Memory is bounded. A VP8Assembler must be used from one goroutine.
type VP8Assembler struct {
	cfg    VP8AssemblerConfig
	frames []*asmFrame // pending, ascending timestamp
	spareF []*asmFrame
	spareB [][]byte

	started        bool
	maxSeq, maxTS  int64
	seen           [seqWindow]int64 // extended seq + 1 of received packets, by seq % seqWindow
	pendingPackets int
	lateRun        int

	haveDone bool
	doneTS   int64 // newest timestamp resolved (emitted, dropped or lost)
	haveLast bool
	lastEnd  int64 // extended seq of the marker packet of the last emitted frame
	waitKey  bool
	gap      bool // a frame was lost or dropped since the last emitted one

	out []AssembledFrame // returned by Push, reused

	stats AssemblerStats
}

// NewVP8Assembler returns an assembler that starts out waiting for a keyframe.
func NewVP8Assembler(cfg VP8AssemblerConfig) *VP8Assembler {
	if cfg.MaxPendingFrames <= 0 {
		cfg.MaxPendingFrames = defaultMaxPendingFrames
	}
	if cfg.MaxFramePackets <= 0 {
		cfg.MaxFramePackets = defaultMaxFramePackets
	}
	if cfg.MaxPendingPackets <= 0 {
		cfg.MaxPendingPackets = defaultMaxPendingPackets
	}
	if cfg.ReorderFrames < 0 {
		cfg.ReorderFrames = 0
	}
	return &VP8Assembler{cfg: cfg, waitKey: true}
}

// Stats returns the counters.
func (a *VP8Assembler) Stats() AssemblerStats { return a.stats }

// NeedKeyframe reports whether the assembler is waiting for a keyframe.
func (a *VP8Assembler) NeedKeyframe() bool { return a.waitKey }

// Push adds one RTP packet that arrived at arrival and returns the frames it completed, oldest
// first (usually none or one). needKeyframe is true while the assembler waits for a keyframe
// (at the start and after a loss): the caller should send a rate-limited PLI (see PLILimiter).
// The packet is not retained; its payload is copied. The returned slice is reused by the next
// Push, but each frame's Data is newly allocated and belongs to the caller.
func (a *VP8Assembler) Push(pkt *rtp.Packet, arrival time.Time) (frames []AssembledFrame, needKeyframe bool) {
	if pkt == nil {
		return nil, a.waitKey
	}
	a.stats.Packets++
	seq, ts, ok := a.extend(pkt.SequenceNumber, pkt.Timestamp)
	if !ok {
		return a.handleLate(pkt, arrival)
	}
	slot := &a.seen[seq%seqWindow]
	if *slot == seq+1 {
		a.stats.Duplicates++
		return nil, a.waitKey
	}
	*slot = seq + 1
	if len(pkt.Payload) == 0 {
		a.stats.Padding++
		return nil, a.waitKey
	}
	if a.haveDone && ts <= a.doneTS {
		return a.handleLate(pkt, arrival)
	}
	a.lateRun = 0
	desc, err := ParseVP8Descriptor(pkt.Payload)
	if err != nil || (desc.FrameStart() && len(pkt.Payload)-desc.Size < 3) {
		a.stats.Invalid++ // a frame's first packet must hold at least the 3-byte frame tag
		return nil, a.waitKey
	}
	f := a.frameFor(ts, arrival)
	if !f.overflow {
		a.addPacket(f, seq, pkt, desc, arrival)
	}
	out := a.drain()
	return out, a.waitKey
}

// extend unwraps the 16-bit sequence number and 32-bit timestamp against the newest seen.
// ok is false for a packet too old to track.
func (a *VP8Assembler) extend(seq16 uint16, ts32 uint32) (seq, ts int64, ok bool) {
	if !a.started {
		a.started = true
		a.maxSeq = 1<<32 + int64(seq16)
		a.maxTS = 1<<40 + int64(ts32)
		return a.maxSeq, a.maxTS, true
	}
	seq = a.maxSeq + int64(int16(seq16-uint16(a.maxSeq)))
	ts = a.maxTS + int64(int32(ts32-uint32(a.maxTS)))
	if seq <= a.maxSeq-seqWindow {
		return seq, ts, false
	}
	a.maxSeq = max(a.maxSeq, seq)
	a.maxTS = max(a.maxTS, ts)
	return seq, ts, true
}

// handleLate counts a packet for an already resolved frame. Many in a row mean the sender's
// sequence or timestamp jumped backwards: start over with this packet.
func (a *VP8Assembler) handleLate(pkt *rtp.Packet, arrival time.Time) ([]AssembledFrame, bool) {
	a.stats.Late++
	a.lateRun++
	if a.lateRun < resetAfterLate {
		return nil, a.waitKey
	}
	a.reset()
	a.stats.Packets-- // counted again below
	a.stats.Late--
	return a.Push(pkt, arrival)
}

func (a *VP8Assembler) reset() {
	for i, f := range a.frames {
		a.release(f)
		a.frames[i] = nil
	}
	a.frames = a.frames[:0]
	a.started, a.haveDone, a.haveLast = false, false, false
	a.seen = [seqWindow]int64{}
	a.pendingPackets, a.lateRun = 0, 0
	if !a.waitKey {
		a.stats.LossEvents++
	}
	a.waitKey = true
	a.stats.Resets++
}

// frameFor returns the pending frame with timestamp ts, creating it in order.
func (a *VP8Assembler) frameFor(ts int64, arrival time.Time) *asmFrame {
	i := len(a.frames)
	for i > 0 && a.frames[i-1].ts >= ts {
		if a.frames[i-1].ts == ts {
			f := a.frames[i-1]
			if arrival.Before(f.firstArrival) {
				f.firstArrival = arrival
			}
			return f
		}
		i--
	}
	var f *asmFrame
	if n := len(a.spareF); n > 0 {
		f = a.spareF[n-1]
		a.spareF = a.spareF[:n-1]
	} else {
		f = new(asmFrame)
	}
	*f = asmFrame{ts: ts, pkts: f.pkts[:0], firstArrival: arrival}
	a.frames = append(a.frames, nil)
	copy(a.frames[i+1:], a.frames[i:])
	a.frames[i] = f
	return f
}

func (a *VP8Assembler) addPacket(f *asmFrame, seq int64, pkt *rtp.Packet, desc VP8Descriptor, arrival time.Time) {
	if len(f.pkts) >= a.cfg.MaxFramePackets {
		f.overflow = true
		return
	}
	data := pkt.Payload[desc.Size:]
	buf := a.getBuf(len(data))
	copy(buf, data)
	j := len(f.pkts)
	for j > 0 && f.pkts[j-1].seq > seq {
		j--
	}
	f.pkts = append(f.pkts, asmPacket{})
	copy(f.pkts[j+1:], f.pkts[j:])
	f.pkts[j] = asmPacket{seq: seq, data: buf}
	a.pendingPackets++
	if desc.FrameStart() && (!f.hasStart || seq < f.start) {
		f.hasStart, f.start = true, seq
		f.keyframe = data[0]&1 == 0
		f.layer = desc
	}
	if pkt.Marker && (!f.hasEnd || seq > f.end) {
		f.hasEnd, f.end = true, seq
	}
}

// drain resolves pending frames in order: emits complete ones, gives up on blocked ones and
// enforces the memory bounds.
func (a *VP8Assembler) drain() []AssembledFrame {
	clear(a.out)
	out := a.out[:0]
	defer func() { a.out = out[:0] }()
	for len(a.frames) > 0 {
		if len(a.frames) > a.cfg.MaxPendingFrames || a.pendingPackets > a.cfg.MaxPendingPackets || a.frames[0].overflow {
			a.lose(1)
			continue
		}
		i := -1
		for k, f := range a.frames {
			if f.complete() {
				i = k
				break
			}
		}
		if i < 0 {
			break
		}
		f := a.frames[i]
		switch {
		case f.keyframe:
			a.lose(i)
			out = append(out, a.emit())
		case i > 0 && a.completeFrom(i) <= a.cfg.ReorderFrames:
			return out // hold back: the older frame may still complete
		case a.waitKey:
			a.lose(i)
			a.dropOldest()
		case i == 0 && a.continuous(f):
			out = append(out, a.emit())
		case i == 0 && a.completeFrom(0) <= a.cfg.ReorderFrames:
			return out // hold back: the packets before f may still arrive
		default:
			// Blocked by an older incomplete frame or by missing packets before f: give up.
			a.lose(i)
			a.startWaiting()
			a.dropOldest()
		}
	}
	return out
}

// completeFrom counts the complete pending frames from index i on.
func (a *VP8Assembler) completeFrom(i int) int {
	n := 0
	for _, f := range a.frames[i:] {
		if f.complete() {
			n++
		}
	}
	return n
}

// continuous reports whether every sequence number between the last emitted frame and f was
// received (those in between can only be padding, since f is the oldest pending frame).
func (a *VP8Assembler) continuous(f *asmFrame) bool {
	if !a.haveLast || f.start <= a.lastEnd || f.start-a.lastEnd > seqWindow {
		return false
	}
	for s := a.lastEnd + 1; s < f.start; s++ {
		if a.seen[s%seqWindow] != s+1 {
			return false
		}
	}
	return true
}

func (a *VP8Assembler) startWaiting() {
	if !a.waitKey {
		a.waitKey = true
		a.stats.LossEvents++
	}
}

// lose gives up on the n oldest pending frames.
func (a *VP8Assembler) lose(n int) {
	if n == 0 {
		return
	}
	a.gap = true
	for _, f := range a.frames[:n] {
		a.stats.FramesLost++
		a.resolve(f)
	}
	a.startWaiting()
	a.shift(n)
}

// dropOldest discards the oldest pending frame, which is complete but cannot be decoded.
func (a *VP8Assembler) dropOldest() {
	a.stats.FramesDropped++
	a.gap = true
	a.resolve(a.frames[0])
	a.shift(1)
}

func (a *VP8Assembler) emit() AssembledFrame {
	f := a.frames[0]
	size, n := 0, 0
	for _, p := range f.pkts {
		if p.seq >= f.start && p.seq <= f.end {
			size += len(p.data)
			n++
		}
	}
	data := make([]byte, 0, size)
	for _, p := range f.pkts {
		if p.seq >= f.start && p.seq <= f.end {
			data = append(data, p.data...)
		}
	}
	af := AssembledFrame{Data: data, RTPTimestamp: uint32(f.ts), Keyframe: f.keyframe,
		FirstArrival: f.firstArrival, Packets: n, Follows: !a.gap && a.continuous(f), Layer: f.layer}
	a.gap = false
	a.stats.FramesEmitted++
	if f.keyframe {
		a.stats.KeyframesEmitted++
		a.waitKey = false
	}
	a.haveLast, a.lastEnd = true, f.end
	a.resolve(f)
	a.shift(1)
	return af
}

// resolve marks f's timestamp as done and recycles its buffers.
func (a *VP8Assembler) resolve(f *asmFrame) {
	if !a.haveDone || f.ts > a.doneTS {
		a.haveDone, a.doneTS = true, f.ts
	}
	a.release(f)
}

func (a *VP8Assembler) release(f *asmFrame) {
	for i, p := range f.pkts {
		if len(a.spareB) < maxSpareBufs {
			a.spareB = append(a.spareB, p.data[:0])
		}
		f.pkts[i].data = nil
	}
	a.pendingPackets -= len(f.pkts)
	f.pkts = f.pkts[:0]
	if len(a.spareF) < a.cfg.MaxPendingFrames {
		a.spareF = append(a.spareF, f)
	}
}

func (a *VP8Assembler) shift(n int) {
	copy(a.frames, a.frames[n:])
	for i := len(a.frames) - n; i < len(a.frames); i++ {
		a.frames[i] = nil
	}
	a.frames = a.frames[:len(a.frames)-n]
}

func (a *VP8Assembler) getBuf(n int) []byte {
	for k := len(a.spareB) - 1; k >= 0 && k >= len(a.spareB)-4; k-- {
		if b := a.spareB[k]; cap(b) >= n {
			a.spareB[k] = a.spareB[len(a.spareB)-1]
			a.spareB = a.spareB[:len(a.spareB)-1]
			return b[:n]
		}
	}
	return make([]byte, n, max(n, 1200))
}
