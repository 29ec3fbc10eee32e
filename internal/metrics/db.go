package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TraceQueries makes a pool record every statement's round trip in
// livecheck_db_query_seconds{op}, op being the statement's verb (select,
// insert, update, delete, with, ..., begin, commit, rollback): pass it to
// store.Open. pgx calls the tracer around each statement, from its start
// until its result was read.
func TraceQueries(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = queryTracer{} }

// queryTracer is a pgx.QueryTracer.
type queryTracer struct{}

var _ pgx.QueryTracer = queryTracer{}

type traceKey struct{}

type traceStart struct {
	op string
	at time.Time
}

func (queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, traceKey{}, traceStart{op: verb(d.SQL), at: time.Now()})
}

func (queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(traceKey{}).(traceStart); ok {
		ObserveDB(s.op, s.at)
	}
}

func verb(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	i := strings.IndexAny(sql, " \t\r\n(;")
	if i < 0 {
		i = len(sql)
	}
	switch v := strings.ToLower(sql[:i]); v {
	case "select", "insert", "update", "delete", "with", "create", "alter", "drop", "lock", "set",
		"begin", "commit", "rollback", "savepoint", "release":
		return v
	}
	return "other"
}
