package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
)

// TestCheckpoints: a session's checkpoint parts merge (a part not given
// stays), a newer session replaces an older one's, the checkpoint is
// offered for resuming only while its session has no stored results, and
// its At is the later of the last write and its node's last heartbeat.
func TestCheckpoints(t *testing.T) {
	st, db := pgtest.Tx(t)
	ctx := context.Background()
	iv := secInterview(t, st, "cp@c.test")
	started := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	if cp, err := st.UnfinishedCheckpoint(ctx, iv.ID); err != nil || cp != nil {
		t.Fatalf("no checkpoint yet: %+v %v", cp, err)
	}
	save := func(c store.Checkpoint) {
		t.Helper()
		c.InterviewID = iv.ID
		if err := st.SaveCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	save(store.Checkpoint{SessionStarted: started, NodeID: "node-a", Challenges: json.RawMessage(`{"next": 1}`), At: started.Add(time.Minute)})
	save(store.Checkpoint{SessionStarted: started, NodeID: "node-a", Identity: json.RawMessage(`{"current": 0}`), At: started.Add(2 * time.Minute)})
	save(store.Checkpoint{SessionStarted: started, NodeID: "node-a", Identity: json.RawMessage(`{"current": 0}`), At: started.Add(2 * time.Minute)}) // a retried write
	cp, err := st.UnfinishedCheckpoint(ctx, iv.ID)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	if string(cp.Challenges) != `{"next": 1}` || string(cp.Identity) != `{"current": 0}` || !cp.SessionStarted.Equal(started) ||
		!cp.At.Equal(started.Add(2*time.Minute)) || cp.NodeID != "node-a" {
		t.Fatalf("merged checkpoint %+v (%s, %s)", cp, cp.Challenges, cp.Identity)
	}
	// The node's last heartbeat is later than its last write: At is the heartbeat.
	beat := started.Add(3 * time.Minute)
	if _, err := db.Exec(ctx, `INSERT INTO nodes (id, public_url, capacity, heartbeat_at) VALUES ('node-a', 'http://a.test', 4, $1)`, beat); err != nil {
		t.Fatal(err)
	}
	if cp, _ := st.UnfinishedCheckpoint(ctx, iv.ID); cp == nil || !cp.At.Equal(beat) {
		t.Fatalf("checkpoint time with the node's heartbeat: %+v, want %v", cp, beat)
	}
	// Measurement parts: appended in order whatever the order written, a retried part
	// once, read back with the rest.
	for _, seq := range []int{1, 0, 1} {
		save(store.Checkpoint{SessionStarted: started, NodeID: "node-a", At: started.Add(2 * time.Minute),
			Part: json.RawMessage(fmt.Sprintf(`{"seq": %d}`, seq)), PartSeq: seq})
	}
	if cp, err := st.UnfinishedCheckpoint(ctx, iv.ID); err != nil || cp.PartsErr != nil || len(cp.Parts) != 2 || cp.NextPart != 2 ||
		string(cp.Parts[0]) != `{"seq": 0}` || string(cp.Parts[1]) != `{"seq": 1}` || string(cp.Challenges) != `{"next": 1}` {
		t.Fatalf("checkpoint with parts: %+v %v", cp, err)
	}
	// Parts beyond the bound are not read (an error for them, the rest as stored).
	defer func(n int) { store.MaxCheckpointBytes = n }(store.MaxCheckpointBytes)
	store.MaxCheckpointBytes = 15
	if cp, err := st.UnfinishedCheckpoint(ctx, iv.ID); err != nil || !errors.Is(cp.PartsErr, store.ErrCheckpointTooLarge) || cp.Parts != nil || cp.NextPart != 2 ||
		string(cp.Challenges) != `{"next": 1}` {
		t.Fatalf("checkpoint with too many parts: %+v %v", cp, err)
	}
	store.MaxCheckpointBytes = 1 << 20
	// A later session's checkpoint replaces the older one as a whole, its parts too.
	later := started.Add(time.Hour)
	save(store.Checkpoint{SessionStarted: later, NodeID: "node-b", Challenges: json.RawMessage(`{"next": 0}`), At: later})
	if cp, _ := st.UnfinishedCheckpoint(ctx, iv.ID); cp == nil || cp.Identity != nil || string(cp.Challenges) != `{"next": 0}` || !cp.SessionStarted.Equal(later) {
		t.Fatalf("a later session's checkpoint: %+v", cp)
	}
	save(store.Checkpoint{SessionStarted: later, NodeID: "node-b", At: later, Part: json.RawMessage(`{"seq": 0}`)})
	if n := count(t, db, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv.ID); n != 1 {
		t.Fatalf("%d parts after a later session's checkpoint, want its 1", n)
	}
	// Once the session's results are stored, nothing is offered; the judge deletes it.
	if _, err := db.Exec(ctx, `INSERT INTO session_results (interview_id, reason, started_at, ended_at, frames_decoded, frames_analysed,
		frames_dropped, decode_errors, keyframe_requests, audio_chunks, face_absent, camera_off) VALUES ($1, 'completed', $2, $2, 0, 0, 0, 0, 0, 0, '[]', '[]')`,
		iv.ID, later); err != nil {
		t.Fatal(err)
	}
	if cp, err := st.UnfinishedCheckpoint(ctx, iv.ID); err != nil || cp != nil {
		t.Fatalf("a finished session's checkpoint was offered: %+v %v", cp, err)
	}
	if err := st.DeleteCheckpoint(ctx, iv.ID, later); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM session_checkpoints WHERE interview_id = $1`, iv.ID) +
		count(t, db, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv.ID); n != 0 {
		t.Fatalf("%d checkpoints and parts after the delete", n)
	}
}
