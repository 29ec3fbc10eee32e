package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// TestDrainHandsOver: two `livecheck serve` processes on one database. A
// candidate's interview runs on drain-a, whose first planned challenge was
// asked there; drain-a gets SIGTERM (a rolling deploy). It hands the
// interview over: its final checkpoint is written, its lease is given up at
// once (the interview interrupted until it goes on), and only then is the
// candidate told "moved"; drain-a exits cleanly. The candidate rejoins
// through drain-b's page and is placed on drain-b, where the same session
// goes on (the checkpoint's session start and plan unchanged, the plan past
// the challenge asked on drain-a). At its end: one session, one verdict, no
// checkpoint, two attempts (the first closed "node drained"), each row once.
// Then drain-b, alone, gets SIGTERM during a second interview: nobody can
// take it, so it ends there as before (the candidate told "ended", the
// session stored as interrupted).
func TestDrainHandsOver(t *testing.T) {
	if testing.Short() {
		t.Skip("two server processes and real WebRTC")
	}
	start := time.Now()
	dbURL := pgtest.SchemaURL(t)
	ctx := context.Background()
	pool := rawDB(t, dbURL)
	st := store.New(pool)
	startNode := func(id string) *apptest.Proc { return apptest.StartProc(t, apptest.FreePort(t), nodeEnv(id, dbURL)) }
	a, b := startNode("drain-a"), startNode("drain-b")
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		ns, err := st.Nodes(ctx)
		return err == nil && len(ns) == 2, fmt.Sprintf("%d nodes registered (%v)", len(ns), err)
	})
	// Interviews are created through drain-b's API and joined through its page (the route decides the node).
	cands := newCandidates(t, ctx, b.URL)
	newInterview, join := cands.interview, cands.join
	readCheckpoint := func(iv int64) (storedCheckpoint, error) { return readCheckpoint(ctx, pool, iv) }
	status := func(iv int64) string {
		var s string
		_ = pool.QueryRow(ctx, `SELECT status FROM interviews WHERE id = $1`, iv).Scan(&s)
		return s
	}
	// ended waits until the node's stop left its sessions stored or handed over, and
	// the process exited cleanly.
	exited := func(p *apptest.Proc, name string) {
		t.Helper()
		if err := p.Wait(90 * time.Second); err != nil {
			t.Fatalf("%s after SIGTERM: %v; its log:\n%s", name, err, tail(p.Output.String(), 6000))
		}
	}

	// Both nodes empty: the placement picks drain-a (ties by id).
	iv, cand := newInterview("Drained Candidate")
	join(cand, "the candidate")
	if cand.Node() != a.URL {
		t.Fatalf("placed on %s, want drain-a %s", cand.Node(), a.URL)
	}
	var before storedCheckpoint
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		before, err = readCheckpoint(iv)
		return err == nil && before.node == "drain-a" && len(before.progress.Plan.Items) == 3 && status(iv) == "live",
			fmt.Sprintf("checkpoint %+v (%v), status %s", before, err, status(iv))
	})
	// drain-a has analysed a few seconds before the hand-over: the stored face-presence series
	// (one point a second) must run from drain-a's part to drain-b's; a SIGTERM 15 ms into the
	// session left drain-a no point to hand over (a CI failure under load).
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var got wire.Interview
		apiGet(t, a.URL, fmt.Sprintf("/api/interviews/%d", iv), &got)
		return got.Live != nil && got.Live.FramesAnalysed > 15, fmt.Sprintf("on drain-a: %+v", got.Live)
	})
	// The plan's first challenge is asked on drain-a.
	challengeNow(t, a.URL, iv)
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		c, err := readCheckpoint(iv)
		return err == nil && c.progress.Next == 1, fmt.Sprintf("checkpoint after challenge now: next %d (%v)", c.progress.Next, err)
	})

	// A rolling deploy stops drain-a.
	a.Signal(syscall.SIGTERM)
	termAt := time.Now()
	select {
	case <-cand.Failed():
	case <-time.After(60 * time.Second):
		t.Fatalf("drain-a did not close its room within 60 s of SIGTERM; its log:\n%s", tail(a.Output.String(), 6000))
	}
	toldAfter := time.Since(termAt)
	if !cand.Moved() {
		t.Fatalf("the candidate was not told the interview moved; drain-a's log:\n%s", tail(a.Output.String(), 6000))
	}
	// The lease was given up before the candidate was told, not left to expire; the
	// interview waits, interrupted, for its candidate.
	if l, err := st.InterviewLease(ctx, iv); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("the lease when the candidate was told: %+v %v, want none", l, err)
	}
	if s := status(iv); s != "interrupted" {
		t.Fatalf("the interview handed over: %s, want interrupted until it goes on", s)
	}
	// Its log reaches the test through a pipe that can lag: wait for the lines.
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		out := a.Output.String()
		return strings.Contains(out, "session handed over with its checkpoint") && strings.Contains(out, "handed_over=1"),
			"drain-a's log does not say it handed the interview over:\n" + tail(out, 3000)
	})
	exited(a, "drain-a")
	exitedAfter := time.Since(termAt)
	if out := a.Output.String(); strings.Contains(out, "write refused") || strings.Contains(out, "result lost") || strings.Contains(out, "lease not given up") {
		t.Fatalf("drain-a lost or refused a write while draining:\n%s", tail(out, 6000))
	}
	if _, err := st.Node(ctx, "drain-a"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("drain-a's row after its exit: %v, want removed", err)
	}
	c := rowCounts(t, pool, iv)
	if c["session_results"] != 0 || c["verdicts"] != 0 || c["session_checkpoints"] != 1 {
		t.Fatalf("drain-a stored the session it handed over: rows %v", c)
	}
	handed, err := readCheckpoint(iv)
	if err != nil || handed.node != "drain-a" || !handed.started.Equal(before.started) || handed.progress.Next != 1 {
		t.Fatalf("drain-a's final checkpoint: %+v %v", handed, err)
	}
	var parts int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv).Scan(&parts)
	if parts == 0 {
		t.Fatal("drain-a's final checkpoint holds no measurements")
	}

	// The candidate rejoins: placed on drain-b, the same session goes on.
	join(cand, "the candidate's rejoin")
	rejoinedAfter := time.Since(termAt)
	if cand.Node() != b.URL {
		t.Fatalf("rejoined on %s, want drain-b", cand.Node())
	}
	var after storedCheckpoint
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		after, err = readCheckpoint(iv)
		return err == nil && after.node == "drain-b", fmt.Sprintf("checkpoint after the rejoin %+v (%v)", after, err)
	})
	if !after.started.Equal(before.started) || after.progress.Next != handed.progress.Next || len(after.progress.Plan.Items) != 3 {
		t.Fatalf("after the rejoin: session %v next %d, want the session of %v at next %d", after.started, after.progress.Next,
			before.started, handed.progress.Next)
	}
	for i, it := range after.progress.Plan.Items {
		if it.ID != before.progress.Plan.Items[i].ID {
			t.Fatalf("plan item %d changed across the hand-over", i)
		}
	}
	// drain-b decodes and has analysed a few seconds of its own (the face-presence series must
	// go on past the hand-over), counted from the first figures it reports.
	var analysedFrom uint64
	seen := false
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var got wire.Interview
		apiGet(t, b.URL, fmt.Sprintf("/api/interviews/%d", iv), &got)
		if got.Live != nil && !seen {
			analysedFrom, seen = got.Live.FramesAnalysed, true
		}
		return got.Live != nil && got.Live.FramesDecoded > 30 && got.Live.FramesAnalysed > analysedFrom+15 && got.Status == "live",
			fmt.Sprintf("on drain-b: %+v (analysed from %d)", got, analysedFrom)
	})
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		return strings.Contains(b.Output.String(), "session resumed from its checkpoint"), "drain-b's log does not say the session resumed"
	})

	// The end on drain-b: one session (the first part's start), one verdict, each row once.
	if code := apiPost(t, b.URL, fmt.Sprintf("/api/interviews/%d/end", iv)); code != http.StatusAccepted {
		t.Fatalf("end: %d", code)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		c := rowCounts(t, pool, iv)
		return c["session_results"] == 1 && c["verdicts"] == 1 && c["session_checkpoints"] == 0, fmt.Sprintf("rows %v", c)
	})
	cand.Close()
	c = rowCounts(t, pool, iv)
	var sessionStarted time.Time
	var rows, distinct, signals, signalKinds int
	_ = pool.QueryRow(ctx, `SELECT started_at FROM session_results WHERE interview_id = $1`, iv).Scan(&sessionStarted)
	_ = pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT challenge_id) FROM challenges WHERE interview_id = $1`, iv).Scan(&rows, &distinct)
	_ = pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT kind) FROM signals WHERE interview_id = $1 AND kind NOT LIKE 'challenge\_%'`, iv).
		Scan(&signals, &signalKinds)
	if c["attempts"] != 2 || c["consents"] != 1 || !sessionStarted.Equal(before.started) || rows != distinct || signals != signalKinds {
		t.Errorf("rows %v, session started %v (want %v), %d challenge rows (%d distinct), %d signals (%d kinds)", c, sessionStarted,
			before.started, rows, distinct, signals, signalKinds)
	}
	// The stored series run from drain-a's part, before the hand-over, to drain-b's.
	var firstT, lastT int64
	_ = pool.QueryRow(ctx, `SELECT (points->0->>'t')::bigint, (points->-1->>'t')::bigint FROM series
		WHERE interview_id = $1 AND kind = 'face_presence'`, iv).Scan(&firstT, &lastT)
	if handAt := termAt.Sub(before.started).Milliseconds(); firstT >= handAt || lastT <= handAt {
		t.Errorf("face presence from %d to %d ms, want from before the hand-over (%d ms) to after it", firstT, lastT, handAt)
	}
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM session_checkpoint_parts WHERE interview_id = $1`, iv).Scan(&parts)
	if parts != 0 {
		t.Errorf("%d measurement parts left after the session was stored", parts)
	}
	reasons := attemptEndReasons(t, ctx, pool, iv)
	if len(reasons) != 2 || reasons[0] != "node drained" {
		t.Errorf("attempts end %v, want the first closed by drain-a as node drained", reasons)
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var ends, resumed int
		_ = pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE detail ? 'resumed_at') FROM audit_log
			WHERE action = 'session.end' AND target = $1`, fmt.Sprintf("interview:%d", iv)).Scan(&ends, &resumed)
		return ends == 1 && resumed == 1, fmt.Sprintf("%d session.end entries, %d with resumed_at", ends, resumed)
	})
	t.Logf("after SIGTERM: candidate told moved %s, drain-a exited %s (the test waited for it before the rejoin), rejoined on drain-b %s; "+
		"attempts %v, %d challenge rows; %s so far", toldAfter.Round(time.Millisecond), exitedAfter.Round(time.Millisecond),
		rejoinedAfter.Round(time.Millisecond), reasons, rows, time.Since(start).Round(time.Millisecond))

	// drain-b alone: its interview cannot go anywhere, it ends here as interrupted and is stored.
	iv2, cand2 := newInterview("Last Candidate")
	join(cand2, "the second candidate")
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		cp, err := readCheckpoint(iv2)
		return err == nil && cp.node == "drain-b" && status(iv2) == "live", fmt.Sprintf("checkpoint %+v (%v), status %s", cp, err, status(iv2))
	})
	b.Signal(syscall.SIGTERM)
	termAt = time.Now()
	select {
	case <-cand2.Failed():
	case <-time.After(60 * time.Second):
		t.Fatalf("drain-b did not end its room within 60 s of SIGTERM; its log:\n%s", tail(b.Output.String(), 6000))
	}
	if cand2.Moved() {
		t.Fatal("drain-b, alone, told its candidate the interview moved")
	}
	exited(b, "drain-b")
	t.Logf("drain-b alone exited %s after SIGTERM", time.Since(termAt).Round(time.Millisecond))
	c = rowCounts(t, pool, iv2)
	if c["session_results"] != 1 || c["verdicts"] != 1 || c["session_checkpoints"] != 0 || c["attempts"] != 1 || status(iv2) != "interrupted" {
		t.Errorf("the interview of the node alone: rows %v, status %s; want its session stored, interrupted", c, status(iv2))
	}
	if strings.Contains(b.Output.String(), "handed over") {
		t.Errorf("drain-b, alone, handed an interview over:\n%s", tail(b.Output.String(), 3000))
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}
