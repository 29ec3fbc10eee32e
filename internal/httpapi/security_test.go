package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/httpapi"
	"github.com/livecheck/livecheck/internal/signal"
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
		// A NUL byte is refused (400) before any handler; everything else is sent home.
		onSite := func(r *apptest.Response) bool {
			return r.Status == http.StatusSeeOther && r.Location == "/" || r.Status == http.StatusBadRequest && r.Location == ""
		}
		if r := signedIn.Get("/login?next=" + next); !onSite(r) {
			t.Errorf("signed in, next=%s: status %d, Location %q; want 303 to /", next, r.Status, r.Location)
		}
		// Through the login form as well.
		c := env.NewClient()
		dec, _ := url.QueryUnescape(next)
		if r := c.Post("/login", url.Values{"email": {u.Email}, "password": {apptest.Password}, "next": {dec}}); !onSite(r) {
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

// TestFailedHandshakesLeaveNoRoom: finding 1. serveWS opened the room before
// the WebSocket upgrade, and a failed handshake left the empty room behind: 40
// GETs without Upgrade filled LIVECHECK_MAX_LIVE and every candidate got "busy".
// Here the cap is 2: failed handshakes of every kind of caller, then staff
// sockets held open (rooms without a candidate do not count), and the candidate
// still joins; two candidates in rooms do fill the cap.
func TestFailedHandshakesLeaveNoRoom(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_MAX_LIVE": "2",
		"LIVECHECK_LIMIT_WS": "100000", "LIVECHECK_LIMIT_JOIN": "100000"}})
	rec, rev := env.CreateUser(models.RoleRecruiter), env.CreateUser(models.RoleReviewer)
	host, observer := env.NewClient(), env.NewClient()
	host.Login(rec)
	observer.Login(rev)
	newInterview := func() (*models.Interview, string) {
		return env.CreateInterview("Busy Candidate", env.Clock.Now(), rec.ID)
	}
	for i := 0; i < 6; i++ {
		iv, token := newInterview()
		cand := consentedCandidate(t, env, token)
		for who, r := range map[string]*apptest.Response{
			"recruiter": host.Get(fmt.Sprintf("/ws/interviews/%d?mode=host", iv.ID)),
			"reviewer":  observer.Get(fmt.Sprintf("/ws/interviews/%d?mode=observe", iv.ID)),
			"candidate": cand.Get("/ws/join/" + token),
		} {
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%s without Upgrade: status %d, want 400", who, r.Status)
			}
		}
	}
	if n := env.App.Rooms.Live(); n != 0 {
		t.Fatalf("%d rooms left behind by failed handshakes", n)
	}
	// Staff sockets held open on three interviews.
	for i := 0; i < 3; i++ {
		iv, _ := newInterview()
		s, resp, err := dialSignaling(t, env, host, fmt.Sprintf("/ws/interviews/%d?mode=host", iv.ID))
		if err != nil {
			t.Fatalf("staff socket: %v (%v)", err, resp)
		}
		s.next(10*time.Second, signal.TypeHello)
	}
	// Two candidates join; a third is told the server is busy.
	for i := 0; i < 2; i++ {
		_, token := newInterview()
		s, resp, err := dialSignaling(t, env, consentedCandidate(t, env, token), "/ws/join/"+token)
		if err != nil {
			t.Fatalf("candidate %d: %v (%v)", i+1, err, resp)
		}
		s.next(10*time.Second, signal.TypeHello)
		s.next(30*time.Second, signal.TypeOffer)
	}
	_, token := newInterview()
	cand := consentedCandidate(t, env, token)
	if r := cand.Get("/join/" + token + "/call"); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("third candidate's call page with the cap reached: %d, want 503", r.Status)
	}
	if _, resp, err := dialSignaling(t, env, cand, "/ws/join/"+token); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third candidate's socket with the cap reached: %v, %v; want 503", err, resp)
	}
}

// TestRejectedAnswerGetsNewOffer: finding 9. After an answer pion refused, the
// peer stayed waiting for an answer (pion refuses to roll an offer back) and no
// offer came again; the error also carried pion's own words. Now the page is
// told in fixed words, gets the offer again, and its answer connects.
func TestRejectedAnswerGetsNewOffer(t *testing.T) {
	s := joinAsCandidate(t, nil)
	first := s.next(30*time.Second, signal.TypeOffer)
	s.send(signal.Message{T: signal.TypeAnswer, SDP: "v=0\r\nthis is not a session description\r\n"})
	if e := s.next(10*time.Second, signal.TypeError); e.Error != "The answer was not accepted; the offer follows again." {
		t.Fatalf("error %q: want the fixed text, never the SDP parser's", e.Error)
	}
	second := s.next(30*time.Second, signal.TypeOffer)
	if first.SDP == "" || second.SDP == "" {
		t.Fatal("empty offer")
	}
	a := newAnswerer(t)
	s.send(signal.Message{T: signal.TypeAnswer, SDP: a.answer(t, s, second.SDP)})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !waitClosed(ctx, a.connected) {
		t.Fatal("the answer to the new offer did not connect")
	}
	// Malformed messages get fixed words too.
	s.send(signal.Message{T: "no-such-type"})
	if e := s.next(10*time.Second, signal.TypeError); e.Error != "The message was not understood." {
		t.Fatalf("error %q for an unknown message type", e.Error)
	}
}

// TestNULAndBadUTF8Refused: finding 9. A NUL byte in q, target or the sign-in
// e-mail reached PostgreSQL and came back as a 500 with an ERROR log (the
// sign-in one before the throttle counted it). Such values, and text that is
// not UTF-8, are refused with a 400 before any handler runs.
func TestNULAndBadUTF8Refused(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	admin := env.CreateUser(models.RoleAdmin)
	c := env.NewClient()
	c.Login(admin)
	for _, path := range []string{"/?q=a%00b", "/?q=%FF%FE", "/admin/audit?target=interview%3A1%00", "/review?decision=%00"} {
		if r := c.Get(path); r.Status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400", path, r.Status)
		}
	}
	for _, email := range []string{"someone\x00@example.test", admin.Email + "\x00", "\xff@example.test"} {
		r := env.NewClient().Post("/login", url.Values{"email": {email}, "password": {"whatever it is"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("sign-in with e-mail %q: status %d, want 400", email, r.Status)
		}
	}
	if strings.Contains(env.Logs.String(), "level=ERROR") {
		t.Fatalf("refused input was logged as a server error:\n%s", env.Logs.String())
	}
	if r := c.Get("/?q=ordinary%20search"); r.Status != http.StatusOK {
		t.Fatalf("an ordinary search: %d", r.Status)
	}
}
