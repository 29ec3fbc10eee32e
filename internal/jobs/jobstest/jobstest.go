// Package jobstest runs River clients ("nodes") in tests on a migrated test
// database (internal/store/pgtest) and waits for their jobs.
package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/livecheck/livecheck/internal/jobs"
)

// Start starts a River client named id working workers (and the periodic
// jobs) on pool, polling every 100 ms; it is stopped when the test ends.
func Start(t testing.TB, pool *pgxpool.Pool, id string, workers *river.Workers, periodic ...*river.PeriodicJob) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(pool, jobs.Config{Workers: workers, ID: id, PollInterval: 100 * time.Millisecond, Periodic: periodic})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return q
}

// Wait returns the jobs of kind once done accepts them (every 20 ms, 60 s at
// most; the test fails after that).
func Wait(t testing.TB, q *jobs.Queue, kind string, what string, done func([]*rivertype.JobRow) bool) []*rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := q.River().JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		if done(res.Jobs) {
			return res.Jobs
		}
		if time.Now().After(deadline) {
			for _, j := range res.Jobs {
				t.Logf("job %d: %s, attempt %d", j.ID, j.State, j.Attempt)
			}
			t.Fatalf("after 60 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// InState is a Wait condition: exactly n jobs, all in one of states.
func InState(n int, states ...rivertype.JobState) func([]*rivertype.JobRow) bool {
	return func(js []*rivertype.JobRow) bool {
		if len(js) != n {
			return false
		}
		for _, j := range js {
			ok := false
			for _, s := range states {
				ok = ok || j.State == s
			}
			if !ok {
				return false
			}
		}
		return true
	}
}
