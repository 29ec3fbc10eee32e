package redteam

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// photoRun is one rendered honest stream measured as the live path measures it: every frame
// through VP8 and back, the analysed ones (at fps, the session's rate rule) measured by the
// vision analyser and fed to a detect.Suite.
type photoRun struct {
	suite *detect.Suite
	obs   []models.Observation
	truth []State // the actor's state on each analysed frame
}

// runPhotoStream renders n frames (15 fps) of an actor of behaviour b (no prompt) with look,
// through VP8 at kbps, analyses them at fps (<= 0: every frame) and returns the suite and the
// analysed observations.
func runPhotoStream(t testing.TB, f *Face, b Behaviour, look Look, seed uint64, n int, kbps int, fps float64) photoRun {
	t.Helper()
	return runPhotoStreamConfig(t, f, b, look, seed, n, media.VP8EncoderConfig{BitrateKbps: kbps}, fps)
}

// runPhotoStreamSpeed is runPhotoStream with the encoder's libvpx speed (vp8ChainSpeed).
func runPhotoStreamSpeed(t testing.TB, f *Face, b Behaviour, look Look, seed uint64, n, kbps, cpuUsed int, fps float64) photoRun {
	t.Helper()
	return runPhotoStreamConfig(t, f, b, look, seed, n, media.VP8EncoderConfig{BitrateKbps: kbps, CPUUsed: cpuUsed}, fps)
}

// runPhotoStreamConfig is runPhotoStream with the encoder's configuration (Good: the good
// deadline; a negative CPUUsed: a fixed speed; either gives the same bytes every run).
func runPhotoStreamConfig(t testing.TB, f *Face, b Behaviour, look Look, seed uint64, n int, cfg media.VP8EncoderConfig, fps float64) photoRun {
	t.Helper()
	a := NewActor(b, nil, seed)
	r := NewRenderer(f, look)
	enc, dec, an := vp8ChainConfig(t, cfg)
	run := photoRun{suite: detect.NewSuite(detect.Config{})}
	pace := pacer{fps: fps} // analysis.Session.due outside challenge windows
	at := a.t0
	for i := 0; i < n; i, at = i+1, at.Add(time.Second/15) {
		st := a.State(at)
		r.RenderInto(st, false)
		fr := vp8RoundTrip(t, r, enc, dec, at)
		if !pace.due(at) {
			continue
		}
		ob, err := an.Measure(fr)
		if err != nil {
			t.Fatal(err)
		}
		ob.At = at
		run.suite.Add(fr, ob)
		run.obs = append(run.obs, ob)
		run.truth = append(run.truth, st)
	}
	return run
}

// photoSignal returns the suite's photo signal and features.
func (p photoRun) photoSignal() (models.Signal, map[string]float64) {
	for _, s := range p.suite.Signals() {
		if s.Kind == detect.KindPhoto {
			return s, p.suite.Features()[detect.KindPhoto]
		}
	}
	return models.Signal{}, nil
}

// TestMeasureDarkerPhoto prints the photo detector's windows and the per-window sub-features
// (EAR median and minimum, the blinks the analysed frames caught, the expression spread's
// parts) of the honest person at albedo 1 and 0.4 (REDTEAM_ALBEDO), same seeds, through VP8 at
// 800 kbit/s analysed at 5.5 fps (REDTEAM_FPS; the live rate outside challenges)
// (REDTEAM_MEASURE_DARKER=1; development, finding 23). The photo scenario's still (REDTEAM_STILL=1).
func TestMeasureDarkerPhoto(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	n, fps := streamLength()
	dark := measureAlbedo()
	if dark == 0 {
		dark = 0.4
	}
	b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	if os.Getenv("REDTEAM_STILL") != "" {
		b = Behaviour{Sway: 1} // the photo scenario
	}
	for _, seed := range measureSeeds() {
		for _, alb := range []float64{1, dark} {
			run := runPhotoStream(t, f, b, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed, n, 800, fps)
			sg, fs := run.photoSignal()
			t.Logf("seed %d albedo %.2f: photo score %.3f conf %.2f value %.1f; %v", seed, alb, sg.Score, sg.Confidence, sg.Value, fs)
			var ws []detect.Window
			for _, w := range run.suite.Windows() {
				if w.Kind == detect.KindPhoto {
					ws = append(ws, w)
				}
			}
			for _, w := range ws {
				var ears, mouths, brows []float64
				var closedEAR []float64
				caught := 0
				for i, ob := range run.obs {
					if ob.At.Before(w.From) || ob.At.After(w.To) || !ob.LandmarksOK {
						continue
					}
					ears = append(ears, ob.EAR)
					mouths = append(mouths, ob.Mouth)
					brows = append(brows, browHeight(&ob.Landmarks))
					if run.truth[i].EyesClosed > 0.5 {
						caught++
						closedEAR = append(closedEAR, ob.EAR)
					}
				}
				me := dsp.Median(ears)
				mn := dsp.Quantile(ears, 0)
				t.Logf("   window %5.1f s score %.3f nonrigid %.1f | n %d EAR med %.3f min %.3f (%.2f×) std/med %.3f; closed frames %d EAR %v | mouth std/0.05 %.3f brow std/0.02 %.3f",
					w.From.Sub(run.obs[0].At).Seconds(), w.Score, w.Value, len(ears), me, mn, mn/me, dsp.StdDev(ears)/me, caught, round2(closedEAR),
					dsp.StdDev(mouths)/0.05, dsp.StdDev(brows)/0.02)
			}
			for i, ob := range run.obs {
				if run.truth[i].EyesClosed > 0.3 {
					t.Logf("   closed %.2f at %5.2f s: present %v coasting %v landmarks %v conf %.2f EAR %.3f", run.truth[i].EyesClosed,
						ob.At.Sub(run.obs[0].At).Seconds(), ob.FacePresent, ob.Coasting, ob.LandmarksOK, ob.FaceConf, ob.EAR)
				}
			}
			m, s := faceLuma(run)
			t.Logf("   face luma mean %.1f std %.1f", m, s)
		}
	}
}

// browHeight is the photo detector's brow height: brows' centroid over the eyes' / IOD.
func browHeight(p *[68][2]float32) float64 {
	c := func(a, b int) [2]float64 {
		var x, y float64
		for i := a; i < b; i++ {
			x += float64(p[i][0])
			y += float64(p[i][1])
		}
		return [2]float64{x / float64(b-a), y / float64(b-a)}
	}
	l, r := c(36, 42), c(42, 48)
	iod := math.Hypot(r[0]-l[0], r[1]-l[1])
	br, ey := c(17, 27), c(36, 48)
	return math.Hypot(br[0]-ey[0], br[1]-ey[1]) / iod
}

func round2(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*100) / 100
	}
	return out
}

// faceLuma is the median and spread of the analysed frames' inner-face luma (Observation.FaceY).
func faceLuma(run photoRun) (float64, float64) {
	var ys []float64
	for _, ob := range run.obs {
		if ob.FacePresent {
			ys = append(ys, ob.FaceY)
		}
	}
	return dsp.Median(ys), dsp.StdDev(ys)
}

// TestDarkerSkinPhotoScore is finding 23's regression test: the photo detector must judge the
// honest person's darker skin (albedo 0.4) as it judges the default skin, and a still (the photo
// scenario: no blink, no expression, 1° sway) as a photo at both albedos. Rendered streams
// through VP8 at 800 kbit/s, analysed at the live rate outside challenges (5.5 fps). Before the
// fix the dark face's closed-eye frames were the ones the cascade missed (coasting, no
// landmarks), its blinks went unseen and its mean photo score was 0.21 over the default's
// (0.00, 0.31, 0.31 a seed): this test failed. The encoder runs at a fixed libvpx speed (-8):
// at the browser-like +8 libvpx picks its speed from the encode time, and the bytes, the
// blinks caught and the means compared below moved with the machine's load.
func TestDarkerSkinPhotoScore(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses 8 streams of 30 s")
	}
	f := testdataFace(t)
	honest := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	const n = 450
	var sum [2]float64
	lids := 0
	for _, seed := range []uint64{1, 2, 3} {
		for i, alb := range []float64{1, 0.4} {
			run := runPhotoStreamSpeed(t, f, honest, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed, n, 800, -8, 5.5)
			sg, fs := run.photoSignal()
			t.Logf("honest seed %d albedo %.1f: photo %.3f, blink windows %v of %v (eye contrast %v)", seed, alb, sg.Score, fs["blink_windows"], fs["windows"], fs["lid_blink_windows"])
			if sg.Confidence == 0 {
				t.Fatalf("seed %d albedo %.1f: no photo signal", seed, alb)
			}
			sum[i] += sg.Score / 3
			if alb < 1 {
				lids += int(fs["lid_blink_windows"])
			}
		}
	}
	// Blinks fall in 2–6 s gaps and the 5.5 fps sampling catches some: the default skin's
	// own score varies 0.49–0.62 over these seeds; the two skins' means within 0.06.
	if d := sum[1] - sum[0]; d > 0.06 {
		t.Errorf("darker skin's mean photo score %.3f, the default's %.3f: the darker skin looks more like a photo by %.3f", sum[1], sum[0], d)
	}
	if lids == 0 {
		t.Errorf("no blink of the dark face was seen in the eyes' contrast: the test no longer measures the coasting closed eyes")
	}
	for _, alb := range []float64{1, 0.4} {
		run := runPhotoStreamSpeed(t, f, Behaviour{Sway: 1}, Look{Noise: 2.5, Seed: 1, Albedo: alb}, 1, n, 800, -8, 5.5)
		sg, fs := run.photoSignal()
		t.Logf("still albedo %.1f: photo %.3f, blink windows %v of %v", alb, sg.Score, fs["blink_windows"], fs["windows"])
		if sg.Score < 0.85 || fs["blink_windows"] != 0 {
			t.Errorf("still at albedo %.1f: photo %.3f, %v blink windows: want >= 0.85 and none", alb, sg.Score, fs["blink_windows"])
		}
	}
}

// TestDarkerSkinPhotoScorePaced is finding 27's regression test: TestDarkerSkinPhotoScore at
// the analysis rate of a loaded live session (2.2 fps outside challenges; docs/BENCH.md measured
// 1.5–3.1 on this machine under load), through VP8 with the good deadline (the same frames
// every run). At that rate the landmark frames around a dark face's coasting closed-eye frame
// are 0.9 s apart, beyond finding 23's 400 ms a side, and its blinks went unseen again: the
// darker skin scored higher than the default skin, and this test failed.
func TestDarkerSkinPhotoScorePaced(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses 8 streams of 30 s")
	}
	f := testdataFace(t)
	honest := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	const n, fps = 450, 2.2
	enc := media.VP8EncoderConfig{BitrateKbps: 800, Good: true}
	seeds := []uint64{1, 2, 3}
	lids := 0
	for _, seed := range seeds {
		var sc [2]float64
		for i, alb := range []float64{1, 0.4} {
			run := runPhotoStreamConfig(t, f, honest, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed, n, enc, fps)
			sg, fs := run.photoSignal()
			t.Logf("honest seed %d albedo %.1f: photo %.3f, blink windows %v of %v (eye contrast %v)", seed, alb, sg.Score, fs["blink_windows"], fs["windows"], fs["lid_blink_windows"])
			if sg.Confidence == 0 {
				t.Fatalf("seed %d albedo %.1f: no photo signal", seed, alb)
			}
			sc[i] = sg.Score
			if alb < 1 {
				lids += int(fs["lid_blink_windows"])
			}
		}
		// The same actor blinks at the same times at both albedos: a blink window the dark
		// face loses costs it about 0.07 (one window's 0.45 cap against ~0.93 of 7 windows).
		// Before the fix seed 1 lost both (0.931 against 0.781); after it, within 0.013.
		if d := sc[1] - sc[0]; d > 0.06 {
			t.Errorf("seed %d at %.1f fps: darker skin's photo score %.3f, the default's %.3f: the darker skin looks more like a photo by %.3f", seed, fps, sc[1], sc[0], d)
		}
	}
	if lids == 0 {
		t.Errorf("no blink of the dark face was seen in the eyes' contrast at %.1f fps", fps)
	}
	for _, alb := range []float64{1, 0.4} {
		run := runPhotoStreamConfig(t, f, Behaviour{Sway: 1}, Look{Noise: 2.5, Seed: 1, Albedo: alb}, 1, n, enc, fps)
		sg, fs := run.photoSignal()
		t.Logf("still albedo %.1f: photo %.3f, blink windows %v of %v", alb, sg.Score, fs["blink_windows"], fs["windows"])
		if sg.Score < 0.85 || fs["blink_windows"] != 0 {
			t.Errorf("still at albedo %.1f: photo %.3f, %v blink windows: want >= 0.85 and none", alb, sg.Score, fs["blink_windows"])
		}
	}
}

// TestMeasureDarkerPhotoChallenges prints the photo detector's windows over answered
// challenges (REDTEAM_KINDS, default turn_head/left,move_closer,cover_face; every frame
// analysed, as in a live challenge window) at albedo 1 and 0.4, through VP8 at 800 kbit/s
// (REDTEAM_MEASURE_DARKER=1; development, finding 23: the live residual).
func TestMeasureDarkerPhotoChallenges(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	kinds := "turn_head/left,move_closer,cover_face"
	if k := os.Getenv("REDTEAM_KINDS"); k != "" {
		kinds = k
	}
	b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	for _, seed := range measureSeeds() {
		for _, k := range strings.Split(kinds, ",") {
			kind, dir, _ := strings.Cut(k, "/")
			for _, alb := range []float64{1, 0.4} {
				s := detect.NewSuite(detect.Config{})
				res, _, _ := offlineRun(t, f, b, offlineOpts{look: Look{Noise: 2.5, Seed: seed, Albedo: alb}, kbps: 800, seed: seed,
					each: func(fr *models.Frame, ob *models.Observation, _ bool) { s.Add(fr, *ob) }}, newChallenge(t, challenge.Kind(kind), dir))
				var ws []string
				for _, w := range s.Windows() {
					if w.Kind == detect.KindPhoto {
						ws = append(ws, fmt.Sprintf("%.2f(%.0f‰)", w.Score, w.Value))
					}
				}
				t.Logf("seed %d %-14s albedo %.1f: %s; photo windows %v; %v", seed, k, alb, res.Outcome, ws, s.Features()[detect.KindPhoto])
			}
		}
	}
}

// TestMeasureDarkerPaced prints, per analysis rate (REDTEAM_FPS_LIST, default 5.5,4,3), the
// photo score of the honest person at albedo 1 and 0.4 and, for every analysed frame with the
// eyes closed, whether it had landmarks and how far the neighbouring landmark frames were
// (REDTEAM_MEASURE_DARKER=1; development, finding 27: the live residual).
func TestMeasureDarkerPaced(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	fl := "5.5,4,3"
	if v := os.Getenv("REDTEAM_FPS_LIST"); v != "" {
		fl = v
	}
	b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	for _, fs := range strings.Split(fl, ",") {
		fps, _ := strconv.ParseFloat(fs, 64)
		for _, seed := range measureSeeds() {
			for _, alb := range []float64{1, 0.4} {
				run := runPhotoStream(t, f, b, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed, 450, 800, fps)
				sg, feat := run.photoSignal()
				coast, lm := 0, 0
				for _, ob := range run.obs {
					if ob.LandmarksOK {
						lm++
					} else if ob.Coasting {
						coast++
					}
				}
				t.Logf("fps %.1f seed %d albedo %.1f: photo %.3f; frames %d landmarks %d coasting %d; %v", fps, seed, alb, sg.Score, len(run.obs), lm, coast, feat)
				for i, ob := range run.obs {
					if run.truth[i].EyesClosed <= 0.5 {
						continue
					}
					prev, next := -1.0, -1.0
					for j := i - 1; j >= 0; j-- {
						if run.obs[j].LandmarksOK {
							prev = ob.At.Sub(run.obs[j].At).Seconds()
							break
						}
					}
					for j := i + 1; j < len(run.obs); j++ {
						if run.obs[j].LandmarksOK {
							next = run.obs[j].At.Sub(ob.At).Seconds()
							break
						}
					}
					t.Logf("   closed %.2f at %5.2f s: landmarks %v coasting %v EAR %.3f; landmark frames %.2f s before, %.2f s after",
						run.truth[i].EyesClosed, ob.At.Sub(run.obs[0].At).Seconds(), ob.LandmarksOK, ob.Coasting, ob.EAR, prev, next)
				}
			}
		}
	}
}

// TestDarkerSkinPhotoScoreSession is TestDarkerSkinPhotoScorePaced through the analysis
// session, as the live room and `livecheck analyze` run it (analysis.AnalyzeFile at 2.2 fps:
// the session's rate rule, its observe step and the detectors; finding 33). The session hands
// the detectors a coasting frame with FacePresent cleared, which kept finding 23's eye-contrast
// blink off in every session while the measurements that fed the Suite the analyser's own
// observations saw it: before the fix no darker blink was seen there and seed 1's darker score
// was 0.15 over the default's. Rendered with the good deadline, so the same frames every run.
func TestDarkerSkinPhotoScoreSession(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and analyses 6 streams of 30 s")
	}
	f := testdataFace(t)
	enc := media.VP8EncoderConfig{BitrateKbps: 800, Good: true}
	const n, fps = 450, 2.2
	photo := func(b Behaviour, look Look, seed uint64) (models.Signal, map[string]float64) {
		path := filepath.Join(t.TempDir(), "s.ivf")
		renderIVFConfig(t, f, b, look, seed, n, enc, path)
		res, err := analysis.AnalyzeFile(context.Background(), analysis.FileOptions{Video: path, FPS: fps})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Result.DetectorSignals {
			if s.Kind == detect.KindPhoto {
				return s, res.Features[detect.KindPhoto]
			}
		}
		t.Fatalf("seed %d albedo %.1f: no photo signal", seed, look.Albedo)
		return models.Signal{}, nil
	}
	honest := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
	lids := 0
	for _, seed := range []uint64{1, 2} {
		var sc [2]float64
		for i, alb := range []float64{1, 0.4} {
			sg, fs := photo(honest, Look{Noise: 2.5, Seed: seed, Albedo: alb}, seed)
			t.Logf("honest seed %d albedo %.1f: photo %.3f, blink windows %v of %v (eye contrast %v)", seed, alb, sg.Score, fs["blink_windows"], fs["windows"], fs["lid_blink_windows"])
			sc[i] = sg.Score
			if alb < 1 {
				lids += int(fs["lid_blink_windows"])
			}
		}
		if d := sc[1] - sc[0]; d > 0.06 {
			t.Errorf("seed %d, analysis session at %.1f fps: darker skin's photo score %.3f, the default's %.3f: the darker skin looks more like a photo by %.3f", seed, fps, sc[1], sc[0], d)
		}
	}
	if lids == 0 {
		t.Errorf("no blink of the dark face was seen in the eyes' contrast through the analysis session")
	}
	for _, alb := range []float64{1, 0.4} {
		sg, fs := photo(Behaviour{Sway: 1}, Look{Noise: 2.5, Seed: 1, Albedo: alb}, 1)
		t.Logf("still albedo %.1f: photo %.3f, blink windows %v of %v", alb, sg.Score, fs["blink_windows"], fs["windows"])
		if sg.Score < 0.85 || fs["blink_windows"] != 0 {
			t.Errorf("still at albedo %.1f through the session: photo %.3f, %v blink windows: want >= 0.85 and none", alb, sg.Score, fs["blink_windows"])
		}
	}
}

// renderIVFConfig writes n frames of the actor b at 15 fps through the VP8 encoder enc (its
// size and rate set here) to path.
func renderIVFConfig(t *testing.T, f *Face, b Behaviour, look Look, seed uint64, n int, enc media.VP8EncoderConfig, path string) {
	t.Helper()
	a := NewActor(b, nil, seed)
	r := NewRenderer(f, look)
	enc.Width, enc.Height, enc.FPS = W, H, 15
	e, err := media.NewVP8Encoder(enc)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
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
		pkt, _, err := e.Encode(fr, false)
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
