package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/livecheck/livecheck/internal/interview"
	"github.com/livecheck/livecheck/internal/rescore"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// Identity reasons (internal/faceid through internal/verdict): kinds start
// with "identity_". Their evidence images are stored without a challenge,
// with the kinds below (internal/verdict documents them).
const (
	kindIdentityChange    = "identity_change"
	kindIdentityReuse     = "identity_reuse"
	kindIdentityReference = "identity_reference"

	evidenceChangeBefore = "identity_change_before" // the last face before change n ("identity change n: …")
	evidenceChangeAfter  = "identity_change_after"  // the first face after it
	evidenceFace         = "identity_face"          // the clearest face of the session's main identity
)

// reuseMention is how an identity_reuse reason names another interview
// (faceid.ReuseSignal): "interview 12 on 2026-11-30 (distance 0.31)".
var reuseMention = regexp.MustCompile(`interview (\d+) on (\d{4}-\d{2}-\d{2}) \(distance ([0-9.]+)\)`)

// changeNumber reads n of an identity change evidence's reason.
var changeNumber = regexp.MustCompile(`^identity change (\d+):`)

// reuseMatch is another interview an identity_reuse reason names.
type reuseMatch struct {
	ID       int64
	Date     string
	Distance string
}

// reuseMatches lists the interviews a reuse reason names.
func reuseMatches(reason string) []reuseMatch {
	var out []reuseMatch
	for _, m := range reuseMention.FindAllStringSubmatch(reason, -1) {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil {
			out = append(out, reuseMatch{ID: id, Date: m[2], Distance: m[3]})
		}
	}
	return out
}

// redactReuse replaces, in a reuse reason, every interview the viewer may
// not see by "another interview" (no number, no date).
func redactReuse(reason string, visible func(int64) bool) string {
	return reuseMention.ReplaceAllStringFunc(reason, func(m string) string {
		sub := reuseMention.FindStringSubmatch(m)
		id, _ := strconv.ParseInt(sub[1], 10, 64)
		if visible(id) {
			return m
		}
		return "another interview (distance " + sub[3] + ")"
	})
}

// visibility answers, with memory, whether the request's actor may do
// action with other interviews.
func (s *Server) visibility(c *gin.Context, action interview.Action) func(int64) bool {
	known := map[int64]bool{}
	return func(id int64) bool {
		if v, ok := known[id]; ok {
			return v
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		_, err := s.interviews.Get(ctx, s.actor(c), id, action)
		known[id] = err == nil
		return err == nil
	}
}

// redactSignals returns sigs with the reuse reasons redacted for the
// viewer (a copy: the caller's slice is not changed).
func (s *Server) redactSignals(c *gin.Context, sigs []models.Signal) []models.Signal {
	out := make([]models.Signal, len(sigs))
	copy(out, sigs)
	var visible func(int64) bool
	for i := range out {
		if out[i].Kind == kindIdentityReuse {
			if visible == nil {
				visible = s.visibility(c, interview.View)
			}
			out[i].Reason = redactReuse(out[i].Reason, visible)
		}
	}
	return out
}

// countingSignals drops the reuse reasons whose every match a reviewer
// marked as the same person legitimately: they no longer add risk.
func countingSignals(sigs []models.Signal, marked map[int64]bool) []models.Signal {
	out := make([]models.Signal, 0, len(sigs))
	for _, sg := range sigs {
		if sg.Kind == kindIdentityReuse && sg.Score >= riskScore {
			ms := reuseMatches(sg.Reason)
			open := len(ms) == 0
			for _, m := range ms {
				open = open || !marked[m.ID]
			}
			if !open {
				continue
			}
		}
		out = append(out, sg)
	}
	return out
}

// markedPairs is the set of interviews marked as the same person as id.
func (s *Server) markedPairs(ctx context.Context, id int64) (map[int64]bool, []store.IdentityMark, error) {
	marks, err := s.Store.IdentityMarks(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	set := map[int64]bool{}
	for _, m := range marks {
		set[m.OtherInterviewID] = true
	}
	return set, marks, nil
}

// identityImage is one evidence image of an identity reason.
type identityImage struct {
	URL     string // "" when the viewer may not see it
	Alt     string
	Caption string
}

// identityPair is two images side by side.
type identityPair struct {
	Title       string
	Left, Right identityImage
	Note        string
}

// reuseView is one interview a reuse reason names, as the viewer may see it.
type reuseView struct {
	ID       int64
	Visible  bool   // the viewer may see that interview: number, date and link
	Name     string // its candidate's name, when visible
	Date     string
	Distance string
	Pair     identityPair
	Marked   *markView
}

type markView struct {
	By, Note string
	At       time.Time
}

// IdentityView is the review page's "Who was on camera" section.
type IdentityView struct {
	Any       bool // any identity reason or a reference photo
	Change    *models.Signal
	Changes   []identityPair
	Reference *models.Signal
	RefPair   *identityPair // the live face and the reference photo
	HasPhoto  bool
	PhotoURL  string
	Reuse     *models.Signal
	Matches   []reuseView
	Marks     []reuseView // marked pairs no current reason names
	All       []reuseView // Matches then Marks
	Face      *identityImage
}

// clockSince is t as minutes:seconds since start.
func clockSince(t, start time.Time) string {
	s := int(t.Sub(start).Round(time.Second).Seconds())
	if s < 0 {
		s = 0
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// identityView builds the review page's identity section for iv's latest
// session sess from its signals sigs (unredacted: the caller redacts).
func (s *Server) identityView(c *gin.Context, iv *models.Interview, sess *store.SessionResult, sigs []models.Signal) (*IdentityView, error) {
	ctx, cancel := s.ctx(c)
	defer cancel()
	v := &IdentityView{}
	for i := range sigs {
		switch sg := &sigs[i]; sg.Kind {
		case kindIdentityChange:
			if v.Change == nil || sg.Score > v.Change.Score {
				v.Change = sg
			}
		case kindIdentityReference:
			v.Reference = sg
		case kindIdentityReuse:
			if v.Reuse == nil || sg.Score > v.Reuse.Score {
				v.Reuse = sg
			}
		}
	}
	canSee := capsOf(currentUser(c)).ViewEvidence
	evURL := func(ivID, eid int64) string {
		if !canSee {
			return ""
		}
		return fmt.Sprintf("/interviews/%d/evidence/%d", ivID, eid)
	}
	evs, err := s.Store.EvidenceOfKind(ctx, iv.ID, "identity_")
	if err != nil {
		return nil, err
	}
	// Change pairs, by their number; the session's clearest face.
	pairs := map[int]*identityPair{}
	var order []int
	for _, e := range evs {
		if sess != nil && e.At.Before(sess.StartedAt.Add(-time.Minute)) {
			continue // an earlier session's evidence
		}
		at := e.At.UTC().Format("15:04:05") + " UTC"
		if sess != nil {
			at = clockSince(e.At, sess.StartedAt) + " into the session"
		}
		switch e.Kind {
		case evidenceFace:
			v.Face = &identityImage{URL: evURL(iv.ID, e.ID), Alt: "The clearest face of the person on camera", Caption: "On camera at " + at}
		case evidenceChangeBefore, evidenceChangeAfter:
			n := 0
			if m := changeNumber.FindStringSubmatch(e.Reason); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			p := pairs[n]
			if p == nil {
				p = &identityPair{Title: fmt.Sprintf("Change %d", n)}
				pairs[n] = p
				order = append(order, n)
			}
			img := identityImage{URL: evURL(iv.ID, e.ID), Caption: at}
			if e.Kind == evidenceChangeBefore {
				img.Alt, img.Caption = "The last face before the change", "Before: "+at
				p.Left = img
			} else {
				img.Alt, img.Caption = "The first face after the change", "After: "+at
				p.Right = img
				p.Title = fmt.Sprintf("Change %d at %s", n, at)
			}
		}
	}
	for _, n := range order {
		v.Changes = append(v.Changes, *pairs[n])
	}
	// The reference photo beside the live face.
	if _, err := s.Store.ReferencePhotoOf(ctx, iv.ID); err == nil {
		v.HasPhoto = true
		if canSee {
			v.PhotoURL = fmt.Sprintf("/interviews/%d/reference", iv.ID)
		}
	} else if !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	if v.HasPhoto || v.Reference != nil {
		p := identityPair{Title: "Face on camera and reference photo",
			Right: identityImage{URL: v.PhotoURL, Alt: "The candidate's reference photo", Caption: "Reference photo"}}
		if v.Face != nil {
			p.Left = *v.Face
		}
		if !v.HasPhoto {
			p.Note = "The reference photo has been removed or deleted after the retention period."
		}
		v.RefPair = &p
	}
	// Reuse matches and marks.
	_, marks, err := s.markedPairs(ctx, iv.ID)
	if err != nil {
		return nil, err
	}
	visible := s.visibility(c, interview.View)
	seeEvidence := s.visibility(c, interview.Evidence)
	view := func(id int64) reuseView {
		rv := reuseView{ID: id, Visible: visible(id)}
		if rv.Visible {
			if other, err := s.Store.Interview(ctx, id); err == nil {
				rv.Name = other.CandidateName
			}
		}
		rv.Pair = identityPair{Title: "This interview and the other"}
		if v.Face != nil {
			rv.Pair.Left = *v.Face
		}
		rv.Pair.Right = identityImage{Alt: "The face in the other interview", Caption: "The other interview"}
		if rv.Visible && canSee && seeEvidence(id) {
			if oe, err := s.Store.EvidenceOfKind(ctx, id, evidenceFace); err == nil && len(oe) > 0 {
				last := oe[len(oe)-1]
				rv.Pair.Right.URL = evURL(id, last.ID)
				rv.Pair.Right.Caption = fmt.Sprintf("Interview %d (%s), %s", id, rv.Name, last.At.UTC().Format("2006-01-02 15:04 UTC"))
			}
		}
		return rv
	}
	markOf := map[int64]*markView{}
	for _, m := range marks {
		mv := &markView{Note: m.Note, At: m.CreatedAt, By: "a reviewer"}
		if m.MarkedBy != nil {
			if u, err := s.Store.UserByID(ctx, *m.MarkedBy); err == nil {
				mv.By = u.Email
			}
		}
		markOf[m.OtherInterviewID] = mv
	}
	named := map[int64]bool{}
	if v.Reuse != nil {
		for _, m := range reuseMatches(v.Reuse.Reason) {
			named[m.ID] = true
			rv := view(m.ID)
			rv.Date, rv.Distance, rv.Marked = m.Date, m.Distance, markOf[m.ID]
			v.Matches = append(v.Matches, rv)
		}
	}
	for _, m := range marks {
		if !named[m.OtherInterviewID] {
			rv := view(m.OtherInterviewID)
			rv.Marked = markOf[m.OtherInterviewID]
			v.Marks = append(v.Marks, rv)
		}
	}
	v.All = append(append([]reuseView{}, v.Matches...), v.Marks...)
	v.Any = v.Change != nil || v.Reference != nil || v.Reuse != nil || v.HasPhoto || len(v.Marks) > 0
	return v, nil
}

// identityMark marks (or, with unmark, unmarks) this interview and another
// one named by its reuse reason as the same person legitimately: the pair
// stops counting as face reuse. Both interviews are re-scored in the
// background (verdict.Rescore recomputes the reuse comparison without
// marked pairs); both audit trails get the entry.
func (s *Server) identityMark(unmark bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		iv := s.interviewFor(c, interview.Review)
		if iv == nil {
			return
		}
		other, err := strconv.ParseInt(c.PostForm("other"), 10, 64)
		note := strings.TrimSpace(c.PostForm("note"))
		if err != nil || other <= 0 || other == iv.ID || len(note) > 1000 {
			s.fail(c, http.StatusBadRequest, "Invalid request", "Choose one of the interviews the face match names; a note may have at most 1000 characters.")
			return
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		if _, err := s.interviews.Get(ctx, s.actor(c), other, interview.Review); err != nil {
			s.interviewError(c, "identity mark", err)
			return
		}
		marked, _, err := s.markedPairs(ctx, iv.ID)
		if err != nil {
			s.internalError(c, "identity marks", err)
			return
		}
		if !unmark && !marked[other] {
			sigs, err := s.Store.Signals(ctx, iv.ID)
			if err != nil {
				s.internalError(c, "signals", err)
				return
			}
			named := false
			for _, sg := range sigs {
				if sg.Kind == kindIdentityReuse {
					for _, m := range reuseMatches(sg.Reason) {
						named = named || m.ID == other
					}
				}
			}
			if !named {
				s.fail(c, http.StatusBadRequest, "No such match", "Only an interview this session's face match names can be marked as the same person.")
				return
			}
		}
		if unmark && !marked[other] {
			s.flash(c, "These interviews were not marked as the same person.")
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/review/%d#identity", iv.ID))
			return
		}
		u := currentUser(c)
		action := "identity.mark"
		if unmark {
			action = "identity.unmark"
		}
		err = s.Store.InTx(ctx, func(tx *store.Store) error {
			if unmark {
				err = tx.UnmarkSamePerson(ctx, iv.ID, other)
			} else {
				err = tx.MarkSamePerson(ctx, iv.ID, other, &u.ID, note, s.Now())
			}
			if err != nil {
				return err
			}
			for _, p := range [][2]int64{{iv.ID, other}, {other, iv.ID}} {
				if err := tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Actor: u.Email, Action: action, Target: fmt.Sprintf("interview:%d", p[0]),
					Detail: map[string]any{"other_interview": p[1], "note": note}, IP: c.ClientIP()}); err != nil {
					return err
				}
			}
			return tx.InsertJobs(ctx,
				rescore.Args{InterviewID: iv.ID, ReviewAt: s.Config.RiskReviewAt, FailAt: s.Config.RiskFailAt},
				rescore.Args{InterviewID: other, ReviewAt: s.Config.RiskReviewAt, FailAt: s.Config.RiskFailAt})
		})
		if err != nil {
			s.internalError(c, "identity mark", err)
			return
		}
		if unmark {
			s.flash(c, fmt.Sprintf("The mark was removed: the face match with interview %d counts again. The verdicts are being recomputed.", other))
		} else {
			s.flash(c, fmt.Sprintf("Marked as the same person legitimately: the face match with interview %d no longer counts. The verdicts are being recomputed.", other))
		}
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/review/%d#identity", iv.ID))
	}
}
