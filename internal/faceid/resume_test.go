package faceid

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTrackerRestore: a tracker restored from another's snapshot (through
// JSON, as the checkpoint stores it) goes on with the same identities: the
// same face stays the same identity, a different face is a change from the
// identity seen before the move, and the changes before the move are kept.
func TestTrackerRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	a, b, c := person(1), person(2), person(3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	first := NewTracker(TrackerConfig{})
	for s := range 10 {
		first.Add(noisy(a, r, at(s)))
	}
	first.Add(noisy(b, r, at(10)))
	if _, ok := first.Add(noisy(b, r, at(11))); !ok {
		t.Fatal("no change from a to b before the move")
	}
	for s := 12; s < 16; s++ {
		first.Add(noisy(a, r, at(s))) // a came back: a second change (returning)
	}
	if len(first.Changes()) != 2 {
		t.Fatalf("%d changes before the move, want 2", len(first.Changes()))
	}
	raw, err := json.Marshal(first.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatal(err)
	}

	// The same face after the move: no change, the template goes on.
	same := NewTracker(TrackerConfig{})
	if !same.Restore(snap) {
		t.Fatal("snapshot refused")
	}
	for s := 30; s < 36; s++ {
		if _, ok := same.Add(noisy(a, r, at(s))); ok {
			t.Fatalf("the same face after the move taken for a change at %ds", s)
		}
	}
	if n := len(same.Changes()); n != 2 {
		t.Fatalf("%d changes after the move with the same face, want the 2 from before", n)
	}
	if m, _ := same.Main(); m.Samples != first.ids[0].Samples+6 || Distance(m.Template, a) > 0.2 {
		t.Fatalf("main identity after the move: %d samples (want %d), %.2f from a", m.Samples, first.ids[0].Samples+6, Distance(m.Template, a))
	}

	// A new face after the move: a change from a, confirmed at its first sample.
	other := NewTracker(TrackerConfig{})
	other.Restore(snap)
	other.Add(noisy(c, r, at(30)))
	ch, ok := other.Add(noisy(c, r, at(31)))
	if !ok || !ch.After.At.Equal(at(30)) || ch.From != 0 || ch.Returning != -1 || ch.To != 2 || !ch.Before.At.Equal(at(15)) {
		t.Fatalf("a new face after the move: change %+v ok %v", ch, ok)
	}
	if sg, ok := ChangeSignal(other, t0); !ok || sg.Score == 0 || len(other.Changes()) != 3 {
		t.Fatalf("signal after the move %+v %v, %d changes", sg, ok, len(other.Changes()))
	}
	// b coming back after the move is an earlier face returning, not a new one.
	back := NewTracker(TrackerConfig{})
	back.Restore(snap)
	back.Add(noisy(b, r, at(30)))
	if ch, ok := back.Add(noisy(b, r, at(31))); !ok || ch.Returning != 1 {
		t.Fatalf("b after the move: %+v %v, want returning to identity 1", ch, ok)
	}

	// Unusable snapshots are refused: another model, no identity, a used tracker.
	bad := snap
	bad.Model = "other"
	if NewTracker(TrackerConfig{}).Restore(bad) || NewTracker(TrackerConfig{}).Restore(Snapshot{Model: ModelName, Current: -1}) || same.Restore(snap) {
		t.Fatal("an unusable snapshot was taken")
	}
}
