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
	"github.com/livecheck/livecheck/internal/interview"
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
	ivs, err := s.interviews.List(ctx, s.actor(c), q)
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

// parseInterviewForm reads the form; msg is shown to the recruiter when the
// time cannot be read (the service checks the rest).
func parseInterviewForm(c *gin.Context) (f interviewForm, in interview.Input, msg string) {
	f = interviewForm{
		CandidateName:  strings.TrimSpace(c.PostForm("candidate_name")),
		CandidateEmail: strings.TrimSpace(c.PostForm("candidate_email")),
		ClaimedCity:    strings.TrimSpace(c.PostForm("claimed_city")),
		ClaimedCountry: strings.TrimSpace(c.PostForm("claimed_country")),
		ScheduledAt:    strings.TrimSpace(c.PostForm("scheduled_at")),
		Notes:          strings.TrimSpace(c.PostForm("notes")),
	}
	in = interview.Input{CandidateName: f.CandidateName, CandidateEmail: f.CandidateEmail, ClaimedCity: f.ClaimedCity,
		ClaimedCountry: f.ClaimedCountry, Notes: f.Notes}
	at, err := time.Parse("2006-01-02T15:04", f.ScheduledAt)
	if utc := strings.TrimSpace(c.PostForm("scheduled_utc")); utc != "" {
		at, err = time.Parse(time.RFC3339, utc) // the browser converted the recruiter's local time
	}
	if err != nil {
		if at, err = time.Parse(time.RFC3339, f.ScheduledAt); err != nil {
			return f, in, "Enter the scheduled time as date and time (UTC)."
		}
	}
	in.ScheduledAt = at
	return f, in, ""
}

func (s *Server) createInterview(c *gin.Context) {
	f, in, msg := parseInterviewForm(c)
	if msg != "" {
		s.render(c, http.StatusBadRequest, "interview_new", "New interview", gin.H{"Form": f}, msg)
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	created, err := s.interviews.Create(ctx, s.actor(c), in)
	var invalid *interview.InvalidError
	if errors.As(err, &invalid) {
		s.render(c, http.StatusBadRequest, "interview_new", "New interview", gin.H{"Form": f}, invalid.Message)
		return
	}
	if err != nil {
		s.interviewError(c, "create interview", err)
		return
	}
	s.afterNewLink(c, created.Interview, created.Token, "Interview created.")
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

// actor is who the request acts for: the signed-in member of staff, or the
// admin API token (no user).
func (s *Server) actor(c *gin.Context) interview.Actor {
	u := currentUser(c)
	if u == apiUser {
		u = nil
	}
	return interview.Actor{User: u, IP: c.ClientIP()}
}

// interviewFor loads the interview of the :id parameter if the request's actor
// may do action with it (internal/interview decides); otherwise it has
// answered 404 (no such interview, or one out of the actor's scope) or 403.
func (s *Server) interviewFor(c *gin.Context, action interview.Action) *models.Interview {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such interview.")
		return nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	iv, err := s.interviews.Get(ctx, s.actor(c), id, action)
	if err != nil {
		s.interviewError(c, "fetch interview", err)
		return nil
	}
	return iv
}

// interviewError answers for an error of the interview service: 404 for an
// interview that does not exist or is out of scope, 403 for an action the
// role does not allow, 409 for one the interview's state does not allow.
func (s *Server) interviewError(c *gin.Context, what string, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.fail(c, http.StatusNotFound, "Not found", "There is no such interview.")
	case errors.Is(err, models.ErrForbidden):
		s.fail(c, http.StatusForbidden, "Not allowed", "Your role does not allow this.")
	case errors.Is(err, models.ErrConflict):
		s.fail(c, http.StatusConflict, "Not possible now", "The interview's state does not allow this.")
	default:
		s.internalError(c, what, err)
	}
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
	Reference   referenceView // the candidate's reference photo (what the page may say of it)
	Extra       map[string]any
}

func (s *Server) interviewPage(c *gin.Context) {
	iv := s.interviewFor(c, interview.View)
	if iv == nil {
		return
	}
	s.showInterview(c, iv, http.StatusOK, "")
}

// showInterview renders the interview page with status and an error message
// (none when "").
func (s *Server) showInterview(c *gin.Context, iv *models.Interview, status int, errMsg string) {
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
	ref, err := s.referenceOf(c, iv)
	if err != nil {
		s.internalError(c, "reference photo", err)
		return
	}
	d.Reference = ref
	s.render(c, status, "interview", iv.CandidateName, d, errMsg)
}

func (s *Server) relinkInterview(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ctx, cancel := s.ctx(c)
	defer cancel()
	created, err := s.interviews.Relink(ctx, s.actor(c), id)
	if errors.Is(err, models.ErrConflict) {
		s.flash(c, "This interview has ended or was revoked: no new link can be issued.")
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", id))
		return
	}
	if err != nil {
		s.interviewError(c, "relink interview", err)
		return
	}
	s.afterNewLink(c, created.Interview, created.Token, "A new link was issued; the previous one no longer works.")
}

func (s *Server) revokeInterview(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ctx, cancel := s.ctx(c)
	defer cancel()
	switch err := s.interviews.Revoke(ctx, s.actor(c), id); {
	case errors.Is(err, models.ErrConflict):
		s.flash(c, "Only a scheduled interview can be revoked.")
	case err != nil:
		s.interviewError(c, "revoke interview", err)
		return
	default:
		s.flash(c, "The join link was revoked.")
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", id))
}
