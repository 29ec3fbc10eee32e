package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestWAVRoundTrip(t *testing.T) {
	for _, p := range []*PCM{
		{Rate: 48000, Channels: 1, Samples: sine(440, 48000, 4800, 12000)},
		{Rate: 22050, Channels: 2, Samples: []int16{1, -1, 32767, -32768, 0, 5}},
		{Rate: 8000, Channels: 1, Samples: nil},
	} {
		var buf bytes.Buffer
		if err := WriteWAV(&buf, p); err != nil {
			t.Fatal(err)
		}
		got, err := ReadWAV(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != p.Rate || got.Channels != p.Channels || len(got.Samples) != len(p.Samples) {
			t.Fatalf("got %d Hz %d ch %d samples, want %d %d %d", got.Rate, got.Channels, len(got.Samples), p.Rate, p.Channels, len(p.Samples))
		}
		for i := range p.Samples {
			if got.Samples[i] != p.Samples[i] {
				t.Fatalf("sample %d: %d, want %d", i, got.Samples[i], p.Samples[i])
			}
		}
	}
	st := &PCM{Rate: 100, Channels: 2, Samples: []int16{10, 20, -10, -30}}
	if m := st.Mono(); len(m) != 2 || m[0] != 15 || m[1] != -20 {
		t.Fatalf("Mono = %v", m)
	}
	if st.Frames() != 2 || st.Duration() != 20*time.Millisecond {
		t.Fatalf("Frames %d Duration %v", st.Frames(), st.Duration())
	}
}

func TestWAVRepoSpeech(t *testing.T) {
	f, err := os.Open("../../testdata/voice/LJ001-0011.wav")
	if err != nil {
		t.Skip("repository speech sample not present:", err)
	}
	defer f.Close()
	p, err := ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != 22050 || p.Channels != 1 || p.Duration() < 4*time.Second || p.Duration() > 5*time.Second {
		t.Fatalf("%d Hz, %d ch, %v", p.Rate, p.Channels, p.Duration())
	}
	if r := rms(p.Samples); r < 100 {
		t.Fatalf("speech RMS %.0f: silent?", r)
	}
}

func TestWAVSoxFiles(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not found")
	}
	dir := t.TempDir()
	// Stereo 44.1 kHz, and a 24-bit file that must be refused clearly.
	st, b24 := filepath.Join(dir, "st.wav"), filepath.Join(dir, "b24.wav")
	for _, args := range [][]string{
		{"-n", "-r", "44100", "-c", "2", "-b", "16", st, "synth", "0.5", "sine", "1000"},
		{"-n", "-r", "48000", "-c", "1", "-b", "24", b24, "synth", "0.1", "sine", "1000"},
	} {
		if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, out)
		}
	}
	data, _ := os.ReadFile(st)
	p, err := ReadWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != 44100 || p.Channels != 2 || p.Frames() != 22050 {
		t.Fatalf("%d Hz %d ch %d frames", p.Rate, p.Channels, p.Frames())
	}
	mono48 := p.To48kMono()
	if len(mono48) != 24000 {
		t.Fatalf("resampled to %d samples, want 24000", len(mono48))
	}
	if zc := zeroCrossings(mono48); zc < 990 || zc > 1010 {
		t.Fatalf("1 kHz tone has %d zero crossings in 0.5 s after resampling, want about 1000", zc)
	}
	data, _ = os.ReadFile(b24)
	if _, err := ReadWAV(bytes.NewReader(data)); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("24-bit file: %v, want ErrUnsupported", err)
	}
}

// wavBytes builds a WAV file from a fmt chunk body and data, with extra chunks before data.
func wavBytes(fmtBody []byte, data []byte, dataSize uint32, extra ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0))
	b.WriteString("WAVE")
	if fmtBody != nil {
		b.WriteString("fmt ")
		binary.Write(&b, binary.LittleEndian, uint32(len(fmtBody)))
		b.Write(fmtBody)
	}
	for _, e := range extra {
		b.Write(e)
	}
	if data != nil {
		b.WriteString("data")
		binary.Write(&b, binary.LittleEndian, dataSize)
		b.Write(data)
	}
	return b.Bytes()
}

func fmtChunk(format, channels uint16, rate uint32, bits uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], format)
	binary.LittleEndian.PutUint16(b[2:], channels)
	binary.LittleEndian.PutUint32(b[4:], rate)
	binary.LittleEndian.PutUint32(b[8:], rate*uint32(channels)*uint32(bits)/8)
	binary.LittleEndian.PutUint16(b[12:], channels*bits/8)
	binary.LittleEndian.PutUint16(b[14:], bits)
	return b
}

func TestWAVVariantsAndErrors(t *testing.T) {
	pcm := []byte{1, 0, 2, 0, 3, 0, 4, 0}
	mono := fmtChunk(1, 1, 16000, 16)
	ext := append(fmtChunk(0xFFFE, 1, 16000, 16), make([]byte, 24)...)
	ext[16] = 22                                         // cbSize
	binary.LittleEndian.PutUint16(ext[24:], 1)           // sub-format PCM
	list := append([]byte("LIST\x03\x00\x00\x00abc"), 0) // odd chunk with pad byte

	ok := map[string]struct {
		data []byte
		n    int
	}{
		"plain":             {wavBytes(mono, pcm, 8), 4},
		"extensible":        {wavBytes(ext, pcm, 8), 4},
		"list before data":  {wavBytes(mono, pcm, 8, list), 4},
		"streaming size -1": {wavBytes(mono, append(pcm, 9), 0xFFFFFFFF), 4},
		"streaming size 0":  {wavBytes(mono, pcm, 0), 4},
	}
	for name, c := range ok {
		p, err := ReadWAV(bytes.NewReader(c.data))
		if err != nil || len(p.Samples) != c.n || p.Samples[3] != 4 || p.Rate != 16000 {
			t.Errorf("%s: %v %+v", name, err, p)
		}
	}
	extFloat := bytes.Clone(ext)
	binary.LittleEndian.PutUint16(extFloat[24:], 3)
	bad := map[string]struct {
		data []byte
		want error
	}{
		"empty":            {nil, ErrTruncated},
		"not riff":         {append([]byte("RIFX"), wavBytes(mono, pcm, 8)[4:]...), ErrCorrupt},
		"not wave":         {append([]byte("RIFF\x00\x00\x00\x00AVI "), mono...), ErrCorrupt},
		"float":            {wavBytes(fmtChunk(3, 1, 16000, 32), pcm, 8), ErrUnsupported},
		"extensible float": {wavBytes(extFloat, pcm, 8), ErrUnsupported},
		"8 bit":            {wavBytes(fmtChunk(1, 1, 16000, 8), pcm, 8), ErrUnsupported},
		"3 channels":       {wavBytes(fmtChunk(1, 3, 16000, 16), pcm, 8), ErrUnsupported},
		"zero rate":        {wavBytes(fmtChunk(1, 1, 0, 16), pcm, 8), ErrCorrupt},
		"short fmt":        {wavBytes(mono[:12], pcm, 8), ErrCorrupt},
		"no fmt":           {wavBytes(nil, pcm, 8), ErrCorrupt},
		"no data":          {wavBytes(mono, nil, 0), ErrCorrupt},
		"truncated data":   {wavBytes(mono, pcm[:6], 8), ErrTruncated},
		"odd data":         {wavBytes(mono, pcm[:7], 7), ErrCorrupt},
		"huge chunk":       {wavBytes(mono, pcm, 8, []byte("junk\xff\xff\xff\x7f")), ErrCorrupt},
		"truncated chunk":  {wavBytes(mono, nil, 0, []byte("junk\x10\x00\x00\x00ab")), ErrTruncated},
	}
	for name, c := range bad {
		if _, err := ReadWAV(bytes.NewReader(c.data)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if err := WriteWAV(&bytes.Buffer{}, &PCM{Rate: 8000, Channels: 3}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("WriteWAV 3 channels: %v", err)
	}
}

func TestResample(t *testing.T) {
	in := sine(440, 22050, 22050, 10000)
	out := Resample(in, 22050, 48000)
	if len(out) != 48000 {
		t.Fatalf("%d samples, want 48000", len(out))
	}
	if zc := zeroCrossings(out); zc < 875 || zc > 885 {
		t.Fatalf("%d zero crossings, want 880", zc)
	}
	if r := rms(out); r < 6900 || r > 7200 {
		t.Fatalf("RMS %.0f, want about 7071", r)
	}
	down := Resample(out, 48000, 16000)
	if len(down) != 16000 || zeroCrossings(down) < 875 || zeroCrossings(down) > 885 {
		t.Fatalf("downsampled: %d samples, %d crossings", len(down), zeroCrossings(down))
	}
	same := Resample(in, 22050, 22050)
	if len(same) != len(in) || &same[0] == &in[0] {
		t.Fatal("equal rates must return a copy")
	}
	if Resample(in, 0, 48000) != nil || Resample(nil, 8000, 48000) != nil {
		t.Fatal("invalid input must return nil")
	}
	// Exact values on a ramp: upsampling by 2 interpolates midpoints.
	if got := Resample([]int16{0, 100, 200}, 1, 2); len(got) != 6 || got[1] != 50 || got[3] != 150 || got[5] != 200 {
		t.Fatalf("ramp: %v", got)
	}
}
