package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// classified reports whether err is one of the errors the readers promise for bad input.
func classified(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrUnsupported)
}

func FuzzIVFReader(f *testing.F) {
	var good bytes.Buffer
	w, _ := NewIVFWriter(&good, IVFHeader{Width: 64, Height: 48})
	w.WriteFrame([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00}, 0)
	w.WriteFrame([]byte{0x31, 0x00, 0x00}, 1)
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:40])
	f.Add([]byte("DKIF"))
	f.Add(append([]byte("DKIF\x00\x00\x40\x00VP80"), make([]byte, 60)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewIVFReader(bytes.NewReader(data))
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified header error: %v", err)
			}
			return
		}
		for i := 0; i < 1000; i++ {
			fr, _, err := r.NextFrame()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !classified(err) {
					t.Fatalf("unclassified frame error: %v", err)
				}
				return
			}
			if len(fr) > MaxIVFFrameSize || len(fr) > len(data) {
				t.Fatalf("frame of %d bytes from %d bytes of input", len(fr), len(data))
			}
		}
	})
}

func FuzzY4MReader(f *testing.F) {
	f.Add([]byte("YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg\nFRAME\n012345678901"))
	f.Add([]byte("YUV4MPEG2 W3 H3 C420mpeg2 XYSCSS=420MPEG2\nFRAME Ip\n0123456789abcdefghijklmnopq"))
	f.Add([]byte("YUV4MPEG2 W2 H2 C420paldv\nFRAME\n012345FRAME\n012345"))
	f.Add([]byte("YUV4MPEG2 W2 H2 C444\nFRAME\n012345678901"))
	f.Add([]byte("YUV4MPEG2 W16384 H4096\nFRAME\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewY4MReader(bytes.NewReader(data))
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified header error: %v", err)
			}
			return
		}
		h := r.Header()
		if h.Width <= 0 || h.Height <= 0 || h.FPSNum <= 0 || h.FPSDen <= 0 {
			t.Fatalf("accepted header %+v", h)
		}
		for i := 0; i < 16; i++ {
			fr, err := r.NextFrame()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !classified(err) {
					t.Fatalf("unclassified frame error: %v", err)
				}
				return
			}
			cs := ((h.Width + 1) / 2) * ((h.Height + 1) / 2)
			if len(fr.Y) != h.Width*h.Height || len(fr.U) != cs || len(fr.V) != cs || len(fr.Y) > len(data) {
				t.Fatalf("frame planes %d/%d/%d for %dx%d", len(fr.Y), len(fr.U), len(fr.V), h.Width, h.Height)
			}
		}
	})
}

func FuzzWAVReader(f *testing.F) {
	var b bytes.Buffer
	WriteWAV(&b, &PCM{Rate: 16000, Channels: 2, Samples: []int16{1, 2, 3, 4}})
	f.Add(b.Bytes())
	f.Add(wavBytes(fmtChunk(1, 1, 8000, 16), []byte{1, 2, 3}, 0xFFFFFFFF, []byte("LIST\x01\x00\x00\x00x\x00")))
	ext := append(fmtChunk(0xFFFE, 1, 16000, 16), make([]byte, 24)...)
	ext[24] = 1
	f.Add(wavBytes(ext, []byte{1, 2}, 2))
	f.Add(wavBytes(fmtChunk(3, 1, 8000, 32), []byte{1, 2, 3, 4}, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadWAV(bytes.NewReader(data))
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if (p.Channels != 1 && p.Channels != 2) || p.Rate <= 0 || len(p.Samples)%p.Channels != 0 || 2*len(p.Samples) > len(data) {
			t.Fatalf("accepted %d Hz %d ch %d samples from %d bytes", p.Rate, p.Channels, len(p.Samples), len(data))
		}
		var out bytes.Buffer
		if err := WriteWAV(&out, p); err != nil {
			t.Fatal(err)
		}
		q, err := ReadWAV(&out)
		if err != nil || q.Rate != p.Rate || q.Channels != p.Channels || len(q.Samples) != len(p.Samples) {
			t.Fatalf("round trip: %v", err)
		}
		_ = Resample(p.Mono(), p.Rate, OpusSampleRate)
	})
}

func FuzzVP8Descriptor(f *testing.F) {
	for _, s := range [][]byte{{0x10, 0x9d}, {0x90, 0x80, 0x81, 0x23, 0x00}, {0xb3, 0xf0, 0x81, 0x23, 0x07, 0xe9, 0xaa}, {0x80}, {0x80, 0x80, 0x80}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseVP8Descriptor(data)
		var pv codecs.VP8Packet
		body, perr := pv.Unmarshal(data)
		if (err == nil) != (perr == nil) {
			t.Fatalf("ours: %+v %v; pion: %v", d, err, perr)
		}
		if err != nil {
			return
		}
		if d.Size < 1 || d.Size > len(data) || !bytes.Equal(body, data[d.Size:]) ||
			d.Start != (pv.S == 1) || d.PartitionID != pv.PID || (d.HasPictureID && d.PictureID != pv.PictureID) {
			t.Fatalf("ours %+v, pion %+v", d, pv)
		}
		if (d.HasTID && (d.TID != pv.TID || d.LayerSync != (pv.Y == 1))) || (d.HasTL0PicIdx && d.TL0PicIdx != pv.TL0PICIDX) {
			t.Fatalf("layers: ours %+v, pion %+v", d, pv)
		}
		_, _ = ParseVP8FrameHeader(data[d.Size:])
		if r, err := ParseVP8Refresh(data[d.Size:]); err == nil && r.Keyframe && r.Droppable() {
			t.Fatalf("a keyframe read as droppable: %+v", r)
		}
	})
}

// synthFrames makes n small VP8-like frames (a keyframe every 8th) whose bytes identify them.
func synthFrames(n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		b := make([]byte, 3+(i*37)%700)
		b[0] = 0x11 // inter frame, shown
		if i%8 == 0 {
			b[0] = 0x10
		}
		b[1], b[2] = byte(i), byte(i>>8)
		for j := 3; j < len(b); j++ {
			b[j] = byte(i*7 + j)
		}
		frames[i] = b
	}
	return frames
}

// FuzzAssembler lets the fuzzer reorder, duplicate and drop the packets of a valid stream.
// Whatever it does, emitted frames must be exact, in order and decodable (see checkEmitted),
// and memory must stay bounded.
func FuzzAssembler(f *testing.F) {
	f.Add(uint16(65500), uint32(0xFFFFF000), uint8(60), uint8(0), []byte{})
	f.Add(uint16(1), uint32(5), uint8(40), uint8(1), []byte{0x21, 0x00, 0x47, 0x08, 0xe1, 0x10})
	f.Add(uint16(30000), uint32(1<<31), uint8(200), uint8(2), []byte{0xff, 0x01, 0x80, 0x40, 0x00, 0x09})
	frames := synthFrames(40)
	f.Fuzz(func(t *testing.T, seq0 uint16, ts0 uint32, mtu uint8, reorder uint8, ops []byte) {
		src := packetize(frames, uint16(mtu)+8, seq0, ts0)
		pkts := flatten(src)
		var stream []*rtp.Packet
		for i := 0; i < len(pkts); i++ {
			op := byte(0)
			if len(ops) > 0 {
				op = ops[i%len(ops)]
			}
			switch {
			case op&0x0f == 1: // drop
			case op&0x0f == 2: // duplicate
				stream = append(stream, pkts[i], pkts[i])
			case op&0x0f == 3 && i+int(op>>4)+1 < len(pkts): // swap forward
				j := i + int(op>>4) + 1
				pkts[i], pkts[j] = pkts[j], pkts[i]
				stream = append(stream, pkts[i])
			default:
				stream = append(stream, pkts[i])
			}
		}
		cfg := VP8AssemblerConfig{ReorderFrames: int(reorder % 4), MaxPendingFrames: 8, MaxPendingPackets: 256}
		a := NewVP8Assembler(cfg)
		var out []AssembledFrame
		for _, p := range stream {
			fr, _ := a.Push(p, time.Time{})
			out = append(out, fr...)
			if len(a.frames) > cfg.MaxPendingFrames+1 || a.pendingPackets > cfg.MaxPendingPackets+cfg.MaxFramePackets {
				t.Fatalf("unbounded: %d frames %d packets", len(a.frames), a.pendingPackets)
			}
		}
		if a.Stats().Resets == 0 {
			checkEmitted(t, src, out)
		}
	})
}

// FuzzAssemblerRaw feeds arbitrary packets (any sequence numbers, timestamps and payloads).
func FuzzAssemblerRaw(f *testing.F) {
	rec := func(seq uint16, ts uint32, marker bool, payload ...byte) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint16(b, seq)
		binary.BigEndian.PutUint32(b[2:], ts)
		if marker {
			b[6] = 1
		}
		b[7] = byte(len(payload))
		return append(b, payload...)
	}
	f.Add(append(rec(1, 100, false, 0x10, 0x10, 0, 0), rec(2, 100, true, 0x00, 1, 2)...))
	f.Add(append(rec(65535, 0xffffffff, true, 0x90, 0x80, 0x01, 0x10), rec(0, 2999, true, 0x10, 0x11)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := NewVP8Assembler(VP8AssemblerConfig{MaxPendingFrames: 4, MaxFramePackets: 8, MaxPendingPackets: 16})
		emitted := 0
		for len(data) >= 8 {
			n := int(data[7])
			if 8+n > len(data) {
				n = len(data) - 8
			}
			p := &rtp.Packet{Header: rtp.Header{
				SequenceNumber: binary.BigEndian.Uint16(data),
				Timestamp:      binary.BigEndian.Uint32(data[2:]),
				Marker:         data[6]&1 == 1,
			}, Payload: data[8 : 8+n]}
			data = data[8+n:]
			fr, _ := a.Push(p, time.Time{})
			for _, f := range fr {
				if len(f.Data) == 0 || f.Packets < 1 {
					t.Fatalf("emitted %+v", f)
				}
			}
			emitted += len(fr)
			if len(a.frames) > 5 || a.pendingPackets > 16+8 {
				t.Fatalf("unbounded: %d frames %d packets", len(a.frames), a.pendingPackets)
			}
		}
		if st := a.Stats(); st.FramesEmitted != uint64(emitted) {
			t.Fatalf("stats %+v, emitted %d", st, emitted)
		}
	})
}

// FuzzVP8Decode feeds damaged frames to libvpx through the decoder: errors are fine, crashes and
// wrong plane sizes are not. Seeds are a small keyframe and inter frame made by ffmpeg.
func FuzzVP8Decode(f *testing.F) {
	ivf := fixtureDir + "/fuzz-64x48.ivf"
	runFFmpeg(f, "-f", "lavfi", "-i", "testsrc=size=64x48:rate=15", "-frames:v", "2",
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", ivf)
	frames := readIVFFrames(f, ivf)
	f.Add(frames[0], frames[1])
	f.Add(frames[0][:len(frames[0])/2], frames[1])
	dec, err := NewVP8Decoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, inter []byte) {
		for _, b := range [][]byte{key, inter} {
			_, _ = ParseVP8Refresh(b) // must not panic on any bytes
			fr, err := dec.Decode(b, time.Time{})
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrNeedKeyframe) &&
					!errors.Is(err, ErrNoFrame) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("unclassified error: %v", err)
				}
				continue
			}
			cs := ((fr.Width + 1) / 2) * ((fr.Height + 1) / 2)
			if fr.Width <= 0 || fr.Height <= 0 || len(fr.Y) != fr.Width*fr.Height || len(fr.U) != cs || len(fr.V) != cs {
				t.Fatalf("frame %dx%d planes %d/%d/%d", fr.Width, fr.Height, len(fr.Y), len(fr.U), len(fr.V))
			}
			dec.Release(fr)
		}
	})
}
