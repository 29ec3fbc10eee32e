package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/retention"
	"github.com/livecheck/livecheck/internal/store"
)

// auditActions say what each audited action means, in words.
var auditActions = map[string]string{
	"login": "signed in", "login.failed": "failed to sign in", "logout": "signed out",
	"interview.create": "scheduled the interview", "interview.relink": "issued a new join link", "interview.revoke": "revoked the join link",
	"invite.sent": "e-mailed the invite", "call.host": "opened the call", "call.observe": "observed the call silently",
	"interview.end": "ended the interview", "session.end": "stored the finished session", "session.view": "opened the session's review",
	"evidence.view": "viewed an evidence image", "consent.given": "agreed to the analysis", "consent.declined": "declined the analysis",
	"interview.reopened": "reopened the interview by agreeing after declining", "join.refused": "was refused: the link was in use in another browser",
	"review.approve": "approved the session", "review.reject": "rejected the session", "review.escalate": "escalated the session",
	"user.create": "added a user", "user.update": "changed a user's role or access", "webhook.create": "added a webhook",
	"webhook.delete": "deleted a webhook", retention.ActionExport: "exported the candidate's data",
	retention.ActionErase: "erased the candidate's data", retention.ActionPurge: "deleted biometric data past the retention period",
	"reference.attach": "attached the candidate's reference photo", "reference.replace": "replaced the candidate's reference photo",
	"reference.remove": "removed the candidate's reference photo", "reference.view": "viewed the candidate's reference photo",
	"identity.mark":   "marked two interviews as the same person legitimately (the face match stops counting)",
	"identity.unmark": "removed a same-person mark (the face match counts again)",
}

// auditRow is one audit entry as the page shows it.
type auditRow struct {
	store.AuditEntry
	What       string // the action in words
	TargetName string // "Mae Jemison (interview 4)", a user's e-mail, or the raw target
	TargetURL  string
}

// auditForm is the filter as the admin typed it.
type auditForm struct {
	Actor, Action, Interview, From, To string
}

func (s *Server) auditPage(c *gin.Context) {
	form := auditForm{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		Interview: strings.TrimSpace(c.Query("interview")), From: c.Query("from"), To: c.Query("to")}
	f := store.AuditFilter{Actor: truncate(form.Actor, 200), Action: truncate(form.Action, 64), Target: c.Query("target")}
	if id, err := strconv.ParseInt(form.Interview, 10, 64); err == nil && id > 0 {
		f.Target = "interview:" + form.Interview
	}
	var msg string
	if d, err := time.Parse("2006-01-02", form.From); err == nil {
		f.From = d
	} else if form.From != "" {
		msg = "Enter dates as YYYY-MM-DD."
	}
	if d, err := time.Parse("2006-01-02", form.To); err == nil {
		f.To = d.AddDate(0, 0, 1) // the whole day
	} else if form.To != "" {
		msg = "Enter dates as YYYY-MM-DD."
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	entries, err := s.Store.AuditSearch(ctx, f)
	if err != nil {
		s.internalError(c, "audit log", err)
		return
	}
	var ids []int64
	for _, e := range entries {
		if id, ok := strings.CutPrefix(e.Target, "interview:"); ok {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
	}
	names, err := s.Store.InterviewNames(ctx, ids)
	if err != nil {
		s.internalError(c, "audit names", err)
		return
	}
	users, err := s.Store.Users(ctx)
	if err != nil {
		s.internalError(c, "audit users", err)
		return
	}
	emails := map[string]string{}
	for _, u := range users {
		emails["user:"+strconv.FormatInt(u.ID, 10)] = u.Email
	}
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		r := auditRow{AuditEntry: e, What: auditActions[e.Action], TargetName: e.Target}
		if id, ok := strings.CutPrefix(e.Target, "interview:"); ok {
			n, _ := strconv.ParseInt(id, 10, 64)
			if name, ok := names[n]; ok {
				r.TargetName, r.TargetURL = name+" (interview "+id+")", "/interviews/"+id
			}
		} else if email, ok := emails[e.Target]; ok {
			r.TargetName = email
		}
		rows[i] = r
	}
	s.render(c, http.StatusOK, "audit", "Audit log", gin.H{"Entries": rows, "Form": form, "Actions": auditActionList()}, msg)
}

// auditActionList is the filter's choice of actions, by their prefix.
func auditActionList() []string {
	return []string{"interview.", "call.", "session.", "consent.", "join.", "review.", "evidence.", "login", "user.", "webhook.", "candidate.", "retention.", "reference.", "identity."}
}
