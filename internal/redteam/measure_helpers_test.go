package redteam

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// measuring skips t ("<env>=1 to measure") unless the environment variable env is set, and
// returns its value (some measurements read it as a selector too). The measurements print
// numbers for docs/REDTEAM.md and take minutes: they run only when asked for.
func measuring(t *testing.T, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skip(env + "=1 to measure")
	}
	return v
}

// swapFaces loads what the swap measurements compare, in this order: the honest person's face
// (testdataFace: astronaut.png, or REDTEAM_FACE), the swap's face (obama.jpg) and the identity
// model.
func swapFaces(t *testing.T) (f, other *Face, m *faceid.Model) {
	t.Helper()
	return testdataFace(t), testdataStill(t, "obama.jpg"), facetest.Model(t)
}

// vp8Chain is the live path's media chain for a rendered stream: a VP8 encoder at kbps (W x H,
// 15 fps), a decoder and a vision analyser, each closed when the test ends.
func vp8Chain(t testing.TB, kbps int) (*media.VP8Encoder, *media.VP8Decoder, *vision.Analyzer) {
	t.Helper()
	return vp8ChainConfig(t, media.VP8EncoderConfig{BitrateKbps: kbps})
}

// vp8ChainSpeed is vp8Chain with the encoder's libvpx speed (media.VP8EncoderConfig.CPUUsed):
// 0 is the browser-like default, +8, whose speed libvpx picks from the measured encode time
// (other bytes under load); a negative speed is fixed: the same bytes every run, for tests
// that count outcomes against bounds.
func vp8ChainSpeed(t testing.TB, kbps, cpuUsed int) (*media.VP8Encoder, *media.VP8Decoder, *vision.Analyzer) {
	t.Helper()
	return vp8ChainConfig(t, media.VP8EncoderConfig{BitrateKbps: kbps, CPUUsed: cpuUsed})
}

// vp8ChainConfig is vp8Chain with the encoder's configuration (its size and rate are set here).
func vp8ChainConfig(t testing.TB, cfg media.VP8EncoderConfig) (*media.VP8Encoder, *media.VP8Decoder, *vision.Analyzer) {
	t.Helper()
	cfg.Width, cfg.Height, cfg.FPS = W, H, 15
	enc, err := media.NewVP8Encoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	dec, err := media.NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close() })
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { an.Close() })
	return enc, dec, an
}

// vp8RoundTrip sends r's last rendered picture (captured at at) through enc and dec, as the
// live sender and receiver do, and returns the decoded frame.
func vp8RoundTrip(t testing.TB, r *Renderer, enc *media.VP8Encoder, dec *media.VP8Decoder, at time.Time) *models.Frame {
	t.Helper()
	fr := &models.Frame{Width: W, Height: H, Y: r.out.y, U: r.out.u, V: r.out.v, Capture: at}
	pkt, _, err := enc.Encode(fr, false)
	if err != nil {
		t.Fatal(err)
	}
	if fr, err = dec.Decode(pkt, at); err != nil {
		t.Fatal(err)
	}
	return fr
}

// pacer picks the frames a live analysis session measures outside challenge windows
// (analysis.Session.due): at most fps a second, a frame due within 5 ms counting as on time;
// fps <= 0: every frame.
type pacer struct {
	fps  float64
	next time.Time
}

// due reports whether the frame at at is analysed.
func (p *pacer) due(at time.Time) bool {
	if p.fps <= 0 {
		return true
	}
	if !p.next.IsZero() && at.Before(p.next.Add(-5*time.Millisecond)) {
		return false
	}
	if p.next.IsZero() {
		p.next = at
	}
	p.next = p.next.Add(time.Duration(float64(time.Second) / p.fps))
	if p.next.Before(at) {
		p.next = at
	}
	return true
}

// streamLength returns the rendered streams' length in frames (REDTEAM_FRAMES, default 450:
// 30 s at 15 fps) and the analysis rate (REDTEAM_FPS, default 5.5: the live rate outside
// challenges) of the detector measurements.
func streamLength() (n int, fps float64) {
	n, fps = 450, 5.5
	if v, _ := strconv.Atoi(os.Getenv("REDTEAM_FRAMES")); v > 0 {
		n = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("REDTEAM_FPS"), 64); err == nil {
		fps = v
	}
	return n, fps
}
