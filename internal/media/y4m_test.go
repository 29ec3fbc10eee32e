package media

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

func TestY4MFFmpeg(t *testing.T) {
	dir := t.TempDir()
	y4m, raw := filepath.Join(dir, "in.y4m"), filepath.Join(dir, "in.yuv")
	// Odd-free small size; 5 frames at 15 fps.
	runFFmpeg(t, "-f", "lavfi", "-i", "testsrc=size=96x64:rate=15", "-frames:v", "5", "-pix_fmt", "yuv420p", y4m)
	runFFmpeg(t, "-i", y4m, "-f", "rawvideo", "-pix_fmt", "yuv420p", raw)
	ref, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(y4m)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewY4MReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.Width != 96 || h.Height != 64 || h.FPSNum != 15 || h.FPSDen != 1 || h.FrameDuration() != time.Second/15 {
		t.Fatalf("header %+v", h)
	}
	r.Start = time.Unix(100, 0)
	const fs = 96*64 + 2*48*32
	for i := 0; i < 5; i++ {
		fr, err := r.NextFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		got := append(append(append([]byte(nil), fr.Y...), fr.U...), fr.V...)
		if !bytes.Equal(got, ref[i*fs:(i+1)*fs]) {
			t.Fatalf("frame %d differs from ffmpeg's raw output", i)
		}
		if fr.Seq != uint64(i+1) || !fr.Keyframe || !fr.Capture.Equal(time.Unix(100, 0).Add(time.Duration(i)*time.Second/15)) {
			t.Fatalf("frame %d: seq %d key %v capture %v", i, fr.Seq, fr.Keyframe, fr.Capture)
		}
	}
	if _, err := r.NextFrame(); err != io.EOF {
		t.Fatalf("after last frame: %v", err)
	}
}

func testFrame(w, h int, seed byte) *models.Frame {
	cs := ((w + 1) / 2) * ((h + 1) / 2)
	f := &models.Frame{Width: w, Height: h, Y: make([]byte, w*h), U: make([]byte, cs), V: make([]byte, cs)}
	for i := range f.Y {
		f.Y[i] = byte(i) + seed
	}
	for i := range f.U {
		f.U[i], f.V[i] = byte(i*3)+seed, byte(i*5)+seed
	}
	return f
}

func TestY4MRoundTripChromaVariants(t *testing.T) {
	for _, chroma := range []string{"420jpeg", "420mpeg2", "420paldv", "420"} {
		var buf bytes.Buffer
		w, err := NewY4MWriter(&buf, Y4MHeader{Width: 7, Height: 5, FPSNum: 30000, FPSDen: 1001, Chroma: chroma})
		if err != nil {
			t.Fatal(err)
		}
		in := []*models.Frame{testFrame(7, 5, 1), testFrame(7, 5, 2)}
		for _, f := range in {
			if err := w.WriteFrame(f); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteFrame(testFrame(8, 5, 0)); err == nil {
			t.Fatal("frame of the wrong size written")
		}
		r, err := NewY4MReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", chroma, err)
		}
		if h := r.Header(); h.Chroma != chroma || h.FPSNum != 30000 || h.FPSDen != 1001 || h.Interlace != 'p' {
			t.Fatalf("%s: header %+v", chroma, h)
		}
		var f models.Frame
		for i, want := range in {
			if err := r.ReadFrameInto(&f); err != nil {
				t.Fatalf("%s frame %d: %v", chroma, i, err)
			}
			if f.Width != 7 || f.Height != 5 || !bytes.Equal(f.Y, want.Y) || !bytes.Equal(f.U, want.U) || !bytes.Equal(f.V, want.V) {
				t.Fatalf("%s frame %d differs", chroma, i)
			}
		}
		if err := r.ReadFrameInto(&f); err != io.EOF {
			t.Fatalf("%s: end: %v", chroma, err)
		}
	}
}

func TestY4MMalformed(t *testing.T) {
	frame := "FRAME\n" + strings.Repeat("x", 4*2+2*2*1)
	cases := map[string]struct {
		data string
		want error
	}{
		"empty":              {"", ErrTruncated},
		"no newline":         {"YUV4MPEG2 W4 H2", ErrTruncated},
		"bad magic":          {"YUV4MPEG W4 H2\n", ErrCorrupt},
		"missing width":      {"YUV4MPEG2 H2 F25:1\n", ErrCorrupt},
		"bad width":          {"YUV4MPEG2 Wx H2\n", ErrCorrupt},
		"negative height":    {"YUV4MPEG2 W4 H-2\n", ErrCorrupt},
		"zero fps":           {"YUV4MPEG2 W4 H2 F0:1\n", ErrCorrupt},
		"bad ratio":          {"YUV4MPEG2 W4 H2 F25\n", ErrCorrupt},
		"unknown field":      {"YUV4MPEG2 W4 H2 Z9\n", ErrCorrupt},
		"chroma 422":         {"YUV4MPEG2 W4 H2 C422\n", ErrUnsupported},
		"chroma 444":         {"YUV4MPEG2 W4 H2 C444\n", ErrUnsupported},
		"chroma 420p10":      {"YUV4MPEG2 W4 H2 C420p10\n", ErrUnsupported},
		"chroma mono":        {"YUV4MPEG2 W4 H2 Cmono\n", ErrUnsupported},
		"too large":          {"YUV4MPEG2 W20000 H2\n", ErrUnsupported},
		"line too long":      {"YUV4MPEG2 W4 H2 X" + strings.Repeat("a", 5000) + "\n", ErrCorrupt},
		"interlace too long": {"YUV4MPEG2 W4 H2 Ipt\n", ErrCorrupt},
	}
	for name, c := range cases {
		_, err := NewY4MReader(strings.NewReader(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	frameCases := map[string]struct {
		data string
		want error
	}{
		"bad marker":     {"YUV4MPEG2 W4 H2\nFRAMEX\n" + frame[6:], ErrCorrupt},
		"no marker":      {"YUV4MPEG2 W4 H2\n" + frame[6:] + "\n", ErrCorrupt},
		"truncated":      {"YUV4MPEG2 W4 H2\n" + frame[:len(frame)-1], ErrTruncated},
		"marker no data": {"YUV4MPEG2 W4 H2\nFRAME\n", ErrTruncated},
		"marker no nl":   {"YUV4MPEG2 W4 H2\nFRAME", ErrTruncated},
	}
	for name, c := range frameCases {
		r, err := NewY4MReader(strings.NewReader(c.data))
		if err != nil {
			t.Fatalf("%s: header: %v", name, err)
		}
		if _, err := r.NextFrame(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Frame parameters after FRAME and defaults are accepted.
	r, err := NewY4MReader(strings.NewReader("YUV4MPEG2 W4 H2  Xyscss=420JPEG\nFRAME Ixyz\n" + frame[6:]))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Chroma != "420jpeg" || h.FPSNum != 25 || h.FPSDen != 1 {
		t.Fatalf("defaults %+v", h)
	}
	if _, err := r.NextFrame(); err != nil {
		t.Fatal(err)
	}
}
