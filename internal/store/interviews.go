package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

const interviewColumns = `id, candidate_name, candidate_email, claimed_city, claimed_country, scheduled_at, notes,
	status, token_hash, expires_at, revoked_at, invite_sent_at, created_by, created_at, started_at, ended_at`

func scanInterview(row interface{ Scan(...any) error }) (*models.Interview, error) {
	var iv models.Interview
	var status string
	var createdBy *int64
	if err := row.Scan(&iv.ID, &iv.CandidateName, &iv.CandidateEmail, &iv.ClaimedCity, &iv.ClaimedCountry,
		&iv.ScheduledAt, &iv.Notes, &status, &iv.TokenHash, &iv.ExpiresAt, &iv.RevokedAt, &iv.InviteSentAt, &createdBy,
		&iv.CreatedAt, &iv.StartedAt, &iv.EndedAt); err != nil {
		return nil, err
	}
	iv.Status = models.InterviewStatus(status)
	if createdBy != nil {
		iv.CreatedBy = *createdBy
	}
	return &iv, nil
}

// CreateInterview inserts iv (status scheduled) and sets its ID and CreatedAt.
func (s *Store) CreateInterview(ctx context.Context, iv *models.Interview) error {
	var createdBy *int64
	if iv.CreatedBy != 0 {
		createdBy = &iv.CreatedBy
	}
	iv.Status = models.StatusScheduled
	err := s.db.QueryRow(ctx, `INSERT INTO interviews (candidate_name, candidate_email, claimed_city, claimed_country,
		scheduled_at, notes, status, token_hash, expires_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, created_at`,
		iv.CandidateName, iv.CandidateEmail, iv.ClaimedCity, iv.ClaimedCountry, iv.ScheduledAt, iv.Notes,
		string(iv.Status), iv.TokenHash, iv.ExpiresAt, createdBy).Scan(&iv.ID, &iv.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: unable to create interview: %w", interpretError(err))
	}
	return nil
}

// Interview returns one interview.
func (s *Store) Interview(ctx context.Context, id int64) (*models.Interview, error) {
	iv, err := scanInterview(s.db.QueryRow(ctx, `SELECT `+interviewColumns+` FROM interviews WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch interview: %w", interpretError(err))
	}
	return iv, nil
}

// InterviewByTokenHash returns the interview whose join token hashes to h.
func (s *Store) InterviewByTokenHash(ctx context.Context, h []byte) (*models.Interview, error) {
	iv, err := scanInterview(s.db.QueryRow(ctx, `SELECT `+interviewColumns+` FROM interviews WHERE token_hash = $1`, h))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch interview: %w", interpretError(err))
	}
	return iv, nil
}

// InterviewScope is the set of interviews someone may see, decided by
// internal/interview (the one place of that rule): every interview, or those
// created by OwnerID and, when Team is set, by members of that team.
type InterviewScope struct {
	All     bool
	OwnerID int64
	Team    string
}

// inScope is the SQL form of an InterviewScope whose fields are the query
// parameters $n (All), $n+1 (OwnerID) and $n+2 (Team).
func inScope(n int) string {
	return fmt.Sprintf(`($%d OR created_by = $%d OR ($%d <> '' AND created_by IN (SELECT id FROM users WHERE team = $%d)))`, n, n+1, n+2, n+2)
}

// InterviewInScope returns one interview if it is in scope; models.ErrNotFound
// otherwise, so that interviews out of scope look like interviews that do not exist.
func (s *Store) InterviewInScope(ctx context.Context, id int64, sc InterviewScope) (*models.Interview, error) {
	iv, err := scanInterview(s.db.QueryRow(ctx, `SELECT `+interviewColumns+` FROM interviews WHERE id = $1 AND `+inScope(2),
		id, sc.All, sc.OwnerID, sc.Team))
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch interview: %w", interpretError(err))
	}
	return iv, nil
}

// InterviewFilter narrows the dashboard list.
type InterviewFilter struct {
	Search string // matched against name, e-mail, city, country
	Limit  int
	// Scope limits the list to what the viewer may see; nil: every interview
	// (commands and jobs, not requests).
	Scope *InterviewScope
}

// Interviews lists interviews newest first.
func (s *Store) Interviews(ctx context.Context, f InterviewFilter) ([]*models.Interview, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	sc := InterviewScope{All: true}
	if f.Scope != nil {
		sc = *f.Scope
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(f.Search)) + "%"
	rows, err := s.db.Query(ctx, `SELECT `+interviewColumns+` FROM interviews
		WHERE ($1 = '%%' OR candidate_name ILIKE $1 OR candidate_email ILIKE $1 OR claimed_city ILIKE $1 OR claimed_country ILIKE $1)
		AND `+inScope(3)+`
		ORDER BY created_at DESC, id DESC LIMIT $2`, pattern, f.Limit, sc.All, sc.OwnerID, sc.Team)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list interviews: %w", err)
	}
	defer rows.Close()
	var out []*models.Interview
	for rows.Next() {
		iv, err := scanInterview(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to scan interview: %w", err)
		}
		out = append(out, iv)
	}
	return out, rows.Err()
}

// RevokeInterview withdraws the join link. Revoking a live or finished interview is models.ErrConflict.
func (s *Store) RevokeInterview(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE interviews SET status = 'revoked', revoked_at = $2
		WHERE id = $1 AND status = 'scheduled'`, id, now)
	if err != nil {
		return fmt.Errorf("store: unable to revoke interview: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.Interview(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: unable to revoke interview: %w", models.ErrConflict)
	}
	return nil
}

// ReplaceInterviewToken stores a new join token hash and expiry; the old link stops working.
func (s *Store) ReplaceInterviewToken(ctx context.Context, id int64, tokenHash []byte, expires time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE interviews SET token_hash = $2, expires_at = $3
		WHERE id = $1 AND status IN ('scheduled', 'live')`, id, tokenHash, expires)
	if err != nil {
		return fmt.Errorf("store: unable to replace token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.Interview(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: unable to replace token: %w", models.ErrConflict)
	}
	return nil
}

// MarkInviteSent records when the invite e-mail was accepted by the SMTP server.
func (s *Store) MarkInviteSent(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.Exec(ctx, `UPDATE interviews SET invite_sent_at = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("store: unable to mark invite: %w", err)
	}
	return nil
}

// SetInterviewStatus moves an interview to status, stamping started_at when it goes
// live for the first time and ended_at when it ends.
func (s *Store) SetInterviewStatus(ctx context.Context, id int64, status models.InterviewStatus, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE interviews SET status = $2,
		started_at = CASE WHEN $2 = 'live' THEN COALESCE(started_at, $3) ELSE started_at END,
		ended_at = CASE WHEN $2 IN ('completed', 'flagged', 'interrupted') THEN $3 ELSE ended_at END
		WHERE id = $1`, id, string(status), now)
	if err != nil {
		return fmt.Errorf("store: unable to set interview status: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: unable to set interview status: %w", models.ErrNotFound)
	}
	return nil
}

// SetDeclined records that the candidate declined the analysis (declined true:
// a scheduled interview becomes declined) or changed their mind (false: a
// declined interview is scheduled again). It reports whether the status changed;
// any other status is left alone.
func (s *Store) SetDeclined(ctx context.Context, id int64, declined bool, now time.Time) (bool, error) {
	from, to := models.StatusScheduled, models.StatusDeclined
	if !declined {
		from, to = to, from
	}
	tag, err := s.db.Exec(ctx, `UPDATE interviews SET status = $3,
		declined_at = CASE WHEN $3 = 'declined' THEN $4 ELSE declined_at END
		WHERE id = $1 AND status = $2`, id, string(from), string(to), now)
	if err != nil {
		return false, fmt.Errorf("store: unable to set declined: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// InterviewNames returns the candidate names of the given interviews, by id
// (for showing audit targets by name). Unknown ids are left out.
func (s *Store) InterviewNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, candidate_name FROM interviews WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch interview names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("store: unable to scan interview name: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}
