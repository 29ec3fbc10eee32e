package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/internal/jobs"
	rescorepkg "github.com/livecheck/livecheck/internal/rescore"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/verdict"
)

// rescoreStore is what rescore needs from the store.
type rescoreStore interface {
	verdict.RescoreStore
	InterviewsWithSignals(ctx context.Context) ([]int64, error)
}

var _ rescoreStore = (*store.Store)(nil)

// cmdRescore recomputes verdicts from the stored signals with the current
// scoring rules (risk.ScoringVersion) and stores them as new verdicts.
func cmdRescore(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("rescore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "re-score every interview with stored signals")
	dry := fs.Bool("dry-run", false, "print the new verdicts without storing them")
	queue := fs.Bool("queue", false, "queue one background job per interview for the serving nodes instead of re-scoring here")
	reviewAt := fs.Float64("review-at", risk.DefaultReviewAt, "risk score from which a session goes to review")
	failAt := fs.Float64("fail-at", risk.DefaultFailAt, "risk score from which a session fails")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: livecheck rescore (--all | INTERVIEW_ID...) [--dry-run | --queue] [--review-at N] [--fail-at N]\n\n"+
			"Recomputes verdicts from the stored signals with scoring "+risk.ScoringVersion+" and stores each as a new verdict\n"+
			"(the previous ones stay as history).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ids []int64
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("rescore: %q is not an interview id", a)
		}
		ids = append(ids, id)
	}
	if *all == (len(ids) > 0) {
		fs.Usage()
		return errors.New("rescore: give interview ids or --all (not both)")
	}
	if *dry && *queue {
		return errors.New("rescore: --dry-run and --queue exclude each other")
	}
	st := risk.Settings{ReviewAt: *reviewAt, FailAt: *failAt, MinCoverage: risk.DefaultMinCoverage}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("rescore: %w", err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pool, err := openDB(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *queue {
		return queueRescore(ctx, pool, ids, *all, st, stdout)
	}
	return rescore(ctx, store.New(pool), ids, *all, st, verdict.RescoreOptions{Dry: *dry, ReuseDays: cfg.ReuseDays}, stdout)
}

// rescore recomputes and (unless dry) stores the verdicts of ids, or of
// every interview with signals when all is set.
func rescore(ctx context.Context, db rescoreStore, ids []int64, all bool, st risk.Settings, opt verdict.RescoreOptions, stdout io.Writer) error {
	if all {
		var err error
		if ids, err = db.InterviewsWithSignals(ctx); err != nil {
			return err
		}
	}
	changed := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := verdict.Rescore(ctx, db, id, st, opt)
		if err != nil {
			return fmt.Errorf("rescore: %w", err)
		}
		if r.Signals == 0 {
			fmt.Fprintf(stdout, "interview %d: no stored signals, skipped\n", id)
			continue
		}
		was := "no earlier verdict"
		if r.Previous != nil {
			was = fmt.Sprintf("was %.1f %s (%s)", r.Previous.Score, r.Previous.Decision, r.Previous.ScoringVersion)
		}
		if r.Changed() {
			changed++
		}
		v := r.Verdict
		top := ""
		if len(v.Reasons) > 0 {
			top = "; top reason: " + v.Reasons[0].Kind
		}
		fmt.Fprintf(stdout, "interview %d: %.1f %s (%s, %d signals; %s)%s\n", id, v.Score, v.Decision, v.ScoringVersion, r.Signals, was, top)
	}
	verb := "stored"
	if opt.Dry {
		verb = "computed (dry run, nothing stored)"
	}
	fmt.Fprintf(stdout, "%d verdicts %s, %d decisions changed\n", len(ids), verb, changed)
	return nil
}

// queueRescore inserts one rescore job per interview (all of them in one
// transaction) for the serving nodes to work.
func queueRescore(ctx context.Context, pool *pgxpool.Pool, ids []int64, all bool, st risk.Settings, stdout io.Writer) error {
	q, err := jobs.New(pool, jobs.Config{}) // insert-only
	if err != nil {
		return err
	}
	db := store.New(pool).WithJobs(q)
	if all {
		if ids, err = db.InterviewsWithSignals(ctx); err != nil {
			return err
		}
	}
	args := make([]store.JobArgs, len(ids))
	for i, id := range ids {
		args[i] = rescorepkg.Args{InterviewID: id, ReviewAt: st.ReviewAt, FailAt: st.FailAt}
	}
	if err := db.InsertJobs(ctx, args...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d rescore jobs queued; the serving nodes store the new verdicts\n", len(ids))
	return nil
}
