package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
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

// clientFrom is a browser whose connections come from ip (a 127.0.0.x address:
// a distinct network source for the server).
func clientFrom(env *apptest.Env, ip string) *apptest.Client {
	c := env.NewClient()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c.HTTP.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

func signIn(c *apptest.Client, email, pw string) *apptest.Response {
	return c.Post("/login", url.Values{"email": {email}, "password": {pw}})
}

// TestLockoutCannotBeAimed: finding 4 of the security probe. Five wrong
// passwords from any address locked the account for 15 minutes, the right
// password included: anyone could lock any member of staff out. Failures now
// hold back only their own source (a trusted device, else the address); the
// owner gets in from anywhere else, from a browser they used before even on
// the attacker's network, through an e-mailed link, or after an admin unlocks.
func TestLockoutCannotBeAimed(t *testing.T) {
	smtpSrv := apptest.StartSMTP(t)
	env := apptest.New(t, apptest.Options{Mailer: smtpSrv.Mailer})
	victim := env.CreateUser(models.RoleRecruiter)
	admin := env.CreateUser(models.RoleAdmin)

	// The victim's laptop signed in before, on the network the attack will come from.
	laptop := clientFrom(env, "127.0.0.2")
	if r := signIn(laptop, victim.Email, apptest.Password); r.Status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", r.Status)
	}
	laptop.Post("/logout", nil)

	attacker := clientFrom(env, "127.0.0.2")
	for i := 0; i < 5; i++ {
		if r := signIn(attacker, victim.Email, fmt.Sprintf("guess number %d", i)); r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, r.Status)
		}
	}
	if r := signIn(attacker, victim.Email, apptest.Password); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the guessing source, even with the right password: %d, want 429", r.Status)
	}
	// An unrelated source is not affected (before the fix: 429).
	if r := signIn(clientFrom(env, "127.0.0.3"), victim.Email, apptest.Password); r.Status != http.StatusSeeOther {
		t.Fatalf("the owner from another address: %d, want 303", r.Status)
	}
	// Nor is a browser the owner signed in from before, on the attacker's address.
	if r := signIn(laptop, victim.Email, apptest.Password); r.Status != http.StatusSeeOther {
		t.Fatalf("the owner's known browser on the attacker's address: %d, want 303", r.Status)
	}

	// A new browser of the owner on that address is paused too: the page offers
	// an e-mailed link, which makes it trusted.
	phone := clientFrom(env, "127.0.0.2")
	r := signIn(phone, victim.Email, apptest.Password)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Body, "E-mail me a sign-in link") {
		t.Fatalf("a new browser on the paused address: %d", r.Status)
	}
	if r := phone.Post("/login/unlock", url.Values{"email": {victim.Email}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your e-mail") {
		t.Fatalf("request a link: %d", r.Status)
	}
	link := unlockLink(t, env, smtpSrv, victim.Email)
	if r := phone.Get(link); r.Status != http.StatusOK || !strings.Contains(r.Body, "Use this browser") {
		t.Fatalf("open the link: %d", r.Status)
	}
	if r := phone.Post(link, nil); r.Status != http.StatusSeeOther {
		t.Fatalf("use the link: %d", r.Status)
	}
	if r := signIn(phone, victim.Email, apptest.Password); r.Status != http.StatusSeeOther {
		t.Fatalf("after the e-mailed link: %d, want 303", r.Status)
	}
	// A second request within 15 minutes, or one for an unknown address, looks
	// the same and sends nothing.
	for _, email := range []string{victim.Email, "nobody@example.test"} {
		if r := phone.Post("/login/unlock", url.Values{"email": {email}}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your e-mail") {
			t.Fatalf("request for %s: %d", email, r.Status)
		}
	}
	select {
	case m := <-smtpSrv.Received:
		t.Fatalf("unexpected e-mail to %v", m.To)
	case <-time.After(time.Second):
	}
	// The link is bound to its account and expires.
	if r := env.NewClient().Get(strings.Replace(link, "/unlock/", "/unlock/A", 1)); r.Status != http.StatusNotFound {
		t.Fatalf("a tampered link: %d", r.Status)
	}
	env.Clock.Advance(31 * time.Minute)
	if r := env.NewClient().Get(link); r.Status != http.StatusNotFound {
		t.Fatalf("an expired link: %d", r.Status)
	}

	// An admin sees paused sign-ins and releases them.
	tablet := clientFrom(env, "127.0.0.4")
	for i := 0; i < 5; i++ {
		signIn(tablet, victim.Email, "wrong again "+fmt.Sprint(i))
	}
	if r := signIn(tablet, victim.Email, apptest.Password); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth source after five failures: %d", r.Status)
	}
	ac := env.NewClient()
	ac.Login(admin)
	if page := ac.Get("/admin/users"); !strings.Contains(page.Body, fmt.Sprintf("/admin/users/%d/unlock", victim.ID)) {
		t.Fatal("the users page does not offer to unlock the paused account")
	}
	if r := ac.Post(fmt.Sprintf("/admin/users/%d/unlock", victim.ID), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("admin unlock: %d", r.Status)
	}
	if r := signIn(tablet, victim.Email, apptest.Password); r.Status != http.StatusSeeOther {
		t.Fatalf("after the admin's unlock: %d, want 303", r.Status)
	}
	entries, _ := env.Store.AuditLog(t.Context(), fmt.Sprintf("user:%d", victim.ID), 10)
	if len(entries) == 0 || entries[0].Action != "user.unlock" {
		t.Fatalf("the admin's unlock is not audited: %+v", entries)
	}
}

var unlockRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+(/login/unlock/[A-Za-z0-9_-]+)`)

// unlockLink waits for the sign-in link e-mailed to email and returns its path.
func unlockLink(t *testing.T, env *apptest.Env, srv *apptest.SMTPServer, email string) string {
	t.Helper()
	select {
	case m := <-srv.Received:
		if len(m.To) != 1 || m.To[0] != email {
			t.Fatalf("e-mail to %v, want %s", m.To, email)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		sub := unlockRe.FindStringSubmatch(string(body))
		if sub == nil {
			t.Fatalf("no sign-in link in:\n%s", body)
		}
		return sub[1]
	case <-time.After(15 * time.Second):
		t.Fatal("no e-mail within 15 s")
	}
	return ""
}
