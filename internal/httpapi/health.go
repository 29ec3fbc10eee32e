package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// healthz answers while the process runs.
func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz answers 200 only while the database answers and the node is not
// draining (stopping: its pages still work, but new ones should go elsewhere).
func (s *Server) readyz(c *gin.Context) {
	if s.Cluster != nil && s.Cluster.Draining() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "draining"})
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Logger.Warn("readiness: database unreachable", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
