package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// CallData is what the call pages receive.
type CallData struct {
	Interview *models.Interview
	Mode      string // host | observe
	WS        string
	Route     string // where the page asks which node to connect to (wire.Route)
}

func (s *Server) staffCallPage(mode string) gin.HandlerFunc {
	action := interview.Host
	if mode == "observe" {
		action = interview.Observe
	}
	return func(c *gin.Context) {
		iv := s.interviewFor(c, action)
		if iv == nil {
			return
		}
		switch iv.EffectiveStatus(s.Now()) {
		case models.StatusScheduled, models.StatusLive:
		case models.StatusDeclined:
			s.fail(c, http.StatusConflict, "Candidate declined", "The candidate declined the video analysis, so the call cannot start. Their link keeps working: if they change their mind and agree, the interview opens again.")
			return
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
			WS: fmt.Sprintf("/ws/interviews/%d?mode=%s", iv.ID, mode), Route: fmt.Sprintf("/interviews/%d/node?mode=%s", iv.ID, mode)}, "")
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
	t, ok := s.ticket(c, iv.ID, room.RoleCandidate)
	if !ok {
		return
	}
	var con *store.Consent
	var err error
	browser := s.browserID(c, false)
	if t != nil { // from a page another node served: the browser is the ticket's
		browser = t.Browser
		ctx, cancel := s.ctx(c)
		con, err = s.Store.LatestConsent(ctx, iv.ID, browser)
		cancel()
		if errors.Is(err, models.ErrNotFound) {
			con, err = nil, nil
		}
	} else {
		con, err = s.latestConsent(c, iv)
	}
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return
	}
	if con == nil || con.Decision != "given" || !consentCovers(con.Notice, s.hasReference(c, iv)) {
		s.fail(c, http.StatusForbidden, "Consent required", "Consent is required before the call.")
		return
	}
	s.serveWS(c, iv, room.RoleCandidate, room.Attempt{BrowserID: browser, IP: c.ClientIP(),
		UserAgent: truncate(c.Request.UserAgent(), 400), At: s.Now(), NoFlash: con.Flash == "fade"})
}

// staffWS is the recruiter's or an observer's signaling socket.
func (s *Server) staffWS(c *gin.Context) {
	role, action := room.RoleHost, interview.Host
	switch c.Query("mode") {
	case "host":
	case "observe":
		role, action = room.RoleObserver, interview.Observe
	default:
		s.fail(c, http.StatusBadRequest, "Bad request", "mode must be host or observe.")
		return
	}
	iv := s.interviewFor(c, action) // the role's permission and the interview's scope
	if iv == nil {
		return
	}
	if st := iv.EffectiveStatus(s.Now()); st != models.StatusScheduled && st != models.StatusLive {
		s.fail(c, http.StatusGone, "Interview not open", "This interview has ended, expired or was revoked.")
		return
	}
	if _, ok := s.ticket(c, iv.ID, role); !ok {
		return
	}
	s.serveWS(c, iv, role, room.Attempt{IP: c.ClientIP(), At: s.Now()})
}

func (s *Server) serveWS(c *gin.Context, iv *models.Interview, role room.Role, a room.Attempt) {
	if s.Rooms == nil {
		s.fail(c, http.StatusServiceUnavailable, "Unavailable", "Live calls are not enabled on this server.")
		return
	}
	// Refuse what can be refused before the handshake, and open the room only
	// after it: a failed handshake (no Upgrade header, another origin) must not
	// leave a room behind (40 of them made every candidate "busy").
	max := 0 // staff-only rooms do not count against the cap
	if role == room.RoleCandidate {
		max = s.Config.MaxLive
		if s.Rooms.Full(iv.ID, max) {
			s.busy(c)
			return
		}
		if rm, ok := s.Rooms.Get(iv.ID); ok && rm.CandidateBusy(a.BrowserID) {
			s.refuseSecondDevice(c, iv)
			return
		}
	}
	if s.misdirected(c, iv) {
		return
	}
	ws, err := s.ws.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered
	}
	conn := signal.NewConn(ws)
	defer conn.Close()
	rm, err := s.Rooms.Open(iv.ID, max)
	if err != nil {
		s.signalingError(conn, iv.ID, "open room", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = conn.Send(s.hello(role))
	peer, err := rm.Join(ctx, role, conn, a)
	if err != nil {
		if errors.Is(err, room.ErrInUse) {
			s.recordRefusal(iv, a)
		}
		s.signalingError(conn, iv.ID, "join room", err)
		return
	}
	peer.Start()
	if role != room.RoleCandidate {
		go s.pushLive(ctx, conn, rm)
	}
	reason := "disconnected"
	ml := newMessageLimiter()
	for {
		b, err := conn.Read(ctx)
		if err != nil {
			break
		}
		if !ml.Allow(time.Now()) {
			_ = conn.Send(signal.Message{T: signal.TypeError, Error: "too many signaling messages: slow down"})
			continue
		}
		if role == room.RoleHost {
			s.auditEndRequest(c, iv, b)
		}
		peer.HandleMessage(ctx, b)
		if peer.Closed() {
			reason = "left"
			break
		}
	}
	peer.Close(reason)
}

// signalingError tells a signaling client, in words fit for a browser, why it
// cannot join; the error itself goes to the log only.
func (s *Server) signalingError(conn *signal.Conn, interviewID int64, what string, err error) {
	msg := signal.Message{T: signal.TypeError, Error: "The call could not be joined. Try again in a moment."}
	switch {
	case errors.Is(err, room.ErrInUse):
		msg = signal.Message{T: signal.TypeBusy, Error: "This interview link is in use in another browser."}
	case errors.Is(err, room.ErrEnded):
		msg = signal.Message{T: signal.TypeEnded, Error: "The interview has ended."}
	case errors.Is(err, room.ErrBusy):
		msg.Error = "All interview rooms of this server are in use right now. Try again in a few minutes."
	case errors.Is(err, room.ErrClosed):
		msg.Error = "The server is restarting. Try again in a minute."
	default:
		s.Logger.Error("signaling: "+what, "interview", interviewID, "err", err)
	}
	_ = conn.Send(msg)
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
		marked, _, err := s.markedPairs(ctx, iv.ID)
		if err != nil {
			return err
		}
		extra["Signals"] = s.redactSignals(c, sigs) // a reuse reason names only interviews the viewer may see
		extra["Counting"] = countingSignals(sigs, marked)
	}
	if v, err := s.Store.LatestVerdict(ctx, iv.ID); err == nil {
		extra["Verdict"] = v
		var points []verdictReason
		_ = json.Unmarshal(v.Reasons, &points)
		sigs, _ := extra["Counting"].([]models.Signal)
		extra["Summary"] = plainSummary(sigs, points)
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
	if extra["Live"] == nil && s.Cluster != nil && iv.Status == models.StatusLive {
		// Live on another node: its lease is held and renewed.
		if l, err := s.Store.InterviewLease(ctx, iv.ID); err == nil && !l.Expired {
			extra["Live"] = true
		}
	}
	return nil
}
