package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/models"
)

// TestWritesUnderLease: a node's writes under its lease tenure (WithLease)
// are refused once another node took the interview over, or once the lease
// was reaped and taken again (by anyone, the same node included: a new
// tenure); the new owner's rows stay as it wrote them. YieldLease gives up a
// fenced tenure only while it is still that tenure.
func TestWritesUnderLease(t *testing.T) {
	st, tx := pgtest.Tx(t)
	ctx := context.Background()
	register(t, st, "node-a", 10)
	register(t, st, "node-b", 10)
	iv := secInterview(t, st, "fence@c.test")
	started := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	a := mustLease(t, st, iv.ID, "node-a").Token()
	underA := store.WithLease(ctx, a)
	if err := st.SaveCheckpoint(underA, store.Checkpoint{InterviewID: iv.ID, SessionStarted: started, NodeID: "node-a",
		Challenges: json.RawMessage(`{"next": 1}`), At: started.Add(time.Minute)}); err != nil {
		t.Fatalf("the holder writes: %v", err)
	}
	// node-a is cut off; its lease expires and node-b takes the interview over.
	if _, err := tx.Exec(ctx, `UPDATE interview_leases SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	b := mustLease(t, st, iv.ID, "node-b").Token()
	if err := st.SaveCheckpoint(store.WithLease(ctx, b), store.Checkpoint{InterviewID: iv.ID, SessionStarted: started, NodeID: "node-b",
		Challenges: json.RawMessage(`{"next": 2}`), At: started.Add(3 * time.Minute)}); err != nil {
		t.Fatalf("the new owner writes: %v", err)
	}
	// node-a's late writes: refused, nothing written.
	err := st.SaveCheckpoint(underA, store.Checkpoint{InterviewID: iv.ID, SessionStarted: started, NodeID: "node-a",
		Challenges: json.RawMessage(`{"next": 1}`), At: started.Add(2 * time.Minute)})
	if !errors.Is(err, store.ErrLeaseLost) || !errors.Is(err, models.ErrConflict) {
		t.Fatalf("late checkpoint of the old owner: %v", err)
	}
	err = st.SaveChallenge(underA, store.ChallengeRecord{InterviewID: iv.ID, ChallengeID: "fenced-1", Kind: "blink", Attempt: 1,
		IssuedAt: started, Deadline: started.Add(10 * time.Second), Outcome: "passed"}, nil)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("late challenge of the old owner: %v", err)
	}
	err = st.InTx(underA, func(tx *store.Store) error { return tx.SetSetting(ctx, "fence-test", "written") })
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a late transaction of the old owner: %v", err)
	}
	cp, err := st.UnfinishedCheckpoint(ctx, iv.ID)
	if err != nil || cp == nil || string(cp.Challenges) != `{"next": 2}` || cp.NodeID != "node-b" {
		t.Fatalf("the new owner's checkpoint must stay: %+v %v", cp, err)
	}
	if recs, err := st.Challenges(ctx, iv.ID); err != nil || len(recs) != 0 {
		t.Fatalf("no challenge row from the old owner: %d %v", len(recs), err)
	}
	if v, _ := st.Setting(ctx, "fence-test"); v != "" {
		t.Fatalf("the refused transaction wrote: %q", v)
	}
	// A's yield changes nothing: b holds the interview.
	if ok, err := st.YieldLease(ctx, a, time.Now(), "node fenced"); err != nil || ok {
		t.Fatalf("yield of a lost tenure: %v %v", ok, err)
	}
	if l, _ := st.InterviewLease(ctx, iv.ID); l == nil || l.NodeID != "node-b" {
		t.Fatalf("b's lease must stay: %+v", l)
	}
	// b's lease is reaped and a takes the interview again: a new tenure, so
	// what a queued under its old one is still refused.
	if _, err := tx.Exec(ctx, `DELETE FROM interview_leases`); err != nil {
		t.Fatal(err)
	}
	mustLease(t, st, iv.ID, "node-a")
	// The test runs in one transaction, where now() stands still; separate
	// transactions acquire at their own times.
	if _, err := tx.Exec(ctx, `UPDATE interview_leases SET acquired_at = acquired_at + interval '1 millisecond'`); err != nil {
		t.Fatal(err)
	}
	l2, _ := st.InterviewLease(ctx, iv.ID)
	a2 := l2.Token()
	if a2.Epoch != a.Epoch || a2.AcquiredAt.Equal(a.AcquiredAt) {
		t.Fatalf("the same epoch, a new acquisition: %+v %+v", a, a2)
	}
	if err := st.SaveCheckpoint(underA, store.Checkpoint{InterviewID: iv.ID, SessionStarted: started, NodeID: "node-a",
		At: started.Add(4 * time.Minute)}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("old tenure after a new one began: %v", err)
	}
	// a fenced itself off its new tenure and yields it: the interview is
	// interrupted, its open attempts closed.
	if err := st.SetInterviewStatus(ctx, iv.ID, models.StatusLive, started); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartAttempt(ctx, store.Attempt{InterviewID: iv.ID, Key: "fence-att", BrowserID: "b", StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.YieldLease(ctx, a2, started.Add(5*time.Minute), "node fenced"); err != nil || !ok {
		t.Fatalf("yield: %v %v", ok, err)
	}
	if _, err := st.InterviewLease(ctx, iv.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("yielded lease: %v", err)
	}
	got, err := st.Interview(ctx, iv.ID)
	if err != nil || got.Status != models.StatusInterrupted {
		t.Fatalf("interview after the yield: %+v %v", got, err)
	}
	atts, err := st.Attempts(ctx, iv.ID)
	if err != nil || len(atts) != 1 || atts[0].EndedAt == nil || atts[0].EndReason == nil || *atts[0].EndReason != "node fenced" {
		t.Fatalf("attempt after the yield: %+v %v", atts, err)
	}
}
