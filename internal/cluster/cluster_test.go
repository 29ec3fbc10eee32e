package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/cluster"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

func TestNodeLifecycle(t *testing.T) {
	st := store.New(pgtest.Schema(t))
	ctx := context.Background()
	live := 0
	a := cluster.New(st, cluster.Config{Info: store.Node{ID: "node-a", PublicURL: "https://a.example.test", Capacity: 2},
		Heartbeat: time.Hour, Live: func() int { return live }})
	b := cluster.New(st, cluster.Config{Info: store.Node{ID: "node-b", PublicURL: "https://b.example.test", Capacity: 2}, Heartbeat: time.Hour})
	for _, n := range []*cluster.Node{a, b} {
		if err := n.Register(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now()
	iv := &models.Interview{CandidateName: "C", CandidateEmail: "c@c.test", ScheduledAt: at, TokenHash: []byte("tok"), ExpiresAt: at.Add(time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	if err := a.Acquire(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx, iv.ID); !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("b while a holds it: %v", err)
	}
	first, _ := st.InterviewLease(ctx, iv.ID)
	if !first.ExpiresAt.After(first.AcquiredAt.Add(2*time.Hour)) || first.ExpiresAt.After(first.AcquiredAt.Add(3*time.Hour+time.Minute)) {
		t.Fatalf("lease of three heartbeats: %+v", first)
	}
	live = 1
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	renewed, _ := st.InterviewLease(ctx, iv.ID)
	node, _ := st.Node(ctx, "node-a")
	if renewed.ExpiresAt.Before(first.ExpiresAt) || renewed.NodeID != "node-a" || node.Live != 1 || node.HeartbeatAt.Before(node.StartedAt) {
		t.Fatalf("after the heartbeat: lease %+v, node %+v", renewed, node)
	}
	// A node whose row was removed (by an operator) registers again at its next beat.
	if err := st.DeregisterNode(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	if err := b.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Node(ctx, "node-b"); err != nil {
		t.Fatalf("node-b registered again: %v", err)
	}
	if err := a.Release(ctx, iv.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx, iv.ID); err != nil {
		t.Fatalf("released, b may take it: %v", err)
	}
	if err := b.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Node(ctx, "node-b"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("b left: %v", err)
	}
	if _, err := st.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("b's leases left with it: %v", err)
	}
	if n, err := st.PickNode(ctx, time.Minute); err != nil || n.ID != "node-a" {
		t.Fatalf("pick: %v %+v", err, n)
	}
}

// The server registers itself at start with its settings.
func TestServerRegistersItsNode(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_NODE_ID": "node-x", "LIVECHECK_ANALYSIS": "decode",
		"LIVECHECK_MAX_LIVE": "7", "LIVECHECK_UDP_PORT_MIN": "50000", "LIVECHECK_UDP_PORT_MAX": "50100"}})
	n, err := env.Store.Node(context.Background(), "node-x")
	if err != nil || n.Capacity != 7 || n.PublicURL != env.URL || n.MediaAddress != "host udp 50000-50100" || n.Draining {
		t.Fatalf("%v %+v", err, n)
	}
	if env.App.Node.ID() != "node-x" {
		t.Fatalf("app node %s", env.App.Node.ID())
	}
}

// Route: a held interview goes to its holder; a free one to the least-loaded
// live node with room, which gets the lease at once; an expired lease is
// reaped (the interview interrupted) before the interview goes elsewhere;
// every node full or gone is ErrNoRoom; an unused reservation is given up
// by the heartbeat after its grace, a held one is kept; a room whose lease
// another node holds is reported lost.
func TestRoute(t *testing.T) {
	db := pgtest.Schema(t)
	st := store.New(db)
	ctx := context.Background()
	var holding []int64
	mk := func(id string, capacity int) *cluster.Node {
		n := cluster.New(st, cluster.Config{Info: store.Node{ID: id, PublicURL: "https://" + id + ".example.test", Capacity: capacity},
			Heartbeat: time.Hour, Holding: func() []int64 { return holding }, ReserveGrace: time.Millisecond})
		if err := n.Register(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := mk("node-a", 2), mk("node-b", 1)
	interview := func(email string) *models.Interview {
		at := time.Now()
		iv := &models.Interview{CandidateName: "C", CandidateEmail: email, ScheduledAt: at, TokenHash: []byte(email), ExpiresAt: at.Add(time.Hour)}
		if err := st.CreateInterview(ctx, iv); err != nil {
			t.Fatal(err)
		}
		return iv
	}
	route := func(via *cluster.Node, iv *models.Interview) string {
		t.Helper()
		n, err := via.Route(ctx, iv.ID)
		if err != nil {
			t.Fatalf("route %s via %s: %v", iv.CandidateEmail, via.ID(), err)
		}
		return n.ID
	}
	one, two, three, four := interview("1@c.test"), interview("2@c.test"), interview("3@c.test"), interview("4@c.test")
	if got := route(b, one); got != "node-a" { // both empty: by id
		t.Fatalf("first interview on %s", got)
	}
	if got := route(b, one); got != "node-a" {
		t.Fatalf("asked again: %s", got)
	}
	if got := route(a, two); got != "node-b" { // a 1/2 leased, b 0/1
		t.Fatalf("second interview on %s", got)
	}
	if got := route(a, three); got != "node-a" { // a 1/2, b full
		t.Fatalf("third interview on %s", got)
	}
	if _, err := a.Route(ctx, four.ID); !errors.Is(err, cluster.ErrNoRoom) {
		t.Fatalf("every node full: %v", err)
	}
	// node-b dies while its interview is live: once its lease expired, the
	// interview is interrupted and goes on the node with room.
	if err := st.SetInterviewStatus(ctx, two.ID, models.StatusLive, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE interview_leases SET expires_at = now() - interval '1 second' WHERE node_id = 'node-b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() - interval '1 day' WHERE id = 'node-b'`); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, three.ID); err != nil {
		t.Fatal(err)
	}
	if got := route(a, two); got != "node-a" {
		t.Fatalf("after node-b died: %s", got)
	}
	if iv, _ := st.Interview(ctx, two.ID); iv.Status != models.StatusInterrupted {
		t.Fatalf("the dead node's interview: %s, want interrupted", iv.Status)
	}
	// node-a holds "one" (a room open) but never saw "two" connect: the heartbeat drops the reservation.
	holding = []int64{one.ID}
	if err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InterviewLease(ctx, two.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unused reservation kept: %v", err)
	}
	if l, err := st.InterviewLease(ctx, one.ID); err != nil || l.NodeID != "node-a" {
		t.Errorf("held lease: %+v %v", l, err)
	}
	if o, err := a.Origins(ctx); err != nil || len(o) != 2 || o[0] != "https://node-a.example.test" {
		t.Errorf("origins %v %v", o, err)
	}
	// A node with rooms open for "one" (held by node-a: taken over while this
	// node was away) and "three" (no lease): the first is lost, the second taken.
	var lost []int64
	c := cluster.New(st, cluster.Config{Info: store.Node{ID: "node-c", PublicURL: "https://node-c.example.test", Capacity: 5},
		Heartbeat: time.Hour, Open: func() []int64 { return []int64{one.ID, three.ID} }, Lost: func(id int64) { lost = append(lost, id) }})
	if err := c.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if len(lost) != 1 || lost[0] != one.ID {
		t.Errorf("lost %v, want [%d]", lost, one.ID)
	}
	if l, err := st.InterviewLease(ctx, three.ID); err != nil || l.NodeID != "node-c" {
		t.Errorf("an open room's missing lease is taken again: %+v %v", l, err)
	}
	if l, _ := st.InterviewLease(ctx, one.ID); l == nil || l.NodeID != "node-a" {
		t.Errorf("the holder keeps its lease: %+v", l)
	}
}
