package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// The admin JSON API (/api/...) is for automation such as the load generator.
// It is off unless LIVECHECK_API_TOKEN is set; every request must carry
// "Authorization: Bearer <token>". A valid token is not a browser credential
// (no browser attaches it by itself), so such requests are exempt from CSRF;
// requests without it are CSRF-checked like every other POST.

// apiUser is the identity of the API token on staff WebSockets (load-generator
// viewers). It has no account: ID 0 and no audit actor id.
var apiUser = &models.User{ID: 0, Email: "api-token", Name: "API token", Role: models.RoleAdmin}

// bearerOK reports whether the request carries the configured API token.
// Both sides are hashed first, so the comparison is constant-time and does not
// reveal the token's length.
func (s *Server) bearerOK(c *gin.Context) bool {
	want := s.Config.APIToken
	if want == "" {
		return false
	}
	got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// apiStaff lets staff signaling sockets (/ws/interviews/...) authenticate with
// the API token instead of a session cookie, as an admin without an account.
func (s *Server) apiStaff(c *gin.Context) {
	if currentUser(c) == nil && strings.HasPrefix(c.Request.URL.Path, "/ws/interviews/") && s.bearerOK(c) {
		c.Set(ctxUser, apiUser)
	}
}

// api wraps an API handler with the token check: 404 while the API is off,
// 401 without a valid token.
func (s *Server) api(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.Config.APIToken == "" {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "the API is disabled on this server (LIVECHECK_API_TOKEN)"})
			return
		}
		if !s.bearerOK(c) {
			c.Header("WWW-Authenticate", `Bearer realm="livecheck"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "a valid Authorization: Bearer token is required"})
			return
		}
		h(c)
	}
}

func (s *Server) apiRoutes(r *Router) {
	r.Public(http.MethodPost, "/api/interviews", s.api(s.apiCreateInterview))
	r.Public(http.MethodGet, "/api/interviews/:id", s.api(s.apiInterview))
	r.Public(http.MethodPost, "/api/interviews/:id/challenge", s.api(s.apiChallenge))
	r.Public(http.MethodPost, "/api/interviews/:id/end", s.api(s.apiEnd))
	r.Public(http.MethodPut, "/api/interviews/:id/reference", s.api(s.apiPutReference))
	r.Public(http.MethodDelete, "/api/interviews/:id/reference", s.api(s.apiDeleteReference))
	r.Public(http.MethodGet, "/api/interviews/:id/node", s.api(s.apiRoute))
}

func (s *Server) apiCreateInterview(c *gin.Context) {
	var req wire.InterviewRequest
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, wire.Error{Error: jsonProblem(err)})
		return
	}
	if req.ScheduledAt.IsZero() {
		req.ScheduledAt = s.Now()
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	created, err := s.interviews.Create(ctx, s.actor(c), interview.Input{CandidateName: req.CandidateName,
		CandidateEmail: req.CandidateEmail, ClaimedCity: req.ClaimedCity, ClaimedCountry: req.ClaimedCountry,
		ScheduledAt: req.ScheduledAt, Notes: req.Notes})
	var invalid *interview.InvalidError
	if errors.As(err, &invalid) {
		c.AbortWithStatusJSON(http.StatusBadRequest, wire.Error{Error: invalid.Message})
		return
	}
	if err != nil {
		s.interviewError(c, "create interview", err)
		return
	}
	iv := created.Interview
	c.JSON(http.StatusCreated, wire.InterviewCreated{ID: iv.ID, JoinURL: s.JoinURL(created.Token), ExpiresAt: iv.ExpiresAt})
}

func (s *Server) apiInterview(c *gin.Context) {
	iv := s.interviewFor(c, interview.View)
	if iv == nil {
		return
	}
	out := wire.Interview{ID: iv.ID, Status: string(iv.EffectiveStatus(s.Now())), Signals: []wire.Signal{}, Challenges: []wire.Challenge{}}
	if s.Rooms != nil {
		if rm, ok := s.Rooms.Get(iv.ID); ok {
			if sess := rm.Session(); sess != nil {
				l := sess.Snapshot()
				out.Live = &l
			}
		}
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	sess, err := s.Store.Session(ctx, iv.ID)
	switch {
	case err == nil:
		out.Session = &wire.Session{Reason: sess.Reason, StartedAt: sess.StartedAt, EndedAt: sess.EndedAt,
			FramesDecoded: sess.FramesDecoded, FramesAnalysed: sess.FramesAnalysed, FramesDropped: sess.FramesDropped,
			DecodeErrors: sess.DecodeErrors, KeyframeRequests: sess.KeyframeRequests, AudioChunks: sess.AudioChunks}
		sigs, err := s.Store.Signals(ctx, iv.ID)
		if err != nil {
			s.internalError(c, "list signals", err)
			return
		}
		for _, sg := range sigs {
			out.Signals = append(out.Signals, wire.Signal{Kind: sg.Kind, Value: sg.Value, Score: sg.Score, Confidence: sg.Confidence, Reason: sg.Reason})
		}
		switch v, err := s.Store.LatestVerdict(ctx, iv.ID); {
		case err == nil:
			out.Verdict = &wire.Verdict{Decision: v.Decision, Score: v.Score, ReviewAt: v.ReviewAt, FailAt: v.FailAt, ComputedAt: v.ComputedAt}
		case !errors.Is(err, models.ErrNotFound):
			s.internalError(c, "latest verdict", err)
			return
		}
	case !errors.Is(err, models.ErrNotFound):
		s.internalError(c, "fetch session", err)
		return
	}
	chs, err := s.Store.Challenges(ctx, iv.ID)
	if err != nil {
		s.internalError(c, "list challenges", err)
		return
	}
	for _, ch := range chs {
		out.Challenges = append(out.Challenges, wire.Challenge{Kind: ch.Kind, Outcome: ch.Outcome, Reason: ch.Reason})
	}
	switch p, err := s.Store.ReferencePhotoOf(ctx, iv.ID); {
	case err == nil:
		out.Reference = referenceWire(p)
	case !errors.Is(err, models.ErrNotFound):
		s.internalError(c, "reference photo", err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// apiRoom returns the live room of the interview named by :id or answers 409.
func (s *Server) apiRoom(c *gin.Context) *room.Room {
	iv := s.interviewFor(c, interview.Host)
	if iv == nil {
		return nil
	}
	if s.Rooms != nil {
		if rm, ok := s.Rooms.Get(iv.ID); ok {
			return rm
		}
	}
	msg := "the interview is not live on this server"
	if s.Cluster != nil {
		ctx, cancel := s.ctx(c)
		l, err := s.Store.InterviewLease(ctx, iv.ID)
		cancel()
		if err == nil && !l.Expired && l.NodeID != s.Cluster.ID() {
			msg += " (node " + l.NodeID + " holds it: GET /api/interviews/" + c.Param("id") + "/node)"
		}
	}
	c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": msg})
	return nil
}

// apiChallenge issues a liveness challenge now (like the recruiter's button).
func (s *Server) apiChallenge(c *gin.Context) {
	rm := s.apiRoom(c)
	if rm == nil {
		return
	}
	if err := rm.ChallengeNow(); err != nil {
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": room.RefusalReason(err, s.Config.ChallengeLockAfter)})
		return
	}
	s.apiAudit(c, "interview.challenge", rm.ID())
	c.JSON(http.StatusAccepted, gin.H{"ok": true})
}

// apiEnd ends a live interview (like the recruiter's end button); its results
// are stored in the background.
func (s *Server) apiEnd(c *gin.Context) {
	rm := s.apiRoom(c)
	if rm == nil {
		return
	}
	rm.End(room.EndCompleted)
	s.apiAudit(c, "interview.end", rm.ID())
	c.JSON(http.StatusAccepted, gin.H{"ok": true})
}

func (s *Server) apiAudit(c *gin.Context, action string, id int64) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.Store.Audit(ctx, store.AuditEntry{Actor: "api", Action: action, Target: fmt.Sprintf("interview:%d", id), IP: c.ClientIP()}); err != nil {
		s.Logger.Warn("audit", "action", action, "err", err)
	}
}

// jsonProblem describes in our own words what is wrong with a request body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q must be a JSON %s", typ.Field, typ.Type.Kind())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "the body does not match the request: unknown field or wrong value (see README, admin API)"
}

// apiRoute tells an API client (loadgen) where to connect a staff socket for
// the interview and where its live room is: GET /api/interviews/:id/node?mode=.
func (s *Server) apiRoute(c *gin.Context) {
	c.Set(ctxUser, apiUser)
	s.staffRoute(c)
}
