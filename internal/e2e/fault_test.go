package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// TestPostgresRestartDuringInterview: the database goes away while a candidate
// is connected and the session ends; once it is back, the session, its signals,
// series and the attempt are all stored, exactly once, with what was measured.
func TestPostgresRestartDuringInterview(t *testing.T) {
	pg := apptest.StartPostgres(t)
	c := startCallOpts(t, apptest.Options{DatabaseURL: pg.URL, Env: map[string]string{"LIVECHECK_REJOIN_GRACE": "1s"}}, apptest.BrowserOptions{})
	var sess room.Analysis
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		sess = c.session(t)
		return sess != nil && sess.Snapshot().FramesAnalysed > 20, "waiting for analysis"
	})
	ctx := context.Background()
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		atts, _ := c.env.Store.Attempts(ctx, c.iv.ID)
		return len(atts) == 1, "attempt row"
	})

	pg.Stop()
	if err := chromedp.Do(c.candidate, chromedp.Click(chromedp.CSS("#leave"))); err != nil {
		t.Fatal(err)
	}
	// The room ends after the grace period and its writes fail and are retried.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		st := c.env.App.Writes.Stats()
		return st.Retries >= 2 && st.Pending >= 1, fmt.Sprintf("writer %+v", st)
	})
	// The room has ended (after the grace period) while the database is down.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		_, live := c.env.App.Rooms.Get(c.iv.ID)
		return !live, "room still open"
	})
	final := sess.Snapshot() // the session's counters are final once its room ended
	pg.Start()

	var stored *store.SessionResult
	apptest.Eventually(t, 90*time.Second, func() (bool, string) {
		var err error
		stored, err = c.env.Store.Session(ctx, c.iv.ID)
		return err == nil, fmt.Sprintf("session not stored after the database came back: %v (writer %+v)", err, c.env.App.Writes.Stats())
	})
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		st := c.env.App.Writes.Stats()
		return st.Pending == 0, fmt.Sprintf("writer %+v", st)
	})
	if stored.FramesDecoded != int64(final.FramesDecoded) || stored.FramesAnalysed != int64(final.FramesAnalysed) {
		t.Errorf("stored frames %d/%d, measured %d/%d", stored.FramesDecoded, stored.FramesAnalysed, final.FramesDecoded, final.FramesAnalysed)
	}
	var n int
	if err := c.env.App.Store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{
		"session_results": `SELECT count(*) FROM session_results WHERE interview_id = $1`,
		"series":          `SELECT count(*) FROM series WHERE interview_id = $1`,
		// Retried writes must not duplicate: every signal kind once.
		"duplicate signals": `SELECT count(*) - count(DISTINCT kind) FROM signals WHERE interview_id = $1`,
	}
	want := map[string]int{"session_results": 1, "series": 6, "duplicate signals": 0}
	for name, q := range counts {
		if err := rawDB(t, pg.URL).QueryRow(ctx, q, c.iv.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want[name] {
			t.Errorf("%s rows: %d, want %d", name, n, want[name])
		}
	}
	sigs, _ := c.env.Store.Signals(ctx, c.iv.ID)
	kinds := map[string]bool{}
	for _, s := range sigs {
		kinds[s.Kind] = true
	}
	for _, k := range []string{"face_presence", "face_absent", "camera_off", "audio_level", "env_webdriver"} {
		if !kinds[k] {
			t.Errorf("signal %s lost in the outage", k)
		}
	}
	atts, _ := c.env.Store.Attempts(ctx, c.iv.ID)
	if len(atts) != 1 || atts[0].EndedAt == nil || atts[0].EndReason == nil || *atts[0].EndReason != "left" {
		t.Fatalf("attempt after the outage: %+v", atts)
	}
	checkFinalStatus(t, c.env, c.iv.ID)
	if st := c.env.App.Writes.Stats(); st.Dropped != 0 {
		t.Errorf("writes dropped: %+v", st)
	}
}

// TestShutdownDuringInterview: what SIGTERM does (app.Shutdown) while a
// candidate is connected: the page is told, the partial session is stored as
// interrupted.
func TestShutdownDuringInterview(t *testing.T) {
	c := startCall(t, "30s")
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := c.session(t)
		return s != nil && s.Snapshot().FramesAnalysed > 20, "waiting for analysis"
	})
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.env.App.Shutdown(sctx)
	ctx := context.Background()
	stored, err := c.env.Store.Session(ctx, c.iv.ID)
	if err != nil {
		t.Fatalf("no session stored by the shutdown: %v", err)
	}
	if stored.Reason != "interrupted" || stored.FramesAnalysed < 20 {
		t.Errorf("stored session %+v", stored)
	}
	iv, _ := c.env.Store.Interview(ctx, c.iv.ID)
	if iv.Status != models.StatusInterrupted {
		t.Errorf("status %s, want interrupted", iv.Status)
	}
	apptest.Eventually(t, 20*time.Second, func() (bool, string) {
		txt, _ := chromedp.Run(c.candidate, chromedp.Text(chromedp.CSS("#call-status")))
		return strings.Contains(txt, "ended"), "candidate status: " + txt
	})
}

// TestServerSIGTERM: the binary stops gracefully on SIGTERM.
func TestServerSIGTERM(t *testing.T) {
	p := apptest.StartProc(t, apptest.FreePort(t), map[string]string{"LIVECHECK_DATABASE_URL": pgtest.SchemaURL(t)})
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Output.String())
	}
	if !strings.Contains(p.Output.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", p.Output.String())
	}
}

// TestServerKilledAndRestarted: the server is killed hard mid-interview; the
// restarted server marks the interview interrupted, and the candidate's page
// reconnects to it and the interview goes on.
func TestServerKilledAndRestarted(t *testing.T) {
	dbURL := pgtest.SchemaURL(t)
	settings := map[string]string{"LIVECHECK_DATABASE_URL": dbURL, "LIVECHECK_REJOIN_GRACE": "2s",
		"LIVECHECK_SIGNING_SECRET": "a-test-secret-that-is-long-enough-0123456789"}
	port := apptest.FreePort(t)
	a := apptest.StartProc(t, port, settings)
	ctx := context.Background()
	pool := rawDB(t, dbURL)
	st := store.New(pool)
	signer, _ := auth.NewSigner([]byte(settings["LIVECHECK_SIGNING_SECRET"]))
	token, hash, _ := signer.NewJoinToken()
	iv := &models.Interview{CandidateName: "Crash Test", CandidateEmail: "crash@candidate.test", ScheduledAt: time.Now(),
		TokenHash: hash, ExpiresAt: time.Now().Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	cand := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t)})
	if err := chromedp.Do(cand, chromedp.Navigate(a.URL+"/join/"+url.PathEscape(token)), chromedp.WaitVisible(chromedp.CSS("#consent-give")),
		chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitEnabled(chromedp.CSS("#join")), chromedp.Click(chromedp.CSS("#join")),
		chromedp.WaitVisible(chromedp.CSS("#candidate-call"))); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		got, _ := st.Interview(ctx, iv.ID)
		return got.Status == models.StatusLive, "status " + string(got.Status)
	})
	a.Kill()
	b := apptest.StartProc(t, port, settings)
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		return strings.Contains(b.Output.String(), "marked interrupted"), "restart did not report interrupted interviews"
	})
	// The candidate's page reconnects by itself (it reloads when signaling drops).
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		atts, _ := st.Attempts(ctx, iv.ID)
		got, _ := st.Interview(ctx, iv.ID)
		return len(atts) == 2 && got.Status == models.StatusLive, fmt.Sprintf("%d attempts, status %s", len(atts), got.Status)
	})
	atts, _ := st.Attempts(ctx, iv.ID)
	if atts[0].EndReason == nil || *atts[0].EndReason != "server stopped" {
		t.Errorf("first attempt end: %+v", atts[0])
	}
	// Media flows to the restarted server before the candidate leaves.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		n, err := chromedp.Run(cand, chromedp.Evaluate[int](`window.lcCall ? window.lcCall.stats().then(s => s.sentFrames) : 0`, chromedp.EvalAwaitPromise))
		return err == nil && n > 60, fmt.Sprintf("candidate sent %d frames (%v)", n, err)
	})
	if err := chromedp.Do(cand, chromedp.Click(chromedp.CSS("#leave"))); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s, err := st.Session(ctx, iv.ID)
		return err == nil && s.FramesDecoded > 0, fmt.Sprintf("session after restart: %v", err)
	})
	got, _ := st.Interview(ctx, iv.ID)
	if got.Status != models.StatusCompleted && got.Status != models.StatusFlagged {
		t.Errorf("final status %s, want completed or flagged", got.Status)
	}
	if _, err := st.LatestVerdict(ctx, iv.ID); err != nil {
		t.Errorf("no verdict after the restart: %v", err)
	}
}

// TestCandidateNetworkDropped: the candidate's browser runs on a second network
// host (a namespace joined by a veth pair) whose link is taken down mid-call.
// The server notices (the media path fails), keeps the session through the
// grace period; when the link is back the page rejoins by itself, the same
// session continues, and what was measured before and after is stored once.
// Then a short drop, which only the page notices, ends the same way.
func TestCandidateNetworkDropped(t *testing.T) {
	ns := apptest.NewNetns(t)
	dbURL := pgtest.SchemaURL(t)
	env := apptest.New(t, apptest.Options{Listen: ns.HostIP + ":0", DatabaseURL: dbURL, Env: map[string]string{"LIVECHECK_REJOIN_GRACE": "120s"}})
	rec := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Network Drop", env.Clock.Now().Add(time.Minute), rec.ID)
	cand := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t),
		Netns: ns, SecureOrigin: env.URL, Timeout: 5 * time.Minute})
	if err := chromedp.Do(cand, chromedp.Navigate(env.URL+"/join/"+url.PathEscape(token)), chromedp.WaitVisible(chromedp.CSS("#consent-give")),
		chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitEnabled(chromedp.CSS("#join")), chromedp.Click(chromedp.CSS("#join")),
		chromedp.WaitVisible(chromedp.CSS("#candidate-call"))); err != nil {
		t.Fatalf("candidate joins from the namespace: %v", err)
	}
	ctx := context.Background()
	session := func() room.Analysis {
		r, ok := env.App.Rooms.Get(iv.ID)
		if !ok {
			return nil
		}
		return r.Session()
	}
	var first room.Analysis
	// continues waits until the first session, still the room's, has decoded
	// 60 more frames than it had at a drop.
	continues := func(atDrop uint64) {
		t.Helper()
		apptest.Eventually(t, 60*time.Second, func() (bool, string) {
			s := session()
			if s != first {
				return false, "a new session was started instead of continuing"
			}
			n := s.Snapshot().FramesDecoded
			return n > atDrop+60, fmt.Sprintf("frames decoded %d (at the drop %d)", n, atDrop)
		})
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		first = session()
		if first == nil {
			return false, "no session"
		}
		return first.Snapshot().FramesDecoded > 30, fmt.Sprintf("session %+v", first.Snapshot())
	})

	// A reviewer observes: staff are told when the candidate's connection is
	// lost, long before the server gives up on it.
	events := watchPeerEvents(observerSocket(t, env, iv.ID))
	ns.LinkDown()
	down := time.Now()
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		evs := events.list()
		return slices.Contains(evs, "candidate_connection_lost"), fmt.Sprintf("staff events %q", evs)
	})
	t.Logf("staff were told the connection was lost after %v", time.Since(down).Round(time.Second/10))
	// The server sees the media path fail and ends the first attempt; the room
	// and its session stay for the grace period.
	apptest.Eventually(t, 90*time.Second, func() (bool, string) {
		atts, _ := env.Store.Attempts(ctx, iv.ID)
		return len(atts) == 1 && atts[0].EndedAt != nil, fmt.Sprintf("attempts %d, the server has not noticed the outage", len(atts))
	})
	atDrop := first.Snapshot().FramesDecoded
	noticed := time.Since(down)
	if evs := events.list(); !slices.Contains(evs, "candidate_left") {
		t.Errorf("staff events after the failure %q, want candidate_left", evs)
	}
	if s := session(); s != first {
		t.Fatal("the session did not survive the outage (grace period)")
	}
	// The page says the connection was lost (the test still reaches it over DevTools).
	txt, err := chromedp.Run(cand, chromedp.Text(chromedp.CSS("#call-status")))
	if err != nil || !strings.Contains(txt, "Reconnecting") && !strings.Contains(txt, "failed") {
		t.Errorf("candidate status during the outage: %q (%v)", txt, err)
	}
	got, _ := env.Store.Interview(ctx, iv.ID)
	if got.Status != models.StatusLive {
		t.Errorf("status during the outage %s, want live (grace period)", got.Status)
	}

	ns.LinkUp()
	up := time.Now()
	// The page notices the server answers again and rejoins: the same session goes on.
	apptest.Eventually(t, 90*time.Second, func() (bool, string) {
		atts, _ := env.Store.Attempts(ctx, iv.ID)
		return len(atts) == 2, fmt.Sprintf("%d attempts after the link came back", len(atts))
	})
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		evs := events.list()
		return len(evs) > 0 && evs[len(evs)-1] == "candidate_joined", fmt.Sprintf("staff events %q", evs)
	})
	t.Logf("outage noticed by the server after %v; the page rejoined %v after the link came back", noticed.Round(time.Second/10), time.Since(up).Round(time.Second/10))
	continues(atDrop)
	// A short drop, shorter than the server's failure timeout: the page notices
	// first and rejoins when the link is back; the session goes on.
	atBlip := first.Snapshot().FramesDecoded
	ns.LinkDown()
	down = time.Now()
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		txt, _ := chromedp.Run(cand, chromedp.Text(chromedp.CSS("#call-status")))
		return strings.Contains(txt, "Reconnecting"), "candidate status: " + txt
	})
	t.Logf("short drop: the page noticed it after %v", time.Since(down).Round(time.Second/10))
	ns.LinkUp()
	apptest.Eventually(t, 90*time.Second, func() (bool, string) {
		atts, _ := env.Store.Attempts(ctx, iv.ID)
		return len(atts) == 3, fmt.Sprintf("%d attempts after the short drop", len(atts))
	})
	continues(atBlip)

	// The interviewer ends the interview (what the End button of the call page does).
	r, ok := env.App.Rooms.Get(iv.ID)
	if !ok {
		t.Fatal("the room closed after the rejoin")
	}
	r.End(room.EndCompleted)
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		txt, _ := chromedp.Run(cand, chromedp.Text(chromedp.CSS("#call-status")))
		return strings.Contains(txt, "ended"), "candidate status: " + txt
	})
	var stored *store.SessionResult
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		stored, err = env.Store.Session(ctx, iv.ID)
		return err == nil, fmt.Sprintf("session not stored: %v", err)
	})
	final := first.Snapshot()
	if stored.FramesDecoded != int64(final.FramesDecoded) || stored.FramesAnalysed != int64(final.FramesAnalysed) || stored.FramesDecoded <= int64(atDrop+60) {
		t.Errorf("stored frames %d/%d, measured %d/%d (at the drop %d)", stored.FramesDecoded, stored.FramesAnalysed, final.FramesDecoded, final.FramesAnalysed, atDrop)
	}
	atts, _ := env.Store.Attempts(ctx, iv.ID)
	var reasons []string
	for _, a := range atts {
		reasons = append(reasons, valueOr(a.EndReason, "<nil>"))
	}
	// The second attempt ends when the reloading page closes its old socket
	// ("disconnected") or when the new one takes its place ("replaced").
	if len(reasons) != 3 || reasons[0] != "connection failed" || reasons[1] != "disconnected" && reasons[1] != "replaced" || reasons[2] != "ended" {
		t.Errorf("attempts ended by %q, want connection failed, disconnected or replaced, ended", reasons)
	}
	var n int
	if err := rawDB(t, dbURL).QueryRow(ctx, `SELECT count(*) FROM session_results WHERE interview_id = $1`, iv.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("session_results rows %d (%v), want 1", n, err)
	}
	checkFinalStatus(t, env, iv.ID)
}

// valueOr returns *p, or def when p is nil.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
