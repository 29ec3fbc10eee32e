package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

type loginData struct {
	Next, Email string
}

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
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
	acctKey := "acct:" + strings.ToLower(email)
	data := loginData{Next: next, Email: email}
	for _, key := range []string{ipKey, acctKey} {
		var th *auth.Throttle = s.loginIP
		if key == acctKey {
			th = s.loginAcct
		}
		if blocked, wait := th.Blocked(key); blocked {
			mins := int(wait.Minutes()) + 1
			s.render(c, http.StatusTooManyRequests, "login", "Sign in", data,
				fmt.Sprintf("Too many failed sign-in attempts. Try again in about %d minute(s).", mins))
			return
		}
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
	if !auth.CheckPassword(hash, pw) || u.Disabled {
		s.loginIP.Fail(ipKey)
		s.loginAcct.Fail(acctKey)
		_ = s.Store.Audit(ctx, store.AuditEntry{Actor: email, Action: "login.failed", IP: c.ClientIP()})
		s.render(c, http.StatusUnauthorized, "login", "Sign in", data, "Wrong e-mail or password.")
		return
	}
	s.loginAcct.Reset(acctKey)
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
