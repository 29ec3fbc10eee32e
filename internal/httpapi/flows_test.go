package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

func TestLoginWrongPassword(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	u := env.CreateUser(models.RoleRecruiter)
	c := env.NewClient()
	r := c.Post("/login", url.Values{"email": {u.Email}, "password": {"not the password"}})
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Wrong e-mail or password") {
		t.Fatalf("wrong password: status %d, body lacks message", r.Status)
	}
	if r := c.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("after a failed login the dashboard must redirect to login, got %d %q", r.Status, r.Location)
	}
	// Unknown accounts get the same answer as wrong passwords.
	r = c.Post("/login", url.Values{"email": {"ghost@example.test"}, "password": {"whatever123"}})
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Wrong e-mail or password") {
		t.Fatalf("unknown account: status %d", r.Status)
	}
	c.Login(u)
	if r := c.Get("/"); r.Status != http.StatusOK || !strings.Contains(r.Body, u.Email) {
		t.Fatalf("dashboard after login: %d", r.Status)
	}
	// A disabled account cannot sign in even with the right password.
	if err := env.Store.UpdateUserAccess(context.Background(), u.ID, u.Role, true); err != nil {
		t.Fatal(err)
	}
	if r := c.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("disabled user's existing session must stop working, got %d", r.Status)
	}
	if r := env.NewClient().Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("disabled account login: %d", r.Status)
	}
}

func TestLoginThrottling(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	u := env.CreateUser(models.RoleRecruiter)
	c := env.NewClient()
	for i := 0; i < 5; i++ {
		if r := c.Post("/login", url.Values{"email": {u.Email}, "password": {"bad password " + string(rune('a'+i))}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, r.Status)
		}
	}
	// The sixth attempt is refused even with the right password, with a clear message.
	r := c.Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}})
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "Too many failed sign-in attempts") {
		t.Fatalf("throttled login: status %d", r.Status)
	}
	// Other accounts from the same IP still work (per-IP limit is higher).
	other := env.CreateUser(models.RoleReviewer)
	env.NewClient().Login(other)
	// After the window the account may sign in again.
	env.Clock.Advance(16 * time.Minute)
	c.Login(u)
}

func TestLoginThrottlingPerIP(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	c := env.NewClient()
	for i := 0; i < 20; i++ {
		email := "spray" + string(rune('a'+i)) + "@example.test"
		if r := c.Post("/login", url.Values{"email": {email}, "password": {"password spray"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, r.Status)
		}
	}
	u := env.CreateUser(models.RoleAdmin)
	r := c.Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}})
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("21st attempt from one IP: status %d, want 429", r.Status)
	}
}

func TestCSRFRejected(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	u := env.CreateUser(models.RoleRecruiter)
	c := env.NewClient()
	c.Login(u)
	form := url.Values{"candidate_name": {"Eve"}, "candidate_email": {"eve@example.test"}, "scheduled_at": {"2030-01-01T10:00"}}
	// No token.
	noTok := url.Values{}
	for k, v := range form {
		noTok[k] = v
	}
	noTok.Set("csrf_token", "")
	if r := c.Post("/interviews", noTok); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "expired") {
		t.Fatalf("missing CSRF token: status %d", r.Status)
	}
	// Another browser's token.
	other := env.NewClient()
	other.Login(env.CreateUser(models.RoleRecruiter))
	stolen := url.Values{}
	for k, v := range form {
		stolen[k] = v
	}
	stolen.Set("csrf_token", other.CSRF())
	if r := c.Post("/interviews", stolen); r.Status != http.StatusForbidden {
		t.Fatalf("foreign CSRF token: status %d", r.Status)
	}
	ivs, err := env.Store.Interviews(context.Background(), storeFilter(""))
	if err != nil || len(ivs) != 0 {
		t.Fatalf("forged requests must not create interviews: %d, %v", len(ivs), err)
	}
	// With its own token the same form works.
	if r := c.Post("/interviews", form); r.Status != http.StatusSeeOther {
		t.Fatalf("valid form: status %d", r.Status)
	}
	// Login itself is protected too (login CSRF).
	anon := env.NewClient()
	if r := anon.Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}, "csrf_token": {"forged"}}); r.Status != http.StatusForbidden {
		t.Fatalf("login with forged token: %d", r.Status)
	}
}

func TestSessionExpiry(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_SESSION_TTL": "1h"}})
	u := env.CreateUser(models.RoleReviewer)
	c := env.NewClient()
	c.Login(u)
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("fresh session: %d", r.Status)
	}
	env.Clock.Advance(59 * time.Minute)
	if r := c.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("session before expiry: %d", r.Status)
	}
	env.Clock.Advance(2 * time.Minute)
	if r := c.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("expired session: status %d location %q", r.Status, r.Location)
	}
}

func TestLogout(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	c := env.NewClient()
	c.Login(env.CreateUser(models.RoleAdmin))
	if r := c.Post("/logout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := c.Get("/admin/users"); r.Status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", r.Status)
	}
}

func TestJoinTokens(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_LINK_TTL": "72h"}})
	rec := env.CreateUser(models.RoleRecruiter)
	now := env.Clock.Now()
	iv, token := env.CreateInterview("Ada Candidate", now.Add(time.Hour), rec.ID)
	c := env.NewClient()

	r := c.Get("/join/" + token)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Ada Candidate") {
		t.Fatalf("valid link: status %d", r.Status)
	}
	flip := []byte(token)
	if flip[5] == 'A' {
		flip[5] = 'B'
	} else {
		flip[5] = 'A'
	}
	unknownTok, _, _ := env.App.Signer.NewJoinToken() // well signed, never stored
	cases := []struct {
		name, token string
		status      int
		text        string
	}{
		{"tampered", string(flip), http.StatusNotFound, "not valid"},
		{"truncated", token[:len(token)-3], http.StatusNotFound, "not valid"},
		{"garbage", "not-a-token", http.StatusNotFound, "not valid"},
		{"unknown", unknownTok, http.StatusNotFound, "not valid"},
	}
	for _, tc := range cases {
		r := c.Get("/join/" + url.PathEscape(tc.token))
		if r.Status != tc.status || !strings.Contains(r.Body, tc.text) || strings.Contains(r.Body, "Ada") {
			t.Errorf("%s link: status %d (want %d), message present %v, leaks name %v", tc.name, r.Status, tc.status,
				strings.Contains(r.Body, tc.text), strings.Contains(r.Body, "Ada"))
		}
	}
	// Expired: 72 h after the scheduled time.
	env.Clock.Advance(74 * time.Hour)
	r = c.Get("/join/" + token)
	if r.Status != http.StatusGone || !strings.Contains(r.Body, "expired") || strings.Contains(r.Body, "Ada") {
		t.Fatalf("expired link: status %d", r.Status)
	}
	// Revoked.
	iv2, token2 := env.CreateInterview("Bob Candidate", env.Clock.Now().Add(time.Hour), rec.ID)
	staff := env.NewClient()
	staff.Login(rec)
	if r := staff.Post("/interviews/"+itoa(iv2.ID)+"/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	r = c.Get("/join/" + token2)
	if r.Status != http.StatusGone || !strings.Contains(r.Body, "withdrawn") || strings.Contains(r.Body, "Bob") {
		t.Fatalf("revoked link: status %d", r.Status)
	}
	got, _ := env.Store.Interview(context.Background(), iv2.ID)
	if got.Status != models.StatusRevoked {
		t.Fatalf("status after revoke: %s", got.Status)
	}
	// The dashboard shows the derived statuses.
	dash := staff.Get("/")
	if !strings.Contains(dash.Body, "s-expired") || !strings.Contains(dash.Body, "s-revoked") {
		t.Fatalf("dashboard must show expired and revoked interviews")
	}
	if strings.Contains(env.Logs.String(), token) || strings.Contains(env.Logs.String(), token2) {
		t.Fatal("a join token reached the logs")
	}
	_ = iv
}

var linkRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/join/[A-Za-z0-9_-]+`)

func TestInviteEmail(t *testing.T) {
	smtpSrv := apptest.StartSMTP(t)
	env := apptest.New(t, apptest.Options{Mailer: smtpSrv.Mailer})
	rec := env.CreateUser(models.RoleRecruiter)
	c := env.NewClient()
	c.Login(rec)
	r := c.Post("/interviews", url.Values{"candidate_name": {"Grace Hopper"}, "candidate_email": {"grace@candidate.test"},
		"claimed_city": {"Arlington"}, "claimed_country": {"United States"}, "scheduled_at": {"2030-05-01T14:00"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create interview: %d", r.Status)
	}
	page := c.Get(r.Location)
	if !strings.Contains(page.Body, "invite was e-mailed") {
		t.Fatalf("interview page must confirm the e-mail")
	}
	shown := linkRe.FindString(page.Body)
	if shown == "" {
		t.Fatal("interview page shows no join link")
	}
	var m apptest.Mail
	select {
	case m = <-smtpSrv.Received:
	case <-time.After(10 * time.Second):
		t.Fatal("no e-mail received within 10 s")
	}
	if !m.WasTLS {
		t.Error("the invite was sent without STARTTLS")
	}
	if len(m.To) != 1 || m.To[0] != "grace@candidate.test" {
		t.Errorf("recipients %v", m.To)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse e-mail: %v", err)
	}
	if msg.Header.Get("Subject") != "Your video interview" {
		t.Errorf("subject %q", msg.Header.Get("Subject"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	link := linkRe.FindString(string(body))
	if link != shown {
		t.Fatalf("e-mailed link %q differs from the shown link %q", link, shown)
	}
	// The e-mailed link works for a fresh browser.
	path := strings.TrimPrefix(link, env.URL)
	if r := env.NewClient().Get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, "Grace Hopper") {
		t.Fatalf("e-mailed link: status %d", r.Status)
	}
	// The link is shown once: a reload no longer shows it.
	if again := c.Get(r.Location); linkRe.MatchString(again.Body) {
		t.Error("the join link must be shown only once")
	}
	// "New link" rotates the token: the old one stops working and a new e-mail arrives.
	id := strings.TrimPrefix(r.Location, "/interviews/")
	if rr := c.Post("/interviews/"+id+"/resend", nil); rr.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d", rr.Status)
	}
	select {
	case m2 := <-smtpSrv.Received:
		msg2, _ := netmail.ReadMessage(bytes.NewReader(m2.Data))
		b2, _ := io.ReadAll(quotedprintable.NewReader(msg2.Body))
		if l2 := linkRe.FindString(string(b2)); l2 == "" || l2 == link {
			t.Fatalf("resend must e-mail a new link, got %q", l2)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no second e-mail")
	}
	if r := env.NewClient().Get(path); r.Status != http.StatusNotFound {
		t.Fatalf("old link after resend: %d, want 404", r.Status)
	}
	audit, _ := env.Store.AuditLog(context.Background(), "interview:"+id, 10)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	joined := strings.Join(actions, ",")
	for _, want := range []string{"interview.create", "invite.sent", "interview.relink"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func TestInviteEmailFailureStillShowsLink(t *testing.T) {
	smtpSrv := apptest.StartSMTP(t)
	broken := *smtpSrv.Mailer
	broken.Port = 1 // nothing listens there
	broken.Timeout = 2 * time.Second
	env := apptest.New(t, apptest.Options{Mailer: &broken})
	c := env.NewClient()
	c.Login(env.CreateUser(models.RoleRecruiter))
	r := c.Post("/interviews", url.Values{"candidate_name": {"No Mail"}, "candidate_email": {"nomail@candidate.test"}, "scheduled_at": {"2030-05-01T14:00"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	page := c.Get(r.Location)
	if !strings.Contains(page.Body, "could not be sent") || !linkRe.MatchString(page.Body) {
		t.Fatal("when e-mail fails the recruiter must be told and still see the link")
	}
}

func TestInterviewFormValidation(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	c := env.NewClient()
	c.Login(env.CreateUser(models.RoleRecruiter))
	for _, f := range []url.Values{
		{"candidate_name": {""}, "candidate_email": {"a@b.test"}, "scheduled_at": {"2030-01-01T10:00"}},
		{"candidate_name": {"X"}, "candidate_email": {"not an email"}, "scheduled_at": {"2030-01-01T10:00"}},
		{"candidate_name": {"X"}, "candidate_email": {"a@b.test"}, "scheduled_at": {"tomorrow"}},
	} {
		if r := c.Post("/interviews", f); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `role="alert"`) {
			t.Errorf("invalid form %v: status %d", f, r.Status)
		}
	}
}

func TestSearchDashboard(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	rec := env.CreateUser(models.RoleRecruiter)
	env.CreateInterview("Alice Zephyr", env.Clock.Now(), rec.ID)
	env.CreateInterview("Bruno Quartz", env.Clock.Now(), rec.ID)
	c := env.NewClient()
	c.Login(rec)
	r := c.Get("/?q=zeph")
	if !strings.Contains(r.Body, "Alice Zephyr") || strings.Contains(r.Body, "Bruno Quartz") {
		t.Fatal("search must find Alice only")
	}
	all := c.Get("/")
	if strings.Index(all.Body, "Bruno Quartz") > strings.Index(all.Body, "Alice Zephyr") {
		t.Fatal("newest interview must come first")
	}
}

func TestSetupLink(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	var out bytes.Buffer
	if err := apptest.PrintSetupLink(env, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/setup/([A-Za-z0-9_-]+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no setup link printed: %q", out.String())
	}
	c := env.NewClient()
	if r := c.Get("/setup/wrong"); r.Status != http.StatusNotFound {
		t.Fatalf("wrong setup token: %d", r.Status)
	}
	if r := c.Get("/setup/" + m[1]); r.Status != http.StatusOK {
		t.Fatalf("setup page: %d", r.Status)
	}
	r := c.Post("/setup/"+m[1], url.Values{"name": {"First Admin"}, "email": {"first@example.test"}, "password": {"a long enough password"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("setup: %d", r.Status)
	}
	if r := c.Get("/admin/users"); r.Status != http.StatusOK || !strings.Contains(r.Body, "first@example.test") {
		t.Fatalf("new admin must be signed in: %d", r.Status)
	}
	if r := env.NewClient().Get("/setup/" + m[1]); r.Status != http.StatusNotFound {
		t.Fatalf("setup link must be single-use: %d", r.Status)
	}
}

func TestHealth(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	c := env.NewClient()
	if r := c.Get("/healthz"); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := c.Get("/readyz"); r.Status != 200 || !strings.Contains(r.Body, "ready") {
		t.Fatalf("readyz %d", r.Status)
	}
}
