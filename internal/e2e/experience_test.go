package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// tab is one browser tab of a call test, with helpers that wait on what it shows.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// eval runs a JavaScript expression in the page.
func eval[T any](p tab, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, expr, err)
	}
	return v
}

// text is the text of the first element matching the CSS selector ("" when none).
func (p tab) text(sel string) string {
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : "" })()`, sel)))
	return v
}

// waitText waits until the element's text contains want.
func (p tab) waitText(sel, want string, timeout time.Duration) {
	p.t.Helper()
	apptest.Eventually(p.t, timeout, func() (bool, string) {
		got := p.text(sel)
		return strings.Contains(got, want), fmt.Sprintf("%s %s: %q, want %q", p.name, sel, got, want)
	})
}

// waitTrue waits until the JavaScript expression is true.
func (p tab) waitTrue(expr string, timeout time.Duration) {
	p.t.Helper()
	apptest.Eventually(p.t, timeout, func() (bool, string) {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr))
		return err == nil && v, fmt.Sprintf("%s: %s is not true (%v)", p.name, expr, err)
	})
}

// experienceEnv starts the app and signs a recruiter's browser in.
func experienceEnv(t *testing.T, settings map[string]string) (*apptest.Env, *models.Interview, string, tab) {
	t.Helper()
	env := apptest.New(t, apptest.Options{Env: settings})
	rec := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Mary Jackson", env.Clock.Now().Add(time.Minute), rec.ID)
	rctx := apptest.NewBrowser(t, apptest.BrowserOptions{Timeout: 8 * time.Minute})
	if err := chromedp.Do(rctx, signIn(env, rec)); err != nil {
		t.Fatalf("recruiter signs in: %v", err)
	}
	return env, iv, token, tab{t: t, ctx: rctx, name: "recruiter"}
}

// openCall opens the recruiter's call page from the interview page.
func openCall(t *testing.T, env *apptest.Env, iv *models.Interview, r tab) {
	t.Helper()
	if err := chromedp.Do(r.ctx,
		chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)),
		chromedp.WaitVisible(chromedp.CSS("#start-call")),
		chromedp.Click(chromedp.CSS("#start-call")),
		chromedp.WaitVisible(chromedp.CSS("#staff-call")),
	); err != nil {
		t.Fatalf("recruiter opens the call: %v", err)
	}
}

// joinAsCandidate takes a fresh browser with the fake camera through consent and device check into the call.
func joinAsCandidate(t *testing.T, env *apptest.Env, token string, noFlash bool) tab {
	t.Helper()
	cctx := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t), Timeout: 8 * time.Minute})
	actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(env.URL + "/join/" + token), chromedp.WaitVisible(chromedp.CSS("#consent-give"))}
	if noFlash {
		actions = append(actions, chromedp.Click(chromedp.CSS("#no-flash")))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitVisible(chromedp.CSS("#device-check")),
		chromedp.WaitEnabled(chromedp.CSS("#join")), chromedp.Click(chromedp.CSS("#join")), chromedp.WaitVisible(chromedp.CSS("#candidate-call")))
	if err := chromedp.Do(cctx, actions...); err != nil {
		t.Fatalf("candidate joins: %v", err)
	}
	return tab{t: t, ctx: cctx, name: "candidate"}
}

const (
	candidateSeen   = "The interviewer can see and hear you"
	candidateAlone  = "has not joined yet"
	recruiterSees   = "Candidate connected"
	recruiterWaits  = "Waiting for the candidate"
	pageLoaded      = `document.readyState === "complete"`
	statusWait      = 60 * time.Second
	interviewerLeft = "The interviewer left the call"
)

// TestCallStatusCandidateFirst: the candidate joins before the recruiter. Each
// side's status follows the real connection state through the recruiter's
// arrival, the recruiter leaving and coming back, the candidate leaving and
// rejoining, and the end; End stops the recruiter's camera and microphone and
// disables the controls.
func TestCallStatusCandidateFirst(t *testing.T) {
	env, iv, token, rec := experienceEnv(t, map[string]string{"LIVECHECK_REJOIN_GRACE": "120s"})
	cand := joinAsCandidate(t, env, token, true)
	cand.waitText("#call-status", candidateAlone, statusWait)
	// The page has finished loading although no interviewer video exists yet.
	cand.waitTrue(pageLoaded, 30*time.Second)

	openCall(t, env, iv, rec)
	rec.waitText("#call-status", recruiterSees, statusWait)
	cand.waitText("#call-status", candidateSeen, statusWait)
	rec.waitTrue(pageLoaded, 30*time.Second)
	rec.waitTrue(`!document.getElementById("call-timer").hidden`, 10*time.Second)
	// The no-flash choice made before joining reaches the session.
	rec.waitText("#challenge-remaining", "chose no flashing", 10*time.Second)

	// The recruiter's controls: mute and camera switch their own tracks.
	eval[bool](rec, `document.getElementById("mute").click(), document.getElementById("camera-toggle").click(), true`)
	if !eval[bool](rec, `(() => { const s = window.lcCall.opts.stream;
		return s.getAudioTracks().every(t => !t.enabled) && s.getVideoTracks().every(t => !t.enabled) &&
			document.getElementById("mute").getAttribute("aria-pressed") === "true" && document.getElementById("mute").textContent === "Unmute" &&
			document.getElementById("camera-toggle").textContent === "Start camera" })()`) {
		t.Error("mute and camera did not switch the recruiter's tracks off")
	}
	eval[bool](rec, `document.getElementById("mute").click(), document.getElementById("camera-toggle").click(), true`)

	// The recruiter leaves and comes back.
	if err := chromedp.Do(rec.ctx, chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#start-call"))); err != nil {
		t.Fatal(err)
	}
	cand.waitText("#call-status", interviewerLeft, statusWait)
	openCall(t, env, iv, rec)
	rec.waitText("#call-status", recruiterSees, statusWait)
	cand.waitText("#call-status", candidateSeen, statusWait)

	// The candidate leaves and rejoins with the button.
	eval[bool](cand, `document.getElementById("leave").click(), true`)
	cand.waitText("#call-status", "You left", 10*time.Second)
	rec.waitText("#call-status", "The candidate left", statusWait)
	eval[bool](cand, `document.getElementById("rejoin").click(), true`)
	if err := chromedp.Do(cand.ctx, chromedp.WaitVisible(chromedp.CSS("#candidate-call"))); err != nil {
		t.Fatal(err)
	}
	rec.waitText("#call-status", recruiterSees, statusWait)
	cand.waitText("#call-status", candidateSeen, statusWait)

	// End: confirmed, local media stopped, controls disabled, both told.
	eval[bool](rec, `window.confirm = () => true, document.getElementById("end").click(), true`)
	rec.waitText("#call-status", "ended", 30*time.Second)
	cand.waitText("#call-status", "ended", 30*time.Second)
	if !eval[bool](rec, `(() => { const s = window.lcCall.opts.stream;
		return s.getTracks().length > 0 && s.getTracks().every(t => t.readyState === "ended") &&
			["mute", "camera-toggle", "challenge-now", "end"].every(id => document.getElementById(id).disabled) })()`) {
		t.Error("after End the recruiter's camera or microphone is still live, or a control is still enabled")
	}
	if !eval[bool](cand, `window.lcCall.opts.stream.getTracks().every(t => t.readyState === "ended") && document.getElementById("leave").disabled`) {
		t.Error("after the end the candidate's camera is still live")
	}
	// The end is in the audit log, by the recruiter.
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		es, _ := env.Store.AuditSearch(context.Background(), store.AuditFilter{Action: "interview.end", Target: fmt.Sprintf("interview:%d", iv.ID)})
		return len(es) > 0, "no interview.end audit entry"
	})
	// The choice is shown to reviewers with the consent.
	staff := env.NewClient()
	staff.Login(env.CreateUser(models.RoleReviewer))
	if body := staff.Get(fmt.Sprintf("/interviews/%d", iv.ID)).Body; !strings.Contains(body, "no flashing") {
		t.Error("the interview page does not show the candidate's no-flash choice")
	}
}

// TestCallStatusRecruiterFirstAndChallenges: the recruiter opens the call first
// (the page finishes loading while it waits), the candidate joins; the
// recruiter's challenge panel explains every state: unavailable without the
// candidate, refused with a reason, running with its prompt and countdown, and
// locked after a failure (a pre-recorded loop fails).
func TestCallStatusRecruiterFirstAndChallenges(t *testing.T) {
	settings := challengeSettings("turn_head,blink")
	settings["LIVECHECK_CHALLENGES"] = "3"
	settings["LIVECHECK_CHALLENGE_LOCK_AFTER"] = "1"
	env, iv, token, rec := experienceEnv(t, settings)
	openCall(t, env, iv, rec)
	rec.waitTrue(pageLoaded, 30*time.Second)
	rec.waitText("#call-status", recruiterWaits, statusWait)
	rec.waitText("#challenge-remaining", "3 planned challenges", 10*time.Second)
	rec.waitText("#challenge-reason", "while the candidate is connected", 10*time.Second)
	if !eval[bool](rec, `document.getElementById("challenge-now").disabled`) {
		t.Error("Challenge now is enabled without a candidate")
	}
	// The server answers a request it cannot carry out, with the reason.
	eval[bool](rec, `window.lcCall.send({t: "challenge_now"}), true`)
	rec.waitText("#challenge-reason", "The candidate is not connected", 10*time.Second)

	cand := joinAsCandidate(t, env, token, false)
	rec.waitText("#call-status", recruiterSees, statusWait)
	cand.waitText("#call-status", candidateSeen, statusWait)
	cand.waitTrue(pageLoaded, 30*time.Second)
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		r, ok := env.App.Rooms.Get(iv.ID)
		if !ok || r.Session() == nil {
			return false, "no session"
		}
		l := r.Session().Snapshot()
		return l.FramesAnalysed > 20, fmt.Sprintf("session %+v", l)
	})
	if err := chromedp.Do(rec.ctx, chromedp.WaitEnabled(chromedp.CSS("#challenge-now")), chromedp.Click(chromedp.CSS("#challenge-now"))); err != nil {
		t.Fatal(err)
	}
	rec.waitTrue(`!document.getElementById("challenge-running").hidden && document.getElementById("challenge-text").textContent.length > 5`, 20*time.Second)
	rec.waitTrue(`/^[0-9]+$/.test(document.getElementById("challenge-count").textContent)`, 10*time.Second)
	rec.waitText("#challenge-remaining", "2 planned challenges", 10*time.Second)
	if !eval[bool](rec, `document.getElementById("challenge-now").disabled`) {
		t.Error("Challenge now is enabled while a challenge runs")
	}
	// The candidate sees the prompt with a labelled countdown, and their own picture.
	cand.waitTrue(`!document.getElementById("overlay").hidden && !document.getElementById("overlay-count-label").hidden`, 20*time.Second)
	if !eval[bool](cand, `document.getElementById("stage").classList.contains("prompting") && getComputedStyle(document.getElementById("self")).visibility === "visible"`) {
		t.Error("the candidate's self-view is not shown during the prompt")
	}
	eval[bool](rec, `window.lcCall.send({t: "challenge_now"}), true`)
	rec.waitText("#challenge-reason", "already running", 10*time.Second)

	// The loop cannot respond: the challenge fails and challenges lock.
	rec.waitTrue(`!document.getElementById("challenge-locked").hidden`, 60*time.Second)
	rec.waitText("#challenge-locked", "locked after 1 failed", 5*time.Second)
	rec.waitTrue(`document.getElementById("challenge-running").hidden && document.getElementById("challenge-now").disabled`, 10*time.Second)
	rec.waitTrue(`document.querySelector("#challenges tbody tr[data-outcome=failed]") !== null`, 10*time.Second)
	eval[bool](rec, `window.lcCall.send({t: "challenge_now"}), true`)
	rec.waitText("#challenge-reason", "Challenges are locked", 10*time.Second)
}
