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
