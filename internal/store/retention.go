package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/livecheck/livecheck/models"
)

// PurgeResult counts the biometric rows a purge deleted.
type PurgeResult struct {
	Series          int64 // biometric time series (face presence, landmarks, pose, eye/mouth, voice features)
	Evidence        int64 // evidence images
	FaceDescriptors int64 // face templates (internal/faceid)
	ReferencePhotos int64 // candidates' reference photos
	IdentityMarks   int64 // "same person" marks (both directions) past the period whose pair lost its face templates
	Checkpoints     int64 // checkpoints of sessions never finished (face templates; their measurement parts, biometric series, go with them)
}

// Total is the number of rows deleted.
func (r PurgeResult) Total() int64 {
	return r.Series + r.Evidence + r.FaceDescriptors + r.ReferencePhotos + r.IdentityMarks + r.Checkpoints
}

// PurgeBiometric deletes, in one transaction, the biometric evidence created
// before before: series flagged biometric, evidence images (challenge and
// identity faces), face descriptors (templates), reference photos,
// checkpoints of sessions never finished (their face templates, and with
// them their measurement parts: biometric series), and
// identity marks of that age whose pair has lost its templates. Signals, verdicts, challenge results, consents and the audit
// log are not biometric and stay. The evidence table is skipped when it does
// not exist yet.
func (s *Store) PurgeBiometric(ctx context.Context, before time.Time) (PurgeResult, error) {
	var r PurgeResult
	err := s.InTx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `DELETE FROM series WHERE biometric AND created_at < $1`, before)
		if err != nil {
			return fmt.Errorf("store: unable to purge series: %w", err)
		}
		r.Series = tag.RowsAffected()
		var hasEvidence bool
		if err := tx.db.QueryRow(ctx, `SELECT to_regclass('evidence') IS NOT NULL`).Scan(&hasEvidence); err != nil {
			return fmt.Errorf("store: unable to look for the evidence table: %w", err)
		}
		if hasEvidence {
			if tag, err = tx.db.Exec(ctx, `DELETE FROM evidence WHERE created_at < $1`, before); err != nil {
				return fmt.Errorf("store: unable to purge evidence: %w", err)
			}
			r.Evidence = tag.RowsAffected()
		}
		if tag, err = tx.db.Exec(ctx, `DELETE FROM face_descriptors WHERE created_at < $1`, before); err != nil {
			return fmt.Errorf("store: unable to purge face descriptors: %w", err)
		}
		r.FaceDescriptors = tag.RowsAffected()
		if tag, err = tx.db.Exec(ctx, `DELETE FROM reference_photos WHERE created_at < $1`, before); err != nil {
			return fmt.Errorf("store: unable to purge reference photos: %w", err)
		}
		r.ReferencePhotos = tag.RowsAffected()
		// A reviewer's "same person legitimately" mark links two people's
		// faces; once one side has no face template left it can never
		// match again, so past the period it goes too.
		if tag, err = tx.db.Exec(ctx, `DELETE FROM identity_marks m WHERE m.created_at < $1 AND (
				NOT EXISTS (SELECT 1 FROM face_descriptors f WHERE f.interview_id = m.interview_id) OR
				NOT EXISTS (SELECT 1 FROM face_descriptors f WHERE f.interview_id = m.other_interview_id))`, before); err != nil {
			return fmt.Errorf("store: unable to purge identity marks: %w", err)
		}
		r.IdentityMarks = tag.RowsAffected()
		// A checkpoint left by a session that never finished (its node died
		// and the candidate did not come back) holds face templates; its
		// measurement parts (series of face presence, landmarks and audio
		// levels) go with it (ON DELETE CASCADE, migration 013).
		if tag, err = tx.db.Exec(ctx, `DELETE FROM session_checkpoints WHERE at < $1`, before); err != nil {
			return fmt.Errorf("store: unable to purge checkpoints: %w", err)
		}
		r.Checkpoints = tag.RowsAffected()
		return nil
	})
	return r, err
}

// interviewTables lists the tables of the current schema that hold
// per-interview rows (a column interview_id), with their bytea columns.
// Found from the catalog, so tables added by later migrations (verdicts,
// reviews, challenges…) are exported and erased without code changes here.
func (s *Store) interviewTables(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.Query(ctx, `SELECT c.table_name,
			coalesce(array_agg(b.column_name ORDER BY b.ordinal_position) FILTER (WHERE b.column_name IS NOT NULL), '{}')
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		LEFT JOIN information_schema.columns b ON b.table_schema = c.table_schema AND b.table_name = c.table_name AND b.data_type = 'bytea'
		WHERE c.table_schema = current_schema() AND c.column_name = 'interview_id'
		GROUP BY c.table_name`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list interview tables: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var name string
		var blobs []string
		if err := rows.Scan(&name, &blobs); err != nil {
			return nil, fmt.Errorf("store: unable to scan interview table: %w", err)
		}
		out[name] = blobs
	}
	return out, rows.Err()
}

// Blob is a binary column value of an exported row (an evidence JPEG).
type Blob struct {
	Table  string
	Column string
	Row    string // the row's id, or its index in the table's rows when it has none
	Data   []byte
}

// BlobName is the path of a blob in an export, which its row holds in place of
// the bytes: "files/<table>/<row>_<column>.jpg" for JPEG data, ".bin" otherwise.
func BlobName(b Blob) string {
	ext := ".bin"
	if len(b.Data) >= 3 && b.Data[0] == 0xFF && b.Data[1] == 0xD8 && b.Data[2] == 0xFF {
		ext = ".jpg"
	}
	return "files/" + b.Table + "/" + b.Row + "_" + b.Column + ext
}

// InterviewExport is everything stored about one interview.
type InterviewExport struct {
	// Interview is the interview row as JSON, without the join token hash.
	Interview json.RawMessage
	// Tables maps each per-interview table to its rows as JSON objects; binary
	// columns are replaced by their BlobName.
	Tables map[string][]json.RawMessage
	Blobs  []Blob
}

// ExportInterview collects every row about an interview, from every table with
// an interview_id column, in one read-only repeatable-read snapshot (or the
// caller's transaction when the store already is one).
func (s *Store) ExportInterview(ctx context.Context, interviewID int64) (*InterviewExport, error) {
	out := &InterviewExport{Tables: map[string][]json.RawMessage{}}
	err := s.readSnapshot(ctx, func(tx *Store) error { return tx.exportInterview(ctx, interviewID, out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readSnapshot runs fn in a read-only repeatable-read transaction on a pool,
// or in a savepoint of the current transaction.
func (s *Store) readSnapshot(ctx context.Context, fn func(tx *Store) error) error {
	b, ok := s.db.(interface {
		BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	})
	if !ok {
		return s.InTx(ctx, fn)
	}
	tx, err := b.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("store: begin snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(&Store{db: tx}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (s *Store) exportInterview(ctx context.Context, interviewID int64, out *InterviewExport) error {
	err := s.db.QueryRow(ctx, `SELECT to_jsonb(i) - 'token_hash' FROM interviews i WHERE i.id = $1`, interviewID).Scan(&out.Interview)
	if err != nil {
		return fmt.Errorf("store: unable to export interview: %w", interpretError(err))
	}
	tables, err := s.interviewTables(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, table := range names {
		blobCols := tables[table]
		sel := `to_jsonb(t) - $2::text[]`
		for _, c := range blobCols {
			sel += ", t." + pgx.Identifier{c}.Sanitize()
		}
		rows, err := s.db.Query(ctx, `SELECT `+sel+` FROM `+pgx.Identifier{table}.Sanitize()+` t WHERE t.interview_id = $1`,
			interviewID, blobCols)
		if err != nil {
			return fmt.Errorf("store: unable to export %s: %w", table, err)
		}
		var list []json.RawMessage
		for rows.Next() {
			var raw []byte
			blobs := make([][]byte, len(blobCols))
			dest := []any{&raw}
			for i := range blobs {
				dest = append(dest, &blobs[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to scan %s: %w", table, err)
			}
			if len(blobCols) > 0 {
				var obj map[string]any
				if err := json.Unmarshal(raw, &obj); err != nil {
					rows.Close()
					return fmt.Errorf("store: export %s: %w", table, err)
				}
				row := fmt.Sprint(len(list))
				if id, ok := obj["id"]; ok {
					row = fmt.Sprint(id)
				}
				for i, c := range blobCols {
					if blobs[i] == nil {
						obj[c] = nil
						continue
					}
					b := Blob{Table: table, Column: c, Row: row, Data: blobs[i]}
					out.Blobs = append(out.Blobs, b)
					obj[c] = BlobName(b)
				}
				if raw, err = json.Marshal(obj); err != nil {
					rows.Close()
					return fmt.Errorf("store: export %s: %w", table, err)
				}
			}
			list = append(list, raw)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: unable to export %s: %w", table, err)
		}
		if len(list) > 0 {
			out.Tables[table] = list
		}
	}
	return nil
}

// keptOnErasure are the per-interview tables an erasure leaves: the consent
// record and the erasure record itself. (The audit log has no interview_id.)
var keptOnErasure = map[string]bool{"consents": true, "data_erasures": true}

// ErasedName replaces the candidate's name in an erased interview.
const ErasedName = "(erased)"

// EraseInterview deletes everything stored about an interview's candidate
// except the consent record and the audit log: the rows of every other table
// with an interview_id column, and the candidate's name, e-mail, claimed
// location and notes on the interview row. The row itself stays (the consents
// hang on it) with its link revoked, and data_erasures records the erasure.
// A live interview cannot be erased (ErrConflict). Erasing twice is allowed.
// It returns the rows deleted per table.
func (s *Store) EraseInterview(ctx context.Context, interviewID int64, by *int64, at time.Time) (map[string]int64, error) {
	deleted := map[string]int64{}
	err := s.InTx(ctx, func(tx *Store) error {
		var status string
		if err := tx.db.QueryRow(ctx, `SELECT status FROM interviews WHERE id = $1 FOR UPDATE`, interviewID).Scan(&status); err != nil {
			return fmt.Errorf("store: unable to erase interview: %w", interpretError(err))
		}
		if status == string(models.StatusLive) {
			return fmt.Errorf("store: unable to erase a live interview: %w", models.ErrConflict)
		}
		tables, err := tx.interviewTables(ctx)
		if err != nil {
			return err
		}
		var todo []string
		for t := range tables {
			if !keptOnErasure[t] {
				todo = append(todo, t)
			}
		}
		sort.Strings(todo)
		// Foreign keys between per-interview tables without ON DELETE CASCADE
		// make some deletions wait for others: retry those in later rounds.
		for round := 0; len(todo) > 0; round++ {
			var blocked []string
			var lastErr error
			for _, t := range todo {
				var n int64
				err := tx.InTx(ctx, func(sp *Store) error {
					tag, err := sp.db.Exec(ctx, `DELETE FROM `+pgx.Identifier{t}.Sanitize()+` WHERE interview_id = $1`, interviewID)
					n = tag.RowsAffected()
					return err
				})
				var pgErr *pgconn.PgError
				switch {
				case err == nil:
					deleted[t] += n
				case errors.As(err, &pgErr) && pgErr.Code == "23503":
					blocked, lastErr = append(blocked, t), err
				default:
					return fmt.Errorf("store: unable to erase %s: %w", t, err)
				}
			}
			if len(blocked) == len(todo) {
				return fmt.Errorf("store: unable to erase interview data: %w", lastErr)
			}
			todo = blocked
		}
		// Identity marks are stored in both directions: the other
		// interview's row names this one and goes too.
		tag, err := tx.db.Exec(ctx, `DELETE FROM identity_marks WHERE other_interview_id = $1`, interviewID)
		if err != nil {
			return fmt.Errorf("store: unable to erase identity marks: %w", err)
		}
		deleted["identity_marks"] += tag.RowsAffected()
		if _, err := tx.db.Exec(ctx, `UPDATE interviews SET candidate_name = $2, candidate_email = '', claimed_city = '',
			claimed_country = '', notes = '', revoked_at = coalesce(revoked_at, $3), expires_at = least(expires_at, $3),
			status = CASE WHEN status = 'scheduled' THEN 'revoked' ELSE status END WHERE id = $1`, interviewID, ErasedName, at); err != nil {
			return fmt.Errorf("store: unable to scrub interview: %w", err)
		}
		counts, err := json.Marshal(deleted)
		if err != nil {
			return fmt.Errorf("store: erasure counts: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `INSERT INTO data_erasures (interview_id, erased_at, erased_by, deleted) VALUES ($1, $2, $3, $4)
			ON CONFLICT (interview_id) DO UPDATE SET erased_at = EXCLUDED.erased_at, erased_by = EXCLUDED.erased_by,
				deleted = data_erasures.deleted || EXCLUDED.deleted`, interviewID, at, by, counts); err != nil {
			return fmt.Errorf("store: unable to record erasure: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// Erasure is the record of a candidate data erasure.
type Erasure struct {
	InterviewID int64
	ErasedAt    time.Time
	ErasedBy    *int64
	Deleted     map[string]int64
}

// ErasureOf returns the erasure record of an interview, or models.ErrNotFound.
func (s *Store) ErasureOf(ctx context.Context, interviewID int64) (*Erasure, error) {
	e := Erasure{InterviewID: interviewID}
	var deleted []byte
	err := s.db.QueryRow(ctx, `SELECT erased_at, erased_by, deleted FROM data_erasures WHERE interview_id = $1`, interviewID).
		Scan(&e.ErasedAt, &e.ErasedBy, &deleted)
	if err != nil {
		return nil, fmt.Errorf("store: unable to fetch erasure: %w", interpretError(err))
	}
	if err := json.Unmarshal(deleted, &e.Deleted); err != nil {
		return nil, fmt.Errorf("store: erasure counts: %w", err)
	}
	return &e, nil
}
