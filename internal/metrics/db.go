package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is the store's connection interface (store.DBTX), repeated here so that
// this package does not import the store.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// DB wraps a store connection so that every statement's round trip is
// recorded in livecheck_db_query_seconds{op}, op being the statement's verb
// (select, insert, update, delete, with, ...), begin or commit. Query times the
// round trip to the first result; QueryRow until the row is scanned.
func DB(db DBTX) DBTX { return timedDB{db} }

type timedDB struct{ db DBTX }

func verb(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	i := strings.IndexAny(sql, " \t\r\n(")
	if i < 0 {
		i = len(sql)
	}
	switch v := strings.ToLower(sql[:i]); v {
	case "select", "insert", "update", "delete", "with", "create", "alter", "drop", "lock", "set":
		return v
	}
	return "other"
}

func (t timedDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	start := time.Now()
	tag, err := t.db.Exec(ctx, sql, args...)
	ObserveDB(verb(sql), start)
	return tag, err
}

func (t timedDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	start := time.Now()
	rows, err := t.db.Query(ctx, sql, args...)
	ObserveDB(verb(sql), start)
	return rows, err
}

func (t timedDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	start := time.Now()
	return timedRow{row: t.db.QueryRow(ctx, sql, args...), op: verb(sql), start: start}
}

func (t timedDB) Begin(ctx context.Context) (pgx.Tx, error) {
	start := time.Now()
	tx, err := t.db.Begin(ctx)
	ObserveDB("begin", start)
	if err != nil {
		return nil, err
	}
	return timedTx{Tx: tx}, nil
}

// timedRow defers the measurement to Scan, where pgx waits for the row.
type timedRow struct {
	row   pgx.Row
	op    string
	start time.Time
}

func (r timedRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	ObserveDB(r.op, r.start)
	return err
}

// timedTx times the statements of a transaction and its commit.
type timedTx struct{ pgx.Tx }

func (t timedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return timedDB{t.Tx}.Exec(ctx, sql, args...)
}

func (t timedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return timedDB{t.Tx}.Query(ctx, sql, args...)
}

func (t timedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return timedDB{t.Tx}.QueryRow(ctx, sql, args...)
}

func (t timedTx) Begin(ctx context.Context) (pgx.Tx, error) { return timedDB{t.Tx}.Begin(ctx) }

func (t timedTx) Commit(ctx context.Context) error {
	start := time.Now()
	err := t.Tx.Commit(ctx)
	ObserveDB("commit", start)
	return err
}
