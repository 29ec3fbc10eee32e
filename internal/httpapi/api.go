package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	stdmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
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
}

// APIInterviewRequest is the body of POST /api/interviews.
type APIInterviewRequest struct {
	CandidateName  string    `json:"candidate_name"`
	CandidateEmail string    `json:"candidate_email"`
	ClaimedCity    string    `json:"claimed_city,omitempty"`
	ClaimedCountry string    `json:"claimed_country,omitempty"`
	ScheduledAt    time.Time `json:"scheduled_at,omitzero"` // RFC 3339; default now
	Notes          string    `json:"notes,omitempty"`
}

// APIInterviewCreated is the answer of POST /api/interviews (201).
type APIInterviewCreated struct {
	ID        int64     `json:"id"`
	JoinURL   string    `json:"join_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APISession is a stored session summary.
type APISession struct {
	Reason           string    `json:"reason"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at"`
	FramesDecoded    int64     `json:"frames_decoded"`
	FramesAnalysed   int64     `json:"frames_analysed"`
	FramesDropped    int64     `json:"frames_dropped"`
	DecodeErrors     int64     `json:"decode_errors"`
	KeyframeRequests int64     `json:"keyframe_requests"`
	AudioChunks      int64     `json:"audio_chunks"`
}

// APISignal is one stored signal.
type APISignal struct {
	Kind       string  `json:"kind"`
	Value      float64 `json:"value"`
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	Reason     string  `json:"reason"`
}

// APIChallenge is one stored challenge result.
type APIChallenge struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// APIInterview is the answer of GET /api/interviews/:id.
type APIInterview struct {
	ID         int64             `json:"id"`
	Status     string            `json:"status"`
	Live       *models.LiveStats `json:"live,omitempty"`    // figures of the running session
	Session    *APISession       `json:"session,omitempty"` // stored once the session ended
	Signals    []APISignal       `json:"signals"`
	Challenges []APIChallenge    `json:"challenges"`
}

func (s *Server) apiCreateInterview(c *gin.Context) {
	var req APIInterviewRequest
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid JSON: " + err.Error()})
		return
	}
	req.CandidateName, req.CandidateEmail = strings.TrimSpace(req.CandidateName), strings.TrimSpace(req.CandidateEmail)
	var msg string
	switch a, err := stdmail.ParseAddress(req.CandidateEmail); {
	case req.CandidateName == "" || len(req.CandidateName) > 200:
		msg = "candidate_name is required (at most 200 characters)"
	case err != nil || a.Address != req.CandidateEmail || len(req.CandidateEmail) > 320:
		msg = "candidate_email must be a valid e-mail address"
	case len(req.ClaimedCity) > 120 || len(req.ClaimedCountry) > 120 || len(req.Notes) > 4000:
		msg = "claimed_city and claimed_country take at most 120 characters, notes 4000"
	}
	if msg != "" {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": msg})
		return
	}
	if req.ScheduledAt.IsZero() {
		req.ScheduledAt = s.Now()
	}
	token, hash, err := s.Signer.NewJoinToken()
	if err != nil {
		s.internalError(c, "join token", err)
		return
	}
	iv := &models.Interview{CandidateName: req.CandidateName, CandidateEmail: req.CandidateEmail, ClaimedCity: req.ClaimedCity,
		ClaimedCountry: req.ClaimedCountry, ScheduledAt: req.ScheduledAt.UTC(), Notes: req.Notes, TokenHash: hash,
		ExpiresAt: req.ScheduledAt.UTC().Add(s.Config.LinkTTL)}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInterview(ctx, iv); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{Actor: "api", Action: "interview.create",
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
	})
	if err != nil {
		s.internalError(c, "create interview", err)
		return
	}
	c.JSON(http.StatusCreated, APIInterviewCreated{ID: iv.ID, JoinURL: s.JoinURL(token), ExpiresAt: iv.ExpiresAt})
}

// apiInterviewParam loads the interview named by :id or answers 404.
func (s *Server) apiInterviewParam(c *gin.Context) *models.Interview {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "no such interview"})
		return nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	iv, err := s.Store.Interview(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "no such interview"})
		return nil
	}
	if err != nil {
		s.internalError(c, "fetch interview", err)
		return nil
	}
	return iv
}

func (s *Server) apiInterview(c *gin.Context) {
	iv := s.apiInterviewParam(c)
	if iv == nil {
		return
	}
	out := APIInterview{ID: iv.ID, Status: string(iv.EffectiveStatus(s.Now())), Signals: []APISignal{}, Challenges: []APIChallenge{}}
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
		out.Session = &APISession{Reason: sess.Reason, StartedAt: sess.StartedAt, EndedAt: sess.EndedAt,
			FramesDecoded: sess.FramesDecoded, FramesAnalysed: sess.FramesAnalysed, FramesDropped: sess.FramesDropped,
			DecodeErrors: sess.DecodeErrors, KeyframeRequests: sess.KeyframeRequests, AudioChunks: sess.AudioChunks}
		sigs, err := s.Store.Signals(ctx, iv.ID)
		if err != nil {
			s.internalError(c, "list signals", err)
			return
		}
		for _, sg := range sigs {
			out.Signals = append(out.Signals, APISignal{Kind: sg.Kind, Value: sg.Value, Score: sg.Score, Confidence: sg.Confidence, Reason: sg.Reason})
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
		out.Challenges = append(out.Challenges, APIChallenge{Kind: ch.Kind, Outcome: ch.Outcome, Reason: ch.Reason})
	}
	c.JSON(http.StatusOK, out)
}

// apiRoom returns the live room of the interview named by :id or answers 409.
func (s *Server) apiRoom(c *gin.Context) *room.Room {
	iv := s.apiInterviewParam(c)
	if iv == nil {
		return nil
	}
	if s.Rooms != nil {
		if rm, ok := s.Rooms.Get(iv.ID); ok {
			return rm
		}
	}
	c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": "the interview is not live on this server"})
	return nil
}

// apiChallenge issues a liveness challenge now (like the recruiter's button).
func (s *Server) apiChallenge(c *gin.Context) {
	rm := s.apiRoom(c)
	if rm == nil {
		return
	}
	if err := rm.ChallengeNow(); err != nil {
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": err.Error()})
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
