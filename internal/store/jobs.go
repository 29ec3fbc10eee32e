package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// ErrNoJobQueue is returned by InsertJobs on a store made without WithJobs.
var ErrNoJobQueue = errors.New("store: no background job queue configured")

// JobArgs are one background job's arguments: a kind naming its worker and a
// JSON-encodable value (river.JobArgs satisfies it).
type JobArgs interface {
	Kind() string
}

// Jobs inserts background jobs inside a transaction; internal/jobs
// implements it on River.
type Jobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args ...JobArgs) error
}

// WithJobs returns a store on the same connection that inserts background
// jobs through j (and passes j to its transactions).
func (s *Store) WithJobs(j Jobs) *Store { return &Store{db: s.db, jobs: j} }

// InsertJobs inserts background jobs in s's transaction, so that they are
// committed together with what s writes (a transactional outbox); on a store
// outside a transaction they get one of their own.
func (s *Store) InsertJobs(ctx context.Context, args ...JobArgs) error {
	if s.jobs == nil {
		return ErrNoJobQueue
	}
	if tx, ok := s.db.(pgx.Tx); ok {
		return s.jobs.InsertTx(ctx, tx, args...)
	}
	return s.InTx(ctx, func(tx *Store) error { return tx.InsertJobs(ctx, args...) })
}
