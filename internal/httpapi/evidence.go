package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// evidenceImage serves one evidence JPEG. Every view of biometric evidence is audited.
func (s *Server) evidenceImage(c *gin.Context) {
	iv := s.interviewFor(c, interview.Evidence)
	if iv == nil {
		return
	}
	eid, err := strconv.ParseInt(c.Param("eid"), 10, 64)
	if err != nil {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such evidence.")
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	ev, err := s.Store.EvidenceByID(ctx, iv.ID, eid)
	if errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "Not found", "This evidence does not exist or was deleted after the retention period.")
		return
	}
	if err != nil {
		s.internalError(c, "fetch evidence", err)
		return
	}
	u := currentUser(c)
	if err := s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "evidence.view",
		Target: fmt.Sprintf("interview:%d", iv.ID), Detail: map[string]any{"evidence": eid}, IP: c.ClientIP()}); err != nil {
		s.internalError(c, "audit evidence view", err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "image/jpeg", ev.JPEG)
}
