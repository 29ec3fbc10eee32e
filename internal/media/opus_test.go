package media

import (
	"errors"
	"math"
	"testing"
)

func sine(freq float64, rate, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// goertzel returns the power of samples at freq (Hz), normalised by the length.
func goertzel(samples []int16, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return p / float64(len(samples)*len(samples))
}

func rms(samples []int16) float64 {
	var s float64
	for _, x := range samples {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s / float64(len(samples)))
}

func zeroCrossings(samples []int16) int {
	n := 0
	for i := 1; i < len(samples); i++ {
		if (samples[i-1] < 0) != (samples[i] < 0) {
			n++
		}
	}
	return n
}

// opusRoundTrip encodes pcm (interleaved, rate, channels) in 20 ms frames and decodes it to 48 kHz mono.
func opusRoundTrip(t *testing.T, pcm []int16, rate, channels int) []int16 {
	t.Helper()
	enc, err := NewOpusEncoder(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := enc.SetBitrate(64000); err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []int16
	fs := enc.FrameSamples()
	for off := 0; off+fs <= len(pcm); off += fs {
		pkt, err := enc.Encode(pcm[off : off+fs])
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 960 {
			t.Fatalf("decoded %d samples from 20 ms, want 960", len(got))
		}
		out = append(out, got...)
	}
	return out
}

func TestOpusSineRoundTrip(t *testing.T) {
	in := sine(440, 48000, 48000, 10000)
	out := opusRoundTrip(t, in, 48000, 1)
	if len(out) != 48000 {
		t.Fatalf("decoded %d samples, want 48000", len(out))
	}
	steady := out[4800:] // skip the codec's start-up (look-ahead and pre-skip)
	if r := rms(steady); math.Abs(r-rms(in))/rms(in) > 0.15 {
		t.Errorf("RMS %.0f, want within 15%% of %.0f", r, rms(in))
	}
	p440, p1000, p880 := goertzel(steady, 440, 48000), goertzel(steady, 1000, 48000), goertzel(steady, 880, 48000)
	if p440 < 1000*p1000 || p440 < 1000*p880 {
		t.Errorf("tone not preserved: power at 440 Hz %.3g, 880 Hz %.3g, 1000 Hz %.3g", p440, p880, p1000)
	}
	// 440 Hz has 880 zero crossings per second.
	if zc := zeroCrossings(steady) * 48000 / len(steady); zc < 870 || zc > 890 {
		t.Errorf("%d zero crossings per second, want about 880", zc)
	}
}

func TestOpusStereo16kDecodesToMono48k(t *testing.T) {
	mono := sine(300, 16000, 16000, 8000)
	st := make([]int16, 2*len(mono))
	for i, s := range mono {
		st[2*i], st[2*i+1] = s, s
	}
	out := opusRoundTrip(t, st, 16000, 2)
	if len(out) != 48000 {
		t.Fatalf("decoded %d samples, want 48000 (1 s at 48 kHz)", len(out))
	}
	steady := out[4800:]
	if p300, p1000 := goertzel(steady, 300, 48000), goertzel(steady, 1000, 48000); p300 < 1000*p1000 {
		t.Errorf("tone not preserved: 300 Hz %.3g vs 1000 Hz %.3g", p300, p1000)
	}
}

func TestOpusErrors(t *testing.T) {
	dec, err := NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Decode(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty payload: %v, want ErrEmpty", err)
	}
	if _, err := dec.Decode([]byte{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty payload: %v, want ErrEmpty", err)
	}
	// TOC code 3 (arbitrary frame count) without the count byte is invalid.
	if _, err := dec.Decode([]byte{0x03}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("invalid packet: %v, want ErrCorrupt", err)
	}
	small := make([]int16, 100)
	enc, err := NewOpusEncoder(48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := enc.Encode(make([]int16, 960))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.DecodeTo(pkt, small); err == nil {
		t.Error("DecodeTo into a 100-sample buffer succeeded for a 960-sample frame")
	}
	if n, err := dec.DecodeTo(pkt, make([]int16, 960)); err != nil || n != 960 {
		t.Errorf("DecodeTo: %d, %v", n, err)
	}
	if plc, err := dec.Conceal(960); err != nil || len(plc) != 960 {
		t.Errorf("Conceal: %d samples, %v", len(plc), err)
	}
	if _, err := dec.Conceal(0); err == nil {
		t.Error("Conceal(0) succeeded")
	}
	if _, err := enc.Encode(make([]int16, 959)); err == nil {
		t.Error("Encode of 959 samples succeeded")
	}
	if _, err := NewOpusEncoder(44100, 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("44.1 kHz encoder: %v, want ErrUnsupported", err)
	}
	if _, err := NewOpusEncoder(48000, 3); !errors.Is(err, ErrUnsupported) {
		t.Errorf("3-channel encoder: %v, want ErrUnsupported", err)
	}
	dec.Close()
	dec.Close()
	enc.Close()
	enc.Close()
	if _, err := dec.Decode(pkt); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
	if _, err := enc.Encode(make([]int16, 960)); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
}
