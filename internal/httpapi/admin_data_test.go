package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// TestWebhookOnReviewDecision: an admin adds a webhook; a reviewer's decision is
// delivered to it, signed, and the delivery shows in the admin's log.
func TestWebhookOnReviewDecision(t *testing.T) {
	type got struct {
		body []byte
		hdr  http.Header
	}
	received := make(chan got, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received <- got{b, r.Header.Clone()}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_WEBHOOK_ALLOW_PRIVATE": "true"}})
	admin := env.NewClient()
	admin.Login(env.CreateUser(models.RoleAdmin))
	page := admin.Post("/admin/webhooks", url.Values{"url": {recv.URL + "/hook"}, "description": {"SIEM"}, "events": {webhook.EventReviewDecided}})
	m := regexp.MustCompile(`id="webhook-secret" readonly value="([^"]+)"`).FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("create webhook: status %d, secret shown %v", page.Status, m != nil)
	}
	secret := m[1]

	iv := seedSession(t, env, "Hooked Candidate", true, 1)
	rv := env.NewClient()
	rv.Login(env.CreateUser(models.RoleReviewer))
	if r := rv.Post(fmt.Sprintf("/review/%d/decision", iv.ID), url.Values{"decision": {"escalate"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("decision: %d", r.Status)
	}
	var g got
	select {
	case g = <-received:
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivery within 30 s")
	}
	if err := webhook.Verify([]byte(secret), g.hdr, g.body, 5*time.Minute); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	var envl struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(g.body, &envl)
	if !strings.Contains(string(g.body), `"escalate"`) || strings.Contains(string(g.body), "Hooked Candidate") {
		t.Errorf("payload %s: want the decision and no candidate name", g.body)
	}
	apptest.Eventually(t, 10*time.Second, func() (bool, string) {
		p := admin.Get("/admin/webhooks")
		return strings.Contains(p.Body, webhook.EventReviewDecided) && strings.Contains(p.Body, "<td>204</td>"), "delivery log lacks the 204"
	})
}

// TestExportAndErase: an admin exports a candidate's data as a zip and erases
// it; consent and audit remain.
func TestExportAndErase(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	iv := seedSession(t, env, "Erase Me", false, 0)
	ctx := context.Background()
	if err := env.Store.AddConsent(ctx, store.Consent{InterviewID: iv.ID, BrowserID: "b", Decision: "given", At: time.Now(), IP: "198.51.100.1", Notice: "v1"}); err != nil {
		t.Fatal(err)
	}
	admin := env.NewClient()
	admin.Login(env.CreateUser(models.RoleAdmin))
	r := admin.Get(fmt.Sprintf("/interviews/%d/export", iv.ID))
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(r.Body)), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["interview.json"] || !names["tables/signals.json"] {
		t.Errorf("zip entries %v", names)
	}
	jpg := false
	for n := range names {
		jpg = jpg || strings.HasSuffix(n, ".jpg")
	}
	if !jpg {
		t.Error("the evidence image is not in the export")
	}
	if r := admin.Post(fmt.Sprintf("/interviews/%d/erase", iv.ID), url.Values{"confirm": {"nope"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("erase without confirmation: %d", r.Status)
	}
	if r := admin.Post(fmt.Sprintf("/interviews/%d/erase", iv.ID), url.Values{"confirm": {"erase"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("erase: %d", r.Status)
	}
	if sigs, _ := env.Store.Signals(ctx, iv.ID); len(sigs) != 0 {
		t.Errorf("%d signals left after erase", len(sigs))
	}
	if cons, _ := env.Store.Consents(ctx, iv.ID); len(cons) != 1 {
		t.Errorf("consents after erase: %d, want 1", len(cons))
	}
	audit, _ := env.Store.AuditLog(ctx, fmt.Sprintf("interview:%d", iv.ID), 50)
	acts := map[string]bool{}
	for _, a := range audit {
		acts[a.Action] = true
	}
	if !acts["candidate.export"] || !acts["candidate.erase"] {
		t.Errorf("audit: %v", acts)
	}
}
