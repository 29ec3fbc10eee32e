// Package httpapi is livecheck's HTTP surface: the Gin engine, middleware, staff
// pages, the candidate join flow and the JSON endpoints.
package httpapi

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/web"
)

// Deps are the collaborators of the HTTP layer, wired by the server binary.
type Deps struct {
	Store  *store.Store
	Config *config.Config
	Signer *auth.Signer
	Mailer *mail.Mailer
	Logger *slog.Logger
	// Now is the clock; time.Now when nil (tests move it to expire sessions and links).
	Now func() time.Time
	// Rooms runs live calls; nil disables them (pages still render).
	Rooms *room.Manager
	// ICEServers are handed to browsers in the signaling hello.
	ICEServers []webrtc.ICEServer
	// Photos reads uploaded reference photos; nil refuses them (no face model).
	Photos interview.PhotoReader
	// FaceIdentity tells candidates that their face is compared across the
	// organisation's interviews (the sessions run the identity stage).
	FaceIdentity bool
	// Cluster routes joins to the node holding the interview; nil: one server.
	Cluster Cluster
}

// Server holds the engine and its state.
type Server struct {
	Deps
	engine  *gin.Engine
	pages   map[string]*template.Template
	loginIP *auth.Throttle // failed sign-ins per address, any account (spraying)
	lockout *auth.Lockout  // failed sign-ins per account and source
	// e-mailed sign-in links: per address, and one per account per 15 minutes
	unlockIP, unlockAcct *auth.Throttle
	passwords            *auth.Passwords
	// interviews decides who sees and acts on which interview, for pages and API alike.
	interviews *interview.Service
	// costChecked, when set (tests), learns the bcrypt cost of every sign-in's comparison.
	costChecked func(cost int)

	limits  limiters
	origins origins // the nodes' origins (CSP connect-src, WebSocket origin check)
	ws      *websocket.Upgrader
}

// New builds the engine with every route.
func New(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Server{
		Deps:       d,
		loginIP:    auth.NewThrottle(20, 15*time.Minute, d.Now),
		lockout:    auth.NewLockout(d.Now),
		unlockIP:   auth.NewThrottle(5, 15*time.Minute, d.Now),
		unlockAcct: auth.NewThrottle(1, 15*time.Minute, d.Now),
		limits:     newLimiters(d.Config.LimitJoin, d.Config.LimitWS, d.Now),
	}
	s.ws = &websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, HandshakeTimeout: 10 * time.Second, CheckOrigin: s.checkOrigin}
	s.interviews = interview.NewService(d.Store, d.Signer, d.Config.LinkTTL, d.Now).WithPhotos(d.Photos)
	var err error
	if s.passwords, err = auth.NewPasswords(d.Config.PasswordCost); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	proxies := make([]string, 0, len(d.Config.TrustedProxies))
	for _, p := range d.Config.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	if err := e.SetTrustedProxies(proxies); err != nil {
		return nil, fmt.Errorf("httpapi: trusted proxies: %w", err)
	}
	e.Use(s.recoverer(), s.requestLog(), s.securityHeaders(), s.limitBody(1<<20), s.refuseBadText(), s.loadUser())
	e.NoRoute(func(c *gin.Context) {
		s.fail(c, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	})
	e.NoMethod(func(c *gin.Context) {
		s.fail(c, http.StatusMethodNotAllowed, "Not allowed", "This address does not accept that request.")
	})
	s.engine = e
	r := &Router{s: s, e: e}
	s.routes(r)
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists "METHOD path" of every registered route.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (s *Server) parseTemplates() error {
	tfs := web.Templates()
	names, err := fs.Glob(tfs, "*.html")
	if err != nil {
		return fmt.Errorf("httpapi: templates: %w", err)
	}
	funcs := template.FuncMap{
		"json": jsonForTemplate,
		"pct":  func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
		"f1":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"f2":   func(f float64) string { return fmt.Sprintf("%.2f", f) },
		"ts":   timeTag, // <time> in UTC; app.js shows it in the viewer's zone, UTC on hover
		"day":  dateTag,
		"latency": func(ms *float64) string { // a challenge's reaction time, "–" when none was measured
			if ms == nil {
				return "–"
			}
			return fmt.Sprintf("%.0f ms", *ms)
		},
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" || strings.HasPrefix(n, "_") {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(tfs, "layout.html", n)
		if err != nil {
			return fmt.Errorf("httpapi: template %s: %w", n, err)
		}
		// Partials (files starting with "_") may override blocks of any page;
		// "_shared_*" ones define blocks every page may use.
		partials, _ := fs.Glob(tfs, "_"+strings.TrimSuffix(n, ".html")+"*.html")
		shared, _ := fs.Glob(tfs, "_shared_*.html")
		if partials = append(partials, shared...); len(partials) > 0 {
			if t, err = t.ParseFS(tfs, partials...); err != nil {
				return fmt.Errorf("httpapi: template partials of %s: %w", n, err)
			}
		}
		s.pages[strings.TrimSuffix(n, ".html")] = t
	}
	return nil
}

// ctx returns a context for a store call made on behalf of a request.
func (s *Server) ctx(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), 10*time.Second)
}
