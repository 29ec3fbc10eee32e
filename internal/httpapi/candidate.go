package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	stdmail "net/mail"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

const (
	candidateCookie = "lc_cand"
	// NoticeVersion identifies the consent notice text stored with each
	// decision; the notice actually shown adds noticeFace and noticeReference
	// when it named those comparisons (noticeFor).
	NoticeVersion   = "2026-12-v2"
	noticeFace      = "+face"      // the face compared with the organisation's other interviews
	noticeReference = "+reference" // the face compared with a reference photo
)

// noticeFor is the notice version of the text a candidate reads: which
// face comparisons it names.
func noticeFor(face, reference bool) string {
	n := NoticeVersion
	if face {
		n += noticeFace
	}
	if reference {
		n += noticeReference
	}
	return n
}

// consentCovers reports whether a consent given to notice covers what the
// current notice names: a reference photo attached after the candidate
// agreed needs their agreement again.
func consentCovers(notice string, reference bool) bool {
	return !reference || strings.Contains(notice, noticeReference)
}

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
	con, err := s.latestConsent(c, iv)
	return con != nil && con.Decision == "given", err
}

// latestConsent returns this browser's latest consent decision, nil when none.
func (s *Server) latestConsent(c *gin.Context, iv *models.Interview) (*store.Consent, error) {
	id := s.browserID(c, false)
	if id == "" {
		return nil, nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	con, err := s.Store.LatestConsent(ctx, iv.ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return con, err
}

func (s *Server) joinData(c *gin.Context, iv *models.Interview) JoinData {
	x := map[string]any{"RetentionDays": s.Config.RetentionDays, "OrgName": s.Config.OrgName,
		"Length": humanDuration(s.Config.InterviewLength), "Flash": "flash",
		"FaceIdentity": s.FaceIdentity, "ReuseDays": s.Config.ReuseDays, "Reference": s.hasReference(c, iv)}
	if pc := s.Config.PrivacyContact; strings.HasPrefix(pc, "https://") || strings.HasPrefix(pc, "http://") {
		x["PrivacyURL"] = pc
	} else if pc != "" {
		x["PrivacyEmail"] = pc
	}
	return JoinData{Name: iv.CandidateName, Token: c.Param("token"), Interview: iv, Status: iv.EffectiveStatus(s.Now()), Extra: x}
}

// hasReference reports whether iv has a reference photo; when the database
// cannot tell, it says yes, so that the notice names the comparison rather
// than hide it.
func (s *Server) hasReference(c *gin.Context, iv *models.Interview) bool {
	ctx, cancel := s.ctx(c)
	defer cancel()
	_, err := s.Store.ReferencePhotoOf(ctx, iv.ID)
	return !errors.Is(err, models.ErrNotFound)
}

// humanDuration says d the way people do: "30 minutes", "1 hour", "1 hour 30 minutes".
func humanDuration(d time.Duration) string {
	m := int(d.Round(time.Minute).Minutes())
	h, m := m/60, m%60
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case h == 0:
		return plural(m, "minute")
	case m == 0:
		return plural(h, "hour")
	}
	return plural(h, "hour") + " " + plural(m, "minute")
}

func (s *Server) consent(c *gin.Context) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return
	}
	decision, flash := c.PostForm("decision"), c.DefaultPostForm("flash", "flash")
	if decision != "given" && decision != "declined" || flash != "flash" && flash != "fade" {
		s.render(c, http.StatusBadRequest, "join", "Your interview", s.joinData(c, iv), "Choose whether you agree to the analysis.")
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	now := s.Now()
	var changed bool // declined: the interview became declined; given: a declined interview reopened
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.AddConsent(ctx, store.Consent{InterviewID: iv.ID, BrowserID: s.browserID(c, true), Decision: decision,
			At: now, IP: c.ClientIP(), UserAgent: truncate(c.Request.UserAgent(), 400), Notice: noticeFor(s.FaceIdentity, s.hasReference(c, iv)),
			Flash: flash}); err != nil {
			return err
		}
		target := fmt.Sprintf("interview:%d", iv.ID)
		if err := tx.Audit(ctx, store.AuditEntry{Actor: "candidate", Action: "consent." + decision, Target: target, IP: c.ClientIP(),
			Detail: map[string]any{"flash": flash}}); err != nil {
			return err
		}
		var err error
		if changed, err = tx.SetDeclined(ctx, iv.ID, decision == "declined", now); err != nil || !changed {
			return err
		}
		if decision == "given" {
			return tx.Audit(ctx, store.AuditEntry{Actor: "candidate", Action: "interview.reopened", Target: target, IP: c.ClientIP()})
		}
		_, _, err = webhook.Publish(ctx, tx, webhook.EventInterviewDeclined, iv.ID, webhook.InterviewDeclined{InterviewID: iv.ID,
			DeclinedAt: now, URL: fmt.Sprintf("%s/interviews/%d", s.Config.BaseURL, iv.ID)}, now)
		return err
	})
	if err != nil {
		s.internalError(c, "record consent", err)
		return
	}
	if decision == "declined" {
		text := "Nothing was recorded: no camera, no microphone, no analysis. Your decision is shown to the organiser in livecheck"
		if changed && s.tellOrganiser(c, iv) {
			text += ", and they were sent an e-mail about it"
		}
		text += ". They may contact you about another way to interview. If you change your mind while your link is valid, you can still agree on the previous page."
		s.render(c, http.StatusOK, "message", "You declined", message{Heading: "You declined", Text: text, Back: "/join/" + c.Param("token")}, "")
		return
	}
	c.Redirect(http.StatusSeeOther, "/join/"+c.Param("token")+"/check")
}

// tellOrganiser e-mails the recruiter who scheduled the interview that the
// candidate declined, when SMTP is configured. It reports whether the mail was sent.
func (s *Server) tellOrganiser(c *gin.Context, iv *models.Interview) bool {
	if !s.Mailer.Enabled() || iv.CreatedBy == 0 {
		return false
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	u, err := s.Store.UserByID(ctx, iv.CreatedBy)
	if err != nil || u.Disabled {
		return false
	}
	err = s.Mailer.Send(ctx, mail.Message{
		To:      stdmail.Address{Name: u.Name, Address: u.Email},
		Subject: "A candidate declined the video analysis",
		Body: fmt.Sprintf("Hello %s,\n\n%s declined the video analysis of the interview scheduled for %s UTC, so the call will not start.\n"+
			"Nothing was recorded. Their link keeps working if they change their mind.\n\nThe interview: %s/interviews/%d\n",
			u.Name, iv.CandidateName, iv.ScheduledAt.UTC().Format("Monday 2 January 2006 at 15:04"), s.Config.BaseURL, iv.ID),
	})
	if err != nil {
		s.Logger.Warn("decline e-mail failed", "interview", iv.ID, "err", err)
		return false
	}
	return true
}

// candidateStep loads the interview and requires this browser's consent; the
// returned page data carry the candidate's flash choice.
func (s *Server) candidateStep(c *gin.Context) (*models.Interview, JoinData) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return nil, JoinData{}
	}
	con, err := s.latestConsent(c, iv)
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return nil, JoinData{}
	}
	if con == nil || con.Decision != "given" || !consentCovers(con.Notice, s.hasReference(c, iv)) {
		c.Redirect(http.StatusSeeOther, "/join/"+c.Param("token"))
		c.Abort()
		return nil, JoinData{}
	}
	d := s.joinData(c, iv)
	d.Extra["Flash"] = con.Flash
	return iv, d
}

func (s *Server) deviceCheck(c *gin.Context) {
	iv, d := s.candidateStep(c)
	if iv == nil {
		return
	}
	callPage(c)
	s.render(c, http.StatusOK, "join_check", "Camera and microphone", d, "")
}

func (s *Server) candidateCall(c *gin.Context) {
	iv, d := s.candidateStep(c)
	if iv == nil {
		return
	}
	if s.Rooms != nil && s.livesHere(c, iv) { // else the owning node's socket checks
		if s.Rooms.Full(iv.ID, s.Config.MaxLive) {
			s.busy(c)
			return
		}
		if r, ok := s.Rooms.Get(iv.ID); ok && r.CandidateBusy(s.browserID(c, false)) {
			s.refuseSecondDevice(c, iv)
			return
		}
	}
	callPage(c)
	s.render(c, http.StatusOK, "join_call", "Interview", d, "")
}

// refuseSecondDevice turns away a browser that opens a link in use elsewhere:
// the refusal is stored as an attempt (with its IP and browser, evidence of a
// second person or device) and audited, and the browser is told what to do.
func (s *Server) refuseSecondDevice(c *gin.Context, iv *models.Interview) {
	s.recordRefusal(iv, room.Attempt{BrowserID: s.browserID(c, false), IP: c.ClientIP(),
		UserAgent: truncate(c.Request.UserAgent(), 400), At: s.Now()})
	s.render(c, http.StatusConflict, "message", "Link in use", message{Heading: "This link is already in use",
		Text: "Your interview is open in another browser or on another device. Close it there first, then reload this page."}, "")
}

// recordRefusal stores a refused join as an attempt and audits it. A failure
// is logged: the refusal itself stands.
func (s *Server) recordRefusal(iv *models.Interview, a room.Attempt) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.RefusedAttempt(ctx, store.Attempt{InterviewID: iv.ID, BrowserID: a.BrowserID, IP: a.IP,
			UserAgent: a.UserAgent, StartedAt: a.At}, RefusedInUse); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{Actor: "candidate", Action: "join.refused", Target: fmt.Sprintf("interview:%d", iv.ID),
			IP: a.IP, Detail: map[string]any{"reason": "link in use in another browser"}})
	})
	if err != nil {
		s.Logger.Error("record refused join", "interview", iv.ID, "err", err)
	}
}

// RefusedInUse is the end reason of an attempt refused because the link was in use elsewhere.
const RefusedInUse = "refused: link in use in another browser"
