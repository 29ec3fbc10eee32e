package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// uploadLimit bounds the body of a reference photo upload: the photo's own
// limit (faceid.MaxPhotoBytes) plus room for the multipart envelope, so
// that a photo slightly too large still gets faceid's exact message. The
// multipart form is parsed in memory (gin's 32 MiB MaxMultipartMemory is
// above this): no part of a photo is written to a temporary file.
const uploadLimit = faceid.MaxPhotoBytes + 1<<20

// uploadRoutes are the routes whose bodies may hold a reference photo.
var uploadRoutes = map[string]bool{"/interviews/:id/reference": true, "/api/interviews/:id/reference": true}

// bodyLimit is the request body limit of the route c is on.
func bodyLimit(c *gin.Context, n int64) int64 {
	if uploadRoutes[c.FullPath()] {
		return uploadLimit
	}
	return n
}

// uploadTooLarge refuses an upload whose declared length is over
// uploadLimit, without reading it.
func (s *Server) uploadTooLarge(c *gin.Context) {
	msg := fmt.Sprintf("This photo cannot be used: the file is larger than %d MB.", faceid.MaxPhotoBytes>>20)
	if wantsJSON(c) {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, wire.Error{Error: msg})
		return
	}
	s.render(c, http.StatusRequestEntityTooLarge, "message", "Photo too large", message{Heading: "Photo too large", Text: msg,
		Back: "/interviews/" + c.Param("id")}, "")
	c.Abort()
}

// referenceView is what the interview page shows of the reference photo.
type referenceView struct {
	Present       bool
	Width, Height int
	At            any // time.Time when present
	CanSee        bool
}

// referenceOf reads what the page may show of iv's reference photo (never
// its bytes: the image has its own, audited route).
func (s *Server) referenceOf(c *gin.Context, iv *models.Interview) (referenceView, error) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	p, err := s.Store.ReferencePhotoOf(ctx, iv.ID)
	if errors.Is(err, models.ErrNotFound) {
		return referenceView{}, nil
	}
	if err != nil {
		return referenceView{}, err
	}
	return referenceView{Present: true, Width: p.Width, Height: p.Height, At: p.CreatedAt, CanSee: capsOf(currentUser(c)).ViewEvidence}, nil
}

// referenceError answers a refused or failed reference photo action for
// the staff pages (back to the interview with the reason) or the API.
func (s *Server) referenceError(c *gin.Context, err error, api bool) {
	var invalid *interview.InvalidError
	var status int
	var msg string
	switch {
	case errors.As(err, &invalid):
		status, msg = http.StatusBadRequest, invalid.Message
	case errors.Is(err, interview.ErrNoFaceModel):
		status, msg = http.StatusServiceUnavailable, "Face comparison is not set up on this server (the face model is missing), so no reference photo can be attached."
	case errors.Is(err, models.ErrConflict):
		status, msg = http.StatusConflict, "The reference photo cannot be changed while the interview is live."
	case errors.Is(err, interview.ErrNoReference):
		status, msg = http.StatusNotFound, "There is no reference photo to remove."
	default:
		s.interviewError(c, "reference photo", err) // 404 out of scope, 403 role, 500
		return
	}
	if api {
		c.AbortWithStatusJSON(status, wire.Error{Error: msg})
		return
	}
	if iv := s.interviewFor(c, interview.View); iv != nil {
		s.showInterview(c, iv, status, msg)
	}
}

// attachReference takes the recruiter's upload (multipart field "photo").
func (s *Server) attachReference(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	fh, err := c.FormFile("photo")
	if err != nil {
		msg := "Choose a JPEG or PNG photo to upload."
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			msg = fmt.Sprintf("This photo cannot be used: the file is larger than %d MB.", faceid.MaxPhotoBytes>>20)
		}
		s.referenceError(c, &interview.InvalidError{Message: msg}, false)
		return
	}
	data, err := readUpload(fh)
	if err != nil {
		s.referenceError(c, &interview.InvalidError{Message: "The upload could not be read. Try again."}, false)
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	p, err := s.interviews.AttachReference(ctx, s.actor(c), id, data)
	if err != nil {
		s.referenceError(c, err, false)
		return
	}
	s.flash(c, fmt.Sprintf("Reference photo attached (%d×%d, a face was found). It is compared with the face on camera at the end of the interview.", p.Width, p.Height))
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d#reference", id))
}

// readUpload reads an uploaded multipart file (held in memory).
func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, uploadLimit))
}

func (s *Server) removeReference(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ctx, cancel := s.ctx(c)
	defer cancel()
	err := s.interviews.RemoveReference(ctx, s.actor(c), id)
	if errors.Is(err, interview.ErrNoReference) {
		s.flash(c, "There is no reference photo to remove.")
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d#reference", id))
		return
	}
	if err != nil {
		s.referenceError(c, err, false)
		return
	}
	s.flash(c, "Reference photo removed.")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/interviews/%d#reference", id))
}

// referenceImage serves the reference photo to those who may see evidence;
// every view is audited and nothing is cached.
func (s *Server) referenceImage(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, http.StatusNotFound, "Not found", "There is no such interview.")
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	p, err := s.interviews.Reference(ctx, s.actor(c), id)
	if errors.Is(err, interview.ErrNoReference) {
		s.fail(c, http.StatusNotFound, "Not found", "This interview has no reference photo, or it was deleted after the retention period.")
		return
	}
	if err != nil {
		s.interviewError(c, "reference photo", err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "image/jpeg", p.JPEG)
}

// apiPutReference attaches or replaces the reference photo: the body is
// the JPEG or PNG file itself.
func (s *Server) apiPutReference(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	data, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, wire.Error{Error: fmt.Sprintf("the photo is larger than %d MB", faceid.MaxPhotoBytes>>20)})
		return
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, wire.Error{Error: "the body could not be read"})
		return
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	p, err := s.interviews.AttachReference(ctx, s.actor(c), id, data)
	if err != nil {
		s.referenceError(c, err, true)
		return
	}
	c.JSON(http.StatusOK, referenceWire(p))
}

func (s *Server) apiDeleteReference(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.interviews.RemoveReference(ctx, s.actor(c), id); err != nil {
		s.referenceError(c, err, true)
		return
	}
	c.Status(http.StatusNoContent)
}

func referenceWire(p *store.ReferencePhoto) *wire.ReferencePhoto {
	return &wire.ReferencePhoto{Width: p.Width, Height: p.Height, Model: p.Model, AttachedAt: p.CreatedAt}
}
