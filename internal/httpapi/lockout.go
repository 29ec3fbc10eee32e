package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	stdmail "net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// The sign-in lockout (auth.Lockout) counts failures per account and source.
// A source is a device the account signed in from before (a signed cookie) or,
// for other browsers, the network address (an IPv6 /64). A paused browser is
// released by waiting, by an admin (Users page), or — when SMTP is configured —
// by a link e-mailed to the account, which makes the browser that opens it a
// trusted device.
const (
	deviceCookie = "lc_dev"
	deviceMaxAge = 180 * 24 * 3600
	unlockTTL    = 30 * time.Minute
)

// loginSource returns the lockout source of a sign-in for email and whether it
// is a device the account signed in from.
func (s *Server) loginSource(c *gin.Context, email string) (string, bool) {
	if v, err := c.Cookie(deviceCookie); err == nil {
		if id, ok := s.Signer.DeviceID(email, v); ok {
			return "dev:" + id, true
		}
	}
	return "ip:" + sourcePrefix(c.ClientIP()), false
}

// sourcePrefix is an address as a lockout source: IPv4 whole, IPv6 its /64
// (one household or host has a whole /64).
func sourcePrefix(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// trustDevice makes this browser a trusted device of the account.
func (s *Server) trustDevice(c *gin.Context, email string) {
	if v, err := c.Cookie(deviceCookie); err == nil {
		if _, ok := s.Signer.DeviceID(email, v); ok {
			return
		}
	}
	tok, err := s.Signer.DeviceToken(email)
	if err != nil {
		s.Logger.Warn("device token", "err", err)
		return
	}
	s.setCookie(c, deviceCookie, tok, deviceMaxAge, "/login", http.SameSiteStrictMode)
}

// renderLocked answers a paused sign-in: how long, and how to get in sooner.
func (s *Server) renderLocked(c *gin.Context, d loginData, wait time.Duration) {
	d.Locked, d.CanMail = true, s.Mailer.Enabled()
	msg := fmt.Sprintf("Too many failed sign-in attempts from this browser. Try again in about %d minute(s).", int(wait.Minutes())+1)
	if !d.CanMail {
		msg += " An administrator can unlock your account sooner."
	}
	c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	s.render(c, http.StatusTooManyRequests, "login", "Sign in", d, msg)
}

// sendUnlockLink e-mails a sign-in link to the account, if there is one. The
// answer is the same either way, and at most one link per account goes out
// per 15 minutes.
func (s *Server) sendUnlockLink(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	done := message{Heading: "Check your e-mail", Back: "/login",
		Text: "If this address has an account, a link to sign in from this browser was sent to it. It works for 30 minutes."}
	if !s.Mailer.Enabled() {
		s.fail(c, http.StatusNotFound, "Not available", "E-mail is not configured on this server: ask an administrator to unlock your account.")
		return
	}
	if a, err := stdmail.ParseAddress(email); err != nil || a.Address != email || len(email) > 320 {
		s.render(c, http.StatusBadRequest, "message", "Sign in", message{Heading: "Sign in", Text: "Enter a valid e-mail address.", Back: "/login"}, "")
		return
	}
	ipKey, acctKey := "ip:"+c.ClientIP(), "acct:"+strings.ToLower(email)
	ipBlocked, _ := s.unlockIP.Blocked(ipKey)
	acctBlocked, _ := s.unlockAcct.Blocked(acctKey)
	if ipBlocked || acctBlocked {
		s.render(c, http.StatusOK, "message", "Check your e-mail", done, "")
		return
	}
	s.unlockIP.Fail(ipKey)
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.internalError(c, "unlock lookup", err)
		return
	}
	if u != nil && !u.Disabled {
		s.unlockAcct.Fail(acctKey)
		link := s.Config.BaseURL + "/login/unlock/" + s.Signer.UnlockToken(u.ID, s.Now().Add(unlockTTL))
		body := fmt.Sprintf(`Hello %s,

someone, perhaps you, failed to sign in to livecheck as %s several times from %s, and sign-in from that browser is paused for a while.

If it was you, open this link in the browser you sign in with (it works for 30 minutes):

%s

It lets that browser sign in again. It does not change your password.

If it was not you, you can ignore this message: browsers you signed in from before are not affected. Consider changing your password.
`, u.Name, u.Email, c.ClientIP(), link)
		if err := s.Mailer.Send(ctx, mail.Message{To: stdmail.Address{Name: u.Name, Address: u.Email},
			Subject: "Sign in to livecheck again", Body: body}); err != nil {
			s.Logger.Warn("unlock e-mail failed", "user", u.ID, "err", err)
		} else {
			_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "login.unlock_sent", IP: c.ClientIP()})
		}
	}
	s.render(c, http.StatusOK, "message", "Check your e-mail", done, "")
}

// unlockUser returns the account of the :token of an e-mailed sign-in link, or
// answers that the link is not valid.
func (s *Server) unlockUser(c *gin.Context) *models.User {
	id, err := s.Signer.VerifyUnlock(c.Param("token"), s.Now())
	var u *models.User
	if err == nil {
		ctx, cancel := s.ctx(c)
		u, err = s.Store.UserByID(ctx, id)
		cancel()
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			s.internalError(c, "unlock lookup", err)
			return nil
		}
	}
	if err != nil || u.Disabled {
		s.fail(c, http.StatusNotFound, "Link not valid", "This sign-in link is not valid or has expired. Request a new one from the sign-in page.")
		return nil
	}
	return u
}

// unlockPage asks for a click, so that a mail scanner opening the link does not use it.
func (s *Server) unlockPage(c *gin.Context) {
	if u := s.unlockUser(c); u != nil {
		s.render(c, http.StatusOK, "unlock", "Sign in again", gin.H{"Token": c.Param("token"), "Email": u.Email}, "")
	}
}

// unlock makes this browser a trusted device of the link's account.
func (s *Server) unlock(c *gin.Context) {
	u := s.unlockUser(c)
	if u == nil {
		return
	}
	tok, err := s.Signer.DeviceToken(u.Email)
	if err != nil {
		s.internalError(c, "device token", err)
		return
	}
	s.setCookie(c, deviceCookie, tok, deviceMaxAge, "/login", http.SameSiteStrictMode)
	ctx, cancel := s.ctx(c)
	defer cancel()
	_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "login.unlock_link", IP: c.ClientIP()})
	s.flash(c, "This browser can sign in again.")
	c.Redirect(http.StatusSeeOther, "/login")
}

// adminUnlock releases every paused source of an account.
func (s *Server) adminUnlock(c *gin.Context) {
	u := s.userByParam(c)
	if u == nil {
		return
	}
	n := s.lockout.Unlock(u.Email)
	ctx, cancel := s.ctx(c)
	defer cancel()
	actor := currentUser(c)
	_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, Actor: actor.Email, Action: "user.unlock",
		Target: "user:" + strconv.FormatInt(u.ID, 10), Detail: map[string]any{"sources": n}, IP: c.ClientIP()})
	s.flash(c, fmt.Sprintf("Sign-in of %s unlocked.", u.Email))
	c.Redirect(http.StatusSeeOther, "/admin/users")
}
