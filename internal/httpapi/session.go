package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

type loginData struct {
	Next, Email string
	// Locked: sign-in from this browser is paused; CanMail: a sign-in link can be e-mailed.
	Locked, CanMail bool
}

// safeNext keeps post-login redirects on this site: next must be an absolute
// path of printable ASCII without backslashes that does not start with "//".
// Browsers drop tabs and newlines from URLs and read "\\" as "/", so
// "/\t/evil.example" and "/\\evil.example" would otherwise leave the site
// (FuzzSafeNext checks the result as a browser resolves it).
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "//") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Server) loginPage(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.render(c, http.StatusOK, "login", "Sign in", loginData{Next: safeNext(c.Query("next"))}, "")
}

func (s *Server) login(c *gin.Context) {
	email := strings.TrimSpace(c.PostForm("email"))
	pw := c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	ipKey := "ip:" + c.ClientIP()
	data := loginData{Next: next, Email: email}
	src, trusted := s.loginSource(c, email)
	// Password spraying from one address: many accounts. A device an account
	// signed in from before is not held back by its network's neighbours.
	if blocked, wait := s.loginIP.Blocked(ipKey); blocked && !trusted {
		s.renderLocked(c, data, wait)
		return
	}
	// Guessing one account: held back per account and source (auth.Lockout),
	// so that nobody can lock an account from elsewhere.
	if wait := s.lockout.Wait(email, src, trusted); wait > 0 {
		s.renderLocked(c, data, wait)
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.internalError(c, "login lookup", err)
		return
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, cost := s.passwords.Check(hash, pw)
	if s.costChecked != nil {
		s.costChecked(cost)
	}
	if !ok || u.Disabled {
		if !trusted {
			s.loginIP.Fail(ipKey)
		}
		wait := s.lockout.Fail(email, src, trusted)
		_ = s.Store.Audit(ctx, store.AuditEntry{Actor: email, Action: "login.failed", IP: c.ClientIP(),
			Detail: map[string]any{"trusted_device": trusted, "delay_s": int(wait.Seconds())}})
		s.render(c, http.StatusUnauthorized, "login", "Sign in", data, "Wrong e-mail or password.")
		return
	}
	s.lockout.Succeed(email, src)
	s.trustDevice(c, u.Email)
	s.renewStaleHash(ctx, u, pw)
	if err := s.startSession(c, u); err != nil {
		s.internalError(c, "create session", err)
		return
	}
	_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "login", IP: c.ClientIP()})
	c.Redirect(http.StatusSeeOther, landing(u, next))
}

// landing is where a sign-in without a destination leads: reviewers to their
// queue, everyone else to the interviews.
func landing(u *models.User, next string) string {
	if next == "/" && auth.Can(u.Role, auth.PermReview) && !auth.Can(u.Role, auth.PermManageInterviews) {
		return "/review"
	}
	return next
}

// renewStaleHash rehashes the password of an account hashed at another cost
// than the configured one (the cost was changed since), so that its sign-ins
// take as long as everyone else's. A failure is logged: the sign-in goes on.
func (s *Server) renewStaleHash(ctx context.Context, u *models.User, pw string) {
	if !s.passwords.Stale(u.PasswordHash) {
		return
	}
	hash, err := s.passwords.Hash(pw)
	if err == nil {
		err = s.Store.SetPasswordHash(ctx, u.ID, hash)
	}
	if err != nil {
		s.Logger.Warn("renew password hash", "user", u.ID, "err", err)
	}
}

func (s *Server) startSession(c *gin.Context, u *models.User) error {
	tok, hash, err := auth.NewSessionToken()
	if err != nil {
		return err
	}
	now := s.Now()
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.Store.CreateAuthSession(ctx, &store.AuthSession{
		TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.Config.SessionTTL),
		IP: c.ClientIP(), UserAgent: truncate(c.Request.UserAgent(), 400),
	}); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, tok, int(s.Config.SessionTTL/time.Second), "/", http.SameSiteLaxMode)
	c.Set(ctxBinding, "s:"+tok)
	return nil
}

func (s *Server) logout(c *gin.Context) {
	if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" {
		ctx, cancel := s.ctx(c)
		defer cancel()
		if err := s.Store.DeleteAuthSession(ctx, auth.HashToken(tok)); err != nil {
			s.internalError(c, "logout", err)
			return
		}
		if u := currentUser(c); u != nil {
			_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "logout", IP: c.ClientIP()})
		}
	}
	s.setCookie(c, sessionCookie, "", -1, "/", http.SameSiteLaxMode)
	c.Redirect(http.StatusSeeOther, "/login")
}

// SetupTokenKey is the settings key holding the hash of the one-time setup link.
const SetupTokenKey = "setup_token_hash"

func (s *Server) setupValid(c *gin.Context) bool {
	ctx, cancel := s.ctx(c)
	defer cancel()
	want, err := s.Store.Setting(ctx, SetupTokenKey)
	if err != nil {
		return false
	}
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false
	}
	return fmt.Sprintf("%x", auth.HashToken(c.Param("token"))) == want
}

func (s *Server) setupPage(c *gin.Context) {
	if !s.setupValid(c) {
		s.fail(c, http.StatusNotFound, "Link not valid", "This set-up link is not valid or has already been used.")
		return
	}
	s.render(c, http.StatusOK, "setup", "Set up livecheck", gin.H{"Token": c.Param("token")}, "")
}

func (s *Server) setup(c *gin.Context) {
	if !s.setupValid(c) {
		s.fail(c, http.StatusNotFound, "Link not valid", "This set-up link is not valid or has already been used.")
		return
	}
	u, msg, err := s.newUser(c, models.RoleAdmin)
	if msg != "" {
		s.render(c, http.StatusBadRequest, "setup", "Set up livecheck", gin.H{"Token": c.Param("token")}, msg)
		return
	}
	if err != nil {
		s.internalError(c, "setup", err)
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	_ = s.Store.DeleteSetting(ctx, SetupTokenKey)
	if err := s.startSession(c, u); err != nil {
		s.internalError(c, "setup session", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
