package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/retention"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// webhooksPage lists the webhooks with their recent deliveries.
func (s *Server) webhooksPage(c *gin.Context) { s.renderWebhooks(c, http.StatusOK, "", "") }

type webhookRow struct {
	*store.Webhook
	Deliveries []*store.WebhookDelivery
}

func (s *Server) renderWebhooks(c *gin.Context, status int, msg, secret string) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	hooks, err := s.Store.Webhooks(ctx)
	if err != nil {
		s.internalError(c, "list webhooks", err)
		return
	}
	rows := make([]webhookRow, 0, len(hooks))
	for _, h := range hooks {
		ds, err := s.Store.WebhookDeliveries(ctx, h.ID, 20)
		if err != nil {
			s.internalError(c, "list deliveries", err)
			return
		}
		rows = append(rows, webhookRow{Webhook: h, Deliveries: ds})
	}
	s.render(c, status, "webhooks", "Webhooks", gin.H{"Hooks": rows, "Events": webhook.Events, "Secret": secret}, msg)
}

func (s *Server) createWebhook(c *gin.Context) {
	url := strings.TrimSpace(c.PostForm("url"))
	if err := webhook.ValidateURL(url, webhook.URLPolicy{AllowHTTP: s.Config.WebhookPrivate, AllowPrivate: s.Config.WebhookPrivate}); err != nil {
		reason := "it is not a valid webhook URL"
		var ue *webhook.URLError
		if errors.As(err, &ue) {
			reason = ue.Reason
		}
		s.renderWebhooks(c, http.StatusBadRequest, "This URL cannot be used: "+reason+".", "")
		return
	}
	events := c.PostFormArray("events")
	if len(events) == 0 {
		events = []string{"*"}
	}
	secret := webhook.NewSecret()
	u := currentUser(c)
	h := &store.Webhook{URL: url, Secret: secret, Events: events, Description: truncate(strings.TrimSpace(c.PostForm("description")), 200),
		Active: true, CreatedBy: &u.ID}
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateWebhook(ctx, h); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "webhook.create",
			Target: fmt.Sprintf("webhook:%d", h.ID), Detail: map[string]any{"url": url, "events": events}, IP: c.ClientIP()})
	})
	if err != nil {
		s.internalError(c, "create webhook", err)
		return
	}
	// The secret is shown once, now.
	s.renderWebhooks(c, http.StatusOK, "", secret)
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("wid"), 10, 64)
	if err != nil {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such webhook.")
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "webhook.delete",
			Target: fmt.Sprintf("webhook:%d", id), IP: c.ClientIP()})
	})
	if errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such webhook.")
		return
	}
	if err != nil {
		s.internalError(c, "delete webhook", err)
		return
	}
	s.flash(c, "Webhook deleted.")
	c.Redirect(http.StatusSeeOther, "/admin/webhooks")
}

// exportCandidate streams everything stored about the interview's candidate as a zip.
func (s *Server) exportCandidate(c *gin.Context) {
	iv := s.interviewFor(c, interview.Administer)
	if iv == nil {
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	var buf bytes.Buffer
	if err := retention.Export(ctx, s.Store, iv.ID, retention.Actor{ID: &u.ID, Email: u.Email, IP: c.ClientIP()}, s.Now(), &buf); err != nil {
		s.internalError(c, "export", err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="livecheck-interview-%d.zip"`, iv.ID))
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// eraseCandidate deletes the candidate's data, keeping the consent record and the audit trail.
func (s *Server) eraseCandidate(c *gin.Context) {
	iv := s.interviewFor(c, interview.Administer)
	if iv == nil {
		return
	}
	if c.PostForm("confirm") != "erase" {
		s.fail(c, http.StatusBadRequest, "Not confirmed", "Type erase in the confirmation box to delete this candidate's data.")
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	_, err := retention.Erase(ctx, s.Store, iv.ID, retention.Actor{ID: &u.ID, Email: u.Email, IP: c.ClientIP()}, s.Now())
	if errors.Is(err, models.ErrConflict) {
		s.fail(c, http.StatusConflict, "Interview live", "A live interview cannot be erased. End it first.")
		return
	}
	if err != nil {
		s.internalError(c, "erase", err)
		return
	}
	s.flash(c, "The candidate's data was erased. The consent record and the audit trail remain.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d", iv.ID))
}
