package media

import (
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// TestVP8EncodeRoundTrip encodes ffmpeg's test pattern with the libvpx encoder and decodes it
// with the project's decoder: every frame decodes at the right size and close to the input,
// the first frame and a forced one are keyframes, and the stream's size is near the target
// bitrate (CBR, as a browser sends).
func TestVP8EncodeRoundTrip(t *testing.T) {
	fx := loadVP8Fixture(t, 2, 10)
	enc, err := NewVP8Encoder(VP8EncoderConfig{Width: 640, Height: 480, FPS: 15, BitrateKbps: 800})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	total, keys := 0, 0
	minPSNR := 100.0
	for i := range fx.frames {
		y, u, v := fx.refFrame(i)
		in := &models.Frame{Width: 640, Height: 480, Y: y, U: u, V: v}
		data, key, err := enc.Encode(in, i == 20)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if (i == 0 || i == 20) && !key {
			t.Errorf("frame %d: not a keyframe", i)
		}
		info, err := ParseVP8FrameHeader(data)
		if err != nil || info.Keyframe != key {
			t.Fatalf("frame %d: header %+v err %v, keyframe flag %v", i, info, err, key)
		}
		if key {
			keys++
			if info.Width != 640 || info.Height != 480 {
				t.Errorf("keyframe %d: %dx%d", i, info.Width, info.Height)
			}
		}
		total += len(data)
		f, err := dec.Decode(data, time.Time{})
		if err != nil {
			t.Fatalf("frame %d: decode: %v", i, err)
		}
		if f.Width != 640 || f.Height != 480 {
			t.Fatalf("frame %d: decoded %dx%d", i, f.Width, f.Height)
		}
		if i >= 5 { // rate control settles in the first frames
			minPSNR = min(minPSNR, psnr(y, f.Y))
		}
		dec.Release(f)
	}
	kbps := float64(total*8) / 2 / 1000
	t.Logf("30 frames: %d bytes (%.0f kbit/s for a target of 800), %d keyframes, min Y PSNR %.1f dB", total, kbps, keys, minPSNR)
	if keys < 2 {
		t.Errorf("%d keyframes, want the first and the forced one", keys)
	}
	if minPSNR < 25 {
		t.Errorf("min Y PSNR %.1f dB after decoding, want ≥ 25", minPSNR)
	}
	if kbps < 200 || kbps > 2400 {
		t.Errorf("stream of %.0f kbit/s for a target of 800", kbps)
	}
	if _, _, err := enc.Encode(&models.Frame{Width: 320, Height: 240, Y: make([]byte, 320*240)}, false); !errors.Is(err, ErrUnsupported) {
		t.Errorf("frame of the wrong size: %v, want ErrUnsupported", err)
	}
	enc.Close()
	if _, _, err := enc.Encode(&models.Frame{}, false); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	if _, err := NewVP8Encoder(VP8EncoderConfig{Width: 641, Height: 480}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("odd width: %v, want ErrUnsupported", err)
	}
}
