package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Verdict is a stored risk verdict (see internal/risk). Reasons is the
// verdict's reasons as JSON, kept as written so that old verdicts stay
// readable when the Reason type grows.
type Verdict struct {
	ID             int64
	InterviewID    int64
	Score          float64 // 0..100
	Decision       string  // verified | review | failed
	Reasons        json.RawMessage
	ScoringVersion string
	ReviewAt       float64
	FailAt         float64
	Coverage       float64
	SignalCount    int
	Trigger        string // session_end | rescore
	ComputedAt     time.Time
}

// Verdict triggers.
const (
	TriggerSessionEnd = "session_end"
	TriggerRescore    = "rescore"
)

const verdictColumns = `id, interview_id, score, decision, reasons, scoring_version, review_at, fail_at, coverage,
	signal_count, trigger, computed_at`

func scanVerdict(row interface{ Scan(...any) error }) (*Verdict, error) {
	var v Verdict
	if err := row.Scan(&v.ID, &v.InterviewID, &v.Score, &v.Decision, &v.Reasons, &v.ScoringVersion, &v.ReviewAt, &v.FailAt,
		&v.Coverage, &v.SignalCount, &v.Trigger, &v.ComputedAt); err != nil {
		return nil, err
	}
	return &v, nil
}

// SaveVerdict appends a verdict of an interview and sets its ID and, when
// zero, its ComputedAt (the database clock). Earlier verdicts stay as
// history; LatestVerdict returns the newest.
func (s *Store) SaveVerdict(ctx context.Context, v *Verdict) error {
	reasons := v.Reasons
	if len(reasons) == 0 {
		reasons = json.RawMessage("[]")
	}
	var at *time.Time
	if !v.ComputedAt.IsZero() {
		at = &v.ComputedAt
	}
	err := s.db.QueryRow(ctx, `INSERT INTO verdicts (interview_id, score, decision, reasons, scoring_version, review_at, fail_at,
			coverage, signal_count, trigger, computed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, now())) RETURNING id, computed_at`,
		v.InterviewID, v.Score, v.Decision, reasons, v.ScoringVersion, v.ReviewAt, v.FailAt, v.Coverage, v.SignalCount,
		v.Trigger, at).Scan(&v.ID, &v.ComputedAt)
	if err != nil {
		return fmt.Errorf("store: unable to save verdict: %w", interpretError(err))
	}
	v.Reasons = reasons
	return nil
}

// LatestVerdict returns the newest verdict of an interview, or an error
// wrapping models.ErrNotFound when it has none.
func (s *Store) LatestVerdict(ctx context.Context, interviewID int64) (*Verdict, error) {
	v, err := scanVerdict(s.db.QueryRow(ctx, `SELECT `+verdictColumns+` FROM verdicts
		WHERE interview_id = $1 ORDER BY computed_at DESC, id DESC LIMIT 1`, interviewID))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch verdict: %w", interpretError(err))
	}
	return v, nil
}

// Verdicts lists every verdict of an interview, newest first.
func (s *Store) Verdicts(ctx context.Context, interviewID int64) ([]Verdict, error) {
	rows, err := s.db.Query(ctx, `SELECT `+verdictColumns+` FROM verdicts
		WHERE interview_id = $1 ORDER BY computed_at DESC, id DESC`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list verdicts: %w", err)
	}
	defer rows.Close()
	var out []Verdict
	for rows.Next() {
		v, err := scanVerdict(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan verdict: %w", err)
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// InterviewsWithSignals lists the interviews that have stored signals, by
// id, for re-scoring.
func (s *Store) InterviewsWithSignals(ctx context.Context) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT interview_id FROM signals ORDER BY interview_id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list interviews with signals: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unable to scan interview id: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// DetectorWindow is one stored window score of a passive detector.
type DetectorWindow struct {
	Kind       string
	From, To   time.Time
	Score      float64
	Confidence float64
	Value      float64
}

// SaveDetectorWindows stores a session's detector windows in one
// transaction; a window already stored (same kind and start) is replaced.
func (s *Store) SaveDetectorWindows(ctx context.Context, interviewID int64, ws []DetectorWindow) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, w := range ws {
			if _, err := tx.db.Exec(ctx, `INSERT INTO detector_windows (interview_id, kind, from_at, to_at, score, confidence, value)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (interview_id, kind, from_at) DO UPDATE
				SET to_at = EXCLUDED.to_at, score = EXCLUDED.score, confidence = EXCLUDED.confidence, value = EXCLUDED.value`,
				interviewID, w.Kind, w.From, w.To, w.Score, w.Confidence, w.Value); err != nil {
				return fmt.Errorf("store: unable to save detector window %s: %w", w.Kind, interpretError(err))
			}
		}
		return nil
	})
}

// DetectorWindows lists a session's detector windows by kind, then time.
func (s *Store) DetectorWindows(ctx context.Context, interviewID int64) ([]DetectorWindow, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, from_at, to_at, score, confidence, value FROM detector_windows
		WHERE interview_id = $1 ORDER BY kind, from_at`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list detector windows: %w", err)
	}
	defer rows.Close()
	var out []DetectorWindow
	for rows.Next() {
		var w DetectorWindow
		if err := rows.Scan(&w.Kind, &w.From, &w.To, &w.Score, &w.Confidence, &w.Value); err != nil {
			return nil, fmt.Errorf("store: unable to scan detector window: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
