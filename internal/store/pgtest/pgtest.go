// Package pgtest gives tests an isolated PostgreSQL: a transaction rolled back at
// cleanup, or a private schema dropped at cleanup for tests that run a whole server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/migrations"
)

// DefaultURL is used when TEST_DATABASE_URL is not set; `make test` creates this database.
const DefaultURL = "postgres://livecheck:livecheck@127.0.0.1:5432/livecheck_test?sslmode=disable"

// URL returns the test database URL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

// Pool returns a process-wide pool on the test database with the migrations (ours
// and River's) applied to its public schema. A test fails (never skips) when the database is unreachable:
// `make test` is responsible for starting it.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	poolOnce.Do(func() {
		ctx := context.Background()
		pool, poolErr = store.Open(ctx, URL())
		if poolErr != nil {
			return
		}
		if _, poolErr = store.New(pool).Migrate(ctx, migrations.FS); poolErr == nil {
			_, poolErr = jobs.Migrate(ctx, pool)
		}
	})
	if poolErr != nil {
		t.Fatalf("pgtest: test database %s: %v (run `make test`, which starts PostgreSQL)", URL(), poolErr)
	}
	return pool
}

// Tx returns a store inside a transaction that is rolled back when the test ends.
func Tx(t testing.TB) (*store.Store, pgx.Tx) {
	t.Helper()
	ctx := context.Background()
	tx, err := Pool(t).Begin(ctx)
	if err != nil {
		t.Fatalf("pgtest: begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return store.New(tx), tx
}

// Schema creates a fresh schema with every migration applied and returns a pool whose
// connections use it; the schema is dropped when the test ends. Use it for tests that
// run a whole server, where work is committed from many goroutines.
func Schema(t testing.TB, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	base := Pool(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := base.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = name
	cfg.MaxConns = 8
	for _, c := range configure {
		c(cfg)
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(func() {
		p.Close()
		_, _ = base.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
	})
	if _, err := store.New(p).Migrate(ctx, migrations.FS); err != nil {
		t.Fatalf("pgtest: migrate schema: %v", err)
	}
	if _, err := jobs.Migrate(ctx, p); err != nil {
		t.Fatalf("pgtest: migrate River's schema: %v", err)
	}
	return p
}

// SchemaURL creates a migrated private schema like Schema and returns a
// database URL selecting it, for a server run as a child process.
func SchemaURL(t testing.TB) string {
	t.Helper()
	p := Schema(t)
	var name string
	if err := p.QueryRow(context.Background(), `SELECT current_schema()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return URL() + "&search_path=" + name
}
