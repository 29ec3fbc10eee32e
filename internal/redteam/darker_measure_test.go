package redteam

import (
	"context"
	"image"
	"strings"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureDarkerPassive renders the honest person (no prompts: the passive signals only)
// for REDTEAM_FRAMES frames (default 450, 30 s) at albedo 1 and 0.4 (REDTEAM_ALBEDO), same
// seed, through VP8 at 800 kbit/s into an IVF file, analyses it as livecheck analyze does
// (detectors and identity stage) and prints every signal that scores and the verdict
// (REDTEAM_MEASURE_DARKER=1; development, finding 22): which passive signal fails a darker skin?
func TestMeasureDarkerPassive(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	m := facetest.Model(t)
	n := 450
	if v, _ := strconv.Atoi(os.Getenv("REDTEAM_FRAMES")); v > 0 {
		n = v
	}
	dark := measureAlbedo()
	if dark == 0 {
		dark = 0.4
	}
	for _, seed := range measureSeeds() {
		for _, alb := range []float64{1, dark} {
			path := filepath.Join(t.TempDir(), "s.ivf")
			renderIVF(t, f, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed, n, path)
			res, err := analysis.AnalyzeFile(context.Background(), analysis.FileOptions{Video: path,
				Identity: analysis.IdentityConfig{Model: m}})
			if err != nil {
				t.Fatal(err)
			}
			sigs, v := verdict.Of(res.Result, risk.DefaultSettings())
			t.Logf("seed %d albedo %.2f: %d analysed, %d faces; verdict %s %.0f", seed, alb, res.Analysed, res.Faces, v.Decision, v.Score)
			for _, r := range v.Reasons {
				if r.Points > 0 {
					t.Logf("   %-22s %5.1f pts  %s", r.Kind, r.Points, r.Text)
				}
			}
			for _, s := range sigs {
				if s.Score > 0 {
					t.Logf("   signal %-22s value %.3f score %.3f conf %.2f", s.Kind, s.Value, s.Score, s.Confidence)
				}
			}
			for det, fs := range res.Features {
				t.Logf("   features %s %v", det, fs)
			}
		}
	}
}

// renderIVF writes n frames of the honest actor (no prompt) at 15 fps through VP8 at 800
// kbit/s to path.
func renderIVF(t *testing.T, f *Face, look Look, seed uint64, n int, path string) {
	t.Helper()
	a := NewActor(honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}), nil, seed)
	r := NewRenderer(f, look)
	enc, err := media.NewVP8Encoder(media.VP8EncoderConfig{Width: W, Height: H, FPS: 15, BitrateKbps: 800})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	iw, err := media.NewIVFWriter(out, media.IVFHeader{FourCC: "VP80", Width: W, Height: H, TimebaseDen: 15, TimebaseNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := a.t0
	for i := 0; i < n; i++ {
		r.RenderInto(a.State(at), false)
		fr := &models.Frame{Width: W, Height: H, Y: r.out.y, U: r.out.u, V: r.out.v, Capture: at}
		pkt, _, err := enc.Encode(fr, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := iw.WriteFrame(pkt, uint64(i)); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second / 15)
	}
	if err := iw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMeasureDarkerChallenges answers turn_head (both ways), cover_face and blink offline
// through VP8 at 800 kbit/s with the identity stage, at albedo 1 and 0.4 (REDTEAM_ALBEDO),
// same seeds (REDTEAM_MEASURE_DARKER=1; development, finding 22): the verifier's outcome,
// reason and metrics and the identity stage's changes and largest distances.
func TestMeasureDarkerChallenges(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	m := facetest.Model(t)
	dark := measureAlbedo()
	if dark == 0 {
		dark = 0.4
	}
	kinds := "turn_head/left,turn_head/right,cover_face"
	if k := os.Getenv("REDTEAM_KINDS"); k != "" {
		kinds = k
	}
	b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	for _, seed := range measureSeeds() {
		for _, k := range strings.Split(kinds, ",") {
			kind, dir, _ := strings.Cut(k, "/")
			for _, alb := range []float64{1, dark} {
				ids := faceid.NewSession(m, faceid.SessionConfig{})
				res, obs, dists := offlineRun(t, f, b, offlineOpts{look: Look{Noise: 2.5, Seed: seed, Albedo: alb}, kbps: 800, seed: seed, ids: ids},
					newChallenge(t, challenge.Kind(kind), dir))
				maxD := 0.0
				for _, d := range dists {
					maxD = max(maxD, d)
				}
				t.Logf("seed %d %-15s albedo %.2f: %s %q peak %.2f; %v; %d changes, max distance %.2f, rejected %v; %s", seed, k, alb,
					res.Outcome, res.Reason, res.Peak, res.Metrics, len(ids.Changes()), maxD, ids.Rejected(), describe(obs, res.Issued, res.Deadline))
			}
		}
	}
}

// TestMeasureDarkerContrast prints the luma mean and deviation of the landmark box of the
// frontal honest face at albedo 1, 0.4 and 0.25 (REDTEAM_MEASURE_DARKER=1; development).
func TestMeasureDarkerContrast(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	for _, look := range []Look{{Noise: 2.5}, {Noise: 2.5, Albedo: 0.4}, {Noise: 2.5, Albedo: 0.25}, {Light: 0.8, Noise: 4, Size: 1.25}, {Light: 0.8, Noise: 4, Size: 1.25, Albedo: 0.4}} {
		fr := NewRenderer(f, look).Render(State{})
		ob, err := an.Measure(fr)
		if err != nil || !ob.FacePresent {
			t.Fatalf("%+v: no face (%v)", look, err)
		}
		box := image.Rect(ob.Face.X, ob.Face.Y, ob.Face.X+ob.Face.W, ob.Face.Y+ob.Face.H)
		m, s := vision.FaceContrast(fr.Y, fr.Width, fr.Height, vision.LandmarkBox(box))
		t.Logf("%+v: landmark box mean %.1f std %.1f; yaw %.1f", look, m, s, ob.Yaw)
	}
}
