package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
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

// AuditLog returns the newest entries first, at most limit (500 at most), optionally only for one target.
func (s *Store) AuditLog(ctx context.Context, target string, limit int) ([]AuditEntry, error) {
	return s.AuditSearch(ctx, AuditFilter{Target: target, Limit: limit})
}

// AuditFilter narrows the audit log. Empty fields match everything.
type AuditFilter struct {
	Actor  string    // substring of the actor (e-mail, "candidate", "system"), case-insensitive
	Action string    // action prefix, e.g. "review." or "interview.end"
	Target string    // exact target, e.g. "interview:42"
	From   time.Time // entries at or after
	To     time.Time // entries before
	Limit  int       // at most this many, newest first (default and maximum 500)
}

// AuditSearch returns the entries matching f, newest first.
func (s *Store) AuditSearch(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.db.Query(ctx, `SELECT id, at, actor_id, actor, action, target, detail, ip FROM audit_log
		WHERE ($1 = '' OR actor ILIKE '%' || $1 || '%') AND ($2 = '' OR action LIKE $2 || '%')
		  AND ($3 = '' OR target = $3) AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
		ORDER BY id DESC LIMIT $6`, esc.Replace(f.Actor), esc.Replace(f.Action), f.Target, from, to, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to search audit log: %w", err)
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

// AuditOnce appends e unless an entry with the same action and target whose
// detail has the same value under key exists (for writers that retry).
func (s *Store) AuditOnce(ctx context.Context, e AuditEntry, key string) error {
	if _, ok := e.Detail[key]; !ok {
		return fmt.Errorf("store: audit once: detail lacks %q: %w", key, models.ErrInvalid)
	}
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit detail: %w", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO audit_log (actor_id, actor, action, target, detail, ip)
		SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (
			SELECT 1 FROM audit_log WHERE action = $3 AND target = $4 AND detail -> $7 = $5::jsonb -> $7)`,
		e.ActorID, e.Actor, e.Action, e.Target, detail, e.IP, key)
	if err != nil {
		return fmt.Errorf("store: unable to append audit entry: %w", err)
	}
	return nil
}
