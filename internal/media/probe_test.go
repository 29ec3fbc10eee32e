package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/livecheck/livecheck/internal/media/mediatest"
)

func TestProbeContainerRecordings(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		file, format string
		args         []string
		frames       int
	}{
		{"clip.gif", "gif", nil, 6},
		{"clip.mp4", "isobmff", []string{"-c:v", "mpeg4"}, 6},
		{"clip.mov", "isobmff", []string{"-c:v", "mjpeg"}, 6},
		{"clip.webm", "matroska", []string{"-c:v", "libvpx", "-deadline", "realtime"}, 0},
		{"clip.mkv", "matroska", []string{"-c:v", "mpeg4"}, 0},
		{"clip.avi", "avi", []string{"-c:v", "mpeg4"}, 6},
	} {
		path := filepath.Join(dir, tc.file)
		args := append([]string{"-f", "lavfi", "-i", "testsrc=size=96x64:rate=6", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1"}, tc.args...)
		if tc.format == "gif" {
			args = []string{"-f", "lavfi", "-i", "testsrc=size=96x64:rate=6", "-t", "1"}
		}
		runFFmpeg(t, append(args, path)...)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		info, err := ProbeContainer(f, st.Size())
		f.Close()
		// ffmpeg's AVI muxer may count one frame more than it wrote.
		if err != nil || info.Format != tc.format || info.Width != 96 || info.Height != 64 || info.Frames < tc.frames || info.Frames > tc.frames+1 {
			t.Errorf("%s: %+v, %v; want %s 96x64, %d frames", tc.file, info, err, tc.format, tc.frames)
		}
	}
}

func TestProbeContainerBombs(t *testing.T) {
	bomb := mediatest.GIFBomb(16000)
	info, err := ProbeContainer(bytes.NewReader(bomb), int64(len(bomb)))
	if err != nil || info.Width != 16000 || info.Height != 16000 || info.Frames != 1 {
		t.Fatalf("GIF bomb of %d bytes: %+v, %v", len(bomb), info, err)
	}
	if err := CheckFrameBounds(info.Width, info.Height, info.Frames); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("bounds of a 16000x16000 GIF: %v", err)
	}
	// A small canvas with a frame placed far outside it.
	off := mediatest.GIFBomb(64)
	binary.LittleEndian.PutUint16(off[14:], 9000) // the frame's left edge
	if info, _ := ProbeContainer(bytes.NewReader(off), int64(len(off))); CheckFrameBounds(info.Width, info.Height, 0) == nil {
		t.Fatalf("a frame placed at x=9000 passed: %+v", info)
	}
	// Cut inside the frame: what was read is returned with ErrTruncated.
	if info, err := ProbeContainer(bytes.NewReader(bomb[:22]), 22); !errors.Is(err, ErrTruncated) || info.Width != 16000 {
		t.Fatalf("truncated GIF: %+v, %v", info, err)
	}
	for _, junk := range [][]byte{nil, []byte("hello"), []byte("RIFF\x04\x00\x00\x00WAVE")} {
		if _, err := ProbeContainer(bytes.NewReader(junk), int64(len(junk))); !errors.Is(err, ErrUnknownContainer) {
			t.Errorf("%q: %v, want ErrUnknownContainer", junk, err)
		}
	}
	if CheckFrameBounds(3840, 2160, 100) != nil || CheckFrameBounds(3841, 2160, 0) == nil || CheckFrameBounds(640, 480, MaxFrames+1) == nil {
		t.Fatal("CheckFrameBounds limits")
	}
}

// FuzzProbeContainer: headers of any shape are read without panics, the reads
// stay within the input, and every error is classified.
func FuzzProbeContainer(f *testing.F) {
	f.Add(mediatest.GIFBomb(16000))
	f.Add(mediatest.GIFBomb(64)[:20])
	f.Add([]byte("\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom\x00\x00\x00\x08moov"))
	f.Add([]byte("\x1a\x45\xdf\xa3\x84\x42\x86\x81\x01\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff\x16\x54\xae\x6b\x88\xae\x86\xe0\x84\xb0\x82\x3e\x80"))
	f.Add([]byte("RIFF\x00\x01\x00\x00AVI LIST\x44\x00\x00\x00hdrlavih\x38\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ProbeContainer(bytes.NewReader(data), int64(len(data)))
		if err != nil && !errors.Is(err, ErrUnknownContainer) && !classified(err) {
			t.Fatalf("unclassified error: %v", err)
		}
		if info.Width < 0 || info.Height < 0 || info.Frames < 0 {
			t.Fatalf("negative figures: %+v", info)
		}
	})
}
