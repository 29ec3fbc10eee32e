// Package rescore is the River job that recomputes an interview's verdict
// from its stored signals with the current scoring rules (verdict.Rescore,
// as livecheck rescore does in place), worked by any node (livecheck rescore
// --queue).
package rescore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/models"
)

// ErrNoSignals cancels the job of an interview without stored signals.
var ErrNoSignals = errors.New("rescore: no stored signals")

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
	St verdict.RescoreStore
	// ReuseDays is the face-reuse look-back window (LIVECHECK_REUSE_DAYS;
	// 0: verdict.DefaultReuseDays), as the live verdicts use.
	ReuseDays int
	Logger    *slog.Logger // discard when nil
}

// Work implements river.Worker. Invalid thresholds and interviews without
// signals cancel the job (retrying cannot help).
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	st := job.Args.Settings()
	if err := st.Validate(); err != nil {
		return river.JobCancel(fmt.Errorf("rescore: %w", err))
	}
	r, err := verdict.Rescore(ctx, w.St, job.Args.InterviewID, st, verdict.RescoreOptions{ReuseDays: w.ReuseDays})
	if errors.Is(err, models.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if r.Signals == 0 {
		return river.JobCancel(fmt.Errorf("rescore: interview %d: %w", job.Args.InterviewID, ErrNoSignals))
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log.Info("rescore: verdict stored", "interview", job.Args.InterviewID, "score", r.Verdict.Score, "decision", r.Verdict.Decision,
		"scoring", r.Verdict.ScoringVersion, "changed", r.Changed())
	return nil
}
