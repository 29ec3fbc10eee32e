package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Checkpoint is the stored checkpoint of an interview's live session
// (migration 012; internal/analysis/resume.go). Challenges holds the secret
// challenge plan and Identity face templates (biometric): never log either.
type Checkpoint struct {
	InterviewID    int64
	SessionStarted time.Time
	NodeID         string
	Challenges     json.RawMessage // nil: none (on save: leave as stored)
	Identity       json.RawMessage // nil: none (on save: leave as stored)
	At             time.Time
	// Part, on save, is one more part of the session's measurements
	// (migration 013; biometric series: never log it), stored as number
	// PartSeq (a part already stored under that number stays: idempotent);
	// nil: none. Parts, on read, are the session's parts in PartSeq order;
	// PartsErr says why they were not read (ErrCheckpointTooLarge: the rest
	// of the checkpoint is read all the same); NextPart is the number after
	// the highest stored, read or not (the next part's, so that it never
	// collides with one stored).
	Part     json.RawMessage
	PartSeq  int
	Parts    []json.RawMessage
	PartsErr error
	NextPart int
}

// MaxCheckpointBytes bounds the measurement parts of one session read back
// (UnfinishedCheckpoint); a 4-hour session's series and windows take about
// half of it. A variable for tests.
var MaxCheckpointBytes = 64 << 20

// ErrCheckpointTooLarge is returned when a session's stored measurement
// parts exceed MaxCheckpointBytes.
var ErrCheckpointTooLarge = errors.New("store: checkpoint measurements too large")

// SaveCheckpoint stores one part of a session's checkpoint: the parts given
// (non-nil) replace the stored ones, the others stay. A checkpoint of
// another session (an older start) is replaced as a whole. Idempotent.
// Under a lease (WithLease) it is refused with ErrLeaseLost when the lease
// is not that tenure any more.
func (s *Store) SaveCheckpoint(ctx context.Context, c Checkpoint) error {
	if _, ok := ctx.Value(leaseKey{}).(LeaseToken); ok || c.Part != nil { // under a lease: checked in a transaction
		return s.InTx(ctx, func(tx *Store) error { return tx.saveCheckpoint(ctx, c) })
	}
	return s.saveCheckpoint(ctx, c)
}

func (s *Store) saveCheckpoint(ctx context.Context, c Checkpoint) error {
	// The parts of an older session of the interview go when its checkpoint is replaced (the
	// uncorrelated EXISTS is a one-time filter: the parts are not scanned on every write).
	_, err := s.db.Exec(ctx, `WITH stale AS (DELETE FROM session_checkpoint_parts WHERE interview_id = $1 AND session_started <> $2
			AND EXISTS (SELECT 1 FROM session_checkpoints WHERE interview_id = $1 AND session_started <> $2))
		INSERT INTO session_checkpoints AS k (interview_id, session_started, node_id, challenges, identity, at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (interview_id) DO UPDATE SET
			challenges = CASE WHEN k.session_started = EXCLUDED.session_started THEN coalesce(EXCLUDED.challenges, k.challenges) ELSE EXCLUDED.challenges END,
			identity = CASE WHEN k.session_started = EXCLUDED.session_started THEN coalesce(EXCLUDED.identity, k.identity) ELSE EXCLUDED.identity END,
			at = CASE WHEN k.session_started = EXCLUDED.session_started THEN greatest(k.at, EXCLUDED.at) ELSE EXCLUDED.at END,
			session_started = EXCLUDED.session_started, node_id = EXCLUDED.node_id`,
		c.InterviewID, c.SessionStarted, c.NodeID, nullJSON(c.Challenges), nullJSON(c.Identity), c.At)
	if err != nil {
		return fmt.Errorf("store: unable to save checkpoint: %w", err)
	}
	if c.Part != nil {
		if _, err := s.db.Exec(ctx, `INSERT INTO session_checkpoint_parts (interview_id, session_started, seq, data)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, c.InterviewID, c.SessionStarted, c.PartSeq, []byte(c.Part)); err != nil {
			return fmt.Errorf("store: unable to save checkpoint part: %w", err)
		}
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return []byte(b)
}

// UnfinishedCheckpoint returns the checkpoint of an interview's session
// that never stored its results (its node died), or nil when there is
// none. Its At is when the session was last known to run.
func (s *Store) UnfinishedCheckpoint(ctx context.Context, interviewID int64) (*Checkpoint, error) {
	c := Checkpoint{InterviewID: interviewID}
	var ch, id []byte
	// At: the later of the last state written and the last heartbeat of the node that wrote
	// it (a dead node's last sign of life; a node restarted under the same id has just
	// beaten, so its own sessions resume as if no time had passed).
	err := s.db.QueryRow(ctx, `SELECT k.session_started, k.node_id, k.challenges, k.identity,
			greatest(k.at, coalesce((SELECT n.heartbeat_at FROM nodes n WHERE n.id = k.node_id), k.at))
		FROM session_checkpoints k
		WHERE k.interview_id = $1 AND NOT EXISTS (SELECT 1 FROM session_results r
			WHERE r.interview_id = k.interview_id AND r.started_at = k.session_started)`, interviewID).
		Scan(&c.SessionStarted, &c.NodeID, &ch, &id, &c.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read checkpoint: %w", err)
	}
	if ch != nil {
		c.Challenges = ch
	}
	if id != nil {
		c.Identity = id
	}
	c.Parts, c.NextPart, c.PartsErr = s.checkpointParts(ctx, interviewID, c.SessionStarted)
	if c.PartsErr != nil && !errors.Is(c.PartsErr, ErrCheckpointTooLarge) {
		return nil, c.PartsErr
	}
	return &c, nil
}

// checkpointParts reads the measurement parts of the session that started at
// started, at most MaxCheckpointBytes of them: the size is checked before any
// part is read (a runaway writer's parts give an error, not a process out of
// memory) and again as they are read (the stored size is compressed). next
// is the number after the highest stored.
func (s *Store) checkpointParts(ctx context.Context, interviewID int64, started time.Time) (parts []json.RawMessage, next int, err error) {
	var n, size int64
	if err := s.db.QueryRow(ctx, `SELECT count(*), coalesce(sum(pg_column_size(data)), 0), coalesce(max(seq) + 1, 0)
		FROM session_checkpoint_parts WHERE interview_id = $1 AND session_started = $2`, interviewID, started).Scan(&n, &size, &next); err != nil {
		return nil, 0, fmt.Errorf("store: unable to size checkpoint parts: %w", err)
	}
	if size > int64(MaxCheckpointBytes) {
		return nil, next, fmt.Errorf("%w: %d parts of %d bytes stored, at most %d read", ErrCheckpointTooLarge, n, size, MaxCheckpointBytes)
	}
	rows, err := s.db.Query(ctx, `SELECT data FROM session_checkpoint_parts WHERE interview_id = $1 AND session_started = $2 ORDER BY seq`,
		interviewID, started)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to read checkpoint parts: %w", err)
	}
	defer rows.Close()
	var total int
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, 0, fmt.Errorf("store: unable to read checkpoint part: %w", err)
		}
		if total += len(b); total > MaxCheckpointBytes {
			return nil, next, fmt.Errorf("%w: more than %d bytes of parts", ErrCheckpointTooLarge, MaxCheckpointBytes)
		}
		parts = append(parts, b)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: unable to read checkpoint parts: %w", err)
	}
	return parts, next, nil
}

// DeleteCheckpoint removes the checkpoint of the session that started at
// started (its results are stored: nothing to resume).
func (s *Store) DeleteCheckpoint(ctx context.Context, interviewID int64, started time.Time) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM session_checkpoints WHERE interview_id = $1 AND session_started = $2`,
		interviewID, started); err != nil {
		return fmt.Errorf("store: unable to delete checkpoint: %w", err)
	}
	return nil
}
