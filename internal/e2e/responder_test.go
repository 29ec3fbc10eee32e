package e2e

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// responderJS is the genuine candidate's camera (see the comment at its top).
//
//go:embed responder.js
var responderJS string

// responderConfig is responder.js's CFG.
type responderConfig struct {
	Image     string             `json:"image"` // data URL of the still
	Width     int                `json:"width"`
	Height    int                `json:"height"`
	FPS       int                `json:"fps"`
	Landmarks [68][2]float32     `json:"landmarks"`
	LatencyMs float64            `json:"latencyMs"` // camera: exposure to delivered frame
	TurnDeg   map[string]float64 `json:"turnDeg"`   // how far the person turns: left, right (degrees)
	Tint      float64            `json:"tint"`      // share of the screen's colour in the light on the face
}

// responderStill is the face the responder films: the astronaut still cropped
// to the head and shoulders at 640x480, and its landmarks found by
// internal/vision now.
func responderStill(t testing.TB) (dataURL string, lm [68][2]float32) {
	t.Helper()
	img := gocv.IMRead(apptest.Testdata("faces/astronaut.png"), gocv.IMReadColor)
	if img.Empty() {
		t.Fatal("cannot read astronaut.png")
	}
	defer img.Close()
	crop := img.Region(image.Rect(100, 20, 400, 245))
	defer crop.Close()
	still := gocv.NewMat()
	defer still.Close()
	gocv.Resize(crop, &still, image.Pt(640, 480), 0, 0, gocv.InterpolationCubic)
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, still, []int{gocv.IMWriteJpegQuality, 95})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	dataURL = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(buf.GetBytes())

	a, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	f := vision.FrameFromImage(still)
	var base models.Observation
	for i := range 3 {
		f.Capture = time.Unix(0, 0).Add(time.Duration(i) * 66 * time.Millisecond)
		if base, err = a.Measure(f); err != nil {
			t.Fatal(err)
		}
	}
	if !base.LandmarksOK || !base.PoseOK {
		t.Fatalf("no landmarks on the responder's still: %+v", base)
	}
	return dataURL, base.Landmarks
}

// responderScript returns responder.js configured with the still; set adjusts the defaults.
func responderScript(t testing.TB, set func(*responderConfig)) string {
	t.Helper()
	url, lm := responderStill(t)
	cfg := responderConfig{Image: url, Width: 640, Height: 480, FPS: 15, Landmarks: lm, LatencyMs: 120, Tint: 0.25,
		// Both well beyond the 35° asked for. Measured by internal/vision on this face,
		// a left turn reads about 0.75× the rendered angle (and less again beyond about
		// 57°), a right turn about 0.95×, and the frontal cascade starts to lose right
		// turns beyond about 48° (TestResponderOffline; end to end, frames held at 55°
		// left read 36–45°, at 45° right 40–48°). These angles keep both sides where
		// they measure best.
		TurnDeg: map[string]float64{"left": 55, "right": 45}}
	if set != nil {
		set(&cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const slot = "/*CONFIG*/ null"
	if strings.Count(responderJS, slot) != 1 {
		t.Fatalf("responder.js needs exactly one %q", slot)
	}
	return strings.Replace(responderJS, slot, string(b), 1)
}

// responderPage opens a blank page of a local server (a secure context, like the
// product's pages) in a browser running the responder.
func responderPage(t *testing.T, script string) (run func(expr string) string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>responder</title><body></body>`))
	}))
	t.Cleanup(srv.Close)
	ctx := apptest.NewBrowser(t, apptest.BrowserOptions{Script: script, Timeout: 2 * time.Minute})
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	run = func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	return run
}

// frameFromDataURL decodes a PNG data URL into an I420 frame.
func frameFromDataURL(t testing.TB, u string) *models.Frame {
	t.Helper()
	b64, ok := strings.CutPrefix(u, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40s", u)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gocv.IMDecode(raw, gocv.IMReadColor)
	if err != nil || m.Empty() {
		t.Fatalf("decode the rendered frame: %v", err)
	}
	defer m.Close()
	return vision.FrameFromImage(m)
}

// TestResponderOffline checks the responder without a server or video coding:
// its frames measured by internal/vision (closed eyes lower the eye aspect
// ratio, the screen's colour moves the face chroma its way) and its responses
// to each kind judged by the challenge verifiers. When the end-to-end test
// fails, this tells the responder's part from the pipeline's.
func TestResponderOffline(t *testing.T) {
	r := newOfflineRig(t, nil)
	a, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	clock := time.Unix(0, 0)
	measure := func(sc simScene) models.Observation {
		var o models.Observation
		for range 2 {
			f := r.frame(sc)
			clock = clock.Add(66 * time.Millisecond)
			f.Capture = clock
			if o, err = a.Measure(f); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	ms := r.run(`(async () => { let s = 0; for (let i = 0; i < 10; i++) { await window.__lcResponder.renderAt({yaw: 4 * i + 1}); s += window.__lcResponder.lastRenderMs; } return (s / 10).toFixed(1); })()`)
	t.Logf("a turned frame renders in %s ms (mean of 10, PNG encoding excluded; 15 fps leaves 66 ms)", ms)
	base := measure(simScene{})
	if !base.PoseOK {
		t.Fatal("no pose on the responder's frontal frame")
	}
	closed := measure(simScene{Closed: true})
	t.Logf("frontal: yaw %.1f pitch %.1f roll %.1f; EAR open %.3f closed %.3f", base.Yaw, base.Pitch, base.Roll, base.EAR, closed.EAR)
	if !closed.LandmarksOK || closed.EAR > 0.7*base.EAR {
		t.Errorf("closed eyes: EAR %.3f vs open %.3f (landmarks %v)", closed.EAR, base.EAR, closed.LandmarksOK)
	}
	for _, c := range []struct {
		name   string
		rgb    []int
		cb, cr float64 // expected signs of the chroma changes
	}{{"red", []int{255, 0, 0}, -1, 1}, {"blue", []int{0, 0, 255}, 1, -1}, {"green", []int{0, 255, 0}, -1, -1}} {
		o := measure(simScene{Tint: c.rgb})
		dcb, dcr := o.FaceCb-base.FaceCb, o.FaceCr-base.FaceCr
		t.Logf("screen %s: face Cb %+.1f Cr %+.1f Y %+.1f", c.name, dcb, dcr, o.FaceY-base.FaceY)
		if dcb*c.cb < 2 || dcr*c.cr < 2 {
			t.Errorf("screen %s: face chroma moved Cb %+.1f Cr %+.1f", c.name, dcb, dcr)
		}
	}

	for _, c := range []struct {
		kind challenge.Kind
		p    challenge.Params
	}{
		{challenge.KindTurnHead, challenge.Params{Dir: challenge.DirLeft}},
		{challenge.KindTurnHead, challenge.Params{Dir: challenge.DirRight}},
		{challenge.KindBlink, challenge.Params{Count: 3}},
		{challenge.KindFlash, challenge.Params{}},
	} {
		res, obs := r.challenge(c.kind, c.p)
		t.Logf("%s %+v: %s %q peak %.2f %s onset %v", c.kind, c.p, res.Outcome, res.Reason, res.Peak, res.Unit, res.OnsetLatency)
		if c.kind == challenge.KindTurnHead {
			// The verifier reports the peak of the first excursion beyond the threshold;
			// the frames show how far the turn measured and how often the pose flipped.
			sign := 1.0
			if c.p.Dir == challenge.DirRight {
				sign = -1
			}
			var beyond, flipped, n int
			best := math.Inf(-1)
			for _, o := range obs {
				if !o.PoseOK || o.At.Before(res.Shown) {
					continue
				}
				v := sign*o.Yaw - res.Metrics["neutral"] // neutral is on the oriented signal
				n++
				best = max(best, v)
				if v >= challenge.DefaultThresholds().TurnDeg {
					beyond++
				}
				if v < -10 {
					flipped++
				}
			}
			t.Logf("  frames with a pose after display: %d; beyond the threshold: %d (max %.1f°); turned the wrong way by > 10°: %d", n, beyond, best, flipped)
		}
		if res.Outcome == challenge.OutcomeFailed {
			t.Errorf("%s %+v: failed (%q)", c.kind, c.p, res.Reason)
		}
	}
}

// offlineRig runs the responder's scenes through internal/vision and the
// challenge verifiers without a server: the camera's frames as the server
// would measure them, minus video coding.
type offlineRig struct {
	t     *testing.T
	run   func(string) string
	cache map[string]*models.Frame
}

func newOfflineRig(t *testing.T, set func(*responderConfig)) *offlineRig {
	run := responderPage(t, responderScript(t, set))
	run(`window.__lcResponder.ready.then(() => "ok")`)
	return &offlineRig{t: t, run: run, cache: map[string]*models.Frame{}}
}

// simScene is one frame of responder.js's simulate().
type simScene struct {
	T      float64 `json:"t"`
	Yaw    float64 `json:"yaw"`
	Closed bool    `json:"closed"`
	Tint   []int   `json:"tint"`
}

// frame renders a scene (cached: a turn repeats its angles).
func (r *offlineRig) frame(sc simScene) *models.Frame {
	tint, _ := json.Marshal(sc.Tint)
	key := fmt.Sprintf("%.1f/%v/%s", sc.Yaw, sc.Closed, tint)
	f, ok := r.cache[key]
	if !ok {
		f = frameFromDataURL(r.t, r.run(fmt.Sprintf(`window.__lcResponder.renderAt({yaw: %v, closed: %v, tint: %s})`, sc.Yaw, sc.Closed, tint)))
		r.cache[key] = f
	}
	g := *f
	return &g
}

// challenge simulates one prompt of kind (on the screen at t=0, acknowledged 5 ms
// later) and returns the verifier's result.
func (r *offlineRig) challenge(kind challenge.Kind, p challenge.Params) (challenge.Result, []models.Observation) {
	// A fixed seed per kind: the flash's colours, step and length (and the
	// other kinds' defaults) are the same every run, so a pass or failure is
	// reproducible instead of depending on which parameters crypto/rand drew.
	var seed [32]byte
	copy(seed[:], "responder offline "+string(kind))
	ch, err := challenge.NewChallenge(kind, false, mrand.NewChaCha8(seed))
	if err != nil {
		r.t.Fatal(err)
	}
	if p.Dir != "" {
		ch.Params.Dir = p.Dir
	}
	if p.Count != 0 {
		ch.Params.Count = p.Count
	}
	flash := []byte("null")
	if kind == challenge.KindFlash {
		flash, _ = json.Marshal(ch.Params)
	}
	span := ch.Deadline + 5*time.Second
	var sim struct {
		Scenes []simScene `json:"scenes"`
	}
	js := fmt.Sprintf(`JSON.stringify(window.__lcResponder.simulate(%q, %q, %d, 15, %d, %s))`, kind, ch.Params.Dir, ch.Params.Count, span.Milliseconds(), flash)
	if err := json.Unmarshal([]byte(r.run(js)), &sim); err != nil {
		r.t.Fatal(err)
	}
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer an.Close()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var obs []models.Observation
	for _, sc := range sim.Scenes {
		f := r.frame(sc)
		// The server's capture time: the frame's own time plus the least encode and
		// transport delay (internal/room's anchor).
		f.Capture = t0.Add(time.Duration(sc.T*float64(time.Millisecond)) + 10*time.Millisecond)
		o, err := an.Measure(f)
		if err != nil {
			r.t.Fatal(err)
		}
		obs = append(obs, o)
	}
	res := challenge.Verifier{}.Verify(challenge.Input{Challenge: ch, Issued: t0.Add(-40 * time.Millisecond), Shown: t0.Add(5 * time.Millisecond), Observations: obs})
	return res, obs
}
