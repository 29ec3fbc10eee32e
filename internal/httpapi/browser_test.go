package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

// TestBrowserRecruiterCreatesInterview drives real headless Chromium: a recruiter
// signs in, creates an interview, copies the join link from the page, and a
// fresh browser context opens it and sees the candidate landing page.
func TestBrowserRecruiterCreatesInterview(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	rec := env.CreateUser(models.RoleRecruiter)
	ctx := apptest.NewBrowser(t, apptest.BrowserOptions{})

	err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), rec.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), apptest.Password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("a.button[href='/interviews/new']")),
		chromedp.Click(chromedp.CSS("a.button[href='/interviews/new']")),
		chromedp.WaitVisible(chromedp.CSS("#candidate_name")),
		chromedp.SendKeys(chromedp.CSS("#candidate_name"), "Katherine Johnson"),
		chromedp.SendKeys(chromedp.CSS("#candidate_email"), "katherine@candidate.test"),
		chromedp.SendKeys(chromedp.CSS("#claimed_city"), "Hampton"),
		chromedp.SendKeys(chromedp.CSS("#claimed_country"), "United States"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#join-link")),
	)
	if err != nil {
		t.Fatalf("recruiter flow: %v", err)
	}
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#join-link")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, env.URL+"/join/") {
		t.Fatalf("join link %q does not point at this server", link)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Katherine Johnson" {
		t.Fatalf("interview page heading %q (%v)", heading, err)
	}

	cand := apptest.NewTab(t, ctx)
	if err := chromedp.Do(cand, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("section.candidate h1"))); err != nil {
		t.Fatalf("candidate opens link: %v", err)
	}
	greet, err := chromedp.Run(cand, chromedp.Text(chromedp.CSS("section.candidate h1")))
	if err != nil || !strings.Contains(greet, "Katherine Johnson") {
		t.Fatalf("candidate landing heading %q (%v)", greet, err)
	}
	// The candidate's fresh context is not signed in as the recruiter.
	nav, err := chromedp.Run(cand, chromedp.Evaluate[bool]("document.querySelector('header nav') !== null"))
	if err != nil || nav {
		t.Fatalf("candidate page must not show the staff navigation (nav=%v, err=%v)", nav, err)
	}
}

// TestBrowserReviewerApproves: a reviewer opens a flagged session (stored through
// the real store), sees reasons, the evidence image and the timeline, approves
// with a note; the audit rows exist and the recruiter's page shows the decision.
func TestBrowserReviewerApproves(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	iv := seedSession(t, env, "Flagged Person", true, 1)
	rv := env.CreateUser(models.RoleReviewer)
	ctx := apptest.NewBrowser(t, apptest.BrowserOptions{})
	err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/login?next=/review"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), rv.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), apptest.Password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#queue")),
		chromedp.Click(chromedp.CSS(`#queue a[href="/review/`+itoa(iv.ID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#summary")),
	)
	if err != nil {
		t.Fatalf("reviewer opens the session: %v", err)
	}
	if err := apptest.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	// The plain summary first; the raw signals one click away.
	summary, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#summary")))
	if !strings.Contains(summary, "did not turn their head when asked (no response)") {
		t.Errorf("summary shown: %q", summary)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reasons-details summary")), chromedp.WaitVisible(chromedp.CSS("#reasons"))); err != nil {
		t.Fatalf("open the raw signals: %v", err)
	}
	reasons, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#reasons")))
	if !strings.Contains(reasons, "turn_head failed: no response") {
		t.Errorf("reasons shown: %q", reasons)
	}
	imgW, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const i = document.querySelector("#challenges img.evidence"); return i && i.complete ? i.naturalWidth : -1 })()`))
	if err != nil || imgW <= 0 {
		t.Errorf("evidence image not rendered (naturalWidth %d, %v)", imgW, err)
	}
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline svg polyline").length`))
	if err != nil || lines < 3 {
		t.Errorf("timeline chart has %d series lines (%v)", lines, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)),
		chromedp.SendKeys(chromedp.CSS("#notes"), "Verified against passport video call"),
		chromedp.Click(chromedp.CSS("#decide button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.review-entry")),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	audit, _ := env.Store.AuditLog(context.Background(), "interview:"+itoa(iv.ID), 50)
	acts := map[string]bool{}
	for _, a := range audit {
		acts[a.Action] = true
	}
	for _, want := range []string{"session.view", "evidence.view", "review.approve"} {
		if !acts[want] {
			t.Errorf("audit lacks %s (%v)", want, acts)
		}
	}
	owner, err := env.Store.UserByID(context.Background(), iv.CreatedBy) // recruiters see the interviews they created
	if err != nil {
		t.Fatal(err)
	}
	rec := env.NewClient()
	rec.Login(owner)
	if page := rec.Get("/interviews/" + itoa(iv.ID)); !strings.Contains(page.Body, "Verified against passport video call") {
		t.Error("the recruiter's page does not show the decision")
	}
}
