package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ChallengeRecord is one verified liveness challenge.
type ChallengeRecord struct {
	InterviewID    int64
	ChallengeID    string
	Kind           string
	Params         json.RawMessage
	Attempt        int
	Replaces       string
	IssuedAt       time.Time
	ShownAt        *time.Time
	Deadline       time.Time
	Outcome        string
	Reason         string
	OnsetAt        *time.Time
	OnsetLatencyMs *float64
	Peak           float64
	Unit           string
	PeakAt         *time.Time
	Metrics        map[string]float64
	Drift          float64
	EvidenceID     *int64 // filled by Challenges
}

// Evidence is one stored evidence image.
type Evidence struct {
	ID          int64
	InterviewID int64
	ChallengeID string
	Kind        string
	At          time.Time
	Reason      string
	JPEG        []byte
}

// SaveChallenge stores a challenge result and, when present, its evidence image,
// in one transaction. Saving the same challenge twice is a no-op.
func (s *Store) SaveChallenge(ctx context.Context, c ChallengeRecord, ev *Evidence) error {
	metrics, err := json.Marshal(c.Metrics)
	if err != nil {
		return fmt.Errorf("store: challenge metrics: %w", err)
	}
	if c.Params == nil {
		c.Params = json.RawMessage("{}")
	}
	return s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `INSERT INTO challenges (interview_id, challenge_id, kind, params, attempt, replaces,
			issued_at, shown_at, deadline, outcome, reason, onset_at, onset_latency_ms, peak, unit, peak_at, metrics, drift)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			ON CONFLICT (challenge_id) DO NOTHING`,
			c.InterviewID, c.ChallengeID, c.Kind, c.Params, c.Attempt, c.Replaces, c.IssuedAt, c.ShownAt, c.Deadline,
			c.Outcome, c.Reason, c.OnsetAt, c.OnsetLatencyMs, c.Peak, c.Unit, c.PeakAt, metrics, c.Drift)
		if err != nil {
			return fmt.Errorf("store: unable to save challenge: %w", err)
		}
		if tag.RowsAffected() == 0 || ev == nil {
			return nil
		}
		if _, err := tx.db.Exec(ctx, `INSERT INTO evidence (interview_id, challenge_id, kind, at, reason, jpeg)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.InterviewID, c.ChallengeID, ev.Kind, ev.At, ev.Reason, ev.JPEG); err != nil {
			return fmt.Errorf("store: unable to save evidence: %w", err)
		}
		return nil
	})
}

// Challenges lists an interview's challenges in issue order, with the id of their evidence image.
func (s *Store) Challenges(ctx context.Context, interviewID int64) ([]ChallengeRecord, error) {
	rows, err := s.db.Query(ctx, `SELECT c.challenge_id, c.kind, c.params, c.attempt, c.replaces, c.issued_at, c.shown_at,
		c.deadline, c.outcome, c.reason, c.onset_at, c.onset_latency_ms, c.peak, c.unit, c.peak_at, c.metrics, c.drift,
		(SELECT e.id FROM evidence e WHERE e.challenge_id = c.challenge_id ORDER BY e.id LIMIT 1)
		FROM challenges c WHERE c.interview_id = $1 ORDER BY c.issued_at, c.id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list challenges: %w", err)
	}
	defer rows.Close()
	var out []ChallengeRecord
	for rows.Next() {
		c := ChallengeRecord{InterviewID: interviewID}
		var metrics []byte
		if err := rows.Scan(&c.ChallengeID, &c.Kind, &c.Params, &c.Attempt, &c.Replaces, &c.IssuedAt, &c.ShownAt, &c.Deadline,
			&c.Outcome, &c.Reason, &c.OnsetAt, &c.OnsetLatencyMs, &c.Peak, &c.Unit, &c.PeakAt, &metrics, &c.Drift, &c.EvidenceID); err != nil {
			return nil, fmt.Errorf("store: unable to scan challenge: %w", err)
		}
		_ = json.Unmarshal(metrics, &c.Metrics)
		out = append(out, c)
	}
	return out, rows.Err()
}

// EvidenceByID returns one evidence image of an interview.
func (s *Store) EvidenceByID(ctx context.Context, interviewID, id int64) (*Evidence, error) {
	e := Evidence{ID: id, InterviewID: interviewID}
	var ch *string
	err := s.db.QueryRow(ctx, `SELECT challenge_id, kind, at, reason, jpeg FROM evidence WHERE id = $1 AND interview_id = $2`,
		id, interviewID).Scan(&ch, &e.Kind, &e.At, &e.Reason, &e.JPEG)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch evidence: %w", interpretError(err))
	}
	if ch != nil {
		e.ChallengeID = *ch
	}
	return &e, nil
}
