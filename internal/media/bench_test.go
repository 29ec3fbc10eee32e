package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/livecheck/livecheck/models"
)

// BenchmarkVP8Decode640x480 decodes an ffmpeg/libvpx realtime (cpu-used 8, 800 kbit/s) 640x480
// stream frame by frame, including the copy into packed planes; released frames are reused.
func BenchmarkVP8Decode640x480(b *testing.B) {
	fx := loadVP8Fixture(b, 10, 150)
	dec, err := NewVP8Decoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	var bytes int64
	for _, f := range fx.frames {
		bytes += int64(len(f))
	}
	b.SetBytes(bytes / int64(len(fx.frames)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := dec.Decode(fx.frames[i%len(fx.frames)], time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		dec.Release(f)
	}
}

// BenchmarkVP8DecodeLazy640x480 is BenchmarkVP8Decode640x480 without the copy
// (DecodeLazy): what a frame the analysis does not take costs live.
func BenchmarkVP8DecodeLazy640x480(b *testing.B) {
	fx := loadVP8Fixture(b, 10, 150)
	dec, err := NewVP8Decoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	var meta models.Frame
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := dec.DecodeLazy(fx.frames[i%len(fx.frames)], time.Time{}, &meta); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpusDecode20ms decodes 20 ms packets (48 kHz mono, 64 kbit/s music-mode sine) with
// DecodeTo into a reused buffer.
func BenchmarkOpusDecode20ms(b *testing.B) {
	enc, err := NewOpusEncoder(48000, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	enc.SetBitrate(64000)
	pcm := sine(440, 48000, 48000, 10000)
	var pkts [][]byte
	for off := 0; off+960 <= len(pcm); off += 960 {
		p, err := enc.Encode(pcm[off : off+960])
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	dec, err := NewOpusDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	out := make([]int16, 5760)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dec.DecodeTo(pkts[i%len(pkts)], out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssembler pushes the packets of the 640x480 stream (MTU 1200, as browsers send);
// one op is one packet.
func BenchmarkAssembler(b *testing.B) {
	fx := loadVP8Fixture(b, 10, 150)
	// Lay the stream out several times with continuing sequence numbers and timestamps.
	var pkts []*rtp.Packet
	seq, ts := uint16(100), uint32(0)
	for r := 0; r < 4; r++ {
		src := packetize(fx.frames, 1200, seq, ts)
		pkts = append(pkts, flatten(src)...)
		last := src[len(src)-1]
		seq = last.pkts[len(last.pkts)-1].SequenceNumber + 1
		ts = last.ts + 6000
	}
	b.ReportAllocs()
	b.ResetTimer()
	a := NewVP8Assembler(VP8AssemblerConfig{})
	frames := 0
	for i := 0; i < b.N; i++ {
		if i%len(pkts) == 0 && i > 0 {
			a = NewVP8Assembler(VP8AssemblerConfig{})
		}
		out, _ := a.Push(pkts[i%len(pkts)], time.Time{})
		frames += len(out)
	}
	b.ReportMetric(float64(len(pkts))/float64(4*len(fx.frames)), "pkts/frame")
}
