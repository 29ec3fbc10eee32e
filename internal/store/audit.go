package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry is one append-only audit record.
type AuditEntry struct {
	ID      int64
	At      time.Time
	ActorID *int64
	Actor   string // e-mail of the staff member, "candidate", or "system"
	Action  string // e.g. "interview.create", "user.role", "evidence.view"
	Target  string // e.g. "interview:42"
	Detail  map[string]any
	IP      string
}

// Audit appends an entry. The table refuses UPDATE, DELETE and TRUNCATE.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit detail: %w", err)
	}
	if e.Detail == nil {
		detail = []byte("{}")
	}
	_, err = s.db.Exec(ctx, `INSERT INTO audit_log (actor_id, actor, action, target, detail, ip)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ActorID, e.Actor, e.Action, e.Target, detail, e.IP)
	if err != nil {
		return fmt.Errorf("store: unable to append audit entry: %w", err)
	}
	return nil
}

// AuditLog returns the newest entries first, at most limit, optionally only for one target.
func (s *Store) AuditLog(ctx context.Context, target string, limit int) ([]AuditEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT id, at, actor_id, actor, action, target, detail, ip FROM audit_log
		WHERE $1 = '' OR target = $1 ORDER BY id DESC LIMIT $2`, target, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var detail []byte
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.Target, &detail, &e.IP); err != nil {
			return nil, fmt.Errorf("store: unable to scan audit entry: %w", err)
		}
		if err := json.Unmarshal(detail, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit detail: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
