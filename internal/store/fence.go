package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livecheck/livecheck/models"
)

// LeaseToken names one tenure of a node over an interview: the lease row as
// the node acquired it. The epoch alone is not enough (a lease deleted — reaped,
// released — and taken again starts at epoch 1 again); the acquisition time
// changes with every new row and every takeover and is kept by renewals.
type LeaseToken struct {
	InterviewID int64
	NodeID      string
	Epoch       int64
	AcquiredAt  time.Time
}

// Token is the lease's tenure.
func (l *Lease) Token() LeaseToken {
	return LeaseToken{InterviewID: l.InterviewID, NodeID: l.NodeID, Epoch: l.Epoch, AcquiredAt: l.AcquiredAt}
}

// ErrLeaseLost is returned by a write made under a lease (WithLease) that the
// node does not hold any more: another node took the interview over, or the
// lease expired and was reaped. Nothing was written. It wraps
// models.ErrConflict.
var ErrLeaseLost = fmt.Errorf("%w: the interview's lease is not this node's any more", models.ErrConflict)

type leaseKey struct{}

// WithLease makes the store's writes under ctx conditional on tok: every
// transaction (InTx, and the writes that use one: SaveChallenge,
// SaveCheckpoint, the judge's session results) first locks the lease row
// with FOR SHARE and stops with ErrLeaseLost when it is not tok's tenure any
// more. The lock makes the check hold until the commit: a takeover or a reap
// of the lease waits for the write, and a write after them is refused.
func WithLease(ctx context.Context, tok LeaseToken) context.Context {
	return context.WithValue(ctx, leaseKey{}, tok)
}

// checkLease runs the check of WithLease inside tx.
func checkLease(ctx context.Context, tx pgx.Tx) error {
	tok, ok := ctx.Value(leaseKey{}).(LeaseToken)
	if !ok {
		return nil
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM interview_leases
		WHERE interview_id = $1 AND node_id = $2 AND epoch = $3 AND acquired_at = $4 FOR SHARE`,
		tok.InterviewID, tok.NodeID, tok.Epoch, tok.AcquiredAt).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store: interview %d, node %s, epoch %d: %w", tok.InterviewID, tok.NodeID, tok.Epoch, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("store: unable to check lease: %w", err)
	}
	return nil
}

// YieldLease gives up a lease a node fenced itself off from (it could not
// renew it in time and closed the interview's room): when the lease is still
// tok's tenure it is deleted and, as the reaper does for a dead node, the
// interview is marked interrupted (if still live) and its open attempts are
// closed with reason. It reports whether the lease was still tok's; when
// another node took the interview meanwhile, nothing is changed.
func (s *Store) YieldLease(ctx context.Context, tok LeaseToken, now time.Time, reason string) (bool, error) {
	var yielded bool
	err := s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `DELETE FROM interview_leases
			WHERE interview_id = $1 AND node_id = $2 AND epoch = $3 AND acquired_at = $4`,
			tok.InterviewID, tok.NodeID, tok.Epoch, tok.AcquiredAt)
		if err != nil {
			return fmt.Errorf("store: unable to yield lease: %w", err)
		}
		if yielded = tag.RowsAffected() == 1; !yielded {
			return nil
		}
		if _, err := tx.db.Exec(ctx, `UPDATE interviews SET status = 'interrupted', ended_at = $2
			WHERE id = $1 AND status = 'live'`, tok.InterviewID, now); err != nil {
			return fmt.Errorf("store: unable to interrupt interview: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `UPDATE attempts SET ended_at = $2, end_reason = $3
			WHERE ended_at IS NULL AND interview_id = $1`, tok.InterviewID, now, reason); err != nil {
			return fmt.Errorf("store: unable to close attempts: %w", err)
		}
		return nil
	})
	return yielded, err
}
