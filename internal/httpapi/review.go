package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/models"
)

// reviewQueue lists finished sessions, riskiest and flagged first.
func (s *Server) reviewQueue(c *gin.Context) {
	f := store.QueueFilter{Decision: c.Query("decision"), Reviewed: c.Query("reviewed"), Sort: c.Query("sort")}
	switch f.Decision {
	case "", "verified", "review", "failed":
	default:
		f.Decision = ""
	}
	switch f.Reviewed {
	case "", "open", "done":
	default:
		f.Reviewed = ""
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	items, err := s.Store.ReviewQueue(ctx, f)
	if err != nil {
		s.internalError(c, "review queue", err)
		return
	}
	s.render(c, http.StatusOK, "review_queue", "Review queue", gin.H{"Items": items, "Filter": f}, "")
}

// ReviewData is what the session review page shows.
type ReviewData struct {
	Interview  *models.Interview
	Verdict    *store.Verdict
	Points     []verdictReason
	Session    *store.SessionResult
	Reasons    []models.Signal
	Challenges []store.ChallengeRecord
	Attempts   []store.Attempt
	Consents   []store.Consent
	Reviews    []store.Review
	Chart      any
	Env        []envFact
	Summary    Summary
	Identity   *IdentityView // who was on camera: identity reasons with their evidence
}

type envFact struct{ Name, Value string }

// verdictReason is one reason of a stored verdict.
type verdictReason struct {
	Kind   string  `json:"kind"`
	Text   string  `json:"text"`
	Points float64 `json:"points"`
}

func (s *Server) reviewSession(c *gin.Context) {
	iv := s.interviewFor(c, interview.Review)
	if iv == nil {
		return
	}
	d, err := s.reviewData(c, iv)
	if errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "No session", "This interview has no finished session to review yet.")
		return
	}
	if err != nil {
		s.internalError(c, "review data", err)
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	// Opening this page shows biometric evidence: it is audited.
	if err := s.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "session.view",
		Target: fmt.Sprintf("interview:%d", iv.ID), IP: c.ClientIP()}); err != nil {
		s.internalError(c, "audit session view", err)
		return
	}
	s.render(c, http.StatusOK, "review", "Review: "+iv.CandidateName, d, "")
}

func (s *Server) reviewData(c *gin.Context, iv *models.Interview) (*ReviewData, error) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	sess, err := s.Store.Session(ctx, iv.ID)
	if err != nil {
		return nil, err
	}
	d := &ReviewData{Interview: iv, Session: sess}
	if d.Reasons, err = s.Store.Signals(ctx, iv.ID); err != nil {
		return nil, err
	}
	if v, err := s.Store.LatestVerdict(ctx, iv.ID); err == nil {
		d.Verdict = v
		_ = json.Unmarshal(v.Reasons, &d.Points)
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	if d.Identity, err = s.identityView(c, iv, sess, d.Reasons); err != nil {
		return nil, err
	}
	marked, _, err := s.markedPairs(ctx, iv.ID)
	if err != nil {
		return nil, err
	}
	d.Summary = plainSummary(countingSignals(d.Reasons, marked), d.Points) // identity sentences name no interview
	d.Reasons = s.redactSignals(c, d.Reasons)
	visible := s.visibility(c, interview.View)
	for i := range d.Points {
		if d.Points[i].Kind == kindIdentityReuse {
			d.Points[i].Text = redactReuse(d.Points[i].Text, visible)
		}
	}
	sort.SliceStable(d.Reasons, func(i, j int) bool {
		return d.Reasons[i].Score*d.Reasons[i].Confidence > d.Reasons[j].Score*d.Reasons[j].Confidence
	})
	if d.Challenges, err = s.Store.Challenges(ctx, iv.ID); err != nil {
		return nil, err
	}
	if d.Attempts, err = s.Store.Attempts(ctx, iv.ID); err != nil {
		return nil, err
	}
	if d.Consents, err = s.Store.Consents(ctx, iv.ID); err != nil {
		return nil, err
	}
	if d.Reviews, err = s.Store.Reviews(ctx, iv.ID); err != nil {
		return nil, err
	}
	// Timeline.
	lanes := []ChartLane{
		{Label: "Face present", Unit: "", Min: 0, Max: 1, Step: true},
		{Label: "Head yaw", Unit: "°", Min: -60, Max: 60},
		{Label: "Eye aspect ratio", Unit: "", Min: 0, Max: 0.45},
		{Label: "Mouth opening", Unit: "", Min: 0, Max: 0.8},
		{Label: "Audio level", Unit: "dBFS", Min: -80, Max: 0},
		{Label: "Round-trip time", Unit: "ms"},
	}
	for i, kind := range []string{"face_presence", "yaw", "ear", "mouth", "audio_level", "rtt"} {
		se, err := s.Store.SeriesOf(ctx, iv.ID, kind)
		if errors.Is(err, models.ErrNotFound) {
			continue // purged after the retention period, or never measured
		}
		if err != nil {
			return nil, err
		}
		var pts []struct {
			T int64   `json:"t"`
			V float64 `json:"v"`
		}
		if err := json.Unmarshal(se.Points, &pts); err != nil {
			return nil, fmt.Errorf("series %s: %w", kind, err)
		}
		for _, p := range pts {
			lanes[i].Points = append(lanes[i].Points, [2]float64{float64(p.T), p.V})
		}
	}
	var marks []ChartMark
	for _, ch := range d.Challenges {
		marks = append(marks, ChartMark{AtMs: float64(ch.IssuedAt.Sub(sess.StartedAt).Milliseconds()),
			Label: ch.Kind + ": " + ch.Outcome + " " + ch.Reason, Class: ch.Outcome})
	}
	d.Chart = timelineSVG(lanes, marks, float64(sess.EndedAt.Sub(sess.StartedAt).Milliseconds()))
	// Network and device facts from the candidate's connections.
	for i, a := range d.Attempts {
		p := fmt.Sprintf("Connection %d: ", i+1)
		d.Env = append(d.Env, envFact{p + "IP", a.IP}, envFact{p + "browser", a.UserAgent})
		if a.Report == nil || a.Report.Environment == nil {
			continue
		}
		e := a.Report.Environment
		for _, f := range []struct {
			k string
			v any
		}{{"tz", e.TimeZone}, {"languages", e.Languages}, {"webdriver", e.WebDriver}, {"platform", e.Platform},
			{"screen_w", e.ScreenW}, {"screen_h", e.ScreenH}, {"devices", e.Devices}, {"video", e.Video}, {"audio", e.Audio}} {
			d.Env = append(d.Env, envFact{p + f.k, envValue(f.k, f.v)})
		}
	}
	return d, nil
}

var reviewDecisions = map[string]string{"approve": "approved", "reject": "rejected", "escalate": "escalated"}

func (s *Server) reviewDecide(c *gin.Context) {
	iv := s.interviewFor(c, interview.Review)
	if iv == nil {
		return
	}
	decision := c.PostForm("decision")
	notes := strings.TrimSpace(c.PostForm("notes"))
	if _, ok := reviewDecisions[decision]; !ok || len(notes) > 4000 {
		s.fail(c, http.StatusBadRequest, "Invalid decision", "Choose approve, reject or escalate; notes may have at most 4000 characters.")
		return
	}
	u := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	if _, err := s.Store.Session(ctx, iv.ID); errors.Is(err, models.ErrNotFound) {
		s.fail(c, http.StatusConflict, "No session", "This interview has no finished session to decide on.")
		return
	}
	rv := &store.Review{InterviewID: iv.ID, ReviewerID: &u.ID, Reviewer: u.Email, Decision: decision, Notes: notes, At: s.Now()}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.AddReview(ctx, rv); err != nil {
			return err
		}
		if _, _, err := webhook.Publish(ctx, tx, webhook.EventReviewDecided, iv.ID, webhook.ReviewDecided{InterviewID: iv.ID,
			Decision: decision, Reviewer: u.Email, DecidedAt: rv.At, URL: fmt.Sprintf("%s/review/%d", s.Config.BaseURL, iv.ID)}, rv.At); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: "review." + decision,
			Target: fmt.Sprintf("interview:%d", iv.ID), Detail: map[string]any{"notes": notes}, IP: c.ClientIP()})
	})
	if err != nil {
		s.internalError(c, "save review", err)
		return
	}
	s.flash(c, "Decision saved: "+reviewDecisions[decision]+".")
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/review/%d", iv.ID))
}

// envValue writes a browser-reported fact for people: device lists as labels
// with their kind, the camera track as label and format, other values as
// they came.
func envValue(k string, v any) string {
	kinds := map[string]string{"videoinput": "camera", "audioinput": "microphone", "audiooutput": "speaker"}
	switch v := v.(type) {
	case []models.Device:
		parts := make([]string, 0, len(v))
		for _, d := range v {
			label, kind := d.Label, d.Kind
			if label == "" {
				label = "(no label)"
			}
			if n := kinds[kind]; n != "" {
				kind = n
			}
			parts = append(parts, label+" ("+kind+")")
		}
		return strings.Join(parts, "; ")
	case models.TrackSettings:
		if k == "video" {
			return fmt.Sprintf("%s · %d×%d · %v fps", v.Label, v.Width, v.Height, v.FrameRate)
		}
	case []string:
		return strings.Join(v, ", ")
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}
