package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/wire"
)

// TestSessionGoesOnAfterNodeKill: three `livecheck serve` processes on one
// database; a candidate's interview runs on one node, which issues the
// plan's first challenge (and its reissue) and is then killed with
// SIGKILL. The candidate rejoins with the same link on another node, where
// the same session goes on from its checkpoint: the same session start and
// plan, the next challenge is the plan's second item (the first is not
// asked again). That node is killed too and restarted under its id at once;
// the candidate rejoins on it and the session goes on at the plan's third
// item. At the end there is one stored session, one verdict, whose
// challenge signals cover the results of all three parts, no checkpoint
// left, each challenge row once, and one session.end audit entry saying the
// session was resumed.
func TestSessionGoesOnAfterNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("three server processes and real WebRTC")
	}
	start := time.Now()
	dbURL := pgtest.SchemaURL(t)
	ctx := context.Background()
	pool := rawDB(t, dbURL)
	st := store.New(pool)
	var nodes []*apptest.Proc
	byURL := map[string]string{}
	settings := map[string]map[string]string{} // by URL, to restart a node as itself
	ports := map[string]int{}
	for i := 1; i <= 3; i++ {
		s := nodeEnv(fmt.Sprintf("resume-%d", i), dbURL)
		port := apptest.FreePort(t)
		p := apptest.StartProc(t, port, s)
		nodes = append(nodes, p)
		byURL[p.URL], settings[p.URL], ports[p.URL] = s["LIVECHECK_NODE_ID"], s, port
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		ns, err := st.Nodes(ctx)
		return err == nil && len(ns) == 3, fmt.Sprintf("%d nodes registered (%v)", len(ns), err)
	})
	t.Logf("three nodes up after %s", time.Since(start).Round(time.Millisecond))
	media, err := loadgen.LoadMedia("", "", apptest.Testdata("faces/astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	page := nodes[0].URL
	var cr wire.InterviewCreated
	if code := apiPostJSON(t, page, "/api/interviews", wire.InterviewRequest{CandidateName: "Resumed Candidate",
		CandidateEmail: "resume@candidate.test"}, &cr); code != http.StatusCreated {
		t.Fatalf("create interview: %d", code)
	}
	iv := cr.ID
	cand, err := loadgen.NewRejoiner(ctx, cr.JoinURL, media)
	if err != nil {
		t.Fatal(err)
	}
	defer cand.Close()
	if err := cand.Join(ctx, page); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, cand, "the candidate")
	owner := cand.Node()

	readCheckpoint := func() (storedCheckpoint, error) { return readCheckpoint(ctx, pool, iv) }
	challengeRows := func() []store.ChallengeRecord { cs, _ := st.Challenges(ctx, iv); return cs }

	// The first node: the plan's first challenge, verified (and, inconclusive, reissued once
	// and verified again), all stored, the checkpoint past it.
	var before storedCheckpoint
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		before, err = readCheckpoint()
		return err == nil && before.node == byURL[owner] && len(before.progress.Plan.Items) == 3, fmt.Sprintf("checkpoint %+v (%v)", before, err)
	})
	challengeNow(t, owner, iv)
	apptest.Eventually(t, 90*time.Second, func() (bool, string) {
		c, err := readCheckpoint()
		rows := challengeRows()
		done := err == nil && c.progress.Next == 1 && c.progress.Active == nil && c.progress.Reissue == nil && len(rows) > 0
		return done, fmt.Sprintf("checkpoint next %d active %v reissue %v, %d challenge rows (%v)", c.progress.Next,
			c.progress.Active != nil, c.progress.Reissue != nil, len(rows), err)
	})
	first := challengeRows()
	if first[0].ChallengeID != before.progress.Plan.Items[0].ID {
		t.Fatalf("the first stored challenge %s is not the plan's first item", first[0].ChallengeID)
	}
	t.Logf("first node %s: %d challenge rows (%s: %s) after %s", byURL[owner], len(first), first[0].Kind, first[0].Outcome,
		time.Since(start).Round(time.Millisecond))

	// kill kills the node at victim (restarting it as itself when restart is set); the
	// candidate notices, rejoins with the same link through page, and lands on a live node.
	kill := func(victim, page string, restart bool) (owner string, killedAt, rejoinedAt time.Time) {
		t.Helper()
		for i, p := range nodes {
			if p.URL == victim {
				p.Kill()
				killedAt = time.Now()
				if restart {
					nodes[i] = apptest.StartProc(t, ports[victim], settings[victim])
				}
			}
		}
		select {
		case <-cand.Failed():
		case <-time.After(60 * time.Second):
			t.Fatal("the candidate did not notice its node died")
		}
		apptest.Eventually(t, 90*time.Second, func() (bool, string) {
			if err := cand.Join(ctx, page); err != nil {
				return false, "rejoin: " + err.Error()
			}
			select {
			case <-cand.Connected():
				return true, ""
			case <-cand.Failed():
				return false, "rejoined call failed"
			case <-time.After(45 * time.Second):
				return false, "rejoined call did not connect"
			}
		})
		return cand.Node(), killedAt, time.Now()
	}
	// resumed checks that the same session goes on at owner at plan item next, and that the
	// first challenge asked there ("challenge now") is that item, not one asked before.
	resumed := func(owner string, next int, killedAt time.Time) {
		t.Helper()
		var after storedCheckpoint
		apptest.Eventually(t, 30*time.Second, func() (bool, string) {
			var err error
			after, err = readCheckpoint()
			return err == nil && after.node == byURL[owner], fmt.Sprintf("checkpoint after the rejoin: node %s (%v)", after.node, err)
		})
		if !after.started.Equal(before.started) || after.progress.Next != next || len(after.progress.Plan.Items) != 3 {
			t.Fatalf("after the rejoin: session %v next %d, want the session of %v at next %d", after.started, after.progress.Next,
				before.started, next)
		}
		for i, it := range after.progress.Plan.Items {
			if it.ID != before.progress.Plan.Items[i].ID {
				t.Fatalf("plan item %d changed across the move", i)
			}
		}
		apptest.Eventually(t, 30*time.Second, func() (bool, string) {
			var got wire.Interview
			apiGet(t, owner, fmt.Sprintf("/api/interviews/%d", iv), &got)
			return got.Live != nil && got.Live.FramesDecoded > 30 && got.Status == "live", fmt.Sprintf("after the rejoin: %+v", got)
		})
		challengeNow(t, owner, iv)
		want := before.progress.Plan.Items[next].ID
		apptest.Eventually(t, 90*time.Second, func() (bool, string) {
			c, err := readCheckpoint()
			stored := false
			for _, r := range challengeRows() {
				stored = stored || r.ChallengeID == want
			}
			return err == nil && stored && c.progress.Next == next+1 && c.progress.Active == nil && c.progress.Reissue == nil,
				fmt.Sprintf("plan item %d stored %v; checkpoint next %d active %v reissue %v (%v)", next, stored, c.progress.Next,
					c.progress.Active != nil, c.progress.Reissue != nil, err)
		})
		var firstAfter *store.ChallengeRecord
		for _, c := range challengeRows() {
			if c.IssuedAt.After(killedAt) {
				firstAfter = &c
				break
			}
		}
		if firstAfter == nil || firstAfter.ChallengeID != want {
			t.Fatalf("the first challenge after the move is %+v, want the plan's item %d", firstAfter, next)
		}
	}

	// Kill the first node; the candidate rejoins elsewhere with the same link.
	for _, p := range nodes {
		if page == owner && p.URL != owner {
			page = p.URL // the page reloads on a node that answers
		}
	}
	second, killedAt, rejoinedAt := kill(owner, page, false)
	if second == owner || second == "" {
		t.Fatalf("rejoined on %q, the dead node", second)
	}
	t.Logf("rejoined on %s %s after the kill", byURL[second], rejoinedAt.Sub(killedAt).Round(time.Millisecond))
	resumed(second, 1, killedAt)

	// Kill that node too and restart it under its id at once: the session goes on there (the
	// restarted node is the least loaded one of the two alive, ties by id) or on the third.
	var other string
	for _, p := range nodes {
		if p.URL != owner && p.URL != second {
			other = p.URL
		}
	}
	third, killedAt2, rejoinedAt2 := kill(second, other, true)
	t.Logf("after the restart of %s: rejoined on %s %s after the kill", byURL[second], byURL[third],
		rejoinedAt2.Sub(killedAt2).Round(time.Millisecond))
	if third != second {
		t.Errorf("rejoined on %s, want the restarted %s (least loaded, lowest id)", byURL[third], byURL[second])
	}
	resumed(third, 2, killedAt2)
	next := third
	alive := []string{other}

	// End: one session (the first part's start), one verdict covering both parts, no checkpoint left.
	if code := apiPost(t, next, fmt.Sprintf("/api/interviews/%d/end", iv)); code != http.StatusAccepted {
		t.Fatalf("end: %d", code)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		c := rowCounts(t, pool, iv)
		return c["session_results"] == 1 && c["verdicts"] == 1, fmt.Sprintf("rows %v", c)
	})
	cand.Close()
	rows := challengeRows()
	counts := rowCounts(t, pool, iv)
	var sessionStarted time.Time
	var checkpoints, perResult, distinct int
	_ = pool.QueryRow(ctx, `SELECT started_at FROM session_results WHERE interview_id = $1`, iv).Scan(&sessionStarted)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM session_checkpoints WHERE interview_id = $1`, iv).Scan(&checkpoints)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM signals WHERE interview_id = $1 AND kind LIKE 'challenge\_%'
		AND kind NOT IN ('challenge_latency', 'challenge_none_passed')`, iv).Scan(&perResult)
	_ = pool.QueryRow(ctx, `SELECT count(DISTINCT challenge_id) FROM challenges WHERE interview_id = $1`, iv).Scan(&distinct)
	if counts["session_results"] != 1 || counts["verdicts"] != 1 || counts["attempts"] != 3 || counts["consents"] != 1 ||
		!sessionStarted.Equal(before.started) || checkpoints != 0 {
		t.Errorf("rows %v, session started %v (want %v), %d checkpoints left", counts, sessionStarted, before.started, checkpoints)
	}
	if perResult != len(rows) || distinct != len(rows) || len(rows) <= len(first) {
		t.Errorf("%d challenge rows (%d distinct, %d before the kill), %d per-result challenge signals in the verdict: want one per row",
			len(rows), distinct, len(first), perResult)
	}
	// The audit log's one session.end says that the session went on after its node died.
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var ends, resumed int
		_ = pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE detail ? 'resumed_at') FROM audit_log
			WHERE action = 'session.end' AND target = $1`, fmt.Sprintf("interview:%d", iv)).Scan(&ends, &resumed)
		return ends == 1 && resumed == 1, fmt.Sprintf("%d session.end entries, %d with resumed_at", ends, resumed)
	})
	var got wire.Interview
	apiGet(t, alive[0], fmt.Sprintf("/api/interviews/%d", iv), &got)
	if got.Session == nil || got.Verdict == nil || len(got.Challenges) != len(rows) {
		t.Errorf("the interview as staff see it: session %v, verdict %v, %d challenges of %d", got.Session != nil, got.Verdict != nil,
			len(got.Challenges), len(rows))
	}
	var kinds []string
	for _, c := range rows {
		kinds = append(kinds, fmt.Sprintf("%s/%d %s", c.Kind, c.Attempt, c.Outcome))
	}
	t.Logf("stored challenges: %s; whole test %s", strings.Join(kinds, ", "), time.Since(start).Round(time.Millisecond))
}

// challengeNow presses "challenge now" on node until it is accepted: a 409 is the server's
// truthful "not yet" (the candidate's control channel still opening after the media
// connected, or a reissue running), so it is asked again until a deadline.
func challengeNow(t *testing.T, node string, iv int64) {
	t.Helper()
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		code := apiPost(t, node, fmt.Sprintf("/api/interviews/%d/challenge", iv))
		if code != http.StatusAccepted && code != http.StatusConflict {
			t.Fatalf("challenge now on %s: %d", node, code)
		}
		return code == http.StatusAccepted, fmt.Sprintf("challenge now on %s: %d", node, code)
	})
}
