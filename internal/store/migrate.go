package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Checksum is the SHA-256 of SQL (line endings normalised), recorded
	// when the migration is applied.
	Checksum string
}

// ErrMigrationEdited means an applied migration's file changed since: the
// database and the code may disagree about the schema, so the server refuses
// to start. Restore the file and put the change in a new migration.
var ErrMigrationEdited = errors.New("store: an applied migration was edited")

func checksum(sql string) string {
	sum := sha256.Sum256([]byte(strings.ReplaceAll(sql, "\r\n", "\n")))
	return hex.EncodeToString(sum[:])
}

// LoadMigrations reads NNN_name.up.sql files from fsys in version order.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.up.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q: name must be NNN_name.up.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %q: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".up.sql"), SQL: string(body), Checksum: checksum(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies every migration of fsys not yet recorded in schema_migrations,
// each in its own transaction, and returns the versions it applied. Concurrent
// starts are serialised with an advisory lock. Every applied migration's
// checksum is compared with its file: an edited one fails with
// ErrMigrationEdited and nothing is applied. (Migrations applied before
// checksums were recorded get the checksum of their file now.)
func (s *Store) Migrate(ctx context.Context, fsys fs.FS) ([]int, error) {
	migs, err := LoadMigrations(fsys)
	if err != nil {
		return nil, err
	}
	var applied []int
	err = s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT pg_advisory_xact_lock(7351001)`); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("store: create schema_migrations: %w", err)
		}
		if _, err := tx.db.Exec(ctx, `ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text`); err != nil {
			return fmt.Errorf("store: schema_migrations checksum: %w", err)
		}
		for _, m := range migs {
			var sum *string
			err := tx.db.QueryRow(ctx, `SELECT checksum FROM schema_migrations WHERE version = $1`, m.Version).Scan(&sum)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("store: check migration %d: %w", m.Version, err)
			}
			if err == nil {
				if sum == nil {
					if _, err := tx.db.Exec(ctx, `UPDATE schema_migrations SET checksum = $2 WHERE version = $1`, m.Version, m.Checksum); err != nil {
						return fmt.Errorf("store: record checksum of migration %d: %w", m.Version, err)
					}
				} else if *sum != m.Checksum {
					return fmt.Errorf("%w: %03d_%s differs from what was applied (checksum %.12s…, file %.12s…); restore the file and put the change in a new migration",
						ErrMigrationEdited, m.Version, m.Name, *sum, m.Checksum)
				}
				continue
			}
			err = tx.InTx(ctx, func(mtx *Store) error {
				if _, err := mtx.db.Exec(ctx, m.SQL); err != nil {
					return fmt.Errorf("store: migration %03d_%s: %w", m.Version, m.Name, err)
				}
				_, err := mtx.db.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, m.Version, m.Name, m.Checksum)
				return err
			})
			if err != nil {
				return err
			}
			applied = append(applied, m.Version)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}
