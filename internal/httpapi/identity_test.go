package httpapi_test

import (
	"context"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

func identityFaces(t *testing.T) apptest.IdentityFaces {
	const dir = "../../testdata/faces/"
	return apptest.IdentityFaces{
		Main:   apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(150, 30, 330, 210)),
		Before: apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(150, 30, 330, 210)),
		After:  apptest.FaceCrop(t, dir+"obama.jpg", image.Rect(300, 120, 620, 440)),
		Other:  apptest.FaceCrop(t, dir+"astronaut.png", image.Rect(140, 20, 340, 220)),
	}
}

// TestReviewIdentity: the reviewer sees the identity reasons with their
// evidence side by side (the two faces of a change with their times, the
// live face beside the reference photo, this face beside the other
// interview's with a link to it); the recruiter reads plain sentences and
// no number of an interview they may not see; a reviewer marks the reuse
// match as the same person legitimately (audited on both interviews) and
// it stops counting, and unmarks it.
func TestReviewIdentity(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	owner, otherOwner := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleRecruiter)
	rev := env.CreateUser(models.RoleReviewer)
	iv, _ := env.CreateInterview("Identity Candidate", env.Clock.Now().Add(-time.Hour), owner.ID)
	other, _ := env.CreateInterview("Earlier Name", env.Clock.Now().AddDate(0, 0, -10), otherOwner.ID)
	faces := identityFaces(t)
	if err := env.Store.SaveReferencePhoto(ctx, store.ReferencePhoto{InterviewID: iv.ID, JPEG: faces.After, Width: 320, Height: 320,
		Model: "m", Descriptor: []float32{1}, CreatedAt: env.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	seed := env.SeedIdentitySession(iv, other, faces, true)

	vc := env.NewClient()
	vc.Login(rev)
	page := vc.Get(fmt.Sprintf("/review/%d", iv.ID))
	if page.Status != http.StatusOK {
		t.Fatalf("review page: %d", page.Status)
	}
	idn := between(page.Body, `id="identity"`, `id="reasons-h"`)
	change := regexp.MustCompile(`(?s)<figure class="identity-pair">\s*<figcaption>Change 1 at 0:40 into the session</figcaption>.*?` +
		fmt.Sprintf(`src="/interviews/%d/evidence/%d".*?Before: 0:39 into the session.*?src="/interviews/%d/evidence/%d".*?After: 0:40 into the session`,
			iv.ID, seed.BeforeID, iv.ID, seed.AfterID))
	if !change.MatchString(idn) {
		t.Errorf("the change's two faces side by side with their times are missing:\n%s", idn)
	}
	ref := regexp.MustCompile(fmt.Sprintf(`(?s)data-kind="identity_reference".*?does not match the reference photo.*?src="/interviews/%d/evidence/%d".*?src="/interviews/%d/reference"`,
		iv.ID, seed.FaceID, iv.ID))
	if !ref.MatchString(idn) {
		t.Errorf("the live face beside the reference photo is missing:\n%s", idn)
	}
	reuse := regexp.MustCompile(fmt.Sprintf(`(?s)<a href="/review/%d">Interview %d</a> \(Earlier Name\).*?distance 0.31.*?src="/interviews/%d/evidence/%d".*?src="/interviews/%d/evidence/%d".*?Same person legitimately`,
		other.ID, other.ID, iv.ID, seed.FaceID, other.ID, seed.OtherFaceID))
	if !reuse.MatchString(idn) {
		t.Errorf("the reuse match with a link and both faces is missing:\n%s", idn)
	}
	for _, src := range []string{fmt.Sprintf("/interviews/%d/evidence/%d", other.ID, seed.OtherFaceID), fmt.Sprintf("/interviews/%d/reference", iv.ID)} {
		if r := vc.Get(src); r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("%s: %d", src, r.Status)
		}
	}

	rc := env.NewClient()
	rc.Login(owner)
	ivPage := rc.Get(fmt.Sprintf("/interviews/%d", iv.ID))
	if strings.Contains(ivPage.Body, fmt.Sprintf("interview %d on", other.ID)) || !strings.Contains(ivPage.Body, "another interview (distance 0.31)") {
		t.Errorf("the recruiter's page names an interview out of their scope: %s", section(ivPage.Body, `id="signals"`))
	}
	summary := between(ivPage.Body, `id="summary"`, `</div>`)
	for _, want := range []string{"The person on camera changed during the interview.", "The same face was seen in another candidate&#39;s interview.",
		"The face on camera does not match the candidate&#39;s reference photo."} {
		if !strings.Contains(summary, want) {
			t.Errorf("recruiter summary lacks %q:\n%s", want, summary)
		}
	}
	if r := rc.Post(fmt.Sprintf("/review/%d/identity/mark", iv.ID), url.Values{"other": {fmt.Sprint(other.ID)}}); r.Status != http.StatusForbidden {
		t.Errorf("a recruiter marking: %d", r.Status)
	}

	if r := vc.Post(fmt.Sprintf("/review/%d/identity/mark", iv.ID), url.Values{"other": {"999999"}}); r.Status != http.StatusNotFound {
		t.Errorf("marking a missing interview: %d", r.Status)
	}
	stranger, _ := env.CreateInterview("Stranger", env.Clock.Now(), owner.ID)
	if r := vc.Post(fmt.Sprintf("/review/%d/identity/mark", iv.ID), url.Values{"other": {fmt.Sprint(stranger.ID)}}); r.Status != http.StatusBadRequest {
		t.Errorf("marking an interview the match does not name: %d", r.Status)
	}
	if r := vc.Post(fmt.Sprintf("/review/%d/identity/mark", iv.ID), url.Values{"other": {fmt.Sprint(other.ID)}, "note": {"re-interview, same applicant"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("mark: %d %s", r.Status, pageError(r.Body))
	}
	marks, err := env.Store.IdentityMarks(ctx, iv.ID)
	if err != nil || len(marks) != 1 || marks[0].OtherInterviewID != other.ID || marks[0].MarkedBy == nil || *marks[0].MarkedBy != rev.ID {
		t.Fatalf("marks: %+v %v", marks, err)
	}
	for _, target := range []int64{iv.ID, other.ID} {
		entries, _ := env.Store.AuditLog(ctx, fmt.Sprintf("interview:%d", target), 20)
		found := false
		for _, e := range entries {
			found = found || e.Action == "identity.mark"
		}
		if !found {
			t.Errorf("interview %d has no identity.mark audit entry", target)
		}
	}
	if s := between(rc.Get(fmt.Sprintf("/interviews/%d", iv.ID)).Body, `id="summary"`, `</div>`); strings.Contains(s, "another candidate") || !strings.Contains(s, "changed during the interview") {
		t.Errorf("after the mark the reuse must stop counting (and the change stay):\n%s", s)
	}
	idn = between(vc.Get(fmt.Sprintf("/review/%d", iv.ID)).Body, `id="identity"`, `id="reasons-h"`)
	if !strings.Contains(idn, "Marked as the same person legitimately by "+rev.Email) || !strings.Contains(idn, "re-interview, same applicant") || !strings.Contains(idn, "Remove the mark") {
		t.Errorf("the mark is not shown:\n%s", idn)
	}
	if r := vc.Post(fmt.Sprintf("/review/%d/identity/unmark", iv.ID), url.Values{"other": {fmt.Sprint(other.ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("unmark: %d", r.Status)
	}
	if marks, _ := env.Store.IdentityMarks(ctx, other.ID); len(marks) != 0 {
		t.Fatalf("marks after unmark: %+v", marks)
	}
	if s := between(rc.Get(fmt.Sprintf("/interviews/%d", iv.ID)).Body, `id="summary"`, `</div>`); !strings.Contains(s, "another candidate") {
		t.Errorf("after the unmark the reuse counts again:\n%s", s)
	}
}

// between is the part of s from the first start to the next end after it.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return "(no " + start + ")"
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// TestIdentityMarkRescores: marking a reuse match re-scores the interview
// in the background (a River job worked by the app): a new verdict with
// the rescore trigger replaces the session's. With internal/verdict's
// identity refresh (face branch) the mark takes the match out of the
// recomputed verdict: measured on the merged tree, the reuse reason's
// points went from 30.8 to 0.
func TestIdentityMarkRescores(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	owner, rev := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleReviewer)
	iv, _ := env.CreateInterview("Rescored Candidate", env.Clock.Now().Add(-time.Hour), owner.ID)
	other, _ := env.CreateInterview("Earlier Name", env.Clock.Now().AddDate(0, 0, -10), owner.ID)
	env.SeedIdentitySession(iv, other, identityFaces(t), false)
	vc := env.NewClient()
	vc.Login(rev)
	if r := vc.Post(fmt.Sprintf("/review/%d/identity/mark", iv.ID), url.Values{"other": {fmt.Sprint(other.ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("mark: %d", r.Status)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		v, err := env.Store.LatestVerdict(ctx, iv.ID)
		if err != nil {
			return false, err.Error()
		}
		return v.Trigger == store.TriggerRescore, "latest verdict trigger " + v.Trigger
	})
}
