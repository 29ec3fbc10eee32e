// Package apptest runs the whole livecheck application for tests: a real
// PostgreSQL schema, the real HTTP stack on a loopback listener, a movable
// clock, HTTP clients with cookie jars, and headless Chromium (browser.go).
package apptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/app"
	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/migrations"
	"github.com/livecheck/livecheck/models"
)

// Clock is a test clock that starts at the real time and moves only when told.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now returns the real time plus the accumulated offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Env is one running application.
type Env struct {
	T      testing.TB
	App    *app.App
	Store  *store.Store
	Server *httptest.Server
	URL    string
	Clock  *Clock
	Config *config.Config
	Logs   *LogBuffer
}

// Options customise New.
type Options struct {
	// Env are extra settings (LIVECHECK_*).
	Env map[string]string
	// Mailer replaces the SMTP settings.
	Mailer *mail.Mailer
	// DatabaseURL runs the app on this database (migrated here) instead of a
	// private schema of the shared test database.
	DatabaseURL string
	// Listen is the address to serve on; 127.0.0.1:0 when empty.
	Listen string
}

// LogBuffer collects the server's log output so tests can assert on it (for
// example that no token or biometric value is logged).
type LogBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// New starts the application on 127.0.0.1 (or o.Listen) with a private database schema.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		t.Fatalf("apptest: listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{
		"LIVECHECK_BASE_URL":      base,
		"LIVECHECK_PASSWORD_COST": "4",
		"LIVECHECK_LOG_LEVEL":     "debug",
	}
	for k, v := range o.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	var db store.DBTX
	if o.DatabaseURL != "" {
		p, err := store.Open(context.Background(), o.DatabaseURL, metrics.TraceQueries)
		if err != nil {
			t.Fatalf("apptest: %v", err)
		}
		t.Cleanup(p.Close)
		if _, err := store.New(p).Migrate(context.Background(), migrations.FS); err != nil {
			t.Fatalf("apptest: migrate: %v", err)
		}
		if _, err := jobs.Migrate(context.Background(), p); err != nil {
			t.Fatalf("apptest: migrate River: %v", err)
		}
		db = p
	} else {
		db = pgtest.Schema(t, metrics.TraceQueries)
	}
	clock := &Clock{}
	logs := &LogBuffer{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testLogWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, DB: db, Logger: logger, Now: clock.Now, Mailer: o.Mailer})
	if err != nil {
		cancel()
		t.Fatalf("apptest: app: %v", err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		a.Shutdown(sctx)
		srv.CloseClientConnections()
		srv.Close()
		cancel()
	})
	return &Env{T: t, App: a, Store: a.Store, Server: srv, URL: base, Clock: clock, Config: cfg, Logs: logs}
}

// testLogWriter forwards server logs to the test log only when LIVECHECK_TEST_LOGS=1.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	if os.Getenv("LIVECHECK_TEST_LOGS") == "1" {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

var userSeq atomic.Int64

// Password is the password of every user made by CreateUser.
const Password = "correct horse battery"

// CreateUser adds a staff account with Password and returns it.
func (e *Env) CreateUser(role models.Role) *models.User {
	e.T.Helper()
	hash, err := auth.HashPassword(Password, 4)
	if err != nil {
		e.T.Fatal(err)
	}
	n := userSeq.Add(1)
	u := &models.User{Email: fmt.Sprintf("%s%d@example.test", role, n), Name: fmt.Sprintf("%s %d", role, n), Role: role, PasswordHash: hash}
	if err := e.Store.CreateUser(context.Background(), u); err != nil {
		e.T.Fatalf("apptest: create user: %v", err)
	}
	return u
}

// CreateInterview stores an interview scheduled at `at` and returns it with its join token.
func (e *Env) CreateInterview(name string, at time.Time, createdBy int64) (*models.Interview, string) {
	e.T.Helper()
	token, hash, err := e.App.Signer.NewJoinToken()
	if err != nil {
		e.T.Fatal(err)
	}
	iv := &models.Interview{CandidateName: name, CandidateEmail: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@candidate.test",
		ClaimedCity: "Lisbon", ClaimedCountry: "Portugal", ScheduledAt: at, TokenHash: hash,
		ExpiresAt: at.Add(e.Config.LinkTTL), CreatedBy: createdBy}
	if err := e.Store.CreateInterview(context.Background(), iv); err != nil {
		e.T.Fatalf("apptest: create interview: %v", err)
	}
	return iv, token
}

// Client is an HTTP client with its own cookie jar that does not follow redirects.
type Client struct {
	env  *Env
	HTTP *http.Client
}

// NewClient returns a client with an empty cookie jar.
func (e *Env) NewClient() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{env: e, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a finished request.
type Response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

// Get fetches path.
func (c *Client) Get(path string) *Response {
	c.env.T.Helper()
	return c.do(http.MethodGet, path, nil)
}

// Post submits form to path, adding the CSRF token of this browser unless form already has one.
func (c *Client) Post(path string, form url.Values) *Response {
	c.env.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.CSRF())
	}
	return c.do(http.MethodPost, path, form)
}

func (c *Client) do(method, path string, form url.Values) *Response {
	c.env.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.env.URL+path, body)
	if err != nil {
		c.env.T.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// CSRF returns the anti-forgery token of this browser, read from a page as a browser would.
func (c *Client) CSRF() string {
	c.env.T.Helper()
	r := c.do(http.MethodGet, "/login", nil)
	if r.Status == http.StatusSeeOther { // signed in: any staff page carries the token
		r = c.do(http.MethodGet, "/", nil)
	}
	m := csrfMeta.FindStringSubmatch(r.Body)
	if m == nil {
		c.env.T.Fatalf("apptest: no csrf token on page (status %d)", r.Status)
	}
	return m[1]
}

// Login signs in as u with Password and fails the test if that does not work.
func (c *Client) Login(u *models.User) {
	c.env.T.Helper()
	r := c.Post("/login", url.Values{"email": {u.Email}, "password": {Password}})
	if r.Status != http.StatusSeeOther {
		c.env.T.Fatalf("apptest: login as %s: status %d", u.Email, r.Status)
	}
}

// PrintSetupLink runs the first-start check that prints the one-time set-up link.
func PrintSetupLink(e *Env, w io.Writer) error {
	return app.PrintSetupLink(context.Background(), e.Config, e.Store, w)
}

// Eventually polls cond every 100 ms until it reports true or timeout passes,
// then fails the test with cond's last explanation.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %s", timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Send makes a request with any method; for methods other than GET and
// HEAD it submits form with this browser's CSRF token, like Post, and
// sends the token as the X-CSRF-Token header too (Go reads no form from a
// DELETE's body).
func (c *Client) Send(method, path string, form url.Values) *Response {
	c.env.T.Helper()
	if method == http.MethodGet || method == http.MethodHead {
		return c.do(method, path, nil)
	}
	if method == http.MethodPost {
		return c.Post(path, form)
	}
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", c.CSRF())
	}
	req, err := http.NewRequest(method, c.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.env.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", form.Get("csrf_token"))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}

// Upload posts a multipart form as a browser's file input does: fields
// (with this browser's CSRF token unless fields has one) and one file.
func (c *Client) Upload(path string, fields url.Values, field, filename string, data []byte) *Response {
	c.env.T.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if fields == nil {
		fields = url.Values{}
	}
	if _, ok := fields["csrf_token"]; !ok {
		fields.Set("csrf_token", c.CSRF())
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if field != "" {
		w, err := mw.CreateFormFile(field, filename)
		if err != nil {
			c.env.T.Fatal(err)
		}
		_, _ = w.Write(data)
	}
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.env.URL+path, &body)
	if err != nil {
		c.env.T.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.env.T.Fatalf("apptest: upload %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location"), Header: resp.Header}
}
