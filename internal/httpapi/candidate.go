package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

const (
	candidateCookie = "lc_cand"
	// NoticeVersion identifies the consent notice text stored with each decision.
	NoticeVersion = "2026-11-v1"
)

// browserID returns this browser's candidate id, creating the cookie when asked.
func (s *Server) browserID(c *gin.Context, create bool) string {
	if v, err := c.Cookie(candidateCookie); err == nil && len(v) >= 20 && len(v) <= 64 {
		return v
	}
	if !create {
		return ""
	}
	v, _ := auth.RandomString(18)
	s.setCookie(c, candidateCookie, v, 7*24*3600, "/", http.SameSiteLaxMode)
	return v
}

// consentGiven reports whether this browser consented for the interview.
func (s *Server) consentGiven(c *gin.Context, iv *models.Interview) (bool, error) {
	id := s.browserID(c, false)
	if id == "" {
		return false, nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	con, err := s.Store.LatestConsent(ctx, iv.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return con.Decision == "given", nil
}

func (s *Server) joinData(c *gin.Context, iv *models.Interview) JoinData {
	return JoinData{
		Name: iv.CandidateName, Scheduled: iv.ScheduledAt.UTC().Format("Monday 2 January 2006, 15:04"),
		Token: c.Param("token"), Interview: iv,
		Extra: map[string]any{"RetentionDays": s.Config.RetentionDays},
	}
}

func (s *Server) consent(c *gin.Context) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return
	}
	decision := c.PostForm("decision")
	if decision != "given" && decision != "declined" {
		s.render(c, http.StatusBadRequest, "join", "Your interview", s.joinData(c, iv), "Choose whether you agree to the analysis.")
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.AddConsent(ctx, store.Consent{InterviewID: iv.ID, BrowserID: s.browserID(c, true), Decision: decision,
			At: s.Now(), IP: c.ClientIP(), UserAgent: truncate(c.Request.UserAgent(), 400), Notice: NoticeVersion}); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{Actor: "candidate", Action: "consent." + decision,
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
	})
	if err != nil {
		s.internalError(c, "record consent", err)
		return
	}
	if decision == "declined" {
		s.render(c, http.StatusOK, "message", "Thank you", message{Heading: "You declined",
			Text: "Nothing was recorded. The organiser has been told that you declined the video analysis and will contact you about other options. You can close this page."}, "")
		return
	}
	c.Redirect(http.StatusSeeOther, "/join/"+c.Param("token")+"/check")
}

// candidateStep loads the interview and requires this browser's consent.
func (s *Server) candidateStep(c *gin.Context) *models.Interview {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return nil
	}
	ok, err := s.consentGiven(c, iv)
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return nil
	}
	if !ok {
		c.Redirect(http.StatusSeeOther, "/join/"+c.Param("token"))
		c.Abort()
		return nil
	}
	return iv
}

func (s *Server) deviceCheck(c *gin.Context) {
	iv := s.candidateStep(c)
	if iv == nil {
		return
	}
	callPage(c)
	s.render(c, http.StatusOK, "join_check", "Camera and microphone", s.joinData(c, iv), "")
}

func (s *Server) candidateCall(c *gin.Context) {
	iv := s.candidateStep(c)
	if iv == nil {
		return
	}
	if s.Rooms != nil {
		if s.Rooms.Full(iv.ID, s.Config.MaxLive) {
			s.busy(c)
			return
		}
		if r, ok := s.Rooms.Get(iv.ID); ok && r.CandidateBusy(s.browserID(c, false)) {
			s.render(c, http.StatusConflict, "message", "Link in use", message{Heading: "This link is already in use",
				Text: "Your interview is open in another browser or on another device. Close it there first, then reload this page."}, "")
			return
		}
	}
	callPage(c)
	s.render(c, http.StatusOK, "join_call", "Interview", s.joinData(c, iv), "")
}
