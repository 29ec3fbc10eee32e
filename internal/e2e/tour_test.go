package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// cspProbe records every Content-Security-Policy violation of a document.
const cspProbe = `window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`

// tourTab is a browser tab of the tour: it collects the console and, when
// LIVECHECK_SCREENSHOTS names a folder, photographs every page it visits.
type tourTab struct {
	t    *testing.T
	ctx  context.Context
	name string
	dir  string

	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
	seen int
}

func newTourTab(t *testing.T, ctx context.Context, name, dir string) *tourTab {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("%s: CSP probe: %v", name, err)
	}
	tb := &tourTab{t: t, ctx: ctx, name: name, dir: dir}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.msgs = append(tb.msgs, m)
			tb.mu.Unlock()
		}
	}()
	return tb
}

func (tb *tourTab) tab() tab { return tab{t: tb.t, ctx: tb.ctx, name: tb.name} }

func (tb *tourTab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", tb.name, err)
	}
}

// check fails the test for console errors since the last check (an HTTP error
// status of the page itself is expected when status is given), CSP violations,
// and an icon that does not load.
func (tb *tourTab) check(pageName string, status int) {
	tb.t.Helper()
	here := eval[string](tb.tab(), `location.href`)
	tb.mu.Lock()
	fresh := tb.msgs[tb.seen:]
	tb.seen = len(tb.msgs)
	tb.mu.Unlock()
	for _, m := range fresh {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		if status != 0 && m.URL == here && strings.Contains(m.Text, fmt.Sprintf("status of %d", status)) {
			continue // the page's own, expected status
		}
		tb.t.Errorf("%s (%s): console %s", pageName, tb.name, m)
	}
	if v := eval[string](tb.tab(), `Array.isArray(window.__csp) ? JSON.stringify(window.__csp) : "no CSP probe"`); v != "[]" {
		tb.t.Errorf("%s (%s): CSP violations %s", pageName, tb.name, v)
	}
	icon, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`(() => { const l = document.querySelector('link[rel="icon"]');
		return l ? fetch(l.href).then(r => r.ok && r.headers.get("content-type").startsWith("image/") ? r.status : -r.status) : 0 })()`, chromedp.EvalAwaitPromise))
	if err != nil || icon != 200 {
		tb.t.Errorf("%s (%s): the page's icon answers %d (%v)", pageName, tb.name, icon, err)
	}
}

// shot checks the page and photographs it: the first screen at 1280×900 (what
// is above the fold) and the whole page on a 390 px wide phone.
func (tb *tourTab) shot(pageName string, status int) {
	tb.t.Helper()
	if tb.dir != "" {
		settle := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)(ctx, t)
			return err
		})
		for _, size := range []struct {
			suffix string
			vp     chromedp.Action[chromedp.Void]
			shot   chromedp.Action[[]byte]
		}{
			{"1280", chromedp.EmulateViewport(1280, 900), chromedp.CaptureScreenshot()},
			{"390", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.FullScreenshot(100)},
		} {
			tb.do(size.vp, settle)
			b, err := chromedp.Run(tb.ctx, size.shot)
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				tb.t.Fatalf("%s: screenshot of %s: %v", tb.name, pageName, err)
			}
			if err := os.WriteFile(filepath.Join(tb.dir, pageName+"-"+size.suffix+".png"), b, 0o644); err != nil {
				tb.t.Fatal(err)
			}
		}
		tb.do(chromedp.EmulateViewport(1280, 900), settle)
	}
	tb.check(pageName, status)
}

// selfTest proves that the tab's checks can fail: an inline style is reported
// as a CSP violation and a console error reaches the test.
func (tb *tourTab) selfTest() {
	tb.t.Helper()
	eval[bool](tb.tab(), `(() => { const s = document.createElement("style"); s.textContent = "body { color: red }";
		document.head.appendChild(s); console.error("tour probe"); return true })()`)
	p := tb.tab()
	p.waitTrue(`window.__csp.length > 0 && window.__csp[0].startsWith("style-src")`, 10*time.Second)
	apptest.Eventually(tb.t, 10*time.Second, func() (bool, string) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, m := range tb.msgs[tb.seen:] {
			if m.Type == chromedp.ConsoleError && strings.Contains(m.Text, "tour probe") {
				return true, ""
			}
		}
		return false, "the console error of the probe did not arrive"
	})
	eval[bool](tb.tab(), `window.__csp = [], true`)
	tb.mu.Lock()
	tb.seen = len(tb.msgs)
	tb.mu.Unlock()
}

// TestTour walks every page of the product as its users meet it — set-up,
// sign-in, scheduling, the call on both sides (waiting, connected, a challenge,
// a flash, the end), the link in use, a decline, the verdict, the reviewer's
// queue and session, the administrator's pages — and checks each for console
// errors, Content-Security-Policy violations and a working icon; the timeline's
// challenge markers must be coloured by the stylesheet. With
// LIVECHECK_SCREENSHOTS=dir (`make screenshots`) it writes every page at
// 1280×900 and 390 px wide into dir.
func TestTour(t *testing.T) {
	dir := os.Getenv("LIVECHECK_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	settings := challengeSettings("turn_head,look")
	settings["LIVECHECK_REJOIN_GRACE"] = "10s"
	settings["LIVECHECK_ORG_NAME"] = "Acme Robotics"
	settings["LIVECHECK_PRIVACY_CONTACT"] = "privacy@acme.test"
	env := apptest.New(t, apptest.Options{Env: settings})
	const timeout = 12 * time.Minute
	bctx := apptest.NewBrowser(t, apptest.BrowserOptions{Timeout: timeout})
	staff := newTourTab(t, bctx, "recruiter", dir)
	inZone(t, bctx, "Asia/Tokyo") // the recruiter's own time zone (UTC+9)

	// First start: the one-time set-up link.
	var out strings.Builder
	if err := apptest.PrintSetupLink(env, &out); err != nil {
		t.Fatal(err)
	}
	setup := regexp.MustCompile(`http://\S+/setup/\S+`).FindString(out.String())
	staff.do(chromedp.Navigate(setup), chromedp.WaitVisible(chromedp.CSS("#password")))
	staff.shot("setup", 0)

	rec := env.CreateUser(models.RoleRecruiter)
	reviewer := env.CreateUser(models.RoleReviewer)
	admin := env.CreateUser(models.RoleAdmin)
	staff.do(chromedp.Navigate(env.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	staff.shot("login", 0)
	staff.selfTest()
	staff.do(chromedp.Navigate(env.URL+"/no/such/page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	staff.shot("not-found", 404)

	// The recruiter schedules an interview and opens the call before the candidate.
	staff.do(signIn(env, rec))
	staff.shot("dashboard-empty", 0)
	staff.do(chromedp.Navigate(env.URL+"/interviews/new"), chromedp.WaitVisible(chromedp.CSS("#candidate_name")))
	staff.shot("interview-new", 0)
	staff.do(chromedp.SendKeys(chromedp.CSS("#candidate_name"), "Katherine Johnson"),
		chromedp.SendKeys(chromedp.CSS("#candidate_email"), "katherine@candidate.test"),
		chromedp.SendKeys(chromedp.CSS("#claimed_city"), "Hampton"), chromedp.SendKeys(chromedp.CSS("#claimed_country"), "United States"))
	// The recruiter types their local time; it is stored in UTC and shown back in their zone, UTC on hover.
	eval[bool](staff.tab(), `document.getElementById("scheduled_at").value = "2030-05-01T18:00", true`)
	staff.do(chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#join-link")))
	staff.shot("interview-link", 0)
	if at := latestInterview(t, env).ScheduledAt.UTC(); !at.Equal(time.Date(2030, 5, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("18:00 in Tokyo stored as %v, want 09:00 UTC", at)
	}
	if v := eval[string](staff.tab(), `(() => { const e = document.querySelector("dl.facts time"); return e.textContent + " | " + e.title })()`); !strings.Contains(v, "06:00") && !strings.Contains(v, "6:00") ||
		!strings.Contains(v, "| Wed 1 May 2030, 09:00 UTC") || !strings.Contains(v, "GMT+9") {
		t.Errorf("scheduled time shown as %q, want 18:00 local (GMT+9) with 09:00 UTC on hover", v)
	}
	link := eval[string](staff.tab(), `document.getElementById("join-link").value`)
	staff.do(chromedp.Click(chromedp.CSS("#start-call")), chromedp.WaitVisible(chromedp.CSS("#staff-call")))
	st := staff.tab()
	st.waitText("#call-status", recruiterWaits, statusWait)
	st.waitTrue(pageLoaded, 30*time.Second)
	staff.shot("call-waiting", 0)

	// The candidate: consent, device check, the call.
	cctx := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t), Timeout: timeout})
	cand := newTourTab(t, cctx, "candidate", dir)
	inZone(t, cctx, "America/Sao_Paulo") // the candidate's (UTC-3)
	cand.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#consent-give")))
	cand.shot("join-consent", 0)
	if v := eval[string](cand.tab(), `document.querySelector("time").textContent`); !strings.Contains(v, "GMT-3") {
		t.Errorf("the candidate sees the interview time as %q, want their own zone", v)
	}
	cand.do(chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitVisible(chromedp.CSS("#device-check")), chromedp.WaitEnabled(chromedp.CSS("#join")))
	cand.shot("join-check", 0)
	cand.do(chromedp.Click(chromedp.CSS("#join")), chromedp.WaitVisible(chromedp.CSS("#candidate-call")))
	ct := cand.tab()
	ct.waitText("#call-status", candidateSeen, statusWait)
	st.waitText("#call-status", recruiterSees, statusWait)
	for _, tb := range []tab{st, ct} {
		tb.waitTrue(`document.getElementById("remote").videoWidth > 0`, 60*time.Second)
	}
	cand.shot("call-candidate", 0)
	staff.shot("call-connected", 0)

	// A reviewer observes the live call.
	rev := newTourTab(t, apptest.NewTab(t, bctx), "reviewer", dir)
	rev.do(signIn(env, reviewer))
	rev.do(chromedp.WaitVisible(chromedp.CSS("main h1")))
	if loc := eval[string](rev.tab(), `location.pathname`); loc != "/review" {
		t.Errorf("a reviewer lands on %s, want their queue", loc)
	}
	rev.shot("review-queue-empty", 0)
	iv := latestInterview(t, env)
	rev.do(chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#observe-call")))
	rev.shot("interview-live", 0)
	rev.do(chromedp.Click(chromedp.CSS("#observe-call")), chromedp.WaitVisible(chromedp.CSS("#staff-call")))
	rev.tab().waitTrue(`document.getElementById("remote").videoWidth > 0`, 60*time.Second)
	rev.shot("call-observer", 0)

	// A challenge, on both sides.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		r, ok := env.App.Rooms.Get(iv.ID)
		return ok && r.Session() != nil && r.Session().Snapshot().FramesAnalysed > 20, "waiting for analysis"
	})
	pressChallengeNow(t, staff.ctx)
	st.waitTrue(`!document.getElementById("challenge-running").hidden`, 20*time.Second)
	ct.waitTrue(`!document.getElementById("overlay").hidden`, 20*time.Second)
	cand.shot("call-candidate-prompt", 0)
	staff.shot("call-challenge-running", 0)
	st.waitTrue(`document.querySelector("#challenges tbody tr[data-outcome]") !== null`, 60*time.Second)
	staff.shot("call-challenge-result", 0)
	// How a flash looks (drawn by the page's own prompt code; the server's
	// flashes are tested elsewhere), and the slow fade of the no-flash choice.
	for _, v := range []struct{ name, fade string }{{"call-candidate-flash", "false"}, {"call-candidate-fade", "true"}} {
		eval[bool](ct, `window.LivecheckPrompts.handle({t: "flash", id: "tour", colors: ["#ff0000", "#00ffff", "#ffff00", "#0000ff"], step_ms: 1000,
			fade: `+v.fade+`, text: "Keep facing the screen: it changes colour for about 4 seconds."}, {send() {}}), true`)
		ct.waitTrue(`(() => { const e = document.getElementById("flashscreen"); return !!e && getComputedStyle(e).backgroundColor !== "rgba(0, 0, 0, 0)" })()`, 10*time.Second)
		cand.shot(v.name, 0)
		eval[bool](ct, `window.LivecheckPrompts.handle({t: "result", id: "tour"}, {send() {}}), true`)
	}

	// A second device with the same link is turned away.
	other := newTourTab(t, apptest.NewTab(t, cctx), "second device", dir)
	other.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#consent-give")), chromedp.Click(chromedp.CSS("#consent-give")),
		chromedp.WaitVisible(chromedp.CSS("#device-check")), chromedp.Navigate(link+"/call"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	other.shot("join-in-use", 409)

	// The end.
	eval[bool](st, `window.confirm = () => true, document.getElementById("end").click(), true`)
	st.waitText("#call-status", "ended", 30*time.Second)
	ct.waitText("#call-status", "ended", 30*time.Second)
	staff.shot("call-ended", 0)
	cand.shot("call-candidate-ended", 0)
	rev.tab().waitText("#call-status", "ended", 30*time.Second)
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		_, err := env.Store.LatestVerdict(context.Background(), iv.ID)
		return err == nil, fmt.Sprintf("verdict: %v", err)
	})
	staff.do(chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#verdict")))
	staff.shot("interview-done", 0)

	// The reviewer's queue and session; the timeline's markers are coloured.
	rev.do(chromedp.Navigate(env.URL+"/review"), chromedp.WaitVisible(chromedp.CSS("#queue")))
	rev.shot("review-queue", 0)
	rev.do(chromedp.Navigate(fmt.Sprintf("%s/review/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#summary")))
	if err := apptest.WaitLoaded(rev.ctx); err != nil {
		t.Fatal(err)
	}
	rev.shot("review-session", 0)
	marks := eval[string](rev.tab(), `JSON.stringify([...document.querySelectorAll("#timeline line.tl-mk")].map(l => [l.getAttribute("class"), getComputedStyle(l).stroke]))`)
	want := map[string]string{"tl-passed": "rgb(20, 108, 46)", "tl-failed": "rgb(179, 38, 30)", "tl-inconclusive": "rgb(138, 83, 0)"}
	found := 0
	for class, colour := range want {
		if strings.Contains(marks, class) {
			found++
			if !strings.Contains(marks, `"tl-mk `+class+`","`+colour+`"`) {
				t.Errorf("challenge marker %s is not drawn in %s: %s", class, colour, marks)
			}
		}
	}
	if found == 0 {
		t.Errorf("no coloured challenge marker on the timeline: %s", marks)
	}
	rev.do(chromedp.Click(chromedp.CSS("#reasons-details summary")), chromedp.WaitVisible(chromedp.CSS("#reasons")))
	rev.shot("review-session-signals", 0)

	// A candidate who declines.
	iv2, token2 := env.CreateInterview("Christine Darden", env.Clock.Now().Add(2*time.Hour), rec.ID)
	other.do(chromedp.Navigate(env.URL+"/join/"+token2), chromedp.WaitVisible(chromedp.CSS("#consent-decline")), chromedp.Click(chromedp.CSS("#consent-decline")))
	other.tab().waitText("main h1", "You declined", 20*time.Second)
	other.shot("join-declined", 0)
	other.do(chromedp.Navigate(env.URL+"/join/"+token2), chromedp.WaitVisible(chromedp.CSS("#declined-note")))
	other.shot("join-after-declining", 0)
	other.do(chromedp.Navigate(env.URL+"/join/not-a-link"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	other.shot("join-invalid", 404)
	staff.do(chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv2.ID)), chromedp.WaitVisible(chromedp.CSS("#declined")))
	staff.shot("interview-declined", 0)
	staff.do(chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	staff.shot("dashboard", 0)

	// Face identity: the reference photo on the interview page, the notice
	// that names it, the reviewer's "who was on camera" (reasons stored
	// through the store, see TestIdentityInTheBrowser).
	iv3, token3 := env.CreateInterview("Dorothy Vaughan", env.Clock.Now().Add(3*time.Hour), rec.ID)
	earlier, _ := env.CreateInterview("Annie Easley", env.Clock.Now().AddDate(0, 0, -10), rec.ID)
	photo, err := filepath.Abs("../../testdata/faces/obama.jpg")
	if err != nil {
		t.Fatal(err)
	}
	staff.do(chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv3.ID)), chromedp.WaitVisible(chromedp.CSS("#reference-photo")),
		chromedp.SetUploadFiles(chromedp.CSS("#reference-photo"), []string{photo}), chromedp.Click(chromedp.CSS("#reference-attach")))
	staff.tab().waitText("#reference-state", "A reference photo is attached", 60*time.Second)
	staff.shot("interview-reference", 0)
	other.do(chromedp.Navigate(env.URL+"/join/"+token3), chromedp.WaitVisible(chromedp.CSS("#notice-face")))
	other.shot("join-consent-face", 0)
	const faces = "../../testdata/faces/"
	env.SeedIdentitySession(iv3, earlier, apptest.IdentityFaces{
		Main:   apptest.FaceCrop(t, faces+"astronaut.png", image.Rect(150, 30, 330, 210)),
		Before: apptest.FaceCrop(t, faces+"astronaut.png", image.Rect(150, 30, 330, 210)),
		After:  apptest.FaceCrop(t, faces+"obama.jpg", image.Rect(300, 120, 620, 440)),
		Other:  apptest.FaceCrop(t, faces+"astronaut.png", image.Rect(140, 20, 340, 220)),
	}, true)
	rev.do(chromedp.Navigate(fmt.Sprintf("%s/review/%d", env.URL, iv3.ID)), chromedp.WaitVisible(chromedp.CSS("#identity")))
	if err := apptest.WaitLoaded(rev.ctx); err != nil {
		t.Fatal(err)
	}
	rev.shot("review-identity", 0)

	// The administrator's pages.
	adm := newTourTab(t, apptest.NewTab(t, bctx), "admin", dir)
	adm.do(signIn(env, admin))
	for _, p := range []struct{ path, name, sel string }{
		{"/admin/users", "admin-users", "main table"},
		{"/admin/audit", "admin-audit", "#audit"},
		{"/admin/webhooks", "admin-webhooks", "#url"},
	} {
		adm.do(chromedp.Navigate(env.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		adm.shot(p.name, 0)
	}
	if r := env.NewClient().Get("/favicon.ico"); r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
		t.Errorf("/favicon.ico: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if dir != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// inZone makes the browser's tabs run in a time zone.
func inZone(t *testing.T, ctx context.Context, zone string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
		t.Fatalf("time zone %s: %v", zone, err)
	}
}

// latestInterview is the most recently created interview.
func latestInterview(t *testing.T, env *apptest.Env) *models.Interview {
	t.Helper()
	ivs, err := env.Store.Interviews(context.Background(), store.InterviewFilter{})
	if err != nil || len(ivs) == 0 {
		t.Fatalf("no interview: %v", err)
	}
	return ivs[0]
}
