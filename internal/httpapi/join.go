package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/models"
)

// CandidateInterview resolves the :token of a candidate route. On failure it has
// already answered with a clear page that reveals nothing about the interview:
// 404 for unknown or tampered links, 410 for expired, revoked or ended ones.
func (s *Server) CandidateInterview(c *gin.Context) *models.Interview {
	hash, err := s.Signer.VerifyJoinToken(c.Param("token"))
	if err != nil {
		s.joinFail(c, http.StatusNotFound, "Link not valid", "This interview link is not valid. Check that you copied the whole link from your invitation e-mail.")
		return nil
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	iv, err := s.Store.InterviewByTokenHash(ctx, hash)
	if errors.Is(err, models.ErrNotFound) {
		s.joinFail(c, http.StatusNotFound, "Link not valid", "This interview link is not valid. It may have been replaced by a newer one: check your latest invitation e-mail.")
		return nil
	}
	if err != nil {
		s.internalError(c, "join lookup", err)
		return nil
	}
	switch iv.EffectiveStatus(s.Now()) {
	case models.StatusRevoked:
		s.joinFail(c, http.StatusGone, "Link withdrawn", "This interview link was withdrawn by the organiser. Contact them if you think this is a mistake.")
		return nil
	case models.StatusExpired:
		s.joinFail(c, http.StatusGone, "Link expired", "This interview link has expired. Ask the organiser for a new one.")
		return nil
	case models.StatusCompleted, models.StatusFlagged, models.StatusInterrupted:
		if iv.Status != models.StatusInterrupted || s.Now().After(iv.ExpiresAt) {
			s.joinFail(c, http.StatusGone, "Interview ended", "This interview has ended. Thank you for your time.")
			return nil
		}
	}
	if !s.Now().Before(iv.ExpiresAt) {
		s.joinFail(c, http.StatusGone, "Link expired", "This interview link has expired. Ask the organiser for a new one.")
		return nil
	}
	return iv
}

func (s *Server) joinFail(c *gin.Context, status int, heading, text string) {
	if wantsJSON(c) {
		c.AbortWithStatusJSON(status, gin.H{"error": text})
		return
	}
	s.render(c, status, "message", heading, message{Heading: heading, Text: text}, "")
	c.Abort()
}

// JoinData is what the candidate landing page shows.
type JoinData struct {
	Name      string
	Token     string
	Interview *models.Interview
	Status    models.InterviewStatus
	Extra     map[string]any
}

func (s *Server) joinPage(c *gin.Context) {
	iv := s.CandidateInterview(c)
	if iv == nil {
		return
	}
	d := s.joinData(c, iv)
	con, err := s.latestConsent(c, iv)
	if err != nil {
		s.internalError(c, "consent lookup", err)
		return
	}
	if con != nil {
		d.Extra["Flash"] = con.Flash
		d.Extra["Consented"] = con.Decision == "given" && consentCovers(con.Notice, d.Extra["Reference"] == true)
		d.Extra["NoticeChanged"] = con.Decision == "given" && d.Extra["Consented"] == false
	}
	s.render(c, http.StatusOK, "join", "Your interview", d, "")
}
