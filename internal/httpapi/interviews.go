package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	stdmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/mail"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

const linkCookie = "lc_link"

type interviewForm struct {
	CandidateName, CandidateEmail, ClaimedCity, ClaimedCountry, ScheduledAt, Notes string
}

type row struct {
	*models.Interview
	Status models.InterviewStatus
}

func (s *Server) dashboard(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	ivs, err := s.Store.Interviews(ctx, store.InterviewFilter{Search: q})
	if err != nil {
		s.internalError(c, "list interviews", err)
		return
	}
	now := s.Now()
	rows := make([]row, len(ivs))
	for i, iv := range ivs {
		rows[i] = row{Interview: iv, Status: iv.EffectiveStatus(now)}
	}
	s.render(c, http.StatusOK, "dashboard", "Interviews", gin.H{"Interviews": rows, "Query": q}, "")
}

func (s *Server) newInterviewPage(c *gin.Context) {
	f := interviewForm{ScheduledAt: s.Now().UTC().Add(time.Hour).Truncate(time.Hour).Format("2006-01-02T15:04")}
	s.render(c, http.StatusOK, "interview_new", "New interview", gin.H{"Form": f, "DefaultTime": true}, "")
}

// parseInterviewForm validates the form; msg is shown to the recruiter when it is wrong.
func parseInterviewForm(c *gin.Context) (f interviewForm, iv *models.Interview, msg string) {
	f = interviewForm{
		CandidateName:  strings.TrimSpace(c.PostForm("candidate_name")),
		CandidateEmail: strings.TrimSpace(c.PostForm("candidate_email")),
		ClaimedCity:    strings.TrimSpace(c.PostForm("claimed_city")),
		ClaimedCountry: strings.TrimSpace(c.PostForm("claimed_country")),
		ScheduledAt:    strings.TrimSpace(c.PostForm("scheduled_at")),
		Notes:          strings.TrimSpace(c.PostForm("notes")),
	}
	switch {
	case f.CandidateName == "" || len(f.CandidateName) > 200:
		return f, nil, "Enter the candidate's name (at most 200 characters)."
	case len(f.ClaimedCity) > 120 || len(f.ClaimedCountry) > 120 || len(f.Notes) > 4000:
		return f, nil, "City and country may have at most 120 characters, notes 4000."
	}
	if a, err := stdmail.ParseAddress(f.CandidateEmail); err != nil || a.Address != f.CandidateEmail || len(f.CandidateEmail) > 320 {
		return f, nil, "Enter a valid e-mail address for the candidate."
	}
	at, err := time.Parse("2006-01-02T15:04", f.ScheduledAt)
	if utc := strings.TrimSpace(c.PostForm("scheduled_utc")); utc != "" {
		at, err = time.Parse(time.RFC3339, utc) // the browser converted the recruiter's local time
	}
	if err != nil {
		if at, err = time.Parse(time.RFC3339, f.ScheduledAt); err != nil {
			return f, nil, "Enter the scheduled time as date and time (UTC)."
		}
	}
	return f, &models.Interview{
		CandidateName: f.CandidateName, CandidateEmail: f.CandidateEmail, ClaimedCity: f.ClaimedCity,
		ClaimedCountry: f.ClaimedCountry, ScheduledAt: at.UTC(), Notes: f.Notes,
	}, ""
}

func (s *Server) createInterview(c *gin.Context) {
	f, iv, msg := parseInterviewForm(c)
	if msg != "" {
		s.render(c, http.StatusBadRequest, "interview_new", "New interview", gin.H{"Form": f}, msg)
		return
	}
	u := currentUser(c)
	token, hash, err := s.Signer.NewJoinToken()
	if err != nil {
		s.internalError(c, "join token", err)
		return
	}
	iv.TokenHash, iv.ExpiresAt, iv.CreatedBy = hash, iv.ScheduledAt.Add(s.Config.LinkTTL), u.ID
	ctx, cancel := s.ctx(c)
	defer cancel()
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInterview(ctx, iv); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "interview.create",
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
	})
	if err != nil {
		s.internalError(c, "create interview", err)
		return
	}
	s.afterNewLink(c, iv, token, "Interview created.")
}

// afterNewLink e-mails the invite when SMTP is configured, hands the link to the
// next page view through a short-lived cookie and redirects to the interview.
func (s *Server) afterNewLink(c *gin.Context, iv *models.Interview, token, done string) {
	link := s.JoinURL(token)
	if s.Mailer.Enabled() {
		if err := s.sendInvite(c, iv, link); err != nil {
			s.Logger.Warn("invite e-mail failed", "interview", iv.ID, "err", err)
			done += " The invite e-mail could not be sent: copy the link below and send it yourself."
		} else {
			done += " The invite was e-mailed to the candidate."
		}
	}
	s.setCookie(c, linkCookie, fmt.Sprintf("%d.%s", iv.ID, token), 600, fmt.Sprintf("/interviews/%d", iv.ID), http.SameSiteStrictMode)
	s.flash(c, done)
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", iv.ID))
}

// JoinURL is the candidate's link for token.
func (s *Server) JoinURL(token string) string { return s.Config.BaseURL + "/join/" + token }

func (s *Server) sendInvite(c *gin.Context, iv *models.Interview, link string) error {
	body := fmt.Sprintf(`Hello %s,

you are invited to a video interview on %s UTC.

Join from a computer with a camera and a microphone, in Chrome, Edge or Firefox, by opening this personal link:

%s

The link works until %s UTC. Please do not share it: it can be used by one browser at a time.

Before the call starts you will be told what is recorded and analysed, and asked for your consent.
`, iv.CandidateName, iv.ScheduledAt.UTC().Format("Monday 2 January 2006 at 15:04"), link, iv.ExpiresAt.UTC().Format("2006-01-02 15:04"))
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.Mailer.Send(ctx, mail.Message{
		To:      stdmail.Address{Name: iv.CandidateName, Address: iv.CandidateEmail},
		Subject: "Your video interview",
		Body:    body,
	})
	if err != nil {
		return err
	}
	now := s.Now()
	if err := s.Store.MarkInviteSent(ctx, iv.ID, now); err != nil {
		return err
	}
	u := currentUser(c)
	return s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "invite.sent",
		Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
}

// interviewByParam loads the interview of the :id parameter, or answers 404.
func (s *Server) interviewByParam(c *gin.Context) *models.Interview {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such interview.")
		return nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	iv, err := s.Store.Interview(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such interview.")
		return nil
	}
	if err != nil {
		s.internalError(c, "fetch interview", err)
		return nil
	}
	return iv
}

// InterviewPageData is what the interview page shows; Extra holds the live
// room's part (attempts, session, signals, challenges, verdict, reviews).
type InterviewPageData struct {
	Interview   *models.Interview
	Status      models.InterviewStatus
	Link        string
	Manage      bool
	MailEnabled bool
	InviteSent  string
	CanRelink   bool
	CanRevoke   bool
	Extra       map[string]any
}

func (s *Server) interviewPage(c *gin.Context) {
	iv := s.interviewByParam(c)
	if iv == nil {
		return
	}
	u := currentUser(c)
	st := iv.EffectiveStatus(s.Now())
	d := InterviewPageData{
		Interview: iv, Status: st, Manage: auth.Can(u.Role, auth.PermManageInterviews),
		MailEnabled: s.Mailer.Enabled(),
		CanRelink:   iv.Status == models.StatusScheduled || iv.Status == models.StatusLive,
		CanRevoke:   iv.Status == models.StatusScheduled,
		Extra:       map[string]any{},
	}
	if iv.InviteSentAt != nil {
		d.InviteSent = iv.InviteSentAt.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	if v, err := c.Cookie(linkCookie); err == nil {
		if id, tok, ok := strings.Cut(v, "."); ok && id == strconv.FormatInt(iv.ID, 10) && d.Manage {
			if _, err := s.Signer.VerifyJoinToken(tok); err == nil {
				d.Link = s.JoinURL(tok)
			}
		}
		s.setCookie(c, linkCookie, "", -1, fmt.Sprintf("/interviews/%d", iv.ID), http.SameSiteStrictMode)
	}
	if err := s.interviewRoomExtras(c, iv, d.Extra); err != nil {
		s.internalError(c, "interview extras", err)
		return
	}
	s.render(c, http.StatusOK, "interview", iv.CandidateName, d, "")
}

func (s *Server) relinkInterview(c *gin.Context) {
	iv := s.interviewByParam(c)
	if iv == nil {
		return
	}
	token, hash, err := s.Signer.NewJoinToken()
	if err != nil {
		s.internalError(c, "join token", err)
		return
	}
	u := currentUser(c)
	expires := iv.ScheduledAt.Add(s.Config.LinkTTL)
	if now := s.Now(); expires.Before(now.Add(s.Config.LinkTTL)) {
		expires = now.Add(s.Config.LinkTTL) // a new link for a past date is valid LinkTTL from now
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ReplaceInterviewToken(ctx, iv.ID, hash, expires); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "interview.relink",
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
	})
	if errors.Is(err, models.ErrConflict) {
		s.flash(c, "This interview has ended or was revoked: no new link can be issued.")
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", iv.ID))
		return
	}
	if err != nil {
		s.internalError(c, "relink interview", err)
		return
	}
	iv.ExpiresAt = expires
	s.afterNewLink(c, iv, token, "A new link was issued; the previous one no longer works.")
}

func (s *Server) revokeInterview(c *gin.Context) {
	iv := s.interviewByParam(c)
	if iv == nil {
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeInterview(ctx, iv.ID, s.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "interview.revoke",
			Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()})
	})
	switch {
	case errors.Is(err, models.ErrConflict):
		s.flash(c, "Only a scheduled interview can be revoked.")
	case err != nil:
		s.internalError(c, "revoke interview", err)
		return
	default:
		s.flash(c, "The join link was revoked.")
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", iv.ID))
}
