package httpapi_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/httpapi"
	"github.com/livecheck/livecheck/models"
)

// Regression tests of the findings of the security probe (issue 13); docs/SECURITY.md lists them.

// TestLoginRedirectStaysOnSite: finding 7, "/login?next=/%09/host/path" sent a
// signed-in member of staff to another site.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	u := env.CreateUser(models.RoleRecruiter)
	signedIn := env.NewClient()
	signedIn.Login(u)
	for _, next := range []string{"/%09/evil.example/path", "/%0A/evil.example", "/%0D%0A/evil.example", "/%5Cevil.example",
		"//evil.example", "/%20/evil.example", "https://evil.example/", "/%00/evil.example"} {
		r := signedIn.Get("/login?next=" + next)
		if r.Status != http.StatusSeeOther || r.Location != "/" {
			t.Errorf("signed in, next=%s: status %d, Location %q; want 303 to /", next, r.Status, r.Location)
		}
		// Through the login form as well.
		c := env.NewClient()
		dec, _ := url.QueryUnescape(next)
		r = c.Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}, "next": {dec}})
		if r.Status != http.StatusSeeOther || r.Location != "/" {
			t.Errorf("login form, next=%q: status %d, Location %q; want 303 to /", dec, r.Status, r.Location)
		}
	}
	if r := signedIn.Get("/login?next=/review%3Fdecision%3Dfailed"); r.Location != "/review?decision=failed" {
		t.Errorf("an on-site next must be kept: Location %q", r.Location)
	}
}

// TestLoginCostSameForUnknownAccounts: finding 3, the dummy hash compared for
// unknown e-mails had bcrypt cost 10 and accounts the configured cost (12), so
// the answer's time told which e-mails have accounts. Compared by the cost of
// each comparison, not by wall time.
func TestLoginCostSameForUnknownAccounts(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_PASSWORD_COST": "5"}})
	var mu sync.Mutex
	var costs []int
	httpapi.ObservePasswordCosts(env.App.HTTP, func(c int) { mu.Lock(); costs = append(costs, c); mu.Unlock() })
	admin := env.CreateUser(models.RoleAdmin) // apptest hashes at cost 4: renewed at the first sign-in
	c := env.NewClient()
	c.Login(admin)
	// An account created through the admin page is hashed at the configured cost.
	if r := c.Post("/admin/users", url.Values{"name": {"Known"}, "email": {"known@example.test"}, "role": {"recruiter"},
		"password": {"a long enough password"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create user: %d", r.Status)
	}
	mu.Lock()
	costs = nil
	mu.Unlock()
	for _, email := range []string{"known@example.test", "nobody@example.test", admin.Email} {
		if r := env.NewClient().Post("/login", url.Values{"email": {email}, "password": {"a wrong password"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", email, r.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(costs) != 3 {
		t.Fatalf("%d comparisons, want 3", len(costs))
	}
	for i, who := range []string{"known account", "unknown e-mail", "account hashed at another cost, after one sign-in"} {
		if costs[i] != 5 {
			t.Errorf("%s: compared at bcrypt cost %d, want the configured 5 (all: %v)", who, costs[i], costs)
		}
	}
}
