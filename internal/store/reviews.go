package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Review is a reviewer's decision on a session.
type Review struct {
	ID          int64
	InterviewID int64
	ReviewerID  *int64
	Reviewer    string
	Decision    string // approve | reject | escalate
	Notes       string
	At          time.Time
}

// AddReview stores a decision.
func (s *Store) AddReview(ctx context.Context, r *Review) error {
	err := s.db.QueryRow(ctx, `INSERT INTO reviews (interview_id, reviewer_id, reviewer, decision, notes, at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, r.InterviewID, r.ReviewerID, r.Reviewer, r.Decision, r.Notes, r.At).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: unable to save review: %w", interpretError(err))
	}
	return nil
}

// Reviews lists an interview's decisions, newest first.
func (s *Store) Reviews(ctx context.Context, interviewID int64) ([]Review, error) {
	rows, err := s.db.Query(ctx, `SELECT id, reviewer_id, reviewer, decision, notes, at FROM reviews
		WHERE interview_id = $1 ORDER BY at DESC, id DESC`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list reviews: %w", err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		r := Review{InterviewID: interviewID}
		if err := rows.Scan(&r.ID, &r.ReviewerID, &r.Reviewer, &r.Decision, &r.Notes, &r.At); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// QueueItem is one finished session in the reviewers' queue.
type QueueItem struct {
	Interview    *models.Interview
	SessionEnded time.Time
	Risk         float64 // 0..100: the verdict score, or the signals' score when no verdict exists
	Decision     string  // verified | review | failed, or "" before a verdict
	Failed       int     // failed challenges
	LastReview   string  // latest reviewer decision, "" when none
	LastReviewAt *time.Time
}

// QueueFilter narrows and orders the queue.
type QueueFilter struct {
	Decision string // "" (all), verified, review, failed
	Reviewed string // "" (all), "open" (no decision yet), "done"
	Sort     string // "risk" (default: failed and review first, then risk) or "date"
	Limit    int
}

// ReviewQueue lists finished sessions for reviewers: by default sessions whose
// verdict is failed or review first, the riskiest first.
func (s *Store) ReviewQueue(ctx context.Context, f QueueFilter) ([]QueueItem, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	order := `CASE decision WHEN 'failed' THEN 0 WHEN 'review' THEN 1 WHEN '' THEN 2 ELSE 3 END, risk DESC, ended DESC`
	if f.Sort == "date" {
		order = `ended DESC`
	}
	q := `WITH q AS (
		SELECT i.id, r.ended_at AS ended,
		  COALESCE(v.score, COALESCE((SELECT 100 * max(sg.score * sg.confidence) FROM signals sg WHERE sg.interview_id = i.id), 0)) AS risk,
		  COALESCE(v.decision, CASE WHEN i.status = 'flagged' THEN 'review' ELSE '' END) AS decision,
		  (SELECT count(*) FROM challenges c WHERE c.interview_id = i.id AND c.outcome = 'failed') AS failed,
		  (SELECT rv.decision FROM reviews rv WHERE rv.interview_id = i.id ORDER BY rv.at DESC, rv.id DESC LIMIT 1) AS last_review,
		  (SELECT rv.at FROM reviews rv WHERE rv.interview_id = i.id ORDER BY rv.at DESC, rv.id DESC LIMIT 1) AS last_review_at
		FROM interviews i JOIN session_results r ON r.interview_id = i.id
		LEFT JOIN LATERAL (SELECT vd.score, vd.decision FROM ` + verdictSource + ` vd WHERE vd.interview_id = i.id ORDER BY vd.computed_at DESC LIMIT 1) v ON true
	) SELECT q.id, q.ended, q.risk, q.decision, q.failed, COALESCE(q.last_review, ''), q.last_review_at FROM q
	WHERE ($1 = '' OR q.decision = $1)
	  AND ($2 = '' OR ($2 = 'open' AND q.last_review IS NULL) OR ($2 = 'done' AND q.last_review IS NOT NULL))
	ORDER BY ` + order + ` LIMIT $3`
	rows, err := s.db.Query(ctx, q, f.Decision, f.Reviewed, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the review queue: %w", err)
	}
	var items []QueueItem
	var ids []int64
	for rows.Next() {
		var it QueueItem
		var id int64
		if err := rows.Scan(&id, &it.SessionEnded, &it.Risk, &it.Decision, &it.Failed, &it.LastReview, &it.LastReviewAt); err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, it)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		iv, err := s.Interview(ctx, id)
		if err != nil {
			return nil, err
		}
		items[i].Interview = iv
	}
	return items, nil
}

// verdictSource yields (interview_id, score, decision, computed_at) of stored
// verdicts; the queue falls back to signal scores for sessions without one.
var verdictSource = strings.TrimSpace(`(SELECT interview_id, score, decision, computed_at FROM verdicts)`)
