package httpapi

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/models"
)

// page is what every template receives.
type page struct {
	Title string
	User  *models.User
	CSRF  string
	Flash string
	Error string
	Can   caps
	Data  any
}

// caps are the navigation-relevant permissions of the viewer.
type caps struct {
	ManageInterviews, Review, ManageUsers, ViewAudit, JoinCall, ObserveCall, ViewEvidence bool
}

func capsOf(u *models.User) caps {
	if u == nil {
		return caps{}
	}
	return caps{
		ManageInterviews: auth.Can(u.Role, auth.PermManageInterviews),
		Review:           auth.Can(u.Role, auth.PermReview),
		ManageUsers:      auth.Can(u.Role, auth.PermManageUsers),
		ViewAudit:        auth.Can(u.Role, auth.PermViewAudit),
		JoinCall:         auth.Can(u.Role, auth.PermJoinCall),
		ObserveCall:      auth.Can(u.Role, auth.PermObserveCall),
		ViewEvidence:     auth.Can(u.Role, auth.PermViewEvidence),
	}
}

// render writes the named page with status.
func (s *Server) render(c *gin.Context, status int, name, title string, data any, errMsg string) {
	t, ok := s.pages[name]
	if !ok {
		s.Logger.Error("unknown template", "name", name)
		c.String(http.StatusInternalServerError, "internal error")
		c.Abort()
		return
	}
	u := currentUser(c)
	p := page{Title: title, User: u, CSRF: s.csrfToken(c), Can: capsOf(u), Data: data, Error: errMsg}
	if f, err := c.Cookie(flashCookie); err == nil && f != "" {
		p.Flash, _ = url.QueryUnescape(f)
		s.setCookie(c, flashCookie, "", -1, "/", http.SameSiteLaxMode)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Logger.Error("template failed", "name", name, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// flash shows msg on the next rendered page.
func (s *Server) flash(c *gin.Context, msg string) {
	s.setCookie(c, flashCookie, url.QueryEscape(msg), 60, "/", http.SameSiteLaxMode)
}

type message struct {
	Heading, Text, Back string
}

// fail ends the request with a clear, generic message: an HTML page for browsers,
// {"error": text} for API clients. Details belong in the log, not the response.
func (s *Server) fail(c *gin.Context, status int, heading, text string) {
	if wantsJSON(c) {
		c.AbortWithStatusJSON(status, gin.H{"error": text})
		return
	}
	s.render(c, status, "message", heading, message{Heading: heading, Text: text}, "")
	c.Abort()
}

// internalError logs err with the route and answers 500 (or 503 when the database is down).
func (s *Server) internalError(c *gin.Context, what string, err error) {
	s.Logger.Error(what, "route", c.FullPath(), "err", err)
	s.fail(c, http.StatusInternalServerError, "Something went wrong", "The server could not complete this request. Try again in a moment.")
}

func jsonForTemplate(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	return template.JS(b), err
}
