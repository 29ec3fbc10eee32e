// Package jobs runs livecheck's background work — webhook deliveries, the
// retention purge, re-scoring — on River (riverqueue/river) in the
// application's own PostgreSQL. Every node runs a client; River hands each job
// to exactly one of them at a time (rows locked with SKIP LOCKED), retries
// failures with the job's backoff, and its elected leader enqueues periodic
// jobs once for the whole cluster. Jobs are inserted in the caller's
// transaction (store.Store.InsertJobs), so a job exists if and only if what
// it is about was committed.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/livecheck/livecheck/internal/store"
)

// migrateLock is the advisory lock that serialises River's migrations when
// several nodes start at once (store.Migrate uses 7351001).
const migrateLock = 7351002

// Migrate brings River's own tables (river_job, river_leader, …) up to the
// version this build needs, in the schema of pool's search_path, with River's
// migrator. Nodes starting together take turns on an advisory lock. It
// returns the versions it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return nil, fmt.Errorf("jobs: migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLock) }()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: discard()})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate River's schema: %w", err)
	}
	applied := make([]int, 0, len(res.Versions))
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

// Config configures a node's River client. Zero fields take the defaults shown.
type Config struct {
	Workers  *river.Workers       // every job kind this node works; nil: an insert-only client (CLI commands)
	Periodic []*river.PeriodicJob // enqueued by the cluster's leader only
	ID       string               // River client id; unique per node (random when empty)
	Logger   *slog.Logger         // discard
	// MaxWorkers is how many jobs this node works at once (10).
	MaxWorkers int
	// JobTimeout bounds one attempt (1 min; a webhook attempt is ≤ 10 s).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River assumes its
	// node died and hands it to another (10 min; > JobTimeout).
	RescueAfter time.Duration
	// PollInterval is the fallback fetch interval when no notification
	// arrives (1 s).
	PollInterval time.Duration
}

// Queue is one node's River client: it inserts jobs inside transactions and,
// once started, works jobs of every node.
type Queue struct {
	c *river.Client[pgx.Tx]
}

var _ store.Jobs = (*Queue)(nil)

// New returns a client on pool (River's tables migrated, see Migrate). It
// inserts at once; call Start to work jobs (not on an insert-only client).
func New(pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	if cfg.Logger == nil {
		cfg.Logger = discard()
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 10
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		cfg.RescueAfter = max(10*time.Minute, 2*cfg.JobTimeout)
	}
	rc := &river.Config{ID: cfg.ID, Logger: cfg.Logger}
	if cfg.Workers != nil {
		rc.Workers, rc.PeriodicJobs = cfg.Workers, cfg.Periodic
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
		rc.JobTimeout, rc.RescueStuckJobsAfter, rc.FetchPollInterval = cfg.JobTimeout, cfg.RescueAfter, cfg.PollInterval
	}
	c, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: River client: %w", err)
	}
	return &Queue{c: c}, nil
}

// Start begins working jobs (and, on the elected leader, enqueueing periodic
// jobs and moving due retries) until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.c.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching, lets running jobs finish until ctx ends, then cancels
// them (a cancelled attempt is retried, by this node or another).
func (q *Queue) Stop(ctx context.Context) error {
	err := q.c.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = q.c.StopAndCancel(context.Background())
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// InsertTx inserts jobs in tx: they become visible to workers when tx
// commits, and never exist if it rolls back. Each job's kind decides its
// queue, attempts and uniqueness (river.JobArgsWithInsertOpts).
func (q *Queue) InsertTx(ctx context.Context, tx pgx.Tx, args ...store.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := q.c.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("jobs: insert: %w", err)
	}
	return nil
}

// River is the underlying client, for tests and admin tooling (job lists,
// subscriptions).
func (q *Queue) River() *river.Client[pgx.Tx] { return q.c }

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// OneAtATime are insert options for a job kind of which at most one may be
// waiting or running at any time (periodic maintenance): inserting another
// while one is pending is skipped by River's uniqueness check.
func OneAtATime(maxAttempts int) river.InsertOpts {
	return river.InsertOpts{MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning,
		rivertype.JobStateScheduled}}}
}
