package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// upgrader accepts same-origin WebSockets only (gorilla's default origin check),
// which stops cross-site WebSocket hijacking with a staff member's cookie.
var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, HandshakeTimeout: 10 * time.Second}

// CallData is what the call pages receive.
type CallData struct {
	Interview *models.Interview
	Mode      string // host | observe
	WS        string
}

func (s *Server) staffCallPage(mode string) gin.HandlerFunc {
	return func(c *gin.Context) {
		iv := s.interviewByParam(c)
		if iv == nil {
			return
		}
		switch iv.EffectiveStatus(s.Now()) {
		case models.StatusScheduled, models.StatusLive:
		default:
			s.fail(c, http.StatusGone, "Interview not open", "This interview has ended, expired or was revoked.")
			return
		}
		if mode == "host" {
			callPage(c)
		}
		u := currentUser(c)
		ctx, cancel := s.ctx(c)
		defer cancel()
		_ = s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "call." + mode,
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
		s.render(c, http.StatusOK, "call", "Interview with "+iv.CandidateName, CallData{Interview: iv, Mode: mode,
			WS: fmt.Sprintf("/ws/interviews/%d?mode=%s", iv.ID, mode)}, "")
	}
}

func (s *Server) hello(role room.Role) signal.Message {
	m := signal.Message{T: signal.TypeHello, Role: string(role)}
	for _, is := range s.ICEServers {
		m.ICEServers = append(m.ICEServers, signal.ICEServer{URLs: is.URLs, Username: is.Username, Credential: fmt.Sprint(is.Credential)})
	}
	return m
}

// candidateWS is the candidate's signaling socket.
func (s *Server) candidateWS(c *gin.Context) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return
	}
	ok, err := s.consentGiven(c, iv)
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return
	}
	if !ok {
		s.fail(c, http.StatusForbidden, "Consent required", "Consent is required before the call.")
		return
	}
	s.serveWS(c, iv, room.RoleCandidate, room.Attempt{BrowserID: s.browserID(c, false), IP: c.ClientIP(),
		UserAgent: truncate(c.Request.UserAgent(), 400), At: s.Now()})
}

// staffWS is the recruiter's or an observer's signaling socket.
func (s *Server) staffWS(c *gin.Context) {
	u := currentUser(c)
	role := room.RoleHost
	switch c.Query("mode") {
	case "host":
		if !auth.Can(u.Role, auth.PermJoinCall) {
			s.fail(c, http.StatusForbidden, "Not allowed", "Your role cannot host interviews.")
			return
		}
	case "observe":
		if !auth.Can(u.Role, auth.PermObserveCall) {
			s.fail(c, http.StatusForbidden, "Not allowed", "Your role cannot observe interviews.")
			return
		}
		role = room.RoleObserver
	default:
		s.fail(c, http.StatusBadRequest, "Bad request", "mode must be host or observe.")
		return
	}
	iv := s.interviewByParam(c)
	if iv == nil {
		return
	}
	if st := iv.EffectiveStatus(s.Now()); st != models.StatusScheduled && st != models.StatusLive {
		s.fail(c, http.StatusGone, "Interview not open", "This interview has ended, expired or was revoked.")
		return
	}
	s.serveWS(c, iv, role, room.Attempt{IP: c.ClientIP(), At: s.Now()})
}

func (s *Server) serveWS(c *gin.Context, iv *models.Interview, role room.Role, a room.Attempt) {
	if s.Rooms == nil {
		s.fail(c, http.StatusServiceUnavailable, "Unavailable", "Live calls are not enabled on this server.")
		return
	}
	rm, err := s.Rooms.Open(iv.ID, s.Config.MaxLive)
	if errors.Is(err, room.ErrBusy) {
		s.busy(c)
		return
	}
	if err != nil {
		s.fail(c, http.StatusServiceUnavailable, "Unavailable", "The server is shutting down. Try again in a minute.")
		return
	}
	if role == room.RoleCandidate && rm.CandidateBusy(a.BrowserID) {
		s.fail(c, http.StatusConflict, "Link in use", "This interview link is in use in another browser.")
		return
	}
	ws, err := upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn := signal.NewConn(ws)
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = conn.Send(s.hello(role))
	peer, err := rm.Join(ctx, role, conn, a)
	if err != nil {
		msg := signal.Message{T: signal.TypeError, Error: err.Error()}
		if errors.Is(err, room.ErrInUse) {
			msg.T = signal.TypeBusy
		} else if errors.Is(err, room.ErrEnded) {
			msg.T = signal.TypeEnded
		}
		_ = conn.Send(msg)
		return
	}
	peer.Start()
	if role != room.RoleCandidate {
		go s.pushLive(ctx, conn, rm)
	}
	reason := "disconnected"
	var ml messageLimiter
	for {
		b, err := conn.Read(ctx)
		if err != nil {
			break
		}
		if !ml.allow(time.Now()) {
			_ = conn.Send(signal.Message{T: signal.TypeError, Error: "too many signaling messages: slow down"})
			continue
		}
		peer.HandleMessage(ctx, b)
		if peer.Closed() {
			reason = "left"
			break
		}
	}
	peer.Close(reason)
}

// busy answers when the server runs its maximum of live interviews.
func (s *Server) busy(c *gin.Context) {
	c.Header("Retry-After", "60")
	s.fail(c, http.StatusServiceUnavailable, "Busy", "All interview rooms of this server are in use right now. Please try again in a few minutes; your link stays valid.")
}

// pushLive sends the live figures to a staff socket once a second.
func (s *Server) pushLive(ctx context.Context, conn *signal.Conn, rm *room.Room) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case <-t.C:
			sess := rm.Session()
			if sess == nil {
				continue
			}
			b, _ := json.Marshal(sess.Snapshot())
			if err := conn.Send(signal.Message{T: signal.TypeSignals, Data: b}); err != nil {
				return
			}
		}
	}
}

// interviewRoomExtras adds the stored session results to the interview page.
func (s *Server) interviewRoomExtras(c *gin.Context, iv *models.Interview, extra map[string]any) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	attempts, err := s.Store.Attempts(ctx, iv.ID)
	if err != nil {
		return err
	}
	extra["Attempts"] = attempts
	consents, err := s.Store.Consents(ctx, iv.ID)
	if err != nil {
		return err
	}
	extra["Consents"] = consents
	sess, err := s.Store.Session(ctx, iv.ID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	if sess != nil {
		extra["Session"] = sess
		var fa, co []models.Interval
		_ = json.Unmarshal(sess.FaceAbsent, &fa)
		_ = json.Unmarshal(sess.CameraOff, &co)
		extra["FaceAbsent"], extra["CameraOff"] = fa, co
		sigs, err := s.Store.Signals(ctx, iv.ID)
		if err != nil {
			return err
		}
		extra["Signals"] = sigs
	}
	if v, err := s.Store.LatestVerdict(ctx, iv.ID); err == nil {
		extra["Verdict"] = v
	} else if !errors.Is(err, models.ErrNotFound) {
		return err
	}
	reviews, err := s.Store.Reviews(ctx, iv.ID)
	if err != nil {
		return err
	}
	extra["Reviews"] = reviews
	chs, err := s.Store.Challenges(ctx, iv.ID)
	if err != nil {
		return err
	}
	extra["Challenges"] = chs
	u := currentUser(c)
	st := iv.EffectiveStatus(s.Now())
	open := st == models.StatusScheduled || st == models.StatusLive
	extra["CanHost"] = open && auth.Can(u.Role, auth.PermJoinCall)
	extra["CanObserve"] = open && auth.Can(u.Role, auth.PermObserveCall)
	if s.Rooms != nil {
		if _, ok := s.Rooms.Get(iv.ID); ok {
			extra["Live"] = true
		}
	}
	return nil
}
