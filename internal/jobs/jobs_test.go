package jobs_test

import (
	"context"
	"sync"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/livecheck/livecheck/internal/jobs"
	"github.com/livecheck/livecheck/internal/store/pgtest"
)

// Nodes starting together migrate River's schema once, without errors, and
// a later start has nothing to apply.
func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	pool := pgtest.Schema(t) // River's schema already applied by pgtest
	ctx := context.Background()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	applied := make([][]int, 3)
	errs := make([]error, 3)
	for i := range applied {
		wg.Add(1)
		go func() { defer wg.Done(); applied[i], errs[i] = jobs.Migrate(ctx, pool) }()
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		total += len(applied[i])
	}
	if total == 0 || (len(applied[0]) != total && len(applied[1]) != total && len(applied[2]) != total) {
		t.Fatalf("one start applies every version, the others none: %v", applied)
	}
	if again, err := jobs.Migrate(ctx, pool); err != nil || len(again) != 0 {
		t.Fatalf("second migration: %v %v", again, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&n); err != nil {
		t.Fatalf("river_job after migration: %v", err)
	}
}
