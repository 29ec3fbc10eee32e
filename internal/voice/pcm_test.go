package voice

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

func TestResample(t *testing.T) {
	// 1 kHz at 22.05 kHz → 48 kHz keeps frequency and amplitude.
	in := make([]float32, 22050)
	for i := range in {
		in[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(i)/22050))
	}
	out := Resample(in, 22050, SampleRate)
	if len(out) != SampleRate {
		t.Fatalf("len %d", len(out))
	}
	frames, _ := analyse(out)
	if f := frames[20]; math.Abs(f.RMSdB-20*math.Log10(0.5/math.Sqrt2)) > 0.05 || math.Abs(f.ZCR-2000.0/SampleRate) > 0.0015 {
		t.Errorf("resampled tone level %.2f dB ZCR %.4f", f.RMSdB, f.ZCR)
	}
	// Downsampling 48 kHz → 8 kHz removes a 6 kHz tone (above the new Nyquist).
	hi := sine(6000, 0.5, 1)
	down := Resample(hi, SampleRate, 8000)
	var e float64
	for _, v := range down[800 : len(down)-800] {
		e += float64(v) * float64(v)
	}
	rms := math.Sqrt(e / float64(len(down)-1600))
	if db := 20 * math.Log10(rms/(0.5/math.Sqrt2)); db > -60 {
		t.Errorf("6 kHz tone only attenuated %.1f dB by 8 kHz resampling", db)
	}
	// A ratio with too many phases for a table (47999/48000) still works.
	odd := Resample(sine(500, 0.5, 0.1), SampleRate, 47999)
	if len(odd) != 4800 {
		t.Errorf("len %d", len(odd))
	}
}

func wavBytes(format, channels, rate, bits int, data []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, uint16(format))
	binary.Write(&b, le, uint16(channels))
	binary.Write(&b, le, uint32(rate))
	binary.Write(&b, le, uint32(rate*channels*bits/8))
	binary.Write(&b, le, uint16(channels*bits/8))
	binary.Write(&b, le, uint16(bits))
	b.WriteString("data")
	binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func TestReadWAV(t *testing.T) {
	// 16-bit stereo: channels are averaged.
	var d bytes.Buffer
	for _, s := range [][2]int16{{16384, 0}, {-32768, -32768}, {100, 300}} {
		binary.Write(&d, binary.LittleEndian, s)
	}
	x, rate, err := ReadWAV(bytes.NewReader(wavBytes(1, 2, 16000, 16, d.Bytes())))
	if err != nil || rate != 16000 || len(x) != 3 || x[0] != 0.25 || x[1] != -1 || math.Abs(float64(x[2])-200.0/32768) > 1e-7 {
		t.Errorf("got %v %d %v", x, rate, err)
	}
	// 32-bit float mono.
	d.Reset()
	binary.Write(&d, binary.LittleEndian, []float32{0.5, -0.25})
	x, _, err = ReadWAV(bytes.NewReader(wavBytes(3, 1, 48000, 32, d.Bytes())))
	if err != nil || len(x) != 2 || x[0] != 0.5 || x[1] != -0.25 {
		t.Errorf("float: %v %v", x, err)
	}
	for name, b := range map[string][]byte{
		"empty":   nil,
		"not wav": []byte("RIFF\x00\x00\x00\x00AVI LIST"),
		"alaw":    wavBytes(6, 1, 8000, 8, []byte{1, 2}),
		"no data": wavBytes(1, 1, 8000, 16, nil)[:36],
	} {
		if _, _, err := ReadWAV(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// The repository's human clip reads as 22.05 kHz.
	if x := load48(t, ljPath2); len(x) < 4*SampleRate {
		t.Errorf("LJ clip too short: %d samples", len(x))
	}
}
