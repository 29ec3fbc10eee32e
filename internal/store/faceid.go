package store

import (
	"context"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/models"
)

// FaceTemplate is one identity seen in a session (internal/faceid): the
// mean descriptor of its samples. Biometric: never log it.
type FaceTemplate struct {
	InterviewID    int64
	CandidateEmail string // filled by FaceReuseCandidates
	SessionStarted time.Time
	Ordinal        int // the identity's index within the session
	Model          string
	Descriptor     []float32
	Samples        int
	Main           bool // the session's main identity (seen longest)
	At             time.Time
}

// SaveFaceTemplates stores a session's templates. A template already stored
// for the same interview, session and ordinal is left as it is, so the
// room's retried writes store each once.
func (s *Store) SaveFaceTemplates(ctx context.Context, ts []FaceTemplate) error {
	for _, t := range ts {
		if len(t.Descriptor) == 0 || t.Model == "" || t.SessionStarted.IsZero() {
			return fmt.Errorf("store: face template needs a descriptor, a model and its session: %w", models.ErrInvalid)
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO face_descriptors (interview_id, model, descriptor, created_at, session_started, ordinal, samples, main)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (interview_id, session_started, ordinal) WHERE session_started IS NOT NULL DO NOTHING`,
			t.InterviewID, t.Model, t.Descriptor, t.At, t.SessionStarted, t.Ordinal, t.Samples, t.Main); err != nil {
			return fmt.Errorf("store: unable to save face template: %w", interpretError(err))
		}
	}
	return nil
}

const faceTemplateCols = `f.interview_id, i.candidate_email, coalesce(f.session_started, f.created_at), f.ordinal, f.model, f.descriptor, f.samples, f.main, f.created_at`

func scanFaceTemplates(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}) ([]FaceTemplate, error) {
	defer rows.Close()
	var out []FaceTemplate
	for rows.Next() {
		var t FaceTemplate
		if err := rows.Scan(&t.InterviewID, &t.CandidateEmail, &t.SessionStarted, &t.Ordinal, &t.Model, &t.Descriptor, &t.Samples, &t.Main, &t.At); err != nil {
			return nil, fmt.Errorf("store: unable to scan face template: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FaceTemplates lists an interview's templates, oldest session first.
func (s *Store) FaceTemplates(ctx context.Context, interviewID int64) ([]FaceTemplate, error) {
	rows, err := s.db.Query(ctx, `SELECT `+faceTemplateCols+` FROM face_descriptors f JOIN interviews i ON i.id = f.interview_id
		WHERE f.interview_id = $1 ORDER BY 3, f.ordinal, f.id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list face templates: %w", err)
	}
	return scanFaceTemplates(rows)
}

// FaceReuseCandidates returns model's templates stored since since for
// other interviews than self, except those a reviewer marked as the same
// person legitimately (identity_marks), newest first, at most limit
// (default 5000; brute force is fine at this scale, docs/ARCHITECTURE.md).
// The caller drops the same candidate's other interviews by e-mail.
func (s *Store) FaceReuseCandidates(ctx context.Context, model string, self int64, since time.Time, limit int) ([]FaceTemplate, error) {
	if limit <= 0 || limit > 50000 {
		limit = 5000
	}
	rows, err := s.db.Query(ctx, `SELECT `+faceTemplateCols+` FROM face_descriptors f JOIN interviews i ON i.id = f.interview_id
		WHERE f.model = $1 AND f.interview_id <> $2 AND f.created_at >= $3
		  AND NOT EXISTS (SELECT 1 FROM identity_marks m WHERE m.interview_id = $2 AND m.other_interview_id = f.interview_id)
		ORDER BY f.created_at DESC, f.id DESC LIMIT $4`, model, self, since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list face reuse candidates: %w", err)
	}
	return scanFaceTemplates(rows)
}

// ReferencePhoto is a candidate's reference photo (re-encoded, without
// metadata) and the descriptor of its face. Biometric: never log it.
type ReferencePhoto struct {
	InterviewID   int64
	JPEG          []byte
	Width, Height int
	Model         string
	Descriptor    []float32
	UploadedBy    *int64
	CreatedAt     time.Time
}

// SaveReferencePhoto stores an interview's reference photo, replacing any
// earlier one.
func (s *Store) SaveReferencePhoto(ctx context.Context, p ReferencePhoto) error {
	if len(p.JPEG) == 0 || len(p.Descriptor) == 0 || p.Model == "" {
		return fmt.Errorf("store: reference photo needs the image, a descriptor and its model: %w", models.ErrInvalid)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO reference_photos (interview_id, jpeg, width, height, model, descriptor, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (interview_id) DO UPDATE SET jpeg = EXCLUDED.jpeg, width = EXCLUDED.width, height = EXCLUDED.height,
			model = EXCLUDED.model, descriptor = EXCLUDED.descriptor, uploaded_by = EXCLUDED.uploaded_by, created_at = EXCLUDED.created_at`,
		p.InterviewID, p.JPEG, p.Width, p.Height, p.Model, p.Descriptor, p.UploadedBy, p.CreatedAt); err != nil {
		return fmt.Errorf("store: unable to save reference photo: %w", interpretError(err))
	}
	return nil
}

// ReferencePhotoOf returns an interview's reference photo, or
// models.ErrNotFound.
func (s *Store) ReferencePhotoOf(ctx context.Context, interviewID int64) (*ReferencePhoto, error) {
	p := ReferencePhoto{InterviewID: interviewID}
	err := s.db.QueryRow(ctx, `SELECT jpeg, width, height, model, descriptor, uploaded_by, created_at FROM reference_photos WHERE interview_id = $1`,
		interviewID).Scan(&p.JPEG, &p.Width, &p.Height, &p.Model, &p.Descriptor, &p.UploadedBy, &p.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch reference photo: %w", interpretError(err))
	}
	return &p, nil
}

// DeleteReferencePhoto removes an interview's reference photo (no error
// when there is none).
func (s *Store) DeleteReferencePhoto(ctx context.Context, interviewID int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM reference_photos WHERE interview_id = $1`, interviewID); err != nil {
		return fmt.Errorf("store: unable to delete reference photo: %w", err)
	}
	return nil
}

// IdentityMark is a reviewer's decision that two interviews legitimately
// show the same person.
type IdentityMark struct {
	InterviewID      int64
	OtherInterviewID int64
	MarkedBy         *int64
	Note             string
	CreatedAt        time.Time
}

// MarkSamePerson records that interviews a and b legitimately show the same
// person (both directions; marking again updates the note).
func (s *Store) MarkSamePerson(ctx context.Context, a, b int64, by *int64, note string, at time.Time) error {
	if a == b {
		return fmt.Errorf("store: an interview cannot be marked against itself: %w", models.ErrInvalid)
	}
	return s.InTx(ctx, func(tx *Store) error {
		for _, p := range [][2]int64{{a, b}, {b, a}} {
			if _, err := tx.db.Exec(ctx, `INSERT INTO identity_marks (interview_id, other_interview_id, marked_by, note, created_at)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (interview_id, other_interview_id) DO UPDATE SET marked_by = EXCLUDED.marked_by, note = EXCLUDED.note, created_at = EXCLUDED.created_at`,
				p[0], p[1], by, note, at); err != nil {
				return fmt.Errorf("store: unable to mark same person: %w", interpretError(err))
			}
		}
		return nil
	})
}

// UnmarkSamePerson removes the mark between a and b (both directions).
func (s *Store) UnmarkSamePerson(ctx context.Context, a, b int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM identity_marks WHERE (interview_id, other_interview_id) IN (($1, $2), ($2, $1))`, a, b); err != nil {
		return fmt.Errorf("store: unable to unmark same person: %w", err)
	}
	return nil
}

// IdentityMarks lists the marks of an interview, newest first.
func (s *Store) IdentityMarks(ctx context.Context, interviewID int64) ([]IdentityMark, error) {
	rows, err := s.db.Query(ctx, `SELECT interview_id, other_interview_id, marked_by, note, created_at FROM identity_marks
		WHERE interview_id = $1 ORDER BY created_at DESC, other_interview_id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list identity marks: %w", err)
	}
	defer rows.Close()
	var out []IdentityMark
	for rows.Next() {
		var m IdentityMark
		if err := rows.Scan(&m.InterviewID, &m.OtherInterviewID, &m.MarkedBy, &m.Note, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: unable to scan identity mark: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SaveSessionEvidence stores evidence images of a session that belong to no
// challenge (the identity reasons' faces, internal/verdict). An image
// already stored for the same interview, kind and time is skipped, so
// retried writes store each once. Biometric: purged, exported and erased
// with the other evidence.
func (s *Store) SaveSessionEvidence(ctx context.Context, evs []Evidence) error {
	for _, e := range evs {
		if len(e.JPEG) == 0 || e.Kind == "" {
			return fmt.Errorf("store: evidence needs an image and a kind: %w", models.ErrInvalid)
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO evidence (interview_id, kind, at, reason, jpeg)
			SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (
				SELECT 1 FROM evidence WHERE interview_id = $1 AND kind = $2 AND at = $3 AND challenge_id IS NULL)`,
			e.InterviewID, e.Kind, e.At, e.Reason, e.JPEG); err != nil {
			return fmt.Errorf("store: unable to save evidence: %w", interpretError(err))
		}
	}
	return nil
}

// IdentityEvidence lists an interview's identity evidence images (kinds
// starting with "identity_": see internal/verdict's identity reasons) in
// time order, without their bytes (EvidenceByID fetches one).
func (s *Store) IdentityEvidence(ctx context.Context, interviewID int64) ([]Evidence, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, at, reason FROM evidence
		WHERE interview_id = $1 AND challenge_id IS NULL AND kind LIKE 'identity\_%'
		ORDER BY at, id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list identity evidence: %w", err)
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
