package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/wire"
)

// nodesSecret is the signing secret the nodes of one test share.
const nodesSecret = "a-test-secret-that-is-long-enough-0123456789"

// nodeEnv is the environment of one of several `livecheck serve` processes
// on one database in these tests: decode-only analysis, three planned
// challenges, a 2 s heartbeat (leases of 6 s), loopback ICE, the rate limits
// out of the way, a 3 s rejoin grace. A test changes what it needs.
func nodeEnv(id, dbURL string) map[string]string {
	return map[string]string{"LIVECHECK_NODE_ID": id, "LIVECHECK_DATABASE_URL": dbURL,
		"LIVECHECK_SIGNING_SECRET": nodesSecret, "LIVECHECK_API_TOKEN": nodesToken,
		"LIVECHECK_NODE_HEARTBEAT": "2s", "LIVECHECK_ANALYSIS": "decode", "LIVECHECK_CHALLENGES": "3",
		"LIVECHECK_ICE_LOOPBACK": "true", "LIVECHECK_ICE_ALLOW_PRIVATE": "true",
		"LIVECHECK_LIMIT_JOIN": "100000", "LIVECHECK_LIMIT_WS": "100000", "LIVECHECK_MAX_LIVE": "10",
		"LIVECHECK_REJOIN_GRACE": "3s", "LIVECHECK_LOG_LEVEL": "info"}
}

// storedCheckpoint is an interview's session checkpoint as stored, the
// secret plan included (the test reads the database).
type storedCheckpoint struct {
	started  time.Time
	node     string
	progress challenge.Progress
}

// readCheckpoint reads interview iv's session checkpoint.
func readCheckpoint(ctx context.Context, pool *pgxpool.Pool, iv int64) (storedCheckpoint, error) {
	var c storedCheckpoint
	var raw []byte
	err := pool.QueryRow(ctx, `SELECT session_started, node_id, challenges FROM session_checkpoints WHERE interview_id = $1`, iv).
		Scan(&c.started, &c.node, &raw)
	if err == nil {
		err = json.Unmarshal(raw, &c.progress)
	}
	return c, err
}

// candidates creates interviews through one node's API and joins their
// candidates through that node's page: the route decides the node.
type candidates struct {
	t     *testing.T
	ctx   context.Context
	page  string
	media *loadgen.Media
}

func newCandidates(t *testing.T, ctx context.Context, page string) *candidates {
	t.Helper()
	media, err := loadgen.LoadMedia("", "", apptest.Testdata("faces/astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	return &candidates{t: t, ctx: ctx, page: page, media: media}
}

// interview creates an interview for name and a candidate (not joined yet)
// with its link, closed at the test's end.
func (cs *candidates) interview(name string) (int64, *loadgen.Rejoiner) {
	t := cs.t
	t.Helper()
	var cr wire.InterviewCreated
	if code := apiPostJSON(t, cs.page, "/api/interviews", wire.InterviewRequest{CandidateName: name,
		CandidateEmail: strings.ReplaceAll(strings.ToLower(name), " ", ".") + "@candidate.test"}, &cr); code != http.StatusCreated {
		t.Fatalf("create interview: %d", code)
	}
	c, err := loadgen.NewRejoiner(cs.ctx, cr.JoinURL, cs.media)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return cr.ID, c
}

// join joins c through the page until its call is connected.
func (cs *candidates) join(c *loadgen.Rejoiner, what string) {
	cs.t.Helper()
	apptest.Eventually(cs.t, 90*time.Second, func() (bool, string) {
		if err := c.Join(cs.ctx, cs.page); err != nil {
			return false, what + ": join: " + err.Error()
		}
		select {
		case <-c.Connected():
			return true, ""
		case <-c.Failed():
			return false, what + ": call failed"
		case <-time.After(45 * time.Second):
			return false, what + ": call did not connect"
		}
	})
}

// attemptEndReasons lists interview iv's attempts' end reasons, oldest first
// ("" for an attempt still open).
func attemptEndReasons(t *testing.T, ctx context.Context, pool *pgxpool.Pool, iv int64) []string {
	t.Helper()
	r, err := pool.Query(ctx, `SELECT coalesce(end_reason, '') FROM attempts WHERE interview_id = $1 ORDER BY started_at`, iv)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var reasons []string
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, s)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return reasons
}
