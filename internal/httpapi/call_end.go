package httpapi

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// auditEndRequest records in the audit log that the signed-in recruiter ended
// the interview, when raw is their "end" message.
func (s *Server) auditEndRequest(c *gin.Context, iv *models.Interview, raw []byte) {
	if m, err := signal.Parse(raw); err != nil || m.T != signal.TypeEnd {
		return
	}
	u := currentUser(c)
	if u == nil {
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "interview.end",
		Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()}); err != nil {
		s.Logger.Error("audit interview end", "interview", iv.ID, "err", err)
	}
}
