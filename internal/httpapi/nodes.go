package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// Cluster is this server's place among the nodes sharing the database
// (internal/cluster). Nil: a single server, every interview is live here.
type Cluster interface {
	ID() string
	URL() string
	// Route returns the node an interview's participants connect to (the
	// holder of its lease, else the least-loaded live node, given the lease).
	Route(ctx context.Context, interviewID int64) (*store.Node, error)
	// Origins are the registered nodes' origins (scheme://host:port).
	Origins(ctx context.Context) ([]string, error)
	// Draining reports that the node is stopping and hands its interviews
	// over: /readyz fails, so that load balancers stop sending it pages.
	Draining() bool
}

// ticketParam is the query parameter of a signaling socket's node ticket.
const ticketParam = "ticket"

// origins caches the nodes' origins for the CSP and the WebSocket origin
// check (refreshed when older than a second: a node that just registered is
// in the CSP of pages served a second later).
type origins struct {
	mu   sync.Mutex
	at   time.Time
	list []string
}

// nodeOrigins returns the origins browsers may connect to: this server's base
// URL and node URL, and every registered node's.
func (s *Server) nodeOrigins() []string { return s.nodeOriginsWithin(time.Second) }

func (s *Server) nodeOriginsWithin(age time.Duration) []string {
	o := &s.origins
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.list != nil && time.Since(o.at) < age {
		return o.list
	}
	list := []string{originOf(s.Config.BaseURL)}
	if s.Cluster != nil {
		list = append(list, originOf(s.Cluster.URL()))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		nodes, err := s.Cluster.Origins(ctx)
		cancel()
		if err != nil && o.list != nil {
			return o.list // the database is away: keep the last list
		}
		list = append(list, nodes...)
	}
	seen := map[string]bool{"": true}
	o.list = o.list[:0:0]
	for _, x := range list {
		if !seen[x] {
			seen[x] = true
			o.list = append(o.list, x)
		}
	}
	o.at = time.Now()
	return o.list
}

// originOf returns scheme://host[:port] of an absolute URL ("" when not one).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// wsOrigin is the WebSocket form of an http(s) origin.
func wsOrigin(o string) string {
	if rest, ok := strings.CutPrefix(o, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(o, "http://")
}

// connectSrc is the CSP connect-src: this origin and every node's, over
// HTTP(S) and WebSocket.
func (s *Server) connectSrc() string {
	parts := []string{"'self'"}
	for _, o := range s.nodeOrigins() {
		parts = append(parts, o, wsOrigin(o))
	}
	return strings.Join(parts, " ")
}

// checkOrigin admits a WebSocket from this origin or one of the nodes' (the
// page may be served by any node), and clients that send no Origin (not a
// browser: no ambient credentials to hijack).
func (s *Server) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, n := range s.nodeOrigins() {
		if strings.EqualFold(n, o) {
			return true
		}
	}
	for _, n := range s.nodeOriginsWithin(100 * time.Millisecond) { // a node that registered just now
		if strings.EqualFold(n, o) {
			return true
		}
	}
	return false
}

// selfID is this node's id ("" for a single server).
func (s *Server) selfID() string {
	if s.Cluster == nil {
		return ""
	}
	return s.Cluster.ID()
}

// route answers where the interview's participant of role connects, with a
// ticket bound to the interview, the role, the node and who asked.
func (s *Server) route(c *gin.Context, iv *models.Interview, role room.Role, path string, t auth.Ticket) {
	now := s.Now()
	node, base := s.selfID(), s.Config.BaseURL
	if s.Cluster != nil {
		ctx, cancel := s.ctx(c)
		defer cancel()
		n, err := s.Cluster.Route(ctx, iv.ID)
		switch {
		case errors.Is(err, models.ErrNotFound):
			// Every node is full (by leases): this node's own room cap answers.
			node, base = s.Cluster.ID(), s.Cluster.URL()
		case err != nil:
			s.internalError(c, "route interview", err)
			return
		default:
			node, base = n.ID, n.PublicURL
		}
	}
	t.Interview, t.Role, t.Node = iv.ID, string(role), node
	tok := s.Signer.NodeTicket(t, now)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	ws := wsOrigin(originOf(base)) + strings.TrimPrefix(base, originOf(base)) + path + sep + ticketParam + "=" + url.QueryEscape(tok)
	c.JSON(http.StatusOK, wire.Route{Node: node, URL: base, WS: ws, Expires: now.Add(auth.TicketTTL)})
}

// candidateRoute: GET /join/<token>/node, for a candidate who consented.
func (s *Server) candidateRoute(c *gin.Context) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return
	}
	con, err := s.latestConsent(c, iv)
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return
	}
	if con == nil || con.Decision != "given" {
		c.AbortWithStatusJSON(http.StatusForbidden, wire.Error{Error: "Consent is required before the call."})
		return
	}
	s.route(c, iv, room.RoleCandidate, "/ws/join/"+url.PathEscape(c.Param("token")), auth.Ticket{Browser: con.BrowserID})
}

// staffRoute: GET /interviews/<id>/node?mode=host|observe (and the API's).
func (s *Server) staffRoute(c *gin.Context) {
	role, action := room.RoleHost, interview.Host
	switch c.Query("mode") {
	case "host":
	case "observe":
		role, action = room.RoleObserver, interview.Observe
	default:
		c.AbortWithStatusJSON(http.StatusBadRequest, wire.Error{Error: "mode must be host or observe"})
		return
	}
	iv := s.interviewFor(c, action)
	if iv == nil {
		return
	}
	if st := iv.EffectiveStatus(s.Now()); st != models.StatusScheduled && st != models.StatusLive {
		c.AbortWithStatusJSON(http.StatusGone, wire.Error{Error: "This interview has ended, expired or was revoked."})
		return
	}
	s.route(c, iv, role, fmt.Sprintf("/ws/interviews/%d?mode=%s", iv.ID, c.Query("mode")), auth.Ticket{User: currentUser(c).ID})
}

// ticket returns the verified node ticket of a signaling request, nil when
// the request carries none. A ticket that does not verify (another node's,
// expired, forged) or names another interview or role has been answered 403.
func (s *Server) ticket(c *gin.Context, interviewID int64, role room.Role) (*auth.Ticket, bool) {
	tok := c.Query(ticketParam)
	if tok == "" {
		return nil, true
	}
	t, err := s.Signer.VerifyNodeTicket(tok, s.selfID(), s.Now())
	if err != nil || t.Interview != interviewID || t.Role != string(role) {
		s.fail(c, http.StatusForbidden, "Link expired", "This connection link is not valid here any more. Reload the page.")
		return nil, false
	}
	return &t, true
}

// ticketStaff signs in a staff signaling socket (/ws/interviews/<id>) by its
// node ticket: the page that asked for it was served by another node, whose
// session cookie this node's origin does not receive.
func (s *Server) ticketStaff(c *gin.Context) {
	rest, ok := strings.CutPrefix(c.Request.URL.Path, "/ws/interviews/")
	tok := c.Query(ticketParam)
	if currentUser(c) != nil || !ok || tok == "" {
		return
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return
	}
	t, err := s.Signer.VerifyNodeTicket(tok, s.selfID(), s.Now())
	if err != nil || t.Interview != id || (t.Role != string(room.RoleHost) && t.Role != string(room.RoleObserver)) {
		return
	}
	if t.User == 0 {
		if s.Config.APIToken != "" { // issued to the API token
			c.Set(ctxUser, apiUser)
		}
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.Store.UserByID(ctx, t.User)
	if err != nil || u.Disabled {
		return
	}
	c.Set(ctxUser, u)
}

// misdirected refuses a signaling socket that reached a node other than the
// interview's: 421 with the right node's URL (the page asks for the route
// again). It reports whether it answered. On the right node the lease is
// renewed before the room opens.
func (s *Server) misdirected(c *gin.Context, iv *models.Interview) bool {
	if s.Cluster == nil {
		return false
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	n, err := s.Cluster.Route(ctx, iv.ID)
	if errors.Is(err, models.ErrNotFound) {
		return false // every node full by leases: this node's room cap decides
	}
	if err != nil {
		s.internalError(c, "route interview", err)
		return true
	}
	if n.ID != s.Cluster.ID() {
		c.AbortWithStatusJSON(http.StatusMisdirectedRequest, wire.Error{Error: "This interview is live on another node: " + n.PublicURL})
		return true
	}
	return false
}

// livesHere reports whether the interview's room is (to be) on this node.
func (s *Server) livesHere(c *gin.Context, iv *models.Interview) bool {
	if s.Cluster == nil {
		return true
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	n, err := s.Cluster.Route(ctx, iv.ID)
	return err != nil || n.ID == s.Cluster.ID()
}
