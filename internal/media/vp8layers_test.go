package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/models"
)

// encodeLayered encodes the fixture's first n frames with temporal layers (a keyframe forced at
// forceKey, -1 for none) and returns the frames with their TIDs.
func encodeLayered(t *testing.T, fx *vp8Fixture, layers, n, forceKey int) (frames [][]byte, tids []uint8) {
	t.Helper()
	enc, err := NewVP8Encoder(VP8EncoderConfig{Width: 640, Height: 480, FPS: 15, BitrateKbps: 800, TemporalLayers: layers, Good: true})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for i := 0; i < n; i++ {
		y, u, v := fx.refFrame(i % len(fx.frames)) // looped: a jump back is a scene cut, no matter
		data, _, err := enc.Encode(&models.Frame{Width: 640, Height: 480, Y: y, U: u, V: v}, i == forceKey)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		tid, _ := enc.LastLayer()
		frames = append(frames, data)
		tids = append(tids, tid)
	}
	return frames, tids
}

// TestVP8TemporalLayersSkipNoDrift encodes L1T2 and L1T3 streams with libvpx (a keyframe forced
// in the middle of the pattern), checks that the frame header's refresh flags say what the
// encoder was told (top layer: droppable; TL0/TL1: not), and decodes the stream twice with the
// real decoder: every frame, and skipping the frames whose header says droppable. The frames
// decoded both ways must be bit-identical (no drift), and the skipped share is the top layer's.
// A stream without layers has no droppable frame.
func TestVP8TemporalLayersSkipNoDrift(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	const n = 40
	for _, layers := range []int{1, 2, 3} {
		frames, tids := encodeLayered(t, fx, layers, n, 21)
		top := uint8(layers - 1)
		all, err := NewVP8Decoder()
		if err != nil {
			t.Fatal(err)
		}
		skip, err := NewVP8Decoder()
		if err != nil {
			t.Fatal(err)
		}
		skipped, compared := 0, 0
		var tr VP8DropTracker
		for i, data := range frames {
			r, err := ParseVP8Refresh(data)
			if err != nil {
				t.Fatalf("L1T%d frame %d: %v", layers, i, err)
			}
			wantDrop := layers > 1 && tids[i] == top && !r.Keyframe
			drop := tr.Droppable(r)
			if drop != wantDrop {
				t.Errorf("L1T%d frame %d (TID %d): header %+v droppable %v, want %v", layers, i, tids[i], r, drop, wantDrop)
			}
			if layers == 3 && tids[i] == 1 && (!r.Golden || r.Last) {
				t.Errorf("L1T3 frame %d: TL1 should refresh golden only: %+v", i, r)
			}
			fa, err := all.Decode(data, time.Time{})
			if err != nil {
				t.Fatalf("L1T%d frame %d: decode: %v", layers, i, err)
			}
			if drop {
				skipped++
				all.Release(fa)
				continue
			}
			tr.Decoded(r, nil)
			fs, err := skip.Decode(data, time.Time{})
			if err != nil {
				t.Fatalf("L1T%d frame %d: decode after skipping: %v", layers, i, err)
			}
			if !bytes.Equal(fa.Y, fs.Y) || !bytes.Equal(fa.U, fs.U) || !bytes.Equal(fa.V, fs.V) {
				t.Fatalf("L1T%d frame %d: skipping the droppable frames changed the picture (drift)", layers, i)
			}
			compared++
			all.Release(fa)
			skip.Release(fs)
		}
		all.Close()
		skip.Close()
		t.Logf("L1T%d: %d frames, %d skipped, %d compared bit-identical", layers, n, skipped, compared)
		switch layers {
		case 1:
			if skipped != 0 {
				t.Errorf("L1T1: %d frames droppable, want 0", skipped)
			}
		default: // every second frame, less the one the forced keyframe took
			if skipped < n/2-2 || skipped > n/2 {
				t.Errorf("L1T%d: %d of %d frames droppable, want about half", layers, skipped, n)
			}
		}
	}
}

// TestVP8RefreshHeaderBeatsDescriptor: a sender that marks every frame of a stream without
// layers as the top layer, non-reference (TID 2, N=1) in the payload descriptor, cannot make the
// header check call a reference frame droppable — and skipping by the descriptor alone would
// have drifted, which the test also shows with the real decoder.
func TestVP8RefreshHeaderBeatsDescriptor(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	frames, _ := encodeLayered(t, fx, 1, 20, -1)
	asm := NewVP8Assembler(VP8AssemblerConfig{})
	var pz VP8Packetizer
	all, _ := NewVP8Decoder()
	byDesc, _ := NewVP8Decoder()
	defer all.Close()
	defer byDesc.Close()
	seq, differ := uint16(100), false
	var tr VP8DropTracker
	for i, data := range frames {
		var got []AssembledFrame
		pls := pz.Payloads(data, 2, true, true) // the lie
		for j, pl := range pls {
			d, err := ParseVP8Descriptor(pl)
			if err != nil || !d.HasTID || d.TID != 2 || !d.NonReference {
				t.Fatalf("frame %d: descriptor %+v %v", i, d, err)
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(i) * 6000, Marker: j == len(pls)-1}, Payload: pl}
			seq++
			fs, _ := asm.Push(p, time.Now())
			got = append(got, fs...)
		}
		if len(got) != 1 || !bytes.Equal(got[0].Data, data) {
			t.Fatalf("frame %d: assembled %d frames", i, len(got))
		}
		r, err := ParseVP8Refresh(got[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Droppable(r) {
			t.Fatalf("frame %d: header of a reference frame read as droppable: %+v", i, r)
		}
		tr.Decoded(r, nil)
		fa, err := all.Decode(data, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // what trusting the descriptor's TID 2 would do to every second frame
			fb, err := byDesc.Decode(data, time.Time{})
			if err == nil {
				differ = differ || !bytes.Equal(fa.Y, fb.Y)
				byDesc.Release(fb)
			}
		}
		all.Release(fa)
	}
	if !differ {
		t.Errorf("skipping reference frames by the descriptor gave the same pictures: the test does not show drift")
	}
}

// BenchmarkVP8DecodeLayered decodes a libvpx L1T3 640x480 stream (realtime, 800 kbit/s, the
// loadgen's --layers 3) per frame received: "all" decodes every frame (DecodeLazy), "skip" parses
// every header and decodes only the frames VP8DropTracker keeps. ns/op is per frame received.
func BenchmarkVP8DecodeLayered(b *testing.B) {
	fx := loadVP8Fixture(b, 10, 150)
	enc, err := NewVP8Encoder(VP8EncoderConfig{Width: 640, Height: 480, FPS: 15, BitrateKbps: 800, TemporalLayers: 3, KeyframeMax: 75})
	if err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	for i := range fx.frames {
		y, u, v := fx.refFrame(i)
		data, _, err := enc.Encode(&models.Frame{Width: 640, Height: 480, Y: y, U: u, V: v}, i%75 == 0)
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, data)
	}
	enc.Close()
	for _, skip := range []bool{false, true} {
		name := "all"
		if skip {
			name = "skip"
		}
		b.Run(name, func(b *testing.B) {
			dec, err := NewVP8Decoder()
			if err != nil {
				b.Fatal(err)
			}
			defer dec.Close()
			var meta models.Frame
			var tr VP8DropTracker
			decoded := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				data := frames[i%len(frames)]
				if skip {
					r, rerr := ParseVP8Refresh(data)
					if rerr == nil && !dec.NeedKeyframe() && tr.Droppable(r) {
						continue
					}
					tr.Decoded(r, rerr)
				}
				if err := dec.DecodeLazy(data, time.Time{}, &meta); err != nil {
					b.Fatal(err)
				}
				decoded++
			}
			b.ReportMetric(float64(decoded)/float64(b.N), "decoded/frame")
		})
	}
}

// TestVP8DropTrackerState: a top-layer frame that restates the loop-filter deltas the decoder
// has is droppable; one that changes any of them, or that refreshes or copies anything, is not;
// before a keyframe, and after a decoded frame whose header did not parse, nothing is.
func TestVP8DropTrackerState(t *testing.T) {
	var tr VP8DropTracker
	top := VP8Refresh{LFDeltas: true, LFDeltaSet: 0xff, LFDelta: [8]int8{2, 0, -2, -2, 4, -2, 2, 4}}
	if tr.Droppable(top) {
		t.Fatal("droppable before any keyframe")
	}
	key := VP8Refresh{Keyframe: true, Last: true, Golden: true, AltRef: true, LFDeltas: true, LFDeltaSet: 0xff, LFDelta: top.LFDelta}
	if tr.Droppable(key) {
		t.Fatal("a keyframe droppable")
	}
	tr.Decoded(key, nil)
	if !tr.Droppable(top) {
		t.Fatal("a top-layer frame restating the deltas is not droppable")
	}
	changed := top
	changed.LFDelta[5] = 0
	if tr.Droppable(changed) {
		t.Error("a frame changing a loop-filter delta is droppable")
	}
	for name, r := range map[string]VP8Refresh{
		"last": {Last: true}, "golden": {Golden: true}, "altref": {AltRef: true}, "copy to golden": {CopyToGolden: 1},
		"copy to altref": {CopyToAltRef: 2}, "entropy": {Entropy: true}, "segmentation": {Segmentation: true},
	} {
		if tr.Droppable(r) {
			t.Errorf("a frame updating %s is droppable", name)
		}
	}
	partial := VP8Refresh{LFDeltas: true, LFDeltaSet: 1 << 5, LFDelta: [8]int8{5: 7}}
	tr.Decoded(partial, nil) // a decoded frame sets delta 5 only
	if tr.Droppable(top) {
		t.Error("the tracker did not follow a decoded frame's delta update")
	}
	tr.Decoded(VP8Refresh{}, ErrCorrupt)
	if tr.Droppable(VP8Refresh{}) {
		t.Error("droppable after a decoded frame whose header did not parse")
	}
	tr.Decoded(key, nil)
	if !tr.Droppable(VP8Refresh{}) {
		t.Error("a frame changing nothing is not droppable after a keyframe")
	}
}
