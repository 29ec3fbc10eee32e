package cluster_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/cluster"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestFenceDue(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	ttl, margin := 30*time.Second, 2500*time.Millisecond
	for _, c := range []struct {
		since time.Duration
		due   bool
	}{
		{0, false},
		{10 * time.Second, false},        // one missed beat
		{27 * time.Second, false},        // the lease has 3 s left, more than the margin
		{27500 * time.Millisecond, true}, // margin before the earliest expiry
		{30 * time.Second, true},
		{time.Hour, true},
	} {
		if got := cluster.FenceDue(t0, t0.Add(c.since), ttl, margin); got != c.due {
			t.Errorf("%v after the last renewal was sent: due %v, want %v", c.since, got, c.due)
		}
	}
}

// clock is a test clock the node reads (Config.Now).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// slowStore is the real store whose heartbeat takes lag on the test clock,
// or fails (down: the database out of reach).
type slowStore struct {
	*store.Store
	clk  *clock
	lag  time.Duration
	down bool
}

func (s *slowStore) HeartbeatNode(ctx context.Context, id string, live int, ttl time.Duration) (int64, error) {
	s.clk.add(s.lag)
	if s.down {
		return 0, errors.New("connection refused")
	}
	return s.Store.HeartbeatNode(ctx, id, live, ttl)
}

// TestNodeFences: a node alone does not fence; with another node alive the
// fencing decision is made on the send time of the last renewal that
// succeeded: slow heartbeats that succeed do not fence the node;
// heartbeats that fail for ttl-margin do, once: the open rooms are handed to
// Fence, writes under the interviews' leases are refused from then on; the
// next successful heartbeat gives up the fenced leases (the interview is
// interrupted) and the node takes interviews again.
func TestNodeFences(t *testing.T) {
	raw := store.New(pgtest.Schema(t))
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	st := &slowStore{Store: raw, clk: clk}
	var mu sync.Mutex
	open := []int64{}
	var fenced [][]int64
	hb := time.Hour // the test's clock moves, not the database's: leases are long in database time
	n := cluster.New(st, cluster.Config{Info: store.Node{ID: "node-f", PublicURL: "https://f.example.test", Capacity: 4},
		Heartbeat: hb, Now: clk.now,
		Open: func() []int64 { mu.Lock(); defer mu.Unlock(); return append([]int64(nil), open...) },
		Lost: func(int64) {},
		Fence: func(ids []int64) {
			mu.Lock()
			defer mu.Unlock()
			fenced = append(fenced, ids)
			open = nil // the rooms close
		}})
	if err := n.Register(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	iv := &models.Interview{CandidateName: "C", CandidateEmail: "f@c.test", ScheduledAt: at, TokenHash: []byte("fence"), ExpiresAt: at.Add(time.Hour)}
	if err := raw.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	if err := n.StartSession(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if err := raw.SetInterviewStatus(ctx, iv.ID, models.StatusLive, at); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	open = []int64{iv.ID}
	mu.Unlock()
	tok, err := n.Token(ctx, iv.ID)
	if err != nil || tok.NodeID != "node-f" || tok.InterviewID != iv.ID {
		t.Fatalf("token: %+v %v", tok, err)
	}
	ttl, margin := n.LeaseTTL(), hb/4

	// Alone (no other node registered: nobody could take the interview
	// over), the node keeps its rooms however long its database is away.
	st.down = true
	clk.add(2 * ttl)
	if n.CheckFence() || n.Fenced() {
		t.Fatal("a node alone fenced itself")
	}
	st.down = false
	if err := raw.RegisterNode(ctx, store.Node{ID: "node-g", PublicURL: "https://g.example.test", Capacity: 4}); err != nil {
		t.Fatal(err)
	}
	if err := n.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}

	// Slow but alive: every heartbeat takes 1.3 periods and succeeds; the
	// node never fences, though the time between successes exceeds a period.
	st.lag = hb * 13 / 10
	for i := 0; i < 5; i++ {
		if err := n.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
		clk.add(hb - st.lag%hb) // the next tick
		if n.CheckFence() {
			t.Fatalf("fenced after slow heartbeat %d that succeeded", i)
		}
	}
	// The decision uses the send time: a heartbeat that took two periods
	// renewed the leases as of its start.
	st.lag = 2 * hb
	if err := n.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	sent := clk.now().Add(-2 * hb)
	clk.add(ttl - margin - 2*hb - time.Millisecond)
	if n.CheckFence() {
		t.Fatal("fenced before ttl-margin after the last renewal was sent")
	}
	// The database goes away: heartbeats fail.
	st.lag, st.down = 0, true
	if err := n.Heartbeat(ctx); err == nil {
		t.Fatal("heartbeat with the database down")
	}
	clk.add(time.Millisecond)
	if got := clk.now().Sub(sent); got != ttl-margin {
		t.Fatalf("test clock: %v", got)
	}
	if !n.CheckFence() || !n.Fenced() {
		t.Fatal("not fenced at ttl-margin after the last renewal was sent")
	}
	if n.CheckFence() {
		t.Fatal("fenced twice")
	}
	mu.Lock()
	if len(fenced) != 1 || len(fenced[0]) != 1 || fenced[0][0] != iv.ID {
		t.Fatalf("fenced rooms: %v", fenced)
	}
	mu.Unlock()
	if _, err := n.Token(ctx, iv.ID); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("writes of a fenced interview: %v", err)
	}
	// The database returns: the node renews, gives the fenced lease up (the
	// interview is interrupted: its candidate's rejoin is placed anew) and
	// is no longer fenced.
	st.down = false
	if err := n.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if n.Fenced() {
		t.Fatal("still fenced after a renewal")
	}
	if _, err := raw.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("fenced lease after the return: %v", err)
	}
	if got, _ := raw.Interview(ctx, iv.ID); got.Status != models.StatusInterrupted {
		t.Fatalf("fenced interview: %s", got.Status)
	}
	if _, err := n.Token(ctx, iv.ID); !errors.Is(err, store.ErrLeaseLost) || !n.FencedOff(iv.ID) {
		t.Fatalf("writes before the interview's next session here: %v", err)
	}
	// The candidate is routed back here: a new session, a new tenure.
	if err := n.StartSession(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	tok2, err := n.Token(ctx, iv.ID)
	if err != nil || tok2 == tok || n.FencedOff(iv.ID) {
		t.Fatalf("new tenure: %+v (old %+v) %v", tok2, tok, err)
	}
	clk.add(ttl - margin - time.Millisecond)
	if n.CheckFence() {
		t.Fatal("fenced again without a missed renewal")
	}
}
