package redteam

import (
	"os"
	"testing"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
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
