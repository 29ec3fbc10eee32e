package store

import (
	"context"
	"fmt"
)

// AddEvidence stores one evidence image that belongs to no challenge and
// returns its id (tests and tools; the live path stores identity evidence
// with the session's result).
func (s *Store) AddEvidence(ctx context.Context, e Evidence) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO evidence (interview_id, kind, at, reason, jpeg) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		e.InterviewID, e.Kind, e.At, e.Reason, e.JPEG).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: unable to save evidence: %w", interpretError(err))
	}
	return id, nil
}
