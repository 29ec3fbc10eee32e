package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/httpapi"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// callStats is what the recruiter page's connection panel reads from getStats.
type callStats struct {
	VideoFramesDecoded int     `json:"videoFramesDecoded"`
	AudioPackets       int     `json:"audioPackets"`
	RTTMs              float64 `json:"rttMs"`
}

func recruiterStats(t *testing.T, ctx context.Context) callStats {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.lcCall ? window.lcCall.stats().then(s => JSON.stringify(s)) : "{}"`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read recruiter stats: %v", err)
	}
	var s callStats
	_ = json.Unmarshal([]byte(raw), &s)
	return s
}

type callSetup struct {
	env       *apptest.Env
	iv        *models.Interview
	token     string
	recruiter context.Context
	candidate context.Context
}

// startCall signs a recruiter in and opens the call page, then takes a candidate
// (fake camera and microphone from files) through consent and device check into the call.
func startCall(t *testing.T, grace string) *callSetup {
	return startCallWith(t, map[string]string{"LIVECHECK_REJOIN_GRACE": grace}, apptest.BrowserOptions{})
}

func startCallWith(t *testing.T, settings map[string]string, cand apptest.BrowserOptions) *callSetup {
	return startCallOpts(t, apptest.Options{Env: settings}, cand)
}

// startCallOpts lets a test set server options and the candidate's browser
// (its fake camera files, or a script that replaces the camera).
func startCallOpts(t *testing.T, opts apptest.Options, cand apptest.BrowserOptions) *callSetup {
	t.Helper()
	env := apptest.New(t, opts)
	rec := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Mae Jemison", env.Clock.Now().Add(time.Minute), rec.ID)
	video, audio := apptest.FaceY4M(t), apptest.SpeechWAV(t)

	rctx := apptest.NewBrowser(t, apptest.BrowserOptions{})
	err := chromedp.Do(rctx,
		signIn(env, rec),
		chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)),
		chromedp.WaitVisible(chromedp.CSS("#start-call")),
		chromedp.Click(chromedp.CSS("#start-call")),
		chromedp.WaitVisible(chromedp.CSS("#staff-call")),
	)
	if err != nil {
		t.Fatalf("recruiter opens the call: %v", err)
	}

	if cand.VideoFile == "" {
		cand.VideoFile = video
	}
	if cand.AudioFile == "" {
		cand.AudioFile = audio
	}
	cctx := apptest.NewBrowser(t, cand)
	err = chromedp.Do(cctx,
		chromedp.Navigate(env.URL+"/join/"+token),
		chromedp.WaitVisible(chromedp.CSS("#consent-give")),
		chromedp.Click(chromedp.CSS("#consent-give")),
		chromedp.WaitVisible(chromedp.CSS("#device-check")),
		chromedp.WaitEnabled(chromedp.CSS("#join")),
		chromedp.Click(chromedp.CSS("#join")),
		chromedp.WaitVisible(chromedp.CSS("#candidate-call")),
	)
	if err != nil {
		t.Fatalf("candidate joins: %v", err)
	}
	return &callSetup{env: env, iv: iv, token: token, recruiter: rctx, candidate: cctx}
}

// signIn signs a staff member in through the login form.
func signIn(env *apptest.Env, u *models.User) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(env.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), apptest.Password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("header nav")),
	)
}

func (c *callSetup) session(t *testing.T) room.Analysis {
	r, ok := c.env.App.Rooms.Get(c.iv.ID)
	if !ok {
		return nil
	}
	return r.Session()
}

// TestLiveCall is the room's end-to-end test: two real browsers, media relayed
// through pion, decoded and analysed on the server, results stored.
func TestLiveCall(t *testing.T) {
	c := startCall(t, "2s")
	env := c.env

	// The recruiter's browser decodes the candidate's video and receives audio.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := recruiterStats(t, c.recruiter)
		return s.VideoFramesDecoded > 30 && s.AudioPackets > 0, fmt.Sprintf("recruiter stats %+v", s)
	})
	// The server decodes and analyses the candidate's video.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := c.session(t)
		if s == nil {
			return false, "no session yet"
		}
		l := s.Snapshot()
		return l.FramesDecoded > 100 && l.FramesAnalysed > 20, fmt.Sprintf("session %+v", l)
	})
	got, err := env.Store.Interview(context.Background(), c.iv.ID)
	if err != nil || got.Status != models.StatusLive {
		t.Fatalf("status during the call: %v %v", got.Status, err)
	}
	// The candidate sees the recruiter.
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		w, err := chromedp.Run(c.candidate, chromedp.Evaluate[int](`document.getElementById("remote").videoWidth`))
		return err == nil && w > 0, fmt.Sprintf("candidate's remote video width %d (%v)", w, err)
	})

	// A reviewer observes silently: the server offers the candidate's video and
	// audio send-only, and asks for nothing from the observer.
	offer := observerOffer(t, env, c.iv.ID)
	if !strings.Contains(offer, "m=video") || !strings.Contains(offer, "m=audio") || strings.Contains(offer, "a=recvonly") {
		t.Errorf("observer offer should carry the candidate's tracks send-only:\n%s", offer)
	}

	// The candidate leaves; after the grace period the session is stored.
	if err := chromedp.Do(c.candidate, chromedp.Click(chromedp.CSS("#leave"))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, err := env.Store.Session(ctx, c.iv.ID)
		return err == nil, fmt.Sprintf("session not stored: %v", err)
	})
	sess, _ := env.Store.Session(ctx, c.iv.ID)
	if sess.FramesDecoded <= 100 {
		t.Errorf("server decoded %d candidate frames, want > 100", sess.FramesDecoded)
	}
	series, err := env.Store.SeriesOf(ctx, c.iv.ID, "face_presence")
	if err != nil {
		t.Fatal(err)
	}
	var pts []models.Point
	if err := json.Unmarshal(series.Points, &pts); err != nil || len(pts) == 0 {
		t.Fatalf("face series: %v (%d points)", err, len(pts))
	}
	found := 0
	for _, p := range pts {
		if p.V == 1 {
			found++
		}
	}
	ratio := float64(found) / float64(len(pts))
	t.Logf("server: %d frames decoded, %d analysed, %d dropped; face found in %.1f %% of %d analysed frames",
		sess.FramesDecoded, sess.FramesAnalysed, sess.FramesDropped, ratio*100, len(pts))
	if ratio <= 0.8 {
		t.Errorf("face found in %.1f %% of analysed frames, want > 80 %%", ratio*100)
	}
	audio, err := env.Store.SeriesOf(ctx, c.iv.ID, "audio_level")
	if err != nil || len(audio.Points) < 10 {
		t.Fatalf("audio series: %v", err)
	}
	sigs, err := env.Store.Signals(ctx, c.iv.ID)
	if err != nil || len(sigs) < 3 {
		t.Fatalf("signals: %d (%v)", len(sigs), err)
	}
	kinds := map[string]bool{}
	for _, s := range sigs {
		kinds[s.Kind] = true
		t.Logf("signal %-22s score %.2f conf %.2f  %s", s.Kind, s.Score, s.Confidence, s.Reason)
	}
	// The session's own signals, and the device checks on the page's report
	// (headless Chromium reports navigator.webdriver).
	for _, k := range []string{"face_presence", "face_absent", "camera_off", "audio_level", "env_webdriver"} {
		if !kinds[k] {
			t.Errorf("signal %s missing", k)
		}
	}
	v := checkFinalStatus(t, env, c.iv.ID)
	t.Logf("verdict %s, score %.1f, from %d signals (%s)", v.Decision, v.Score, v.SignalCount, v.ScoringVersion)
	if v.SignalCount != len(sigs) {
		t.Errorf("verdict computed from %d signals, %d stored", v.SignalCount, len(sigs))
	}
	attempts, _ := env.Store.Attempts(ctx, c.iv.ID)
	if len(attempts) != 1 || attempts[0].EndedAt == nil || attempts[0].Report == nil {
		t.Fatalf("attempts: %+v", attempts)
	}
	if e := attempts[0].Report.Environment; e == nil || e.TimeZone == "" {
		t.Errorf("the environment report (time zone) was not recorded: %+v", attempts[0].Report)
	}
	// The interview page shows the signals.
	page := env.NewClient()
	page.Login(env.CreateUser(models.RoleReviewer))
	r := page.Get(fmt.Sprintf("/interviews/%d", c.iv.ID))
	if !strings.Contains(r.Body, `id="signals"`) || !strings.Contains(r.Body, "face_presence") {
		t.Error("the interview page does not show the session signals")
	}
	// No biometric values or tokens in the logs.
	if strings.Contains(env.Logs.String(), c.token) {
		t.Error("the join token reached the logs")
	}
}

// TestRejoinAfterReload: the candidate's page reloads mid-call and the same
// session continues; a second browser with the same link is turned away.
func TestRejoinAfterReload(t *testing.T) {
	c := startCall(t, "30s")
	env := c.env
	var first room.Analysis
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		first = c.session(t)
		if first == nil {
			return false, "no session"
		}
		l := first.Snapshot()
		return l.FramesDecoded > 30, fmt.Sprintf("session %+v", l)
	})
	before := first.Snapshot().FramesDecoded

	// A second browser with the same link gets a clear "in use" page.
	other := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t)})
	if err := chromedp.Do(other, chromedp.Navigate(env.URL+"/join/"+c.token), chromedp.WaitVisible(chromedp.CSS("#consent-give")),
		chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitVisible(chromedp.CSS("#device-check")),
		chromedp.Navigate(env.URL+"/join/"+c.token+"/call"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatal(err)
	}
	h, _ := chromedp.Run(other, chromedp.Text(chromedp.CSS("main h1")))
	if !strings.Contains(h, "already in use") {
		t.Errorf("second browser sees %q, want the link-in-use page", h)
	}
	// The refusal leaves a trace for staff: an attempt and an audit entry.
	atts, _ := env.Store.Attempts(context.Background(), c.iv.ID)
	if len(atts) != 2 || atts[1].EndReason == nil || *atts[1].EndReason != httpapi.RefusedInUse || atts[1].IP == "" {
		t.Errorf("attempts after the refused join: %+v", atts)
	}
	if es, _ := env.Store.AuditSearch(context.Background(), store.AuditFilter{Action: "join.refused", Target: fmt.Sprintf("interview:%d", c.iv.ID)}); len(es) != 1 {
		t.Errorf("%d join.refused audit entries, want 1", len(es))
	}

	if err := chromedp.Do(c.candidate, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		atts, _ := env.Store.Attempts(context.Background(), c.iv.ID)
		return len(atts) == 3, fmt.Sprintf("%d attempts (one refused)", len(atts))
	})
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := c.session(t)
		if s != first {
			return false, "a new session was started instead of continuing"
		}
		l := s.Snapshot()
		return l.FramesDecoded > before+60, fmt.Sprintf("frames decoded %d (before reload %d)", l.FramesDecoded, before)
	})
	// The recruiter still receives video after the candidate's rejoin.
	base := recruiterStats(t, c.recruiter).VideoFramesDecoded
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		s := recruiterStats(t, c.recruiter)
		return s.VideoFramesDecoded > base+15, fmt.Sprintf("recruiter frames %d (was %d)", s.VideoFramesDecoded, base)
	})
	// The recruiter ends the interview: one stored session covering both connections.
	if _, err := chromedp.Run(c.recruiter, chromedp.Evaluate[bool](`window.lcCall.send({t:"end"}), true`)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, err := env.Store.LatestVerdict(ctx, c.iv.ID)
		return err == nil, fmt.Sprintf("verdict: %v", err)
	})
	checkFinalStatus(t, env, c.iv.ID)
	sess, err := env.Store.Session(ctx, c.iv.ID)
	if err != nil || sess.FramesDecoded < int64(before+60) {
		t.Fatalf("stored session %+v (%v)", sess, err)
	}
}

// checkFinalStatus checks that a finished interview has a stored verdict and
// the status that follows from it: flagged when the verdict failed, else completed.
// (The fake camera of these tests is a panned still photo and the fake microphone
// espeak-ng, in an automated browser: the detectors are right to fail it.)
func checkFinalStatus(t *testing.T, env *apptest.Env, id int64) *store.Verdict {
	t.Helper()
	ctx := context.Background()
	v, err := env.Store.LatestVerdict(ctx, id)
	if err != nil {
		t.Fatalf("no verdict stored: %v", err)
	}
	iv, _ := env.Store.Interview(ctx, id)
	want := models.StatusCompleted
	if v.Decision == "failed" {
		want = models.StatusFlagged
	}
	if iv.Status != want {
		t.Errorf("status %s with a %s verdict, want %s", iv.Status, v.Decision, want)
	}
	return v
}

// observerSocket signs a reviewer in and opens the observer's signaling socket.
func observerSocket(t *testing.T, env *apptest.Env, id int64) *websocket.Conn {
	t.Helper()
	c := env.NewClient()
	c.Login(env.CreateUser(models.RoleReviewer))
	u, _ := url.Parse(env.URL)
	hdr := http.Header{"Origin": {env.URL}}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(env.URL, "http", "ws", 1)+fmt.Sprintf("/ws/interviews/%d?mode=observe", id), hdr)
	if err != nil {
		t.Fatalf("observer socket: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// observerOffer opens an observer's signaling socket and returns the server's
// first offer that carries media.
func observerOffer(t *testing.T, env *apptest.Env, id int64) string {
	t.Helper()
	ws := observerSocket(t, env, id)
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var m signal.Message
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("observer signaling: %v", err)
		}
		if m.T == signal.TypeOffer && strings.Contains(m.SDP, "m=video") {
			return m.SDP
		}
	}
}

// peerEvents records, in order, the "peer" events (candidate_joined, …) that
// a staff signaling socket receives, until the socket closes.
type peerEvents struct {
	mu  sync.Mutex
	evs []string
}

func watchPeerEvents(ws *websocket.Conn) *peerEvents {
	pe := &peerEvents{}
	go func() {
		for {
			var m signal.Message
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			var d struct {
				Event string `json:"event"`
			}
			if m.T == signal.TypePeer && json.Unmarshal(m.Data, &d) == nil {
				pe.mu.Lock()
				pe.evs = append(pe.evs, d.Event)
				pe.mu.Unlock()
			}
		}
	}()
	return pe
}

func (pe *peerEvents) list() []string {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	return append([]string(nil), pe.evs...)
}
