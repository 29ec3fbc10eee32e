package e2e

import (
	"context"
	"fmt"
	"net/url"
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
	var sess *room.Session
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
		st := c.env.App.Rooms.WriterStats()
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
		return err == nil, fmt.Sprintf("session not stored after the database came back: %v (writer %+v)", err, c.env.App.Rooms.WriterStats())
	})
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		st := c.env.App.Rooms.WriterStats()
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
	if st := c.env.App.Rooms.WriterStats(); st.Dropped != 0 {
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
