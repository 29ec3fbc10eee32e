package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestIVFFFmpegHeader(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	f, err := os.Open(fx.ivfPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewIVFReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.FourCC != "VP80" || h.Width != 640 || h.Height != 480 {
		t.Fatalf("header %+v", h)
	}
	n := 0
	var lastPTS uint64
	for {
		_, pts, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && pts <= lastPTS {
			t.Fatalf("frame %d: pts %d after %d", n, pts, lastPTS)
		}
		lastPTS = pts
		n++
	}
	if n != 30 {
		t.Fatalf("%d frames, want 30", n)
	}
}

func TestIVFRoundTrip(t *testing.T) {
	frames := [][]byte{{1, 2, 3}, bytes.Repeat([]byte{9}, 70000), {}, {4}}
	path := filepath.Join(t.TempDir(), "rt.ivf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewIVFWriter(f, IVFHeader{Width: 320, Height: 240, TimebaseDen: 30, TimebaseNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if err := w.WriteFrame(fr, uint64(i*3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(nil, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewIVFReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.FourCC != "VP80" || h.Width != 320 || h.Height != 240 || h.TimebaseDen != 30 || h.TimebaseNum != 1 || h.FrameCount != 4 {
		t.Fatalf("header %+v (frame count patched by Close?)", h)
	}
	for i, want := range frames {
		got, pts, err := r.NextFrame()
		if err != nil || !bytes.Equal(got, want) || pts != uint64(i*3) {
			t.Fatalf("frame %d: %d bytes pts %d err %v", i, len(got), pts, err)
		}
	}
	if _, _, err := r.NextFrame(); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
	// Without a seekable writer the frame count stays 0 and the file still reads.
	var buf bytes.Buffer
	w2, _ := NewIVFWriter(&buf, IVFHeader{})
	w2.WriteFrame([]byte{7}, 0)
	w2.Close()
	h, err := ReadIVFHeader(bytes.NewReader(buf.Bytes()))
	if err != nil || h.FrameCount != 0 || h.TimebaseDen != 90000 {
		t.Fatalf("streamed header %+v %v", h, err)
	}
}

func TestIVFMalformed(t *testing.T) {
	var good bytes.Buffer
	w, _ := NewIVFWriter(&good, IVFHeader{Width: 2, Height: 2})
	w.WriteFrame([]byte{1, 2, 3, 4, 5}, 0)
	g := good.Bytes()

	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(g)) }
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":          {nil, ErrTruncated},
		"short header":   {g[:20], ErrTruncated},
		"bad signature":  {mod(func(b []byte) []byte { copy(b, "RIFF"); return b }), ErrCorrupt},
		"bad version":    {mod(func(b []byte) []byte { b[4] = 1; return b }), ErrUnsupported},
		"header len 8":   {mod(func(b []byte) []byte { b[6] = 8; return b }), ErrCorrupt},
		"header len 100": {mod(func(b []byte) []byte { b[6] = 100; return b }), ErrTruncated},
	}
	for name, c := range cases {
		if _, err := NewIVFReader(bytes.NewReader(c.data)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	frameCases := map[string]struct {
		data []byte
		want error
	}{
		"truncated frame header": {g[:32+5], ErrTruncated},
		"truncated frame":        {g[:len(g)-1], ErrTruncated},
		"huge frame": {mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[32:], 1<<30)
			return b
		}), ErrCorrupt},
		"lying size": {mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[32:], 10<<20)
			return b
		}), ErrTruncated},
	}
	for name, c := range frameCases {
		r, err := NewIVFReader(bytes.NewReader(c.data))
		if err != nil {
			t.Fatalf("%s: header: %v", name, err)
		}
		if _, _, err := r.NextFrame(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
