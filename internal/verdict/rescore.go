package verdict

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// RescoreStore is what Rescore needs from the store.
type RescoreStore interface {
	Signals(ctx context.Context, interviewID int64) ([]models.Signal, error)
	LatestVerdict(ctx context.Context, interviewID int64) (*store.Verdict, error)
	SaveVerdict(ctx context.Context, v *store.Verdict) error
}

var _ RescoreStore = (*store.Store)(nil)

// RescoreIdentityStore is what Rescore needs to recompute the identity
// comparisons.
type RescoreIdentityStore interface {
	IdentityStore
	FaceTemplates(ctx context.Context, interviewID int64) ([]store.FaceTemplate, error)
}

var _ RescoreIdentityStore = (*store.Store)(nil)

// DefaultReuseDays is the reuse look-back window of Rescore and of a Judge
// without Config.ReuseDays (LIVECHECK_REUSE_DAYS's default).
const DefaultReuseDays = 90

// RescoreOptions are the settings of a Rescore beyond the thresholds.
type RescoreOptions struct {
	// Dry computes the verdict without storing it.
	Dry bool
	// ReuseDays is the reuse look-back window of the face comparison, as
	// the live Judge's Config.ReuseDays (LIVECHECK_REUSE_DAYS); 0:
	// DefaultReuseDays.
	ReuseDays int
}

// refreshIdentity replaces the stored identity_reuse and identity_reference
// signals by comparisons of the interview's latest session's templates
// made now. Without templates the stored signals stay.
func refreshIdentity(ctx context.Context, db RescoreIdentityStore, id int64, sigs []models.Signal, reuseDays int) ([]models.Signal, error) {
	ts, err := db.FaceTemplates(ctx, id)
	if err != nil || len(ts) == 0 {
		return sigs, err
	}
	last := ts[len(ts)-1].SessionStarted // oldest session first
	rep := &faceid.Report{Model: ts[len(ts)-1].Model, Main: -1}
	var at time.Time
	for _, t := range ts {
		if !t.SessionStarted.Equal(last) || t.Model != rep.Model {
			continue
		}
		d, err := faceid.DescriptorFrom(t.Descriptor)
		if err != nil {
			continue
		}
		if t.Main {
			rep.Main = len(rep.Identities)
		}
		rep.Identities = append(rep.Identities, faceid.Identity{Template: d, Samples: t.Samples})
		at = t.At
	}
	ref, others, err := identityInputs(ctx, db, id, rep.Model, at.AddDate(0, 0, -reuseDays))
	if err != nil {
		return nil, err
	}
	out := make([]models.Signal, 0, len(sigs)+2)
	for _, sg := range sigs {
		if sg.Kind != KindIdentityReuse && sg.Kind != KindIdentityReference {
			out = append(out, sg)
		}
	}
	return append(out, IdentitySignals(rep, ref, others)...), nil
}

// Rescored is the outcome of Rescore for one interview.
type Rescored struct {
	Verdict risk.Verdict
	// Signals is the number of stored signals scored (0: nothing was done).
	Signals int
	// Previous is the verdict stored before, nil when there was none.
	Previous *store.Verdict
}

// Changed reports whether the decision differs from the previous verdict's
// (or there was none).
func (r Rescored) Changed() bool {
	return r.Previous == nil || r.Previous.Decision != string(r.Verdict.Decision)
}

// Rescore recomputes an interview's verdict from its stored signals with the
// current scoring rules and st, and unless dry stores it as a new verdict
// (the earlier ones stay as history). An interview without stored signals is
// left alone (Signals 0).
//
// When db also reads face templates (RescoreIdentityStore, as *store.Store
// does) and the interview has some, identity_reuse and identity_reference
// are recomputed from its latest session's templates as things are now: a
// reference photo attached after the interview, a pair a reviewer marked as
// the same person, other candidates' later interviews (within
// opt.ReuseDays of the session).
func Rescore(ctx context.Context, db RescoreStore, id int64, st risk.Settings, opt RescoreOptions) (Rescored, error) {
	if opt.ReuseDays <= 0 {
		opt.ReuseDays = DefaultReuseDays
	}
	dry := opt.Dry
	sigs, err := db.Signals(ctx, id)
	if err != nil {
		return Rescored{}, fmt.Errorf("verdict: interview %d: %w", id, err)
	}
	if len(sigs) == 0 {
		return Rescored{}, nil
	}
	if ids, ok := db.(RescoreIdentityStore); ok {
		if sigs, err = refreshIdentity(ctx, ids, id, sigs, opt.ReuseDays); err != nil {
			return Rescored{}, fmt.Errorf("verdict: interview %d: %w", id, err)
		}
	}
	out := Rescored{Verdict: risk.Score(sigs, st), Signals: len(sigs)}
	prev, err := db.LatestVerdict(ctx, id)
	switch {
	case err == nil:
		out.Previous = prev
	case !errors.Is(err, models.ErrNotFound):
		return Rescored{}, fmt.Errorf("verdict: interview %d: %w", id, err)
	}
	if dry {
		return out, nil
	}
	rec, err := Record(id, out.Verdict, len(sigs), store.TriggerRescore, time.Time{})
	if err != nil {
		return Rescored{}, err
	}
	if err := db.SaveVerdict(ctx, rec); err != nil {
		return Rescored{}, fmt.Errorf("verdict: interview %d: %w", id, err)
	}
	return out, nil
}
