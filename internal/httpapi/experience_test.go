package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// TestCandidateDeclines: declining marks the interview declined everywhere,
// notifies the organiser by e-mail and webhook, tells the candidate only what
// happened, and a change of mind (with the no-flash choice) reopens it.
func TestCandidateDeclines(t *testing.T) {
	hooks := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	smtpSrv := apptest.StartSMTP(t)
	env := apptest.New(t, apptest.Options{Mailer: smtpSrv.Mailer, Env: map[string]string{"LIVECHECK_WEBHOOK_ALLOW_PRIVATE": "true",
		"LIVECHECK_ORG_NAME": "Acme Robotics", "LIVECHECK_PRIVACY_CONTACT": "privacy@acme.test", "LIVECHECK_INTERVIEW_LENGTH": "45m"}})
	admin := env.NewClient()
	admin.Login(env.CreateUser(models.RoleAdmin))
	if r := admin.Post("/admin/webhooks", url.Values{"url": {recv.URL}, "events": {webhook.EventInterviewDeclined}}); r.Status != http.StatusOK {
		t.Fatalf("create webhook: %d", r.Status)
	}
	rec := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Dorothy Vaughan", env.Clock.Now().Add(time.Hour), rec.ID)

	cand := env.NewClient()
	landing := cand.Get("/join/" + token)
	for _, want := range []string{"Acme Robotics", "45 minutes", "mailto:privacy@acme.test", "at most 3 times a second", `id="no-flash"`} {
		if !strings.Contains(landing.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	r := cand.Post("/join/"+token+"/consent", url.Values{"decision": {"declined"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "shown to the organiser") || !strings.Contains(r.Body, "sent an e-mail") {
		t.Fatalf("decline answer %d: %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "has been told") {
		t.Error("the candidate is told something nobody did")
	}
	ctx := context.Background()
	got, _ := env.Store.Interview(ctx, iv.ID)
	if got.Status != models.StatusDeclined {
		t.Fatalf("status %s, want declined", got.Status)
	}
	staff := env.NewClient()
	staff.Login(rec)
	if d := staff.Get("/"); !strings.Contains(d.Body, `s-declined`) {
		t.Error("the dashboard does not show the decline")
	}
	if p := staff.Get(fmt.Sprintf("/interviews/%d", iv.ID)); !strings.Contains(p.Body, `id="declined"`) || strings.Contains(p.Body, `id="start-call"`) {
		t.Error("the interview page does not show the decline, or still offers to start the call")
	}
	if p := staff.Get(fmt.Sprintf("/interviews/%d/call", iv.ID)); p.Status != http.StatusConflict || !strings.Contains(p.Body, "declined") {
		t.Errorf("call page of a declined interview: %d", p.Status)
	}
	// The organiser's e-mail and the webhook.
	select {
	case m := <-smtpSrv.Received:
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if len(m.To) != 1 || m.To[0] != rec.Email || !strings.Contains(string(body), "Dorothy Vaughan declined") {
			t.Errorf("organiser e-mail to %v: %s", m.To, body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the organiser was not e-mailed")
	}
	select {
	case b := <-hooks:
		var e struct {
			Type string `json:"type"`
			Data struct {
				InterviewID int64 `json:"interview_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Type != webhook.EventInterviewDeclined || e.Data.InterviewID != iv.ID || strings.Contains(string(b), "Dorothy") {
			t.Errorf("webhook %s", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no interview.declined webhook within 30 s")
	}

	// A change of mind, asking for no flashing: the interview opens again.
	again := cand.Get("/join/" + token)
	if !strings.Contains(again.Body, `id="declined-note"`) {
		t.Error("the candidate's page does not say they declined")
	}
	if r := cand.Post("/join/"+token+"/consent", url.Values{"decision": {"given"}, "flash": {"fade"}}); r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Location, "/check") {
		t.Fatalf("consent after declining: %d %s", r.Status, r.Location)
	}
	if got, _ = env.Store.Interview(ctx, iv.ID); got.Status != models.StatusScheduled {
		t.Fatalf("status after consenting %s", got.Status)
	}
	if check := cand.Get("/join/" + token + "/check"); !strings.Contains(check.Body, "no flashing") {
		t.Error("the device check does not repeat the no-flash choice")
	}
	if r := cand.Post("/join/"+token+"/consent", url.Values{"decision": {"given"}, "flash": {"strobe"}}); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown flash choice: %d", r.Status)
	}
	es, _ := env.Store.AuditSearch(ctx, store.AuditFilter{Target: fmt.Sprintf("interview:%d", iv.ID)})
	acts := map[string]bool{}
	for _, e := range es {
		acts[e.Action] = true
	}
	for _, a := range []string{"consent.declined", "consent.given", "interview.reopened"} {
		if !acts[a] {
			t.Errorf("audit lacks %s: %v", a, acts)
		}
	}
	// The audit page names the interview, explains the action and filters.
	page := admin.Get(fmt.Sprintf("/admin/audit?interview=%d&action=consent.", iv.ID))
	if !strings.Contains(page.Body, fmt.Sprintf(`<a href="/interviews/%d">Dorothy Vaughan (interview %d)</a>`, iv.ID, iv.ID)) ||
		!strings.Contains(page.Body, "declined the analysis") || strings.Contains(page.Body, `data-action="interview.reopened"`) {
		t.Errorf("audit page filtered to the interview's consents:\n%s", page.Body)
	}
	if page := admin.Get("/admin/audit?from=yesterday"); !strings.Contains(page.Body, "YYYY-MM-DD") {
		t.Error("a malformed date is not explained")
	}
}

// TestDeclineWithoutMail: without SMTP the candidate is not told of an e-mail.
func TestDeclineWithoutMail(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	_, token := env.CreateInterview("Annie Easley", env.Clock.Now().Add(time.Hour), env.CreateUser(models.RoleRecruiter).ID)
	r := env.NewClient().Post("/join/"+token+"/consent", url.Values{"decision": {"declined"}})
	if r.Status != http.StatusOK || strings.Contains(r.Body, "e-mail") || !strings.Contains(r.Body, "shown to the organiser") {
		t.Fatalf("decline without SMTP %d: %s", r.Status, r.Body)
	}
}

// TestReviewerLandsOnQueue: after signing in, reviewers see their queue and
// recruiters the interviews; an explicit destination wins.
func TestReviewerLandsOnQueue(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	for _, tc := range []struct {
		role       models.Role
		next, want string
	}{
		{models.RoleReviewer, "", "/review"},
		{models.RoleRecruiter, "", "/"},
		{models.RoleAdmin, "", "/"},
		{models.RoleReviewer, "/admin/audit", "/admin/audit"},
	} {
		u := env.CreateUser(tc.role)
		r := env.NewClient().Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}, "next": {tc.next}})
		if r.Status != http.StatusSeeOther || r.Location != tc.want {
			t.Errorf("%s with next %q: %d %q, want %q", tc.role, tc.next, r.Status, r.Location, tc.want)
		}
	}
}
