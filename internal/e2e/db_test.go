package e2e

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// rawDB opens a pool on url for assertions that count rows directly.
func rawDB(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
