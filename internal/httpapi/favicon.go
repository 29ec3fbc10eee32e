package httpapi

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/web"
)

// favicon answers browsers that ask for /favicon.ico without reading the
// page's <link rel="icon"> (pages link /static/favicon.svg): the same SVG,
// so that no request for an icon ends in a 404.
func (s *Server) favicon(c *gin.Context) {
	b, err := fs.ReadFile(web.Static(), "favicon.svg")
	if err != nil {
		c.Status(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/svg+xml", b)
}
