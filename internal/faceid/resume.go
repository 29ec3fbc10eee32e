package faceid

import "time"

// Snapshot is what a Tracker has learned, without images: the identities'
// templates (biometric: stored like face_descriptors, never logged), the
// current one, and the changes so far with their times and distances. A
// checkpoint stores it so that a session moved to another node goes on
// with the same identities (Restore): a different face after the move is a
// change, not a fresh start.
type Snapshot struct {
	Model      string             `json:"model"`
	Identities []SnapshotIdentity `json:"identities"`
	Current    int                `json:"current"` // index into Identities; −1 before any face
	Samples    int                `json:"samples"`
	Changes    []SnapshotChange   `json:"changes,omitempty"`
}

// SnapshotIdentity is one identity of a Snapshot.
type SnapshotIdentity struct {
	Template    Descriptor `json:"template"`
	Samples     int        `json:"samples"`
	First, Last time.Time
}

// SnapshotChange is one confirmed change of a Snapshot (its evidence
// images are not kept: they are stored only at the session's end).
type SnapshotChange struct {
	BeforeAt  time.Time `json:"before_at"`
	AfterAt   time.Time `json:"after_at"`
	Distance  float64   `json:"distance"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	Returning int       `json:"returning"`
}

// Snapshot returns what the tracker has learned (no images; a pending
// change, not confirmed yet, is not kept).
func (t *Tracker) Snapshot() Snapshot {
	s := Snapshot{Model: ModelName, Current: t.cur, Samples: t.samples}
	for _, id := range t.ids {
		s.Identities = append(s.Identities, SnapshotIdentity{Template: id.Template, Samples: id.Samples, First: id.First, Last: id.Last})
	}
	for _, c := range t.changes {
		s.Changes = append(s.Changes, SnapshotChange{BeforeAt: c.Before.At, AfterAt: c.After.At, Distance: c.Distance,
			From: c.From, To: c.To, Returning: c.Returning})
	}
	return s
}

// Restore makes the tracker go on from s: its identities (their templates
// continue as running means over MaxTemplate samples), the current one and
// the changes so far. Call it on a new tracker, before any Add. A snapshot
// of another model, or an inconsistent one, is ignored (false).
func (t *Tracker) Restore(s Snapshot) bool {
	if s.Model != ModelName || len(s.Identities) == 0 || s.Current < 0 || s.Current >= len(s.Identities) || t.samples > 0 {
		return false
	}
	for _, c := range s.Changes {
		if c.From < 0 || c.From >= len(s.Identities) || c.To < 0 || c.To >= len(s.Identities) {
			return false
		}
	}
	t.ids = t.ids[:0]
	for _, si := range s.Identities {
		id := &Identity{Template: si.Template, Samples: si.Samples, First: si.First, Last: si.Last}
		for i, v := range si.Template {
			id.sum[i] = float64(v)
		}
		t.ids = append(t.ids, id)
	}
	t.cur, t.samples = s.Current, s.Samples
	cur := t.ids[t.cur]
	// The last face that matched: the current identity's template when it was last seen
	// (the evidence of a change right after the move has no "before" image).
	t.last = Sample{At: cur.Last, D: cur.Template}
	for _, c := range s.Changes {
		t.changes = append(t.changes, Change{Before: Sample{At: c.BeforeAt}, After: Sample{At: c.AfterAt}, Distance: c.Distance,
			From: c.From, To: c.To, Returning: c.Returning})
	}
	return true
}

// Snapshot is the session's identity snapshot (Tracker.Snapshot).
func (s *Session) Snapshot() Snapshot { return s.tr.Snapshot() }

// Restore makes a new session go on from a snapshot (Tracker.Restore).
func (s *Session) Restore(snap Snapshot) bool { return s.tr.Restore(snap) }
