package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/models"
)

const (
	sessionCookie = "lc_session"
	preCookie     = "lc_pre"
	flashCookie   = "lc_flash"
	ctxUser       = "lc.user"
	ctxBinding    = "lc.binding"
	ctxPermsCall  = "lc.callpage"
)

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.Logger.Error("panic in handler", "path", c.FullPath(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.fail(c, http.StatusInternalServerError, "Something went wrong", "The server could not complete this request. Try again in a moment.")
			}
		}()
		c.Next()
	}
}

// requestLog logs one line per request. The route pattern is logged, never the
// raw path: join tokens live in paths and must not reach the logs.
func (s *Server) requestLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(no route)"
		}
		lvl := slog.LevelDebug
		if c.Writer.Status() >= 500 {
			lvl = slog.LevelError
		}
		s.Logger.Log(c.Request.Context(), lvl, "http request", "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds(), "ip", c.ClientIP())
	}
}

// securityHeaders sets the headers of every response. Camera and microphone are
// granted only to pages that mark themselves as call pages (see callPage).
func (s *Server) securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
			"media-src 'self' blob:; connect-src "+s.connectSrc()+"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		if s.Config.Secure() {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		if !strings.HasPrefix(c.Request.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// callPage grants camera and microphone to the page being served.
func callPage(c *gin.Context) {
	c.Writer.Header().Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()")
}

func (s *Server) limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := bodyLimit(c, n)
		if c.Request.ContentLength > limit && uploadRoutes[c.FullPath()] {
			s.uploadTooLarge(c) // before the CSRF check, which could not read the cut-off form
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// refuseBadText answers 400 when a query or form value holds a NUL byte or is
// not UTF-8: PostgreSQL cannot store either, and such a value reached the
// database as a 500 with an ERROR log (and, at sign-in, before the throttle).
func (s *Server) refuseBadText() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !cleanValues(c.Request.URL.Query()) {
			s.fail(c, http.StatusBadRequest, "Invalid characters", "The address contains characters that are not allowed.")
			return
		}
		if c.ContentType() == "application/x-www-form-urlencoded" {
			if err := c.Request.ParseForm(); err != nil {
				s.fail(c, http.StatusBadRequest, "Invalid form", "The form could not be read. Reload the page and try again.")
				return
			}
			if !cleanValues(c.Request.PostForm) {
				s.fail(c, http.StatusBadRequest, "Invalid characters", "The form contains characters that are not allowed.")
				return
			}
		}
		c.Next()
	}
}

func cleanValues(v url.Values) bool {
	for k, vs := range v {
		if !cleanText(k) {
			return false
		}
		for _, x := range vs {
			if !cleanText(x) {
				return false
			}
		}
	}
	return true
}

// cleanText reports whether s can be stored as text: valid UTF-8 without NUL.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int, path string, sameSite http.SameSite) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: s.Config.Secure(), SameSite: sameSite,
	})
}

// loadUser resolves the staff session cookie and the CSRF binding of the browser.
func (s *Server) loadUser() gin.HandlerFunc {
	return func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/static/") || c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" || c.Request.URL.Path == "/favicon.ico" {
			c.Next()
			return
		}
		if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" {
			ctx, cancel := s.ctx(c)
			u, err := s.Store.SessionUser(ctx, auth.HashToken(tok), s.Now())
			cancel()
			switch {
			case err == nil:
				c.Set(ctxUser, u)
				c.Set(ctxBinding, "s:"+tok)
			case errors.Is(err, models.ErrNotFound):
				s.setCookie(c, sessionCookie, "", -1, "/", http.SameSiteLaxMode)
			default:
				s.Logger.Error("session lookup failed", "err", err)
				s.fail(c, http.StatusServiceUnavailable, "Service unavailable", "The database is not answering. Try again in a moment.")
				return
			}
		}
		s.apiStaff(c)    // staff WebSockets may use the API token (api.go)
		s.ticketStaff(c) // or a node ticket (nodes.go)
		if _, ok := c.Get(ctxBinding); !ok {
			pre, err := c.Cookie(preCookie)
			if err != nil || len(pre) < 20 || len(pre) > 64 {
				pre, _ = auth.RandomString(24)
				s.setCookie(c, preCookie, pre, 0, "/", http.SameSiteLaxMode)
			}
			c.Set(ctxBinding, "p:"+pre)
		}
		if !safeMethod(c.Request.Method) && !s.csrfOK(c) && !s.bearerOK(c) { // the API token is no ambient credential
			s.fail(c, http.StatusForbidden, "Form expired", "This form has expired or did not come from livecheck. Reload the page and try again.")
			return
		}
		c.Next()
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Server) csrfOK(c *gin.Context) bool {
	got := c.GetHeader("X-CSRF-Token")
	if got == "" {
		got = c.PostForm("csrf_token")
	}
	return s.Signer.CheckCSRF(c.GetString(ctxBinding), got)
}

func (s *Server) csrfToken(c *gin.Context) string { return s.Signer.CSRFToken(c.GetString(ctxBinding)) }

// currentUser returns the signed-in staff member or nil.
func currentUser(c *gin.Context) *models.User {
	if v, ok := c.Get(ctxUser); ok {
		return v.(*models.User)
	}
	return nil
}

// requirePerm admits signed-in staff whose role has p.
func (s *Server) requirePerm(p auth.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u == nil {
			if c.Request.Method == http.MethodGet && !wantsJSON(c) {
				c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
				c.Abort()
				return
			}
			s.fail(c, http.StatusUnauthorized, "Sign in required", "Sign in to continue.")
			return
		}
		if !auth.Can(u.Role, p) {
			s.fail(c, http.StatusForbidden, "Not allowed", "Your role does not allow this.")
			return
		}
		c.Next()
	}
}

func wantsJSON(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.Contains(c.GetHeader("Accept"), "application/json")
}
