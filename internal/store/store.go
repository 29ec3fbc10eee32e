// Package store is livecheck's PostgreSQL persistence: hand-written SQL over pgx/v5,
// one file per aggregate, pgx.ErrNoRows translated to models.ErrNotFound.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/models"
)

// DBTX is what the store needs from a connection: a *pgxpool.Pool in production,
// a pgx.Tx in tests (rolled back at the end of each test).
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ DBTX = (*pgxpool.Pool)(nil)
	_ DBTX = (pgx.Tx)(nil)
)

// Store runs every query of the application.
type Store struct {
	db   DBTX
	jobs Jobs // background job queue; nil: InsertJobs fails with ErrNoJobQueue
}

// New returns a store on db.
func New(db DBTX) *Store { return &Store{db: db} }

// DefaultMaxConns is the connection pool's size when the database URL does
// not set pool_max_conns.
const DefaultMaxConns = 20

// Open connects a pool to url, configured further by configure (a query
// tracer, for example), and checks that the database answers.
func Open(ctx context.Context, url string, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: invalid database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default, max(4, CPUs), is 4 on a 2-core node: River's
		// listener and elector, the rooms' writers and joins placed under
		// the cluster's advisory lock then queue for a connection, and
		// 10 simultaneous joins waited past their 10 s timeout (consent
		// 500s in make bench). pool_max_conns in the URL overrides this.
		cfg.MaxConns = DefaultMaxConns
	}
	for _, c := range configure {
		c(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: unable to create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: database unreachable: %w", err)
	}
	return pool, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// InTx runs fn inside one transaction (a savepoint when s is already in one):
// everything fn writes is committed together or not at all. Under a lease
// (WithLease) the transaction first locks the lease row and fails with
// ErrLeaseLost, writing nothing, when the lease is not that one any more.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := checkLease(ctx, tx); err != nil {
		return err
	}
	if err := fn(&Store{db: tx, jobs: s.jobs}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// interpretError maps driver errors onto the sentinel errors of models.
func interpretError(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return models.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", models.ErrConflict, pgErr.ConstraintName)
	}
	return err
}
