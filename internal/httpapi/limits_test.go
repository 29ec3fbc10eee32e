package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

func TestJoinRateLimit(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_LIMIT_JOIN": "5"}})
	rec := env.CreateUser(models.RoleRecruiter)
	_, token := env.CreateInterview("Rate Limited", env.Clock.Now().Add(time.Hour), rec.ID)
	c := env.NewClient()
	for i := 0; i < 5; i++ {
		if r := c.Get("/join/" + token); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.Status)
		}
	}
	r := c.Get("/join/" + token)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Too many requests") {
		t.Fatalf("6th request: status %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	env.Clock.Advance(61 * time.Second)
	if r := c.Get("/join/" + token); r.Status != http.StatusOK {
		t.Fatalf("after the window: %d", r.Status)
	}
}

func TestWebSocketRateLimit(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_LIMIT_WS": "3"}})
	rec := env.CreateUser(models.RoleRecruiter)
	_, token := env.CreateInterview("WS Limited", env.Clock.Now().Add(time.Hour), rec.ID)
	c := env.NewClient()
	for i := 0; i < 3; i++ {
		if r := c.Get("/ws/join/" + token); r.Status == http.StatusTooManyRequests {
			t.Fatalf("attempt %d refused too early", i+1)
		}
	}
	if r := c.Get("/ws/join/" + token); r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "connection attempts") {
		t.Fatalf("4th connection attempt: %d", r.Status)
	}
}

func TestMaxLiveInterviews(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_MAX_LIVE": "1"}})
	rec := env.CreateUser(models.RoleRecruiter)
	iv1, _ := env.CreateInterview("First", env.Clock.Now().Add(time.Hour), rec.ID)
	_, token2 := env.CreateInterview("Second", env.Clock.Now().Add(time.Hour), rec.ID)
	if _, err := env.App.Rooms.Open(iv1.ID, 1); err != nil {
		t.Fatal(err)
	}
	c := env.NewClient()
	c.Get("/join/" + token2)
	if r := c.Post("/join/"+token2+"/consent", url.Values{"decision": {"given"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("consent: %d", r.Status)
	}
	r := c.Get("/join/" + token2 + "/call")
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "in use right now") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("call page at capacity: %d", r.Status)
	}
	if r := c.Get("/ws/join/" + token2); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("signaling at capacity: %d", r.Status)
	}
}

func TestSecurityHeadersOnEveryPageType(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_BASE_URL": "https://livecheck.example"}})
	rec := env.CreateUser(models.RoleRecruiter)
	iv, token := env.CreateInterview("Headers", env.Clock.Now().Add(time.Hour), rec.ID)
	staff := env.NewClient()
	// Secure cookies are not sent back over plain HTTP by a browser; the test client
	// keeps them, so sign in directly.
	staff.Login(rec)
	cand := env.NewClient()
	cand.Get("/join/" + token)
	cand.Post("/join/"+token+"/consent", url.Values{"decision": {"given"}})
	pages := []struct {
		name   string
		c      *apptest.Client
		path   string
		camera bool
	}{
		{"login", env.NewClient(), "/login", false},
		{"dashboard", staff, "/", false},
		{"interview", staff, "/interviews/" + itoa(iv.ID), false},
		{"recruiter call", staff, "/interviews/" + itoa(iv.ID) + "/call", true},
		{"candidate landing", cand, "/join/" + token, false},
		{"device check", cand, "/join/" + token + "/check", true},
		{"candidate call", cand, "/join/" + token + "/call", true},
		{"error page", env.NewClient(), "/join/nope", false},
		{"not found", env.NewClient(), "/no/such/page", false},
		{"static asset", env.NewClient(), "/static/app.css", false},
		{"health", env.NewClient(), "/healthz", false},
	}
	for _, p := range pages {
		r := p.c.Get(p.path)
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p.name, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Referrer-Policy %q, nosniff %q", p.name, h.Get("Referrer-Policy"), h.Get("X-Content-Type-Options"))
		}
		if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: no HSTS although the base URL is HTTPS", p.name)
		}
		pp := h.Get("Permissions-Policy")
		if p.camera != strings.Contains(pp, "camera=(self)") || p.camera != strings.Contains(pp, "microphone=(self)") {
			t.Errorf("%s (status %d): Permissions-Policy %q, camera wanted %v", p.name, r.Status, pp, p.camera)
		}
		if !p.camera && !strings.Contains(pp, "camera=()") {
			t.Errorf("%s: camera must be denied: %q", p.name, pp)
		}
		for _, sc := range h.Values("Set-Cookie") {
			if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "Secure") || !strings.Contains(sc, "SameSite") {
				t.Errorf("%s: cookie without HttpOnly/Secure/SameSite: %q", p.name, sc)
			}
		}
	}
}
