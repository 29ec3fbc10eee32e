package verdict

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// Identity reasons: who is on camera (internal/faceid through the analysis's
// identity stage). Every kind starts with "identity_"; a reason's Value,
// Score, Confidence, Reason and At are those of models.Signal.
//
//   - identity_change (made by the analysis stage, so live, analyze, eval and
//     rescore alike): Value is the largest distance between the identities
//     of a change; Score 0.9 with a change, 0 when the same person stayed on
//     camera; At is when the new face was first seen (the first change). The
//     reason gives each change's times as minutes:seconds since the session
//     start. Evidence: for change n (1-based, in time order) two images,
//     kinds EvidenceChangeBefore (the last face of the earlier identity, At =
//     its capture time) and EvidenceChangeAfter (the first face of the new
//     identity, At = the change's time), Reason "identity change n: …".
//   - identity_reuse (live and rescore: needs the stored templates): Value is
//     the smallest distance to another candidate's template in the look-back
//     window (Config.ReuseDays); Score ≥ 0.8 when it is at most
//     faceid.ReuseDistance, 0 otherwise. The reason names the other
//     interviews as "interview <id> on <date> (distance d)". The same
//     candidate's other interviews (same e-mail) and pairs a reviewer marked
//     as the same person (store.MarkSamePerson) are never compared. Evidence:
//     each session's EvidenceFace; the other interview's is under its id.
//   - identity_reference (live, rescore and `analyze --reference`): only when
//     the interview has a reference photo (no photo, no signal: never a
//     penalty). Value is the distance to the photo's face; Score 0 at most
//     faceid.ReferenceMatch (match), ≥ 0.7 from faceid.ReferenceMismatch
//     (mismatch), 0.3 between. Evidence: the session's EvidenceFace and the
//     reference photo (store.ReferencePhotoOf).
//
// All of it is biometric: the evidence images are in the evidence table
// (purged, exported and erased with the others), the templates in
// face_descriptors; reasons hold times, distances and interview numbers only.
const (
	KindIdentityChange    = faceid.KindChange
	KindIdentityReuse     = faceid.KindReuse
	KindIdentityReference = faceid.KindReference
)

// Evidence kinds of the identity reasons (store.Evidence.Kind; no challenge).
const (
	EvidenceChangeBefore = "identity_change_before"
	EvidenceChangeAfter  = "identity_change_after"
	// EvidenceFace is the clearest near-frontal face of the session's main
	// identity (one per session, At = its capture time).
	EvidenceFace = "identity_face"
)

// maxChangeEvidence bounds the change image pairs stored per session.
const maxChangeEvidence = 5

// minReuseSamples is how many faces an identity other than the session's
// main one needs before it is compared with other candidates' templates
// (a brief second face, an operator's face showing through a swap).
const minReuseSamples = 3

// IdentitySignals compares what a session's identity stage measured
// (analysis.Result.Identity) with the reference photo's descriptor (nil:
// the interview has none, no signal) and with other interviews' templates
// (already without the same candidate and marked pairs; none: nothing to
// compare, no signal). No identity measured: no signal.
func IdentitySignals(rep *faceid.Report, ref *faceid.Descriptor, others []faceid.Candidate) []models.Signal {
	main, ok := rep.MainIdentity()
	if !ok {
		return nil
	}
	var out []models.Signal
	if len(others) > 0 {
		var best models.Signal
		for i, id := range rep.Identities {
			if i != rep.Main && id.Samples < minReuseSamples {
				continue
			}
			sg, ok := faceid.ReuseSignal(id.Template, others)
			if ok && (best.Kind == "" || sg.Score > best.Score || (sg.Score == best.Score && sg.Value < best.Value)) {
				best = sg
			}
		}
		if best.Kind != "" {
			out = append(out, best)
		}
	}
	if ref != nil {
		out = append(out, faceid.ReferenceSignal(main.Template, *ref))
	}
	return out
}

// identityEvidence is the evidence images of a session's identity reasons.
func identityEvidence(r *analysis.Result) []store.Evidence {
	rep := r.Identity
	if rep == nil {
		return nil
	}
	var out []store.Evidence
	if main, ok := rep.MainIdentity(); ok && len(main.Best.JPEG) > 0 {
		out = append(out, store.Evidence{InterviewID: r.InterviewID, Kind: EvidenceFace, At: main.Best.At,
			Reason: fmt.Sprintf("the clearest face of the person on camera (%d faces compared)", main.Samples), JPEG: main.Best.JPEG})
	}
	for i, c := range rep.Changes {
		if i == maxChangeEvidence {
			break
		}
		at := clock(c.After.At, r.StartedAt)
		if len(c.Before.JPEG) > 0 {
			out = append(out, store.Evidence{InterviewID: r.InterviewID, Kind: EvidenceChangeBefore, At: c.Before.At,
				Reason: fmt.Sprintf("identity change %d: the last face before the change at %s (seen at %s)", i+1, at, clock(c.Before.At, r.StartedAt)), JPEG: c.Before.JPEG})
		}
		if len(c.After.JPEG) > 0 {
			out = append(out, store.Evidence{InterviewID: r.InterviewID, Kind: EvidenceChangeAfter, At: c.After.At,
				Reason: fmt.Sprintf("identity change %d: the first face after the change at %s (distance %.2f)", i+1, at, c.Distance), JPEG: c.After.JPEG})
		}
	}
	return out
}

// clock is t as minutes:seconds since start.
func clock(t, start time.Time) string {
	s := int(t.Sub(start).Round(time.Second).Seconds())
	if s < 0 {
		s = 0
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// identityTemplates is the session's templates to store (one per identity
// seen).
func identityTemplates(r *analysis.Result) []store.FaceTemplate {
	rep := r.Identity
	if rep == nil {
		return nil
	}
	out := make([]store.FaceTemplate, 0, len(rep.Identities))
	for i, id := range rep.Identities {
		out = append(out, store.FaceTemplate{InterviewID: r.InterviewID, SessionStarted: r.StartedAt, Ordinal: i, Model: rep.Model,
			Descriptor: id.Template.Slice(), Samples: id.Samples, Main: i == rep.Main, At: r.EndedAt})
	}
	return out
}

// IdentityStore is what the identity comparisons read from the store.
type IdentityStore interface {
	Interview(ctx context.Context, id int64) (*models.Interview, error)
	FaceReuseCandidates(ctx context.Context, model string, self int64, since time.Time, limit int) ([]store.FaceTemplate, error)
	ReferencePhotoOf(ctx context.Context, interviewID int64) (*store.ReferencePhoto, error)
}

var _ IdentityStore = (*store.Store)(nil)

// identityInputs reads interview id's reference descriptor (nil without a
// usable photo) and the templates of model it is compared with: other
// candidates' (not the same e-mail), stored since since, not marked as
// the same person.
func identityInputs(ctx context.Context, st IdentityStore, id int64, model string, since time.Time) (*faceid.Descriptor, []faceid.Candidate, error) {
	var ref *faceid.Descriptor
	p, err := st.ReferencePhotoOf(ctx, id)
	switch {
	case err == nil && p.Model == model:
		if d, err := faceid.DescriptorFrom(p.Descriptor); err == nil {
			ref = &d
		}
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return nil, nil, err
	}
	iv, err := st.Interview(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ts, err := st.FaceReuseCandidates(ctx, model, id, since, 0)
	if err != nil {
		return nil, nil, err
	}
	var others []faceid.Candidate
	for _, t := range ts {
		if sameEmail(t.CandidateEmail, iv.CandidateEmail) {
			continue // the same candidate's re-interview is not reuse
		}
		d, err := faceid.DescriptorFrom(t.Descriptor)
		if err != nil {
			continue
		}
		others = append(others, faceid.Candidate{InterviewID: t.InterviewID, At: t.At, D: d})
	}
	return ref, others, nil
}

func sameEmail(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}
