package store

import (
	"context"
	"fmt"
)

// EvidenceOfKind lists an interview's evidence images that belong to no
// challenge and whose kind starts with prefix (e.g. "identity_": the
// identity reasons' faces, internal/verdict), in time order, without their
// bytes (EvidenceByID fetches one, audited by the caller).
func (s *Store) EvidenceOfKind(ctx context.Context, interviewID int64, prefix string) ([]Evidence, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, at, reason FROM evidence
		WHERE interview_id = $1 AND challenge_id IS NULL AND starts_with(kind, $2)
		ORDER BY at, id`, interviewID, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list evidence: %w", err)
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		e := Evidence{InterviewID: interviewID}
		if err := rows.Scan(&e.ID, &e.Kind, &e.At, &e.Reason); err != nil {
			return nil, fmt.Errorf("store: unable to scan evidence: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

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
