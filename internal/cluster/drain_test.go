package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/cluster"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// TestDrainHandsOver: a node that drains is marked so (here and in the nodes
// table), placement skips it, and Drain counts the room on the other live,
// not draining nodes (a dead node's does not count). HandOver gives the
// interview's lease up at once (another node takes it without waiting for
// its expiry), marks the interview interrupted and closes its open attempt
// ("node drained"); the draining node's heartbeat does not take the lease
// back although its room is still listed open, and its writes under the old
// tenure are refused. A second HandOver leaves the next owner alone.
func TestDrainHandsOver(t *testing.T) {
	db := pgtest.Schema(t)
	st := store.New(db)
	ctx := context.Background()
	var open []int64
	mk := func(id string, capacity int, o func() []int64) *cluster.Node {
		n := cluster.New(st, cluster.Config{Info: store.Node{ID: id, PublicURL: "https://" + id + ".example.test", Capacity: capacity},
			Heartbeat: time.Hour, Open: o, Lost: func(int64) { t.Errorf("%s: a room reported lost", id) }})
		if err := n.Register(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := mk("node-a", 4, func() []int64 { return open })
	b := mk("node-b", 2, nil)
	mk("node-c", 5, nil) // dies: its room does not count
	if _, err := db.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() - interval '1 day' WHERE id = 'node-c'`); err != nil {
		t.Fatal(err)
	}
	interview := func(email string) *models.Interview {
		at := time.Now()
		iv := &models.Interview{CandidateName: "C", CandidateEmail: email, ScheduledAt: at, TokenHash: []byte(email), ExpiresAt: at.Add(time.Hour)}
		if err := st.CreateInterview(ctx, iv); err != nil {
			t.Fatal(err)
		}
		return iv
	}
	iv, other := interview("d1@c.test"), interview("d2@c.test")
	if err := a.StartSession(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.SetInterviewStatus(ctx, iv.ID, models.StatusLive, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartAttempt(ctx, store.Attempt{InterviewID: iv.ID, Key: "drain-attempt", BrowserID: "b", StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	open = []int64{iv.ID}
	if err := b.Acquire(ctx, other.ID); err != nil { // node-b: 1 of 2 leased
		t.Fatal(err)
	}
	tok, err := a.Token(ctx, iv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if free, err := st.FreeSlots(ctx, "node-b", time.Minute); err != nil || free != 3 {
		t.Fatalf("room beside node-b: %d %v, want node-a's 3 (node-c is dead)", free, err)
	}

	if a.Draining() {
		t.Fatal("draining before Drain")
	}
	free, err := a.Drain(ctx)
	if err != nil || free != 1 {
		t.Fatalf("drain: %d other slots %v, want node-b's 1", free, err)
	}
	if n, err := st.Node(ctx, "node-a"); err != nil || !n.Draining || !a.Draining() {
		t.Fatalf("node-a's row after Drain: %+v %v", n, err)
	}
	if n, err := st.PickNode(ctx, time.Minute); err != nil || n.ID != "node-b" {
		t.Fatalf("pick while node-a (3 free) drains: %+v %v, want node-b", n, err)
	}
	if free, err := st.FreeSlots(ctx, "node-b", time.Minute); err != nil || free != 0 {
		t.Fatalf("room beside node-b while node-a drains: %d %v", free, err)
	}
	// Its heartbeat renews the lease it still holds, and takes no lease back.
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if l, err := st.InterviewLease(ctx, iv.ID); err != nil || l.NodeID != "node-a" || l.Expired {
		t.Fatalf("the lease before the hand-over: %+v %v", l, err)
	}

	if err := a.HandOver(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := st.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the lease after the hand-over: %+v %v, want none (it would last an hour more)", l, err)
	}
	got, err := st.Interview(ctx, iv.ID)
	if err != nil || got.Status != models.StatusInterrupted {
		t.Fatalf("the interview handed over: %v %v, want interrupted until it goes on", got.Status, err)
	}
	var reason string
	if err := db.QueryRow(ctx, `SELECT coalesce(end_reason, '') FROM attempts WHERE key = 'drain-attempt'`).Scan(&reason); err != nil || reason != "node drained" {
		t.Fatalf("the open attempt: %q %v", reason, err)
	}
	if _, err := a.Token(ctx, iv.ID); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a write of node-a after the hand-over: %v, want refused", err)
	}
	if err := st.SaveCheckpoint(store.WithLease(ctx, tok), store.Checkpoint{InterviewID: iv.ID, SessionStarted: time.Now(), NodeID: "node-a",
		At: time.Now()}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a checkpoint under node-a's old tenure: %v, want refused", err)
	}
	if err := a.Heartbeat(ctx); err != nil { // the room is still listed open: not taken back
		t.Fatal(err)
	}
	if l, err := st.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the draining node's heartbeat took the lease back: %+v %v", l, err)
	}
	// The next node takes it at once, its session starts.
	if n, err := b.Route(ctx, iv.ID); err != nil || n.ID != "node-b" {
		t.Fatalf("route after the hand-over: %+v %v", n, err)
	}
	if err := b.StartSession(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.SetInterviewStatus(ctx, iv.ID, models.StatusLive, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.HandOver(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if l, err := st.InterviewLease(ctx, iv.ID); err != nil || l.NodeID != "node-b" {
		t.Fatalf("a second hand-over by node-a: lease %+v %v, want node-b's", l, err)
	}
	if got, _ := st.Interview(ctx, iv.ID); got.Status != models.StatusLive {
		t.Fatalf("a second hand-over by node-a: %s, want node-b's session live", got.Status)
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
}

// A draining server's /readyz fails (load balancers stop sending it pages);
// its pages and routes still answer.
func TestDrainingServerNotReady(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_NODE_ID": "node-r", "LIVECHECK_ANALYSIS": "decode"}})
	ready := func() int {
		t.Helper()
		resp, err := http.Get(env.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("readyz before the drain: %d", code)
	}
	if _, err := env.App.Node.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", code)
	}
	resp, err := http.Get(env.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz while draining: %v %v", resp, err)
	}
	resp.Body.Close()
}
