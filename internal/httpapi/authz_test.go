package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

// callers of the authorization matrix.
const (
	anon      = "anonymous"
	candidate = "candidate"
	recruiter = "recruiter" // created the interview of each row
	other     = "other recruiter"
	reviewer  = "reviewer"
	admin     = "admin"
)

var callers = []string{anon, candidate, recruiter, other, reviewer, admin}

// expect maps caller → expected status. A route missing here fails the test:
// every new route must state who may call it.
type expect map[string]int

func all(status int) expect {
	e := expect{}
	for _, c := range callers {
		e[c] = status
	}
	return e
}

// staffOnly: anonymous and candidate are sent to sign in (GET) or refused (POST);
// the listed roles get ok, the others 403.
func staffOnly(method string, ok int, roles ...string) expect {
	e := expect{}
	unauth := http.StatusSeeOther
	if method != http.MethodGet {
		unauth = http.StatusUnauthorized
	}
	e[anon], e[candidate] = unauth, unauth
	for _, r := range []string{recruiter, reviewer, admin} {
		e[r] = http.StatusForbidden
	}
	for _, r := range roles {
		e[r] = ok
	}
	e[other] = e[recruiter]
	return e
}

// ownedBy: another recruiter's interview does not exist for a recruiter
// (issue 13, finding 2: B could read A's interview, issue a link, host, revoke).
func ownedBy(e expect) expect {
	e[other] = http.StatusNotFound
	return e
}

// Matrix is the authorization table of every route, shared with later route files.
var Matrix = map[string]expect{
	"GET /healthz":                all(http.StatusOK),
	"GET /readyz":                 all(http.StatusOK),
	"GET /favicon.ico":            all(http.StatusOK),
	"GET /static/*filepath":       all(http.StatusOK),
	"HEAD /static/*filepath":      all(http.StatusOK),
	"GET /login":                  {anon: 200, candidate: 200, recruiter: 303, other: 303, reviewer: 303, admin: 303},
	"POST /login":                 all(http.StatusUnauthorized), // wrong password for everybody
	"POST /logout":                all(http.StatusSeeOther),
	"GET /setup/:token":           all(http.StatusNotFound), // accounts exist: the set-up link is dead
	"POST /setup/:token":          all(http.StatusNotFound),
	"GET /":                       staffOnly(http.MethodGet, 200, recruiter, reviewer, admin),
	"GET /interviews/new":         staffOnly(http.MethodGet, 200, recruiter, admin),
	"POST /interviews":            staffOnly(http.MethodPost, 303, recruiter, admin),
	"GET /interviews/:id":         ownedBy(staffOnly(http.MethodGet, 200, recruiter, reviewer, admin)),
	"POST /interviews/:id/resend": ownedBy(staffOnly(http.MethodPost, 303, recruiter, admin)),
	"POST /interviews/:id/revoke": ownedBy(staffOnly(http.MethodPost, 303, recruiter, admin)),
	// Reference photos: no file in the form is a 400 for those who may attach; no photo to remove, a 303 back; none to view, a 404.
	"POST /interviews/:id/reference":        ownedBy(staffOnly(http.MethodPost, 400, recruiter, admin)),
	"POST /interviews/:id/reference/delete": ownedBy(staffOnly(http.MethodPost, 303, recruiter, admin)),
	"GET /interviews/:id/reference":         staffOnly(http.MethodGet, 404, reviewer, admin),
	"GET /review":                           staffOnly(http.MethodGet, 200, reviewer, admin),
	"GET /review/:id":                       staffOnly(http.MethodGet, 404, reviewer, admin), // no finished session yet
	"POST /review/:id/decision":             staffOnly(http.MethodPost, 409, reviewer, admin),
	// No "other" interview in the form: 400 for those who may mark.
	"POST /review/:id/identity/mark":   staffOnly(http.MethodPost, 400, reviewer, admin),
	"POST /review/:id/identity/unmark": staffOnly(http.MethodPost, 400, reviewer, admin),
	"GET /admin/users":                 staffOnly(http.MethodGet, 200, admin),
	"POST /admin/users":                staffOnly(http.MethodPost, 303, admin),
	"POST /admin/users/:id":            staffOnly(http.MethodPost, 303, admin),
	"POST /admin/sharing":              staffOnly(http.MethodPost, 303, admin),
	"POST /admin/users/:id/unlock":     staffOnly(http.MethodPost, 303, admin),
	"POST /login/unlock":               all(http.StatusNotFound), // no SMTP here: an admin unlocks (lockout_test.go covers it with SMTP)
	"GET /login/unlock/:token":         all(http.StatusNotFound), // not a valid sign-in link
	"POST /login/unlock/:token":        all(http.StatusNotFound),
	"GET /admin/audit":                 staffOnly(http.MethodGet, 200, admin),
	"GET /admin/webhooks":              staffOnly(http.MethodGet, 200, admin),
	"POST /admin/webhooks":             staffOnly(http.MethodPost, 400, admin), // an http:// URL to loopback is refused
	"POST /admin/webhooks/:wid/delete": staffOnly(http.MethodPost, 404, admin),
	"GET /interviews/:id/export":       staffOnly(http.MethodGet, 200, admin),
	"POST /interviews/:id/erase":       staffOnly(http.MethodPost, 303, admin),
	"GET /join/:token":                 all(http.StatusOK),
	"POST /join/:token/consent":        all(http.StatusSeeOther),
	"GET /join/:token/check":           {anon: 303, candidate: 200, recruiter: 303, other: 303, reviewer: 303, admin: 303},
	"GET /join/:token/call":            {anon: 303, candidate: 200, recruiter: 303, other: 303, reviewer: 303, admin: 303},
	// Not a WebSocket handshake: an admitted caller gets the upgrader's 400.
	"GET /ws/join/:token":               {anon: 403, candidate: 400, recruiter: 403, other: 403, reviewer: 403, admin: 403},
	"GET /interviews/:id/evidence/:eid": staffOnly(http.MethodGet, 404, reviewer, admin), // no evidence stored: 404 after the permission check
	"GET /interviews/:id/call":          ownedBy(staffOnly(http.MethodGet, 200, recruiter, admin)),
	"GET /interviews/:id/observe":       staffOnly(http.MethodGet, 200, reviewer, admin),
	"GET /ws/interviews/:id":            {anon: 303, candidate: 303, recruiter: 400, other: 404, reviewer: 403, admin: 400},
	// Where to connect (node routing): the node's URL and a ticket, for those who may join.
	"GET /join/:token/node":        {anon: 403, candidate: 200, recruiter: 403, other: 403, reviewer: 403, admin: 403},
	"GET /interviews/:id/node":     ownedBy(staffOnly(http.MethodGet, 200, recruiter, admin)), // ?mode=host
	"GET /api/interviews/:id/node": all(http.StatusNotFound),
	// The admin API is off without LIVECHECK_API_TOKEN (api_test.go covers it on).
	"POST /api/interviews":                 all(http.StatusNotFound),
	"GET /api/interviews/:id":              all(http.StatusNotFound),
	"POST /api/interviews/:id/challenge":   all(http.StatusNotFound),
	"POST /api/interviews/:id/end":         all(http.StatusNotFound),
	"PUT /api/interviews/:id/reference":    all(http.StatusNotFound),
	"DELETE /api/interviews/:id/reference": all(http.StatusNotFound),
}

func TestAuthorizationMatrix(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_LIMIT_JOIN": "100000", "LIVECHECK_LIMIT_WS": "100000"}})
	users := map[string]*models.User{
		recruiter: env.CreateUser(models.RoleRecruiter),
		reviewer:  env.CreateUser(models.RoleReviewer),
		admin:     env.CreateUser(models.RoleAdmin),
		other:     env.CreateUser(models.RoleRecruiter),
	}
	target := env.CreateUser(models.RoleRecruiter)

	routes := env.App.HTTP.Routes()
	sort.Strings(routes)
	for _, route := range routes {
		if _, ok := Matrix[route]; !ok {
			t.Errorf("route %q has no entry in the authorization matrix", route)
		}
	}
	for _, route := range routes {
		exp, ok := Matrix[route]
		if !ok {
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		for i, caller := range callers {
			want, ok := exp[caller]
			if !ok {
				t.Errorf("%s: no expectation for %s", route, caller)
				continue
			}
			// A fresh interview per call: resend and revoke change the link.
			iv, token := env.CreateInterview("Matrix Candidate", env.Clock.Now().Add(time.Hour), users[recruiter].ID)
			path := strings.NewReplacer("/admin/users/:id/", fmt.Sprintf("/admin/users/%d/", target.ID), ":id/", fmt.Sprint(iv.ID)+"/", ":token", token, "*filepath", "app.css", ":eid", "1", ":wid", "999").Replace(pattern)
			if strings.HasSuffix(path, ":id") {
				id := iv.ID
				if strings.HasPrefix(pattern, "/admin/users/") {
					id = target.ID
				}
				path = strings.TrimSuffix(path, ":id") + fmt.Sprint(id)
			}
			c := env.NewClient()
			switch caller {
			case anon:
			case candidate:
				if r := c.Get("/join/" + token); r.Status != http.StatusOK {
					t.Fatalf("candidate cannot open the join link: %d", r.Status)
				}
				if r := c.Post("/join/"+token+"/consent", url.Values{"decision": {"given"}}); r.Status != http.StatusSeeOther {
					t.Fatalf("candidate cannot consent: %d", r.Status)
				}
			default:
				c.Login(users[caller])
			}
			if pattern == "/ws/interviews/:id" || pattern == "/interviews/:id/node" {
				path += "?mode=host"
			}
			form := formFor(pattern, caller, i)
			var r *apptest.Response
			if method == http.MethodGet || method == http.MethodHead {
				r = c.Get(path)
				if method == http.MethodHead {
					req, _ := http.NewRequest(http.MethodHead, env.URL+path, nil)
					resp, err := c.HTTP.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					r = &apptest.Response{Status: resp.StatusCode}
				}
			} else {
				r = c.Send(method, path, form)
			}
			if r.Status != want {
				t.Errorf("%s as %s (%s %s): status %d, want %d", route, caller, method, path, r.Status, want)
			}
		}
	}
}

// formFor returns a valid form for the route so that allowed callers succeed.
func formFor(pattern, caller string, i int) url.Values {
	switch pattern {
	case "/login":
		return url.Values{"email": {fmt.Sprintf("nobody-%d@example.test", i)}, "password": {"wrong password!"}}
	case "/interviews":
		return url.Values{"candidate_name": {"Form Candidate"}, "candidate_email": {"form@candidate.test"},
			"scheduled_at": {"2030-01-02T10:00"}}
	case "/admin/users":
		return url.Values{"name": {"New " + caller}, "email": {fmt.Sprintf("new-%s-%d@example.test", caller, i)},
			"role": {"reviewer"}, "password": {"a long enough password"}}
	case "/admin/users/:id":
		return url.Values{"role": {"reviewer"}}
	case "/admin/sharing":
		return url.Values{"sharing": {"own"}}
	case "/admin/webhooks":
		return url.Values{"url": {"http://127.0.0.1:1/hook"}}
	case "/interviews/:id/erase":
		return url.Values{"confirm": {"erase"}}
	case "/review/:id/decision":
		return url.Values{"decision": {"approve"}}
	case "/join/:token/consent":
		return url.Values{"decision": {"given"}}
	case "/setup/:token":
		return url.Values{"name": {"x"}, "email": {"x@example.test"}, "password": {"a long enough password"}}
	}
	return url.Values{}
}
