package e2e

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

// TestIdentityInTheBrowser: in real Chromium, the recruiter attaches the
// candidate's reference photo (a testdata still) through the interview
// page's file input; the candidate's consent notice then names the
// comparison with it; the reviewer's page shows the identity reasons with
// their faces side by side (loaded images: the change's two faces on one
// row with their times, the live face beside the reference photo, this
// face beside the other interview's) and marks the reuse match as the same
// person legitimately.
//
// The session's identity reasons and evidence are stored through the store
// (apptest.SeedIdentitySession, in the format internal/verdict documents)
// rather than produced by a live call: this test is about what people see
// and do, and the live identity path has its own tests.
func TestIdentityInTheBrowser(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	rec, rev := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleReviewer)
	iv, token := env.CreateInterview("Katherine Johnson", env.Clock.Now().Add(time.Hour), rec.ID)
	other, _ := env.CreateInterview("Earlier Applicant", env.Clock.Now().AddDate(0, 0, -10), env.CreateUser(models.RoleRecruiter).ID)
	photo, err := filepath.Abs("../../testdata/faces/obama.jpg")
	if err != nil {
		t.Fatal(err)
	}

	browser := apptest.NewBrowser(t, apptest.BrowserOptions{Timeout: 4 * time.Minute})
	r := tab{t: t, ctx: browser, name: "recruiter"}
	if err := chromedp.Do(r.ctx, signIn(env, rec),
		chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)),
		chromedp.WaitVisible(chromedp.CSS("#reference-photo")),
		chromedp.SetUploadFiles(chromedp.CSS("#reference-photo"), []string{photo}),
		chromedp.Click(chromedp.CSS("#reference-attach")),
	); err != nil {
		t.Fatalf("recruiter attaches the photo: %v", err)
	}
	r.waitText(".flash", "Reference photo attached (910×1137, a face was found)", statusWait)
	r.waitText("#reference-state", "A reference photo is attached", statusWait)
	if p, err := env.Store.ReferencePhotoOf(ctx, iv.ID); err != nil || p.Width != 910 || len(p.Descriptor) != 128 {
		t.Fatalf("stored photo: %v", err)
	}

	c := tab{t: t, ctx: apptest.NewTab(t, browser), name: "candidate"}
	if err := chromedp.Do(c.ctx, chromedp.Navigate(env.URL+"/join/"+token), chromedp.WaitVisible(chromedp.CSS("#consent-give"))); err != nil {
		t.Fatalf("candidate opens the link: %v", err)
	}
	notice := strings.Join(strings.Fields(c.text("#notice-face")), " ")
	for _, want := range []string{"Face comparison.", "Your face on camera is compared with a reference photo", "other interviews of the last"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the consent notice lacks %q: %q", want, notice)
		}
	}

	const dir = "../../testdata/faces/"
	seed := env.SeedIdentitySession(iv, other, apptest.IdentityFaces{
		Main:   apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(150, 30, 330, 210)),
		Before: apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(150, 30, 330, 210)),
		After:  apptest.FaceCrop(t, dir+"obama.jpg", image.Rect(300, 120, 620, 440)),
		Other:  apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(140, 20, 340, 220)),
	}, true)

	v := tab{t: t, ctx: apptest.NewTab(t, browser), name: "reviewer"}
	if err := chromedp.Do(v.ctx, signIn(env, rev),
		chromedp.Navigate(fmt.Sprintf("%s/review/%d", env.URL, iv.ID)),
		chromedp.WaitVisible(chromedp.CSS("#identity")),
	); err != nil {
		t.Fatalf("reviewer opens the review: %v", err)
	}
	if err := apptest.WaitLoaded(v.ctx); err != nil {
		t.Fatal(err)
	}
	// Every identity image loaded (the evidence and reference routes answered
	// with images the browser could decode).
	v.waitTrue(`[...document.querySelectorAll("#identity img")].length >= 6 && [...document.querySelectorAll("#identity img")].every(i => i.complete && i.naturalWidth > 0)`, statusWait)
	sideBySide := func(a, b string) string {
		return fmt.Sprintf(`(() => { const a = document.querySelector(%q), b = document.querySelector(%q);
			if (!a || !b) return false; const x = a.getBoundingClientRect(), y = b.getBoundingClientRect();
			return Math.abs(x.top - y.top) < 2 && y.left >= x.right && x.width > 100 && y.width > 100 })()`, a, b)
	}
	before := fmt.Sprintf(`#identity img[src="/interviews/%d/evidence/%d"]`, iv.ID, seed.BeforeID)
	after := fmt.Sprintf(`#identity img[src="/interviews/%d/evidence/%d"]`, iv.ID, seed.AfterID)
	v.waitTrue(sideBySide(before, after), statusWait)
	change := v.text(`[data-kind="identity_change"] + .identity-pair`)
	if !strings.Contains(change, "Before: 0:39 into the session") || !strings.Contains(change, "After: 0:40 into the session") {
		t.Errorf("the change's times: %q", change)
	}
	live := fmt.Sprintf(`[data-kind="identity_reference"] img[src="/interviews/%d/evidence/%d"]`, iv.ID, seed.FaceID)
	ref := fmt.Sprintf(`[data-kind="identity_reference"] img[src="/interviews/%d/reference"]`, iv.ID)
	v.waitTrue(sideBySide(live, ref), statusWait)
	if got := v.text(`[data-kind="identity_reference"] p`); !strings.Contains(got, "does not match the reference photo") {
		t.Errorf("reference reason: %q", got)
	}
	otherFace := fmt.Sprintf(`[data-kind="identity_reuse"] img[src="/interviews/%d/evidence/%d"]`, other.ID, seed.OtherFaceID)
	v.waitTrue(sideBySide(fmt.Sprintf(`[data-kind="identity_reuse"] img[src="/interviews/%d/evidence/%d"]`, iv.ID, seed.FaceID), otherFace), statusWait)
	if link := v.text(fmt.Sprintf(`a[href="/review/%d"]`, other.ID)); link != fmt.Sprintf("Interview %d", other.ID) {
		t.Errorf("link to the other interview: %q", link)
	}

	if err := chromedp.Do(v.ctx,
		chromedp.SendKeys(chromedp.CSS(".identity-mark input[name=note]"), "re-interview of the same applicant"),
		chromedp.Click(chromedp.CSS(".identity-mark button[type=submit]")),
	); err != nil {
		t.Fatalf("reviewer marks the match: %v", err)
	}
	v.waitText(".flash", "no longer counts", statusWait)
	v.waitText(".reuse-match .marked", "Marked as the same person legitimately by "+rev.Email, statusWait)
	if marks, err := env.Store.IdentityMarks(ctx, other.ID); err != nil || len(marks) != 1 || marks[0].Note != "re-interview of the same applicant" {
		t.Fatalf("stored marks: %+v %v", marks, err)
	}

	if err := chromedp.Do(r.ctx, chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#summary"))); err != nil {
		t.Fatal(err)
	}
	if s := r.text("#summary"); !strings.Contains(s, "The person on camera changed") || strings.Contains(s, "another candidate") {
		t.Errorf("the recruiter's summary after the mark: %q", s)
	}
}
