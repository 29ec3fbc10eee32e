package verdict

import (
	"context"
	"errors"
	"fmt"
	"time"

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
func Rescore(ctx context.Context, db RescoreStore, id int64, st risk.Settings, dry bool) (Rescored, error) {
	sigs, err := db.Signals(ctx, id)
	if err != nil {
		return Rescored{}, fmt.Errorf("verdict: interview %d: %w", id, err)
	}
	if len(sigs) == 0 {
		return Rescored{}, nil
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
