package media

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

func TestVP8DecodeMatchesFFmpeg(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	if len(fx.frames) != 30 {
		t.Fatalf("IVF has %d frames, want 30 (2 s at 15 fps)", len(fx.frames))
	}
	if want := 30 * 640 * 480 * 3 / 2; len(fx.ref) != want {
		t.Fatalf("reference has %d bytes, want %d", len(fx.ref), want)
	}
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	base := time.Unix(1700000000, 0)
	keys := 0
	for i, data := range fx.frames {
		capture := base.Add(time.Duration(i) * time.Second / 15)
		f, err := dec.Decode(data, capture)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Width != 640 || f.Height != 480 || len(f.Y) != 640*480 || len(f.U) != 320*240 || len(f.V) != 320*240 {
			t.Fatalf("frame %d: %dx%d planes %d/%d/%d", i, f.Width, f.Height, len(f.Y), len(f.U), len(f.V))
		}
		if f.Seq != uint64(i+1) || !f.Capture.Equal(capture) {
			t.Fatalf("frame %d: seq %d capture %v", i, f.Seq, f.Capture)
		}
		if f.Keyframe != (i%10 == 0) {
			t.Errorf("frame %d: keyframe %v, want %v", i, f.Keyframe, i%10 == 0)
		}
		if f.Keyframe {
			keys++
		}
		y, u, v := fx.refFrame(i)
		for name, pl := range map[string][2][]byte{"Y": {f.Y, y}, "U": {f.U, u}, "V": {f.V, v}} {
			if p := psnr(pl[1], pl[0]); p < 40 {
				t.Errorf("frame %d plane %s: PSNR %.1f dB against ffmpeg's decode, want > 40", i, name, p)
			} else if !math.IsInf(p, 1) {
				t.Logf("frame %d plane %s: not bit-exact, PSNR %.1f dB", i, name, p)
			}
		}
		dec.Release(f)
	}
	if w, h := dec.Size(); w != 640 || h != 480 {
		t.Errorf("Size() = %dx%d", w, h)
	}
	if keys != 3 || dec.Frames() != 30 {
		t.Errorf("keyframes %d frames %d, want 3 and 30", keys, dec.Frames())
	}
}

func TestVP8DecodeCorruptThenRecover(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	if _, err := dec.Decode(fx.frames[1], time.Time{}); !errors.Is(err, ErrNeedKeyframe) {
		t.Fatalf("inter frame first: err %v, want ErrNeedKeyframe", err)
	}
	if _, err := dec.Decode(nil, time.Time{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty frame: err %v, want ErrEmpty", err)
	}
	for i := 0; i < 3; i++ {
		f, err := dec.Decode(fx.frames[i], time.Time{})
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		dec.Release(f)
	}
	// A keyframe cut short: libvpx must refuse it.
	if _, err := dec.Decode(fx.frames[0][:40], time.Time{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated keyframe: err %v, want ErrCorrupt", err)
	}
	if !dec.NeedKeyframe() {
		t.Fatal("decoder does not wait for a keyframe after an error")
	}
	// Garbage with the keyframe bit but a bad start code, and a bad header.
	if _, err := dec.Decode([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09}, time.Time{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad start code: err %v, want ErrCorrupt", err)
	}
	// A keyframe claiming 16000x16000 is refused before libvpx allocates for it.
	huge := bytes.Clone(fx.frames[0])
	huge[6], huge[7], huge[8], huge[9] = 0x80, 0x3e, 0x80, 0x3e
	if _, err := dec.Decode(huge, time.Time{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("16000x16000 keyframe: err %v, want ErrUnsupported", err)
	}
	for i := 3; i < 10; i++ {
		if _, err := dec.Decode(fx.frames[i], time.Time{}); !errors.Is(err, ErrNeedKeyframe) {
			t.Fatalf("inter frame %d after error: err %v, want ErrNeedKeyframe", i, err)
		}
	}
	for i := 10; i < 20; i++ {
		f, err := dec.Decode(fx.frames[i], time.Time{})
		if err != nil {
			t.Fatalf("frame %d after recovery: %v", i, err)
		}
		y, _, _ := fx.refFrame(i)
		if p := psnr(y, f.Y); p < 40 {
			t.Fatalf("frame %d after recovery: PSNR %.1f dB", i, p)
		}
		dec.Release(f)
	}
}

func TestVP8DecodeGarbageNeverCrashes(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	key := fx.frames[0]
	errs := 0
	for i := 0; i < 200; i++ {
		// Keep the 10-byte keyframe header and flip bytes in the body.
		b := bytes.Clone(key)
		for j := 0; j < 20; j++ {
			k := 10 + (i*7919+j*104729)%(len(b)-10)
			b[k] ^= byte(i*31 + j + 1)
		}
		if n := (i * 37) % len(b); i%3 == 0 && n > 10 {
			b = b[:n]
		}
		f, err := dec.Decode(b, time.Time{})
		if err != nil {
			errs++
			continue
		}
		dec.Release(f)
	}
	t.Logf("%d of 200 damaged keyframes were rejected", errs)
	if errs == 0 {
		t.Error("no damaged keyframe was rejected")
	}
	f, err := dec.Decode(key, time.Time{})
	if err != nil {
		t.Fatalf("clean keyframe after garbage: %v", err)
	}
	y, _, _ := fx.refFrame(0)
	if p := psnr(y, f.Y); p < 40 {
		t.Fatalf("clean keyframe after garbage: PSNR %.1f", p)
	}
}

func TestVP8DecoderFrameOwnership(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	f0, err := dec.Decode(fx.frames[0], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	y0 := bytes.Clone(f0.Y)
	f1, err := dec.Decode(fx.frames[1], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f0.Y, y0) {
		t.Fatal("an unreleased frame was overwritten by the next decode")
	}
	if &f0.Y[0] == &f1.Y[0] {
		t.Fatal("two live frames share a Y buffer")
	}
	dec.Release(f0)
	dec.Release(f0) // double release is ignored
	f2, err := dec.Decode(fx.frames[2], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	f3, err := dec.Decode(fx.frames[3], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if f2 != f0 {
		t.Error("released frame was not reused")
	}
	if f3 == f0 || &f3.Y[0] == &f2.Y[0] {
		t.Fatal("double release handed one frame out twice")
	}
	if err := dec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dec.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	dec.Release(f1) // allowed after Close
	if _, err := dec.Decode(fx.frames[0], time.Time{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Decode after Close: %v, want ErrClosed", err)
	}
}

func TestParseVP8FrameHeader(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	info, err := ParseVP8FrameHeader(fx.frames[0])
	if err != nil {
		t.Fatal(err)
	}
	if !info.Keyframe || info.Width != 640 || info.Height != 480 || !info.Show {
		t.Fatalf("keyframe header: %+v", info)
	}
	info, err = ParseVP8FrameHeader(fx.frames[1])
	if err != nil || info.Keyframe {
		t.Fatalf("inter frame header: %+v %v", info, err)
	}
	for _, b := range [][]byte{nil, {0}, {0x00, 0, 0, 0x9d, 0x01, 0x2a, 0, 0}, {0x00, 0, 0, 0x9d, 0x01, 0x2b, 0x80, 2, 0xe0, 1}, {0x00, 0, 0, 0x9d, 0x01, 0x2a, 0, 0, 0, 0}} {
		if _, err := ParseVP8FrameHeader(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("% x: err %v, want ErrCorrupt", b, err)
		}
	}
}

// TestVP8DecodeSizeChange feeds streams of different (also odd) sizes one after the other, as a
// browser does when it adapts its resolution: each keyframe switches the size, frames from
// before the switch stay intact, and chroma planes are ceil(w/2) x ceil(h/2).
func TestVP8DecodeSizeChange(t *testing.T) {
	dir := t.TempDir()
	type clip struct {
		w, h   int
		frames [][]byte
		ref    []byte
	}
	var clips []clip
	for _, sz := range [][2]int{{320, 240}, {321, 181}, {640, 480}} {
		ivf := filepath.Join(dir, fmt.Sprintf("%dx%d.ivf", sz[0], sz[1]))
		raw := ivf + ".yuv"
		runFFmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=15", sz[0], sz[1]), "-frames:v", "4",
			"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", ivf)
		runFFmpeg(t, "-c:v", "vp8", "-i", ivf, "-f", "rawvideo", "-pix_fmt", "yuv420p", raw)
		ref, err := os.ReadFile(raw)
		if err != nil {
			t.Fatal(err)
		}
		clips = append(clips, clip{sz[0], sz[1], readIVFFrames(t, ivf), ref})
	}
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var kept []*models.Frame
	var keptY [][]byte
	for _, c := range clips {
		cw, ch := (c.w+1)/2, (c.h+1)/2
		fs := c.w*c.h + 2*cw*ch
		for i, data := range c.frames {
			f, err := dec.Decode(data, time.Time{})
			if err != nil {
				t.Fatalf("%dx%d frame %d: %v", c.w, c.h, i, err)
			}
			if f.Width != c.w || f.Height != c.h || len(f.U) != cw*ch || len(f.V) != cw*ch {
				t.Fatalf("%dx%d frame %d: got %dx%d, chroma %d", c.w, c.h, i, f.Width, f.Height, len(f.U))
			}
			got := append(append(append([]byte(nil), f.Y...), f.U...), f.V...)
			if p := psnr(c.ref[i*fs:(i+1)*fs], got); p < 40 {
				t.Fatalf("%dx%d frame %d: PSNR %.1f dB", c.w, c.h, i, p)
			}
			if i == len(c.frames)-1 {
				kept = append(kept, f) // keep the last frame of each size unreleased
				keptY = append(keptY, bytes.Clone(f.Y))
			} else {
				dec.Release(f)
			}
		}
	}
	for i, f := range kept {
		if !bytes.Equal(f.Y, keptY[i]) {
			t.Fatalf("kept frame %d was overwritten", i)
		}
	}
}

// TestVP8DecodeLazy: DecodeLazy gives Decode's frame without its planes, and
// CopyPicture copies exactly Decode's planes into a frame of any size, for
// any frame taken (here every third); after a failed decode there is no
// picture to copy.
func TestVP8DecodeLazy(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	full, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	lazy, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	if lazy.CopyPicture(&models.Frame{}) {
		t.Fatal("CopyPicture before any decode reported a picture")
	}
	base := time.Unix(1700000000, 0)
	dst := &models.Frame{Y: make([]byte, 7)} // wrong size: resized
	for i, data := range fx.frames {
		capture := base.Add(time.Duration(i) * time.Second / 15)
		want, err := full.Decode(data, capture)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		var meta models.Frame
		if err := lazy.DecodeLazy(data, capture, &meta); err != nil {
			t.Fatalf("frame %d: DecodeLazy: %v", i, err)
		}
		if meta.Width != want.Width || meta.Height != want.Height || meta.Seq != want.Seq || meta.Keyframe != want.Keyframe ||
			!meta.Capture.Equal(capture) || meta.Y != nil {
			t.Fatalf("frame %d: meta %dx%d seq %d key %v planes %d, want %dx%d seq %d key %v and no planes",
				i, meta.Width, meta.Height, meta.Seq, meta.Keyframe, len(meta.Y), want.Width, want.Height, want.Seq, want.Keyframe)
		}
		if i%3 == 0 {
			if !lazy.CopyPicture(dst) {
				t.Fatalf("frame %d: no picture", i)
			}
			if !bytes.Equal(dst.Y, want.Y) || !bytes.Equal(dst.U, want.U) || !bytes.Equal(dst.V, want.V) {
				t.Fatalf("frame %d: CopyPicture differs from Decode's planes", i)
			}
		}
		full.Release(want)
	}
	if err := lazy.DecodeLazy([]byte{1, 2, 3}, base, &models.Frame{}); err == nil {
		t.Fatal("garbage decoded")
	}
	if lazy.CopyPicture(dst) {
		t.Fatal("CopyPicture after a failed decode reported a picture")
	}
}
