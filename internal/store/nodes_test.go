package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

const ttl = 30 * time.Second

func register(t *testing.T, st *store.Store, id string, capacity int) {
	t.Helper()
	if err := st.RegisterNode(context.Background(), store.Node{ID: id, PublicURL: "https://" + id + ".example.test",
		MediaAddress: "203.0.113.1:50000-50100/udp", Capacity: capacity}); err != nil {
		t.Fatal(err)
	}
}

func TestNodeRegistryAndPick(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	if _, err := st.PickNode(ctx, ttl); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("no node registered: %v", err)
	}
	register(t, st, "node-a", 2)
	register(t, st, "node-b", 4)
	// Re-registering (a restart) updates the row instead of failing.
	register(t, st, "node-a", 2)
	a, err := st.Node(ctx, "node-a")
	if err != nil || a.PublicURL != "https://node-a.example.test" || a.Capacity != 2 || a.Draining || a.MediaAddress == "" {
		t.Fatalf("node-a: %v %+v", err, a)
	}
	iv1, iv2, iv3 := secInterview(t, st, "n1@c.test"), secInterview(t, st, "n2@c.test"), secInterview(t, st, "n3@c.test")
	pick := func() string {
		t.Helper()
		n, err := st.PickNode(ctx, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	if got := pick(); got != "node-a" {
		t.Fatalf("both empty: the tie goes by id, got %s", got)
	}
	mustLease(t, st, iv1.ID, "node-a")
	if got := pick(); got != "node-b" {
		t.Fatalf("a is half full, b empty: got %s", got)
	}
	mustLease(t, st, iv2.ID, "node-b")
	mustLease(t, st, iv3.ID, "node-a")
	if got := pick(); got != "node-b" {
		t.Fatalf("a is full: got %s", got)
	}
	nodes, err := st.Nodes(ctx)
	if err != nil || len(nodes) != 2 || nodes[0].Leases != 2 || nodes[1].Leases != 1 {
		t.Fatalf("nodes: %v %+v", err, nodes)
	}
	if n, err := st.HeartbeatNode(ctx, "node-a", 2, ttl); err != nil || n != 2 {
		t.Fatalf("heartbeat renews a's two leases: %d %v", n, err)
	}
	if err := st.SetNodeDraining(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PickNode(ctx, ttl); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a full and b draining: %v", err)
	}
	register(t, st, "node-b", 4) // restarted: no longer draining
	if _, err := tx.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() - interval '1 minute' WHERE id = 'node-b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PickNode(ctx, ttl); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("b's heartbeat is older than the alive window: %v", err)
	}
	if err := st.DeregisterNode(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InterviewLease(ctx, iv1.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("a deregistered node's leases go with it: %v", err)
	}
	if _, err := st.HeartbeatNode(ctx, "node-a", 0, ttl); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("heartbeat of a removed node: %v", err)
	}
}

func mustLease(t *testing.T, st *store.Store, interviewID int64, node string) *store.Lease {
	t.Helper()
	l, err := st.AcquireLease(context.Background(), interviewID, node, ttl)
	if err != nil {
		t.Fatalf("lease %d to %s: %v", interviewID, node, err)
	}
	return l
}

func TestLeaseExpiryAndTakeover(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	register(t, st, "node-a", 10)
	register(t, st, "node-b", 10)
	iv := secInterview(t, st, "lease@c.test")
	l := mustLease(t, st, iv.ID, "node-a")
	if l.NodeID != "node-a" || l.Epoch != 1 || l.Expired || !l.ExpiresAt.After(l.AcquiredAt) {
		t.Fatalf("new lease: %+v", l)
	}
	if again := mustLease(t, st, iv.ID, "node-a"); again.Epoch != 1 || !again.AcquiredAt.Equal(l.AcquiredAt) {
		t.Fatalf("the holder renewing keeps the epoch: %+v", again)
	}
	held, err := st.AcquireLease(ctx, iv.ID, "node-b", ttl)
	if !errors.Is(err, store.ErrLeaseHeld) || !errors.Is(err, models.ErrConflict) || held == nil || held.NodeID != "node-a" {
		t.Fatalf("b while a holds it: %v %+v", err, held)
	}
	// node-a stops heartbeating: its lease runs out.
	if _, err := tx.Exec(ctx, `UPDATE interview_leases SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.InterviewLease(ctx, iv.ID); !cur.Expired {
		t.Fatalf("expired lease: %+v", cur)
	}
	taken := mustLease(t, st, iv.ID, "node-b")
	if taken.NodeID != "node-b" || taken.Epoch != 2 || taken.Expired {
		t.Fatalf("takeover: %+v", taken)
	}
	if n, _ := st.HeartbeatNode(ctx, "node-a", 0, ttl); n != 0 {
		t.Fatalf("a's heartbeat must not renew a lease b took over: %d", n)
	}
	if err := st.ReleaseLease(ctx, iv.ID, "node-a"); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.InterviewLease(ctx, iv.ID); cur == nil || cur.NodeID != "node-b" {
		t.Fatalf("a releasing what it lost changes nothing: %+v", cur)
	}
	if err := st.ReleaseLease(ctx, iv.ID, "node-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("released: %v", err)
	}
	if _, err := st.AcquireLease(ctx, 987654321, "node-a", ttl); err == nil {
		t.Fatal("a lease on a missing interview")
	}
}

func TestInterruptWithLeases(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 11, 0, 0, 0, time.UTC)
	register(t, st, "node-a", 10)
	register(t, st, "node-b", 10)
	live := func(email, node string) *models.Interview {
		iv := secInterview(t, st, email)
		if node != "" {
			mustLease(t, st, iv.ID, node)
		}
		if err := st.SetInterviewStatus(ctx, iv.ID, models.StatusLive, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.StartAttempt(ctx, store.Attempt{InterviewID: iv.ID, Key: "k-" + email, BrowserID: "b", IP: "192.0.2.1", StartedAt: now}); err != nil {
			t.Fatal(err)
		}
		return iv
	}
	onA, onB, dead, none := live("a@c.test", "node-a"), live("b@c.test", "node-b"), live("dead@c.test", "node-b"), live("none@c.test", "")
	status := func(iv *models.Interview) models.InterviewStatus {
		t.Helper()
		got, err := st.Interview(ctx, iv.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	openAttempts := func(iv *models.Interview) int {
		var n int
		_ = tx.QueryRow(ctx, `SELECT count(*) FROM attempts WHERE interview_id = $1 AND ended_at IS NULL`, iv.ID).Scan(&n)
		return n
	}
	// node-b died: the lease of "dead" ran out (the other stays renewed).
	if _, err := tx.Exec(ctx, `UPDATE interview_leases SET expires_at = now() - interval '1 second' WHERE interview_id = $1`, dead.ID); err != nil {
		t.Fatal(err)
	}
	ids, err := st.InterruptExpiredLeases(ctx, now)
	if err != nil || len(ids) != 1 || ids[0] != dead.ID {
		t.Fatalf("expired: %v %v", ids, err)
	}
	if status(dead) != models.StatusInterrupted || openAttempts(dead) != 0 {
		t.Fatalf("dead node's interview: %s, %d open attempts", status(dead), openAttempts(dead))
	}
	if status(onB) != models.StatusLive || status(none) != models.StatusLive {
		t.Fatal("interviews with a valid lease, or none (single-node), are not the reaper's")
	}
	// node-a restarts: its own and the unleased interview are interrupted,
	// node-b's live one is not.
	n, err := st.InterruptLiveInterviews(ctx, now, "node-a")
	if err != nil || n != 2 {
		t.Fatalf("start-up of node-a: %d %v", n, err)
	}
	if status(onA) != models.StatusInterrupted || status(none) != models.StatusInterrupted || openAttempts(onA) != 0 {
		t.Fatalf("after node-a's start: %s %s", status(onA), status(none))
	}
	if status(onB) != models.StatusLive || openAttempts(onB) != 1 {
		t.Fatalf("node-b's interview must stay live with its attempt open: %s %d", status(onB), openAttempts(onB))
	}
	if _, err := st.InterviewLease(ctx, onA.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("node-a's old leases are dropped at its start: %v", err)
	}
}

// Two nodes, each with its own connection pool, race for the same
// interviews: every interview ends up with exactly one holder, and when the
// leases have expired, two other nodes racing to take them over again give
// exactly one winner each.
func TestLeaseRace(t *testing.T) {
	url := pgtest.SchemaURL(t)
	ctx := context.Background()
	pools := make([]*store.Store, 4)
	var raw *pgxpool.Pool
	for i := range pools {
		p, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools[i], raw = store.New(p), p
	}
	const interviews = 25
	ids := make([]int64, interviews)
	for i := range ids {
		ids[i] = secInterview(t, pools[0], fmt.Sprintf("race%d@c.test", i)).ID
	}
	race := func(nodes []string, stores []*store.Store) map[int64][]string {
		winners := map[int64][]string{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, node := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for _, id := range ids {
					_, err := stores[i].AcquireLease(ctx, id, node, ttl)
					switch {
					case err == nil:
						mu.Lock()
						winners[id] = append(winners[id], node)
						mu.Unlock()
					case !errors.Is(err, store.ErrLeaseHeld):
						t.Errorf("%s on %d: %v", node, id, err)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		return winners
	}
	first := race([]string{"node-a", "node-b"}, pools[:2])
	for _, id := range ids {
		if len(first[id]) != 1 {
			t.Fatalf("interview %d: winners %v, want exactly one", id, first[id])
		}
		l, err := pools[0].InterviewLease(ctx, id)
		if err != nil || l.NodeID != first[id][0] || l.Epoch != 1 {
			t.Fatalf("interview %d: lease %+v %v, winner %v", id, l, err, first[id])
		}
	}
	if _, err := pools[0].InterruptExpiredLeases(ctx, time.Now()); err != nil { // nothing has expired: nothing happens
		t.Fatal(err)
	}
	// Both holders die: their leases expire; two new nodes race to take over.
	if _, err := raw.Exec(ctx, `UPDATE interview_leases SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	second := race([]string{"node-c", "node-d"}, pools[2:])
	for _, id := range ids {
		if len(second[id]) != 1 {
			t.Fatalf("takeover of %d: winners %v, want exactly one", id, second[id])
		}
		l, _ := pools[0].InterviewLease(ctx, id)
		if l.NodeID != second[id][0] || l.Epoch != 2 {
			t.Fatalf("takeover of %d: lease %+v, winner %v", id, l, second[id])
		}
	}
}

func TestReleaseIdleLeases(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	register(t, st, "node-a", 10)
	register(t, st, "node-b", 10)
	open, reserved, fresh, other := secInterview(t, st, "open@c.test"), secInterview(t, st, "reserved@c.test"),
		secInterview(t, st, "fresh@c.test"), secInterview(t, st, "other@c.test")
	for _, iv := range []*models.Interview{open, reserved, fresh} {
		mustLease(t, st, iv.ID, "node-a")
	}
	mustLease(t, st, other.ID, "node-b")
	// Everything but "fresh" was acquired ten minutes ago.
	if _, err := tx.Exec(ctx, `UPDATE interview_leases SET acquired_at = now() - interval '10 minutes' WHERE interview_id <> $1`, fresh.ID); err != nil {
		t.Fatal(err)
	}
	n, err := st.ReleaseIdleLeases(ctx, "node-a", []int64{open.ID}, 2*time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("released %d (%v), want the unused reservation only", n, err)
	}
	if _, err := st.InterviewLease(ctx, reserved.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unused reservation kept: %v", err)
	}
	for _, iv := range []*models.Interview{open, fresh, other} {
		if _, err := st.InterviewLease(ctx, iv.ID); err != nil {
			t.Errorf("lease of %s dropped: %v", iv.CandidateEmail, err)
		}
	}
	if n, err := st.ReleaseIdleLeases(ctx, "node-a", nil, 0); err != nil || n != 2 {
		t.Errorf("nothing held, no grace: released %d (%v), want 2", n, err)
	}
}

// Placements at the same moment from four connection pools (four nodes
// routing joins) spread over the nodes by their capacity and never exceed it.
func TestPlaceInterviewConcurrently(t *testing.T) {
	url := pgtest.SchemaURL(t)
	ctx := context.Background()
	pools := make([]*store.Store, 4)
	for i := range pools {
		p, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools[i] = store.New(p)
	}
	register(t, pools[0], "node-a", 4)
	register(t, pools[0], "node-b", 4)
	ids := make([]int64, 10)
	for i := range ids {
		ids[i] = secInterview(t, pools[0], fmt.Sprintf("place%d@c.test", i)).ID
	}
	var mu sync.Mutex
	placed, full := map[string]int{}, 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			n, err := pools[i%len(pools)].PlaceInterview(ctx, id, time.Minute, ttl)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed[n.ID]++
			case errors.Is(err, models.ErrNotFound):
				full++
			default:
				t.Errorf("place %d: %v", id, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if placed["node-a"] != 4 || placed["node-b"] != 4 || full != 2 {
		t.Fatalf("placed %v, %d refused: want 4 on each node and 2 refused (capacity 4 + 4)", placed, full)
	}
}
