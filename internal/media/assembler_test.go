package media

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// rtpFrame is one VP8 frame packetised like a browser does it.
type rtpFrame struct {
	index int
	ts    uint32
	data  []byte
	key   bool
	pkts  []*rtp.Packet
}

// packetize splits frames with pion's VP8 payloader (picture IDs on) into RTP packets with
// consecutive sequence numbers from seq0 and timestamps from ts0 in steps of 6000 (15 fps).
func packetize(frames [][]byte, mtu uint16, seq0 uint16, ts0 uint32) []rtpFrame {
	p := &codecs.VP8Payloader{EnablePictureID: true}
	seq := seq0
	out := make([]rtpFrame, len(frames))
	for i, f := range frames {
		ts := ts0 + uint32(i)*6000
		payloads := p.Payload(mtu, f)
		rf := rtpFrame{index: i, ts: ts, data: f, key: f[0]&1 == 0}
		for j, pl := range payloads {
			rf.pkts = append(rf.pkts, &rtp.Packet{
				Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts,
					SSRC: 0x1234, Marker: j == len(payloads)-1},
				Payload: pl,
			})
			seq++
		}
		out[i] = rf
	}
	return out
}

func flatten(frames []rtpFrame) []*rtp.Packet {
	var pkts []*rtp.Packet
	for _, f := range frames {
		pkts = append(pkts, f.pkts...)
	}
	return pkts
}

// asmResult records what an assembler emitted for a packet stream.
type asmResult struct {
	frames   []AssembledFrame
	needKey  []bool // needKeyframe after each push
	asm      *VP8Assembler
	arrivals []time.Time
}

func runAssembler(cfg VP8AssemblerConfig, pkts []*rtp.Packet) asmResult {
	a := NewVP8Assembler(cfg)
	res := asmResult{asm: a}
	t0 := time.Unix(1700000000, 0)
	for i, p := range pkts {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		fr, nk := a.Push(p, at)
		res.frames = append(res.frames, fr...)
		res.needKey = append(res.needKey, nk)
		res.arrivals = append(res.arrivals, at)
	}
	return res
}

// checkEmitted verifies that every emitted frame is byte-identical to its original, that frames
// come out in order without repeats, and that every emitted inter frame directly follows its
// predecessor (so the output is always decodable). It returns the indexes emitted.
func checkEmitted(t *testing.T, src []rtpFrame, got []AssembledFrame) []int {
	t.Helper()
	byTS := map[uint32]rtpFrame{}
	for _, f := range src {
		byTS[f.ts] = f
	}
	var idx []int
	for k, g := range got {
		f, ok := byTS[g.RTPTimestamp]
		if !ok {
			t.Fatalf("emitted frame %d has unknown timestamp %d", k, g.RTPTimestamp)
		}
		if !bytes.Equal(g.Data, f.data) {
			t.Fatalf("frame %d (ts %d): %d bytes differ from the original %d bytes", f.index, f.ts, len(g.Data), len(f.data))
		}
		if g.Keyframe != f.key || g.Packets != len(f.pkts) {
			t.Fatalf("frame %d: keyframe %v packets %d, want %v %d", f.index, g.Keyframe, g.Packets, f.key, len(f.pkts))
		}
		if k == 0 && !g.Keyframe {
			t.Fatalf("first emitted frame %d is not a keyframe", f.index)
		}
		if k > 0 {
			prev := idx[len(idx)-1]
			if f.index <= prev {
				t.Fatalf("frame %d emitted after frame %d", f.index, prev)
			}
			if !g.Keyframe && f.index != prev+1 {
				t.Fatalf("inter frame %d emitted after frame %d: not decodable", f.index, prev)
			}
		}
		idx = append(idx, f.index)
	}
	return idx
}

// follows lists the emitted frames' Follows flags.
func follows(got []AssembledFrame) []bool {
	out := make([]bool, len(got))
	for i, g := range got {
		out[i] = g.Follows
	}
	return out
}

// wantFollows is every emitted frame following its predecessor except the first and those at
// the positions in breaks.
func wantFollows(n int, breaks ...int) []bool {
	out := make([]bool, n)
	for i := 1; i < n; i++ {
		out[i] = true
	}
	out[0] = false
	for _, b := range breaks {
		out[b] = false
	}
	return out
}

func assemblerFixture(t testing.TB) [][]byte {
	fx := loadVP8Fixture(t, 2, 10)
	return fx.frames
}

func TestAssemblerInOrder(t *testing.T) {
	src := packetize(assemblerFixture(t), 300, 1000, 5000)
	if len(src[0].pkts) < 10 || len(src[1].pkts) < 2 {
		t.Fatalf("fixture too small to span packets: %d, %d", len(src[0].pkts), len(src[1].pkts))
	}
	pkts := flatten(src)
	res := runAssembler(VP8AssemblerConfig{}, pkts)
	idx := checkEmitted(t, src, res.frames)
	if len(idx) != len(src) {
		t.Fatalf("emitted %d of %d frames", len(idx), len(src))
	}
	// Each frame is emitted by its marker packet, with no latency.
	a := NewVP8Assembler(VP8AssemblerConfig{})
	for _, f := range src {
		for j, p := range f.pkts {
			out, nk := a.Push(p, time.Time{})
			if j < len(f.pkts)-1 && len(out) != 0 {
				t.Fatalf("frame %d emitted before its last packet", f.index)
			}
			if j == len(f.pkts)-1 && (len(out) != 1 || nk) {
				t.Fatalf("frame %d: marker packet emitted %d frames, needKeyframe %v", f.index, len(out), nk)
			}
		}
	}
	if !res.needKey[0] {
		t.Error("needKeyframe false before the first keyframe")
	}
	if res.needKey[len(res.needKey)-1] {
		t.Error("needKeyframe true at the end of a clean stream")
	}
	st := res.asm.Stats()
	if st.FramesEmitted != uint64(len(src)) || st.KeyframesEmitted != 3 || st.FramesLost != 0 || st.LossEvents != 0 || st.Packets != uint64(len(pkts)) {
		t.Fatalf("stats %+v", st)
	}
	if !res.frames[0].FirstArrival.Equal(res.arrivals[0]) {
		t.Errorf("FirstArrival %v, want %v", res.frames[0].FirstArrival, res.arrivals[0])
	}
}

func TestAssemblerReorderWithinFrameAndDuplicates(t *testing.T) {
	src := packetize(assemblerFixture(t), 300, 40000, 0)
	rng := rand.New(rand.NewSource(1))
	var pkts []*rtp.Packet
	dups := 0
	for _, f := range src {
		ps := append([]*rtp.Packet(nil), f.pkts...)
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		for _, p := range ps {
			pkts = append(pkts, p)
			if rng.Intn(4) == 0 {
				pkts = append(pkts, p) // immediate duplicate
				dups++
			}
		}
	}
	// Duplicates of already emitted frames arriving much later.
	pkts = append(pkts, src[3].pkts[0], src[len(src)-1].pkts[1])
	dups += 2
	res := runAssembler(VP8AssemblerConfig{}, pkts)
	if idx := checkEmitted(t, src, res.frames); len(idx) != len(src) {
		t.Fatalf("emitted %d of %d frames", len(idx), len(src))
	}
	if st := res.asm.Stats(); st.Duplicates != uint64(dups) || st.FramesLost != 0 {
		t.Fatalf("stats %+v, want %d duplicates and no loss", st, dups)
	}
}

func TestAssemblerLossWaitsForKeyframe(t *testing.T) {
	src := packetize(assemblerFixture(t), 300, 100, 0)
	var pkts []*rtp.Packet
	lostAt := -1
	for _, f := range src {
		for j, p := range f.pkts {
			if f.index == 5 && j == 0 {
				lostAt = len(pkts)
				continue // lose the first packet of inter frame 5
			}
			pkts = append(pkts, p)
		}
	}
	res := runAssembler(VP8AssemblerConfig{}, pkts)
	idx := checkEmitted(t, src, res.frames)
	want := []int{0, 1, 2, 3, 4}
	for i := 10; i < len(src); i++ {
		want = append(want, i)
	}
	if fmt.Sprint(idx) != fmt.Sprint(want) {
		t.Fatalf("emitted %v, want %v", idx, want)
	}
	st := res.asm.Stats()
	if st.FramesLost != 1 || st.FramesDropped != 4 || st.LossEvents != 1 {
		t.Fatalf("stats %+v: want 1 lost (frame 5), 4 dropped (6-9), 1 loss event", st)
	}
	// Keyframe 10 (emitted 5th) comes after frames lost on the way: it does not follow frame 4.
	if got, want := follows(res.frames), wantFollows(len(res.frames), 5); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Follows %v, want %v", got, want)
	}
	// needKeyframe goes up when frame 6 completes and down with keyframe 10.
	firstNeed := -1
	for i := lostAt; i < len(res.needKey); i++ {
		if res.needKey[i] {
			firstNeed = i
			break
		}
	}
	if firstNeed < 0 || !res.needKey[firstNeed] || res.needKey[len(res.needKey)-1] {
		t.Fatalf("needKeyframe not raised after the loss or not cleared by the keyframe")
	}
}

func TestAssemblerWholeFrameLostAndPadding(t *testing.T) {
	src := packetize(assemblerFixture(t), 300, 65000, 0)
	var pkts []*rtp.Packet
	for _, f := range src {
		if f.index == 4 {
			continue // every packet of frame 4 lost
		}
		pkts = append(pkts, f.pkts...)
	}
	res := runAssembler(VP8AssemblerConfig{}, pkts)
	idx := checkEmitted(t, src, res.frames)
	if len(idx) != len(src)-6 || idx[4] != 10 {
		t.Fatalf("emitted %v: want 0-3 then 10 onwards", idx)
	}
	if st := res.asm.Stats(); st.LossEvents != 1 || st.FramesDropped != 5 {
		t.Fatalf("stats %+v", st)
	}
	if got, want := follows(res.frames), wantFollows(len(res.frames), 4); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("whole frame lost: Follows %v, want %v", got, want)
	}

	// Padding packets (empty payload) use sequence numbers between frames: not a loss.
	src = packetize(assemblerFixture(t), 300, 65000, 0)
	var seq uint16 = 65000
	pkts = pkts[:0]
	padding := 0
	for _, f := range src {
		for _, p := range f.pkts {
			q := *p
			q.SequenceNumber = seq
			seq++
			pkts = append(pkts, &q)
		}
		if f.index%3 == 1 {
			for k := 0; k < 2; k++ {
				pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: f.ts}})
				seq++
				padding++
			}
		}
	}
	res = runAssembler(VP8AssemblerConfig{}, pkts)
	if idx := checkEmitted(t, src, res.frames); len(idx) != len(src) {
		t.Fatalf("with padding: emitted %d of %d", len(idx), len(src))
	}
	if st := res.asm.Stats(); st.Padding != uint64(padding) || st.LossEvents != 0 {
		t.Fatalf("with padding: stats %+v", st)
	}
	// Padding between frames is no lost frame: every frame follows its predecessor.
	if got, want := follows(res.frames), wantFollows(len(res.frames)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("with padding: Follows %v, want %v", got, want)
	}
}

func TestAssemblerWraparound(t *testing.T) {
	frames := assemblerFixture(t)
	// Sequence numbers wrap inside the first keyframe; timestamps wrap at frame 3.
	src := packetize(frames, 200, 65530, 0xFFFFFFFF-3*6000+100)
	res := runAssembler(VP8AssemblerConfig{}, flatten(src))
	if idx := checkEmitted(t, src, res.frames); len(idx) != len(src) {
		t.Fatalf("emitted %d of %d frames across wraparound", len(idx), len(src))
	}
	// Run long enough for sequence numbers to wrap several times.
	a := NewVP8Assembler(VP8AssemblerConfig{})
	seq := uint16(60000)
	ts := uint32(0xFFFF0000)
	emitted := 0
	for round := 0; round < 80; round++ {
		src := packetize(frames, 100, seq, ts)
		for _, p := range flatten(src) {
			out, _ := a.Push(p, time.Time{})
			emitted += len(out)
		}
		last := src[len(src)-1]
		seq = last.pkts[len(last.pkts)-1].SequenceNumber + 1
		ts = last.ts + 6000
	}
	if st := a.Stats(); emitted != 80*len(frames) || st.LossEvents != 0 || st.Late != 0 {
		t.Fatalf("long run: emitted %d of %d, stats %+v", emitted, 80*len(frames), st)
	}
}

func TestAssemblerCrossFrameReorder(t *testing.T) {
	src := packetize(assemblerFixture(t), 300, 7, 0)
	// Swap the last packet of frame 2 with the first packet of frame 3, and deliver all of
	// frame 6 after frame 7.
	var pkts []*rtp.Packet
	for _, f := range src {
		switch f.index {
		case 2:
			pkts = append(pkts, f.pkts[:len(f.pkts)-1]...)
		case 3:
			pkts = append(pkts, f.pkts[0], src[2].pkts[len(src[2].pkts)-1])
			pkts = append(pkts, f.pkts[1:]...)
		case 6:
		case 7:
			pkts = append(pkts, f.pkts...)
			pkts = append(pkts, src[6].pkts...)
		default:
			pkts = append(pkts, f.pkts...)
		}
	}
	res := runAssembler(VP8AssemblerConfig{ReorderFrames: 1}, pkts)
	if idx := checkEmitted(t, src, res.frames); len(idx) != len(src) {
		t.Fatalf("ReorderFrames=1: emitted %d of %d", len(idx), len(src))
	}
	if st := res.asm.Stats(); st.LossEvents != 0 {
		t.Fatalf("ReorderFrames=1: stats %+v", st)
	}
	// With no hold-back, the late frame 6 counts as lost as soon as frame 7 completes.
	res = runAssembler(VP8AssemblerConfig{}, pkts)
	idx := checkEmitted(t, src, res.frames)
	if st := res.asm.Stats(); st.LossEvents != 1 || len(idx) != len(src)-4 {
		t.Fatalf("ReorderFrames=0: emitted %v, stats %+v", idx, st)
	}
}

// TestAssemblerRandomized shuffles packets within a sliding window and drops some at random. Whatever
// happens, emitted frames must be exact, in order, decodable, and every frame accounted for.
func TestAssemblerRandomized(t *testing.T) {
	frames := assemblerFixture(t)
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for seed := int64(0); seed < 400; seed++ {
		rng := rand.New(rand.NewSource(seed))
		src := packetize(frames, uint16(120+rng.Intn(400)), uint16(rng.Intn(65536)), rng.Uint32())
		pkts := flatten(src)
		window := 1 + rng.Intn(6)
		bounded := seed%4 < 2
		if bounded {
			// Permute within blocks: no packet moves more than window-1 places.
			for b := 0; b < len(pkts); b += window {
				blk := pkts[b:min(b+window, len(pkts))]
				rng.Shuffle(len(blk), func(i, j int) { blk[i], blk[j] = blk[j], blk[i] })
			}
		} else {
			// Sliding swaps: a packet can drift arbitrarily far (rarely).
			for i := range pkts {
				if j := i + rng.Intn(window); j < len(pkts) {
					pkts[i], pkts[j] = pkts[j], pkts[i]
				}
			}
		}
		lossy := seed%2 == 1
		if lossy {
			kept := pkts[:0]
			for _, p := range pkts {
				if rng.Intn(100) >= 2 {
					kept = append(kept, p)
				}
			}
			pkts = kept
		}
		cfg := VP8AssemblerConfig{ReorderFrames: int(seed/4) % 6}
		res := runAssembler(cfg, pkts)
		idx := checkEmitted(t, src, res.frames)
		st := res.asm.Stats()
		pending := len(res.asm.frames)
		if sum := st.FramesEmitted + st.FramesLost + st.FramesDropped + uint64(pending); sum > uint64(len(src)) || st.FramesEmitted != uint64(len(idx)) {
			t.Fatalf("seed %d: more frames accounted for than sent: %+v pending %d", seed, st, pending)
		}
		if !lossy && bounded && cfg.ReorderFrames >= window-1 && len(idx) != len(src) {
			// A packet is at most window-1 places late, so at most window-1 newer frames can
			// complete before it arrives: that hold-back always suffices.
			t.Fatalf("seed %d: no loss, reorder window %d, hold-back %d: emitted %d of %d", seed, window, cfg.ReorderFrames, len(idx), len(src))
		}
		if !lossy && window == 1 && len(idx) != len(src) {
			t.Fatalf("seed %d: in-order stream lost frames: %+v", seed, st)
		}
		// Whatever was emitted decodes without error.
		for _, f := range res.frames {
			fr, err := dec.Decode(f.Data, time.Time{})
			if err != nil {
				t.Fatalf("seed %d: emitted frame ts %d does not decode: %v", seed, f.RTPTimestamp, err)
			}
			dec.Release(fr)
		}
	}
}

func TestAssemblerBoundedMemory(t *testing.T) {
	a := NewVP8Assembler(VP8AssemblerConfig{MaxPendingFrames: 8, MaxFramePackets: 16, MaxPendingPackets: 64})
	payload := []byte{0x10, 0x00, 1, 2, 3}
	seq := uint16(0)
	for ts := uint32(0); ts < 1000; ts++ {
		// Frames that never complete (no marker), some of them huge.
		n := 3
		if ts%7 == 0 {
			n = 40
		}
		for k := 0; k < n; k++ {
			a.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts * 3000}, Payload: payload}, time.Time{})
			seq++
			if len(a.frames) > 8+1 || a.pendingPackets > 64+16 {
				t.Fatalf("unbounded: %d frames, %d packets pending", len(a.frames), a.pendingPackets)
			}
			for _, f := range a.frames {
				if len(f.pkts) > 16 {
					t.Fatalf("frame holds %d packets", len(f.pkts))
				}
			}
		}
	}
	if st := a.Stats(); st.FramesLost < 900 || st.FramesEmitted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAssemblerRecoversFromSequenceJump(t *testing.T) {
	frames := assemblerFixture(t)
	a := NewVP8Assembler(VP8AssemblerConfig{})
	emitted := 0
	for _, p := range flatten(packetize(frames, 300, 50000, 1<<31)) {
		out, _ := a.Push(p, time.Time{})
		emitted += len(out)
	}
	// The sender restarts with sequence numbers and timestamps in the past: they look late until
	// the assembler gives up on the old numbering and starts over (then waits for a keyframe).
	src := packetize(frames, 300, 30000, 1<<30)
	for _, p := range flatten(src) {
		out, _ := a.Push(p, time.Time{})
		emitted += len(out)
	}
	// The restart happens at the resetAfterLate-th packet; from the first keyframe that starts at
	// or after it, every frame must come out. (Packet counts vary: libvpx realtime output is not
	// deterministic.)
	want, n := 0, 0
	for i, f := range src {
		if f.key && n >= resetAfterLate-1 {
			want = len(src) - i
			break
		}
		n += len(f.pkts)
	}
	st := a.Stats()
	if st.Resets != 1 || emitted != len(frames)+want || want == 0 {
		t.Fatalf("emitted %d, want %d+%d, stats %+v", emitted, len(frames), want, st)
	}
}

func TestAssemblerInvalidPackets(t *testing.T) {
	a := NewVP8Assembler(VP8AssemblerConfig{})
	for i, pl := range [][]byte{{0x80}, {0x90, 0x80}, {0x10}, {0x10, 0x00, 0x01}, {0x90, 0xff, 0x80, 0x01}} {
		out, nk := a.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Marker: true}, Payload: pl}, time.Time{})
		if len(out) != 0 || !nk {
			t.Fatalf("payload % x: emitted %d, needKeyframe %v", pl, len(out), nk)
		}
	}
	if out, _ := a.Push(nil, time.Time{}); out != nil {
		t.Fatal("nil packet emitted frames")
	}
	if st := a.Stats(); st.Invalid != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestParseVP8Descriptor(t *testing.T) {
	cases := []struct {
		in   []byte
		want VP8Descriptor
	}{
		{[]byte{0x10, 0xaa}, VP8Descriptor{Start: true, Size: 1}},
		{[]byte{0x10}, VP8Descriptor{Start: true, Size: 1}}, // empty VP8 data is allowed
		{[]byte{0x80, 0x00}, VP8Descriptor{Size: 2}},        // X with no optional fields
		{[]byte{0x90, 0x80, 0x05, 0xaa}, VP8Descriptor{Start: true, HasPictureID: true, PictureID: 5, Size: 3}},
		{[]byte{0x80, 0x80, 0x81, 0x23, 0xaa}, VP8Descriptor{HasPictureID: true, PictureID: 0x123, Size: 4}},
		{[]byte{0xb3, 0xf0, 0x81, 0x23, 0x07, 0xe9, 0xaa}, VP8Descriptor{NonReference: true, Start: true, PartitionID: 3,
			HasPictureID: true, PictureID: 0x123, HasTL0PicIdx: true, TL0PicIdx: 7, HasTID: true, TID: 3, LayerSync: true,
			HasKeyIdx: true, KeyIdx: 9, Size: 6}},
	}
	for _, c := range cases {
		got, err := ParseVP8Descriptor(c.in)
		if err != nil || got != c.want {
			t.Errorf("% x: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, b := range [][]byte{nil, {0x80}, {0x80, 0x80}, {0x80, 0x80, 0x80}, {0x80, 0x40}, {0x80, 0x20}, {0x80, 0x10}, {0x80, 0xf0, 0x05, 0x01}} {
		if _, err := ParseVP8Descriptor(b); err == nil {
			t.Errorf("% x: no error", b)
		}
	}
	// Agree with pion's parser on what pion's payloader produces.
	p := &codecs.VP8Payloader{EnablePictureID: true}
	for i, pl := range p.Payload(50, bytes.Repeat([]byte{0x42}, 500)) {
		var pv codecs.VP8Packet
		body, err := pv.Unmarshal(pl)
		d, err2 := ParseVP8Descriptor(pl)
		if err != nil || err2 != nil || !bytes.Equal(body, pl[d.Size:]) || d.Start != (pv.S == 1) || d.PictureID != pv.PictureID {
			t.Fatalf("packet %d: pion %+v %v, ours %+v %v", i, pv, err, d, err2)
		}
	}
}
