// Package rescore recomputes an interview's verdict from its stored signals
// with the current scoring rules, from the command line (livecheck rescore)
// or as a River job worked by any node (livecheck rescore --queue).
package rescore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// ErrNoSignals is returned for an interview without stored signals.
var ErrNoSignals = errors.New("rescore: no stored signals")

// Store is what re-scoring needs; *store.Store satisfies it.
type Store interface {
	Signals(ctx context.Context, interviewID int64) ([]models.Signal, error)
	LatestVerdict(ctx context.Context, interviewID int64) (*store.Verdict, error)
	SaveVerdict(ctx context.Context, v *store.Verdict) error
}

var _ Store = (*store.Store)(nil)

// Result is one interview re-scored.
type Result struct {
	Verdict  risk.Verdict
	Signals  int
	Previous *store.Verdict // nil when the interview had no verdict
}

// Changed reports whether the decision differs from the previous verdict's.
func (r *Result) Changed() bool {
	return r.Previous == nil || r.Previous.Decision != string(r.Verdict.Decision)
}

// Interview recomputes interview id's verdict with settings and, unless
// dry, stores it as a new verdict (trigger "rescore"; earlier verdicts stay as
// history).
func Interview(ctx context.Context, st Store, id int64, settings risk.Settings, dry bool) (*Result, error) {
	sigs, err := st.Signals(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("rescore: interview %d: %w", id, err)
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("rescore: interview %d: %w", id, ErrNoSignals)
	}
	r := &Result{Verdict: risk.Score(sigs, settings), Signals: len(sigs)}
	switch prev, err := st.LatestVerdict(ctx, id); {
	case err == nil:
		r.Previous = prev
	case !errors.Is(err, models.ErrNotFound):
		return nil, fmt.Errorf("rescore: interview %d: %w", id, err)
	}
	if dry {
		return r, nil
	}
	v := r.Verdict
	reasons, err := json.Marshal(v.Reasons)
	if err != nil {
		return nil, fmt.Errorf("rescore: interview %d: %w", id, err)
	}
	if err := st.SaveVerdict(ctx, &store.Verdict{InterviewID: id, Score: v.Score, Decision: string(v.Decision), Reasons: reasons,
		ScoringVersion: v.ScoringVersion, ReviewAt: v.ReviewAt, FailAt: v.FailAt, Coverage: v.Coverage, SignalCount: len(sigs),
		Trigger: store.TriggerRescore}); err != nil {
		return nil, fmt.Errorf("rescore: interview %d: %w", id, err)
	}
	return r, nil
}

// Args is the River job that re-scores one interview with the given thresholds.
type Args struct {
	InterviewID int64   `json:"interview_id"`
	ReviewAt    float64 `json:"review_at"`
	FailAt      float64 `json:"fail_at"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "rescore" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// Settings are the risk settings of a job.
func (a Args) Settings() risk.Settings {
	return risk.Settings{ReviewAt: a.ReviewAt, FailAt: a.FailAt, MinCoverage: risk.DefaultMinCoverage}
}

// Worker works rescore jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	St     Store
	Logger *slog.Logger // discard when nil
}

// Work implements river.Worker. Invalid thresholds and interviews without
// signals cancel the job (retrying cannot help).
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	st := job.Args.Settings()
	if err := st.Validate(); err != nil {
		return river.JobCancel(fmt.Errorf("rescore: %w", err))
	}
	r, err := Interview(ctx, w.St, job.Args.InterviewID, st, false)
	if errors.Is(err, ErrNoSignals) || errors.Is(err, models.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log.Info("rescore: verdict stored", "interview", job.Args.InterviewID, "score", r.Verdict.Score, "decision", r.Verdict.Decision,
		"scoring", r.Verdict.ScoringVersion, "changed", r.Changed())
	return nil
}
