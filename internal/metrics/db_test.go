package metrics_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
)

// TestTraceQueriesTimesStatements runs statements and a transaction on a
// pool opened with TraceQueries and checks that each counted under its verb.
func TestTraceQueriesTimesStatements(t *testing.T) {
	ctx := context.Background()
	pool, err := store.Open(ctx, pgtest.URL(), metrics.TraceQueries)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	srv := httptest.NewServer(metrics.Handler())
	defer srv.Close()
	scrape := func() metrics.Samples {
		s, err := metrics.Scrape(ctx, srv.Client(), srv.URL+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := scrape()
	var n int
	if err := pool.QueryRow(ctx, `SELECT 1`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT generate_series(1, 3)`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE trace_test (x int) ON COMMIT DROP`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := metrics.Delta(scrape(), before)
	for op, want := range map[string]float64{"select": 2, "begin": 1, "create": 1, "commit": 1} {
		if got := d.Get("livecheck_db_query_seconds_count", "op", op); got != want {
			t.Errorf("%s statements counted %v, want %v", op, got, want)
		}
	}
}
