package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AttemptNetwork is the network and device facts of one candidate connection
// (see internal/netsig): public page and media addresses, device fingerprint,
// and the ICE report kept for the reviewer console.
type AttemptNetwork struct {
	AttemptID   int64
	InterviewID int64
	At          time.Time
	IPs         []string // public addresses, page and media
	Fingerprint string   // netsig.Fingerprint, "" when unknown
	FPStrength  float64
	ICE         json.RawMessage // free-form JSON; nil stores {}
}

// SaveAttemptNetwork stores or replaces the facts of an attempt.
func (s *Store) SaveAttemptNetwork(ctx context.Context, n AttemptNetwork) error {
	if n.IPs == nil {
		n.IPs = []string{}
	}
	if n.ICE == nil {
		n.ICE = json.RawMessage("{}")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO attempt_network (attempt_id, interview_id, at, ips, fingerprint, fp_strength, ice)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (attempt_id) DO UPDATE SET at = EXCLUDED.at, ips = EXCLUDED.ips, fingerprint = EXCLUDED.fingerprint,
			fp_strength = EXCLUDED.fp_strength, ice = EXCLUDED.ice`,
		n.AttemptID, n.InterviewID, n.At, n.IPs, n.Fingerprint, n.FPStrength, n.ICE)
	if err != nil {
		return fmt.Errorf("store: unable to save attempt network facts: %w", interpretError(err))
	}
	return nil
}

// AttemptNetworks lists an interview's network facts, oldest first.
func (s *Store) AttemptNetworks(ctx context.Context, interviewID int64) ([]AttemptNetwork, error) {
	rows, err := s.db.Query(ctx, `SELECT attempt_id, interview_id, at, ips, fingerprint, fp_strength, ice
		FROM attempt_network WHERE interview_id = $1 ORDER BY at, attempt_id`, interviewID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list attempt network facts: %w", err)
	}
	defer rows.Close()
	var out []AttemptNetwork
	for rows.Next() {
		var n AttemptNetwork
		var strength float32
		if err := rows.Scan(&n.AttemptID, &n.InterviewID, &n.At, &n.IPs, &n.Fingerprint, &strength, &n.ICE); err != nil {
			return nil, fmt.Errorf("store: unable to scan attempt network facts: %w", err)
		}
		n.FPStrength = float64(strength)
		out = append(out, n)
	}
	return out, rows.Err()
}

// ReuseQuery asks for other interviews that share an identifier with one.
type ReuseQuery struct {
	InterviewID int64    // the interview being checked (excluded from the result)
	IPs         []string // its public addresses (attempts.ip and attempt_network.ips are searched)
	BrowserIDs  []string // its candidate browser cookies (attempts.browser_id)
	Fingerprint string   // its device fingerprint
	Since       time.Time
	Limit       int // default 200
}

// ReuseMatch is one other interview sharing an identifier. Its fields are
// those of netsig.Sighting: convert with netsig.Sighting(m).
type ReuseMatch struct {
	InterviewID    int64
	CandidateEmail string
	Match          string // "ip", "browser" or "fingerprint"
	Value          string // the shared value
	At             time.Time
}

// ReuseMatches returns the other interviews seen since q.Since with one of the
// same IPs, browser cookies or the same fingerprint, newest first, one row per
// interview, kind and value. "The same IP / fingerprint in the last N days" is
// Since = now − N days.
func (s *Store) ReuseMatches(ctx context.Context, q ReuseQuery) ([]ReuseMatch, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	if q.IPs == nil {
		q.IPs = []string{}
	}
	if q.BrowserIDs == nil {
		q.BrowserIDs = []string{}
	}
	rows, err := s.db.Query(ctx, `SELECT m.interview_id, i.candidate_email, m.match, m.value, max(m.at) AS at FROM (
			SELECT a.interview_id, 'ip' AS match, a.ip AS value, a.started_at AS at FROM attempts a
				WHERE a.ip = ANY ($2) AND a.started_at >= $5
			UNION ALL
			SELECT n.interview_id, 'ip', x.ip, n.at FROM attempt_network n CROSS JOIN LATERAL unnest(n.ips) AS x(ip)
				WHERE n.ips && $2 AND x.ip = ANY ($2) AND n.at >= $5
			UNION ALL
			SELECT a.interview_id, 'browser', a.browser_id, a.started_at FROM attempts a
				WHERE a.browser_id <> '' AND a.browser_id = ANY ($3) AND a.started_at >= $5
			UNION ALL
			SELECT n.interview_id, 'fingerprint', n.fingerprint, n.at FROM attempt_network n
				WHERE $4 <> '' AND n.fingerprint = $4 AND n.at >= $5
		) m JOIN interviews i ON i.id = m.interview_id
		WHERE m.interview_id <> $1
		GROUP BY m.interview_id, i.candidate_email, m.match, m.value
		ORDER BY at DESC, m.interview_id, m.match, m.value LIMIT $6`,
		q.InterviewID, q.IPs, q.BrowserIDs, q.Fingerprint, q.Since, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up reuse: %w", err)
	}
	defer rows.Close()
	var out []ReuseMatch
	for rows.Next() {
		var m ReuseMatch
		if err := rows.Scan(&m.InterviewID, &m.CandidateEmail, &m.Match, &m.Value, &m.At); err != nil {
			return nil, fmt.Errorf("store: unable to scan reuse match: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FaceDescriptor is a stored face embedding (the bare form of a
// FaceTemplate). Biometric: never log it.
type FaceDescriptor struct {
	InterviewID    int64
	CandidateEmail string
	Descriptor     []float32
	At             time.Time
}

// SaveFaceDescriptor stores an interview's face embedding computed by model
// (descriptors of different models are never compared).
func (s *Store) SaveFaceDescriptor(ctx context.Context, interviewID int64, model string, descriptor []float32, at time.Time) error {
	if len(descriptor) == 0 {
		return fmt.Errorf("store: empty face descriptor")
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO face_descriptors (interview_id, model, descriptor, created_at) VALUES ($1, $2, $3, $4)`,
		interviewID, model, descriptor, at); err != nil {
		return fmt.Errorf("store: unable to save face descriptor: %w", interpretError(err))
	}
	return nil
}

// FaceDescriptors returns model's descriptors stored since since for
// interviews other than exclude, newest first, at most limit (default 5000).
// Retention bounds how far back they go.
func (s *Store) FaceDescriptors(ctx context.Context, model string, since time.Time, exclude int64, limit int) ([]FaceDescriptor, error) {
	if limit <= 0 {
		limit = 5000
	}
	rows, err := s.db.Query(ctx, `SELECT f.interview_id, i.candidate_email, f.descriptor, f.created_at
		FROM face_descriptors f JOIN interviews i ON i.id = f.interview_id
		WHERE f.model = $1 AND f.created_at >= $2 AND f.interview_id <> $3 ORDER BY f.created_at DESC, f.id DESC LIMIT $4`,
		model, since, exclude, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list face descriptors: %w", err)
	}
	defer rows.Close()
	var out []FaceDescriptor
	for rows.Next() {
		var d FaceDescriptor
		if err := rows.Scan(&d.InterviewID, &d.CandidateEmail, &d.Descriptor, &d.At); err != nil {
			return nil, fmt.Errorf("store: unable to scan face descriptor: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
