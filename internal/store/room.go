package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Consent is a candidate's answer to the notice.
type Consent struct {
	InterviewID int64
	BrowserID   string
	Decision    string // given | declined
	At          time.Time
	IP          string
	UserAgent   string
	Notice      string
	Flash       string // flash | fade (no flashing): the candidate's choice; empty means flash
}

// AddConsent records a consent decision.
func (s *Store) AddConsent(ctx context.Context, c Consent) error {
	if c.Flash == "" {
		c.Flash = "flash"
	}
	_, err := s.db.Exec(ctx, `INSERT INTO consents (interview_id, browser_id, decision, at, ip, user_agent, notice, flash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.InterviewID, c.BrowserID, c.Decision, c.At, c.IP, c.UserAgent, c.Notice, c.Flash)
	if err != nil {
		return fmt.Errorf("store: unable to record consent: %w", err)
	}
	return nil
}

// LatestConsent returns the newest consent decision of a browser for an interview.
func (s *Store) LatestConsent(ctx context.Context, interviewID int64, browserID string) (*Consent, error) {
	c := Consent{InterviewID: interviewID, BrowserID: browserID}
	err := s.db.QueryRow(ctx, `SELECT decision, at, ip, user_agent, notice, flash FROM consents
		WHERE interview_id = $1 AND browser_id = $2 ORDER BY at DESC, id DESC LIMIT 1`, interviewID, browserID).
		Scan(&c.Decision, &c.At, &c.IP, &c.UserAgent, &c.Notice, &c.Flash)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch consent: %w", interpretError(err))
	}
	return &c, nil
}

// Consents lists every consent decision of an interview, oldest first.
func (s *Store) Consents(ctx context.Context, interviewID int64) ([]Consent, error) {
	rows, err := s.db.Query(ctx, `SELECT browser_id, decision, at, ip, user_agent, notice, flash FROM consents
		WHERE interview_id = $1 ORDER BY at, id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		c := Consent{InterviewID: interviewID}
		if err := rows.Scan(&c.BrowserID, &c.Decision, &c.At, &c.IP, &c.UserAgent, &c.Notice, &c.Flash); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Attempt is one candidate connection.
type Attempt struct {
	ID          int64
	Key         string // random key given by the live room; "" for none
	InterviewID int64
	BrowserID   string
	IP          string
	UserAgent   string
	StartedAt   time.Time
	EndedAt     *time.Time
	EndReason   *string
	Report      *models.ConnectionReport // nil until the connection ended
}

// StartAttempt records a candidate connection and returns its id. With a key,
// recording the same attempt again is a no-op (callers retry).
func (s *Store) StartAttempt(ctx context.Context, a Attempt) (int64, error) {
	var key *string
	if a.Key != "" {
		key = &a.Key
	}
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO attempts (interview_id, browser_id, ip, user_agent, started_at, key)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING id`,
		a.InterviewID, a.BrowserID, a.IP, a.UserAgent, a.StartedAt, key).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: unable to record attempt: %w", err)
	}
	return id, nil
}

// EndAttemptByKey closes the attempt with this key.
func (s *Store) EndAttemptByKey(ctx context.Context, key string, at time.Time, reason string, r *models.ConnectionReport) error {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT id FROM attempts WHERE key = $1`, key).Scan(&id); err != nil {
		return fmt.Errorf("store: unable to find attempt: %w", interpretError(err))
	}
	return s.EndAttempt(ctx, id, at, reason, r)
}

// EndAttempt closes an attempt with its reason and the connection's report.
func (s *Store) EndAttempt(ctx context.Context, id int64, at time.Time, reason string, r *models.ConnectionReport) error {
	var envJSON []byte
	if r != nil {
		var err error
		if envJSON, err = json.Marshal(r); err != nil {
			return fmt.Errorf("store: attempt environment: %w", err)
		}
	}
	if _, err := s.db.Exec(ctx, `UPDATE attempts SET ended_at = $2, end_reason = $3, environment = $4 WHERE id = $1`,
		id, at, reason, envJSON); err != nil {
		return fmt.Errorf("store: unable to end attempt: %w", err)
	}
	return nil
}

// Attempts lists an interview's candidate connections, oldest first.
func (s *Store) Attempts(ctx context.Context, interviewID int64) ([]Attempt, error) {
	rows, err := s.db.Query(ctx, `SELECT id, COALESCE(key, ''), browser_id, ip, user_agent, started_at, ended_at, end_reason, environment
		FROM attempts WHERE interview_id = $1 ORDER BY started_at, id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		a := Attempt{InterviewID: interviewID}
		var env []byte
		if err := rows.Scan(&a.ID, &a.Key, &a.BrowserID, &a.IP, &a.UserAgent, &a.StartedAt, &a.EndedAt, &a.EndReason, &env); err != nil {
			return nil, err
		}
		if env != nil {
			var r models.ConnectionReport
			if json.Unmarshal(env, &r) == nil {
				a.Report = &r
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SessionResult is the stored summary of a finished session.
type SessionResult struct {
	InterviewID      int64
	Reason           string
	StartedAt        time.Time
	EndedAt          time.Time
	FramesDecoded    int64
	FramesAnalysed   int64
	FramesDropped    int64
	DecodeErrors     int64
	KeyframeRequests int64
	AudioChunks      int64
	FaceAbsent       json.RawMessage
	CameraOff        json.RawMessage
}

// Series is one stored time series.
type Series struct {
	Kind      string
	Biometric bool
	Points    json.RawMessage
}

// SaveSession stores a finished session's summary, series and signals and sets
// the interview's final status, all in one transaction. Saving the same session
// twice is a no-op the second time, so callers may retry. A later session of the
// same interview (after an interruption) replaces the stored series.
func (s *Store) SaveSession(ctx context.Context, r SessionResult, series []Series, signals []models.Signal, status models.InterviewStatus) error {
	return s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `INSERT INTO session_results (interview_id, reason, started_at, ended_at, frames_decoded,
			frames_analysed, frames_dropped, decode_errors, keyframe_requests, audio_chunks, face_absent, camera_off)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (interview_id, started_at) DO NOTHING`,
			r.InterviewID, r.Reason, r.StartedAt, r.EndedAt, r.FramesDecoded, r.FramesAnalysed, r.FramesDropped,
			r.DecodeErrors, r.KeyframeRequests, r.AudioChunks, r.FaceAbsent, r.CameraOff)
		if err != nil {
			return fmt.Errorf("store: unable to save session: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // already stored by an earlier try
		}
		for _, se := range series {
			if _, err := tx.db.Exec(ctx, `INSERT INTO series (interview_id, kind, biometric, points) VALUES ($1, $2, $3, $4)
				ON CONFLICT (interview_id, kind) DO UPDATE SET points = EXCLUDED.points`, r.InterviewID, se.Kind, se.Biometric, se.Points); err != nil {
				return fmt.Errorf("store: unable to save series %s: %w", se.Kind, err)
			}
		}
		if err := tx.insertSignals(ctx, r.InterviewID, signals); err != nil {
			return err
		}
		_, err = tx.db.Exec(ctx, `UPDATE interviews SET status = $2, ended_at = $3 WHERE id = $1`, r.InterviewID, string(status), r.EndedAt)
		if err != nil {
			return fmt.Errorf("store: unable to set final status: %w", err)
		}
		return nil
	})
}

func (s *Store) insertSignals(ctx context.Context, interviewID int64, signals []models.Signal) error {
	for _, sg := range signals {
		var at *time.Time
		if !sg.At.IsZero() {
			at = &sg.At
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO signals (interview_id, kind, value, score, confidence, reason, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, interviewID, sg.Kind, sg.Value, sg.Score, sg.Confidence, sg.Reason, at); err != nil {
			return fmt.Errorf("store: unable to save signal %s: %w", sg.Kind, err)
		}
	}
	return nil
}

// Session returns the stored summary of an interview's latest session.
func (s *Store) Session(ctx context.Context, interviewID int64) (*SessionResult, error) {
	r := SessionResult{InterviewID: interviewID}
	err := s.db.QueryRow(ctx, `SELECT reason, started_at, ended_at, frames_decoded, frames_analysed, frames_dropped,
		decode_errors, keyframe_requests, audio_chunks, face_absent, camera_off FROM session_results WHERE interview_id = $1
		ORDER BY started_at DESC LIMIT 1`, interviewID).
		Scan(&r.Reason, &r.StartedAt, &r.EndedAt, &r.FramesDecoded, &r.FramesAnalysed, &r.FramesDropped, &r.DecodeErrors,
			&r.KeyframeRequests, &r.AudioChunks, &r.FaceAbsent, &r.CameraOff)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch session: %w", interpretError(err))
	}
	return &r, nil
}

// Signals lists an interview's signals.
func (s *Store) Signals(ctx context.Context, interviewID int64) ([]models.Signal, error) {
	rows, err := s.db.Query(ctx, `SELECT kind, value, score, confidence, reason, at FROM signals WHERE interview_id = $1 ORDER BY id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list signals: %w", err)
	}
	defer rows.Close()
	var out []models.Signal
	for rows.Next() {
		var sg models.Signal
		var at *time.Time
		if err := rows.Scan(&sg.Kind, &sg.Value, &sg.Score, &sg.Confidence, &sg.Reason, &at); err != nil {
			return nil, err
		}
		if at != nil {
			sg.At = *at
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// SeriesOf returns one stored series.
func (s *Store) SeriesOf(ctx context.Context, interviewID int64, kind string) (*Series, error) {
	se := Series{Kind: kind}
	err := s.db.QueryRow(ctx, `SELECT biometric, points FROM series WHERE interview_id = $1 AND kind = $2`, interviewID, kind).
		Scan(&se.Biometric, &se.Points)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch series: %w", interpretError(err))
	}
	return &se, nil
}

// InterruptLiveInterviews marks interviews left "live" by a server that stopped
// without ending them (a crash or kill) and closes their open attempts; it
// returns how many interviews. Run at start-up of node self, before any room
// exists: interviews leased by another node whose lease has not expired are
// left alone (they are live there), and self's own leases from its previous
// run are dropped. The candidate may still rejoin until the link expires.
func (s *Store) InterruptLiveInterviews(ctx context.Context, now time.Time, self string) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM interview_leases WHERE node_id = $1`, self); err != nil {
			return fmt.Errorf("store: unable to drop old leases: %w", err)
		}
		const elsewhere = `EXISTS (SELECT 1 FROM interview_leases l WHERE l.interview_id = %s AND l.expires_at > now())`
		tag, err := tx.db.Exec(ctx, `UPDATE interviews i SET status = 'interrupted', ended_at = $1
			WHERE status = 'live' AND NOT `+fmt.Sprintf(elsewhere, "i.id"), now)
		if err != nil {
			return fmt.Errorf("store: unable to mark interrupted interviews: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.db.Exec(ctx, `UPDATE attempts a SET ended_at = $1, end_reason = 'server stopped'
			WHERE ended_at IS NULL AND NOT `+fmt.Sprintf(elsewhere, "a.interview_id"), now); err != nil {
			return fmt.Errorf("store: unable to close attempts: %w", err)
		}
		return nil
	})
	return n, err
}

// RefusedAttempt records a candidate connection that was turned away (the
// link is in use in another browser): an attempt that ended as it started.
func (s *Store) RefusedAttempt(ctx context.Context, a Attempt, reason string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO attempts (interview_id, browser_id, ip, user_agent, started_at, ended_at, end_reason)
		VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`,
		a.InterviewID, a.BrowserID, a.IP, a.UserAgent, a.StartedAt, reason).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: unable to record refused attempt: %w", err)
	}
	return id, nil
}
