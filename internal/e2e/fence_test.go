package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/wire"
)

// tcpProxy forwards TCP connections to a target (here: PostgreSQL) until it
// is cut: then every open connection is closed and new ones are closed as
// soon as they arrive, until it is restored.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// Cut closes every connection through the proxy and refuses new ones.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore lets connections through again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// TestFencedNodeYields: two `livecheck serve` processes on one database, one
// of them (fence-a) reaching it through a TCP proxy. A candidate's interview
// runs on fence-a; the proxy is cut. fence-a cannot renew its leases, fences
// itself (before they may expire) and tells the candidate the interview
// moved; the candidate rejoins on fence-b, where the same session goes on
// from its checkpoint. The proxy is restored: fence-a's late writes (its
// session's end) are refused and logged, the new owner's checkpoint stays,
// fence-a renews and serves a new interview. At the end the first interview
// has one session, one verdict (the first part's start), no checkpoint, and
// each row once.
func TestFencedNodeYields(t *testing.T) {
	if testing.Short() {
		t.Skip("two server processes and real WebRTC")
	}
	start := time.Now()
	dbURL := pgtest.SchemaURL(t)
	ctx := context.Background()
	pool := rawDB(t, dbURL)
	st := store.New(pool)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = proxy.Addr()
	const heartbeat = 2 * time.Second // leases of 6 s; the node fences 0.5 s before
	startNode := func(id, db string) *apptest.Proc {
		env := nodeEnv(id, db)
		env["LIVECHECK_NODE_HEARTBEAT"] = heartbeat.String()
		return apptest.StartProc(t, apptest.FreePort(t), env)
	}
	cut := startNode("fence-a", viaProxy.String())
	other := startNode("fence-b", dbURL)
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		ns, err := st.Nodes(ctx)
		return err == nil && len(ns) == 2, fmt.Sprintf("%d nodes registered (%v)", len(ns), err)
	})
	// Interviews are created through fence-b's API and joined through its page (the route decides the node).
	cands := newCandidates(t, ctx, other.URL)
	newInterview, join := cands.interview, cands.join
	readCheckpoint := func(iv int64) (storedCheckpoint, error) { return readCheckpoint(ctx, pool, iv) }

	// Both nodes empty: the placement picks fence-a (ties by id).
	iv, cand := newInterview("Fenced Candidate")
	join(cand, "the candidate")
	if cand.Node() != cut.URL {
		t.Fatalf("placed on %s, want fence-a %s", cand.Node(), cut.URL)
	}
	var before storedCheckpoint
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		before, err = readCheckpoint(iv)
		var status string
		_ = pool.QueryRow(ctx, `SELECT status FROM interviews WHERE id = $1`, iv).Scan(&status)
		return err == nil && before.node == "fence-a" && status == "live", fmt.Sprintf("checkpoint %+v (%v), status %s", before, err, status)
	})

	// fence-a learns of fence-b at a heartbeat after fence-b registered (until then it
	// counts itself alone, and a node alone does not fence).
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		a, errA := st.Node(ctx, "fence-a")
		b, errB := st.Node(ctx, "fence-b")
		return errA == nil && errB == nil && a.HeartbeatAt.After(b.StartedAt), fmt.Sprintf("fence-a %v, fence-b %v", a, b)
	})
	// Cut fence-a off the database.
	proxy.Cut()
	cutAt := time.Now()
	select {
	case <-cand.Failed():
	case <-time.After(3*heartbeat + 30*time.Second):
		t.Fatalf("fence-a did not close its room within %s of the cut; its log:\n%s", 3*heartbeat+30*time.Second, tail(cut.Output.String(), 12000))
	}
	closedAfter := time.Since(cutAt)
	if !cand.Moved() {
		t.Fatal("the candidate was not told the interview moved (reconnect)")
	}
	// The log line is written before the room closes, but it reaches the test
	// through fence-a's stderr pipe, which can be behind the candidate's
	// WebSocket: wait for it.
	apptest.Eventually(t, 20*time.Second, func() (bool, string) {
		return strings.Contains(cut.Output.String(), "node fenced"), "no fence in fence-a's log:\n" + tail(cut.Output.String(), 3000)
	})
	t.Logf("fence-a closed its room %s after the cut (lease %s)", closedAfter.Round(time.Millisecond), 3*heartbeat)

	// The candidate rejoins: the route reaps fence-a's expired lease and places the
	// interview on fence-b, where the same session goes on.
	join(cand, "the candidate's rejoin")
	rejoinedAfter := time.Since(cutAt)
	if cand.Node() != other.URL {
		t.Fatalf("rejoined on %s, want fence-b", cand.Node())
	}
	var after storedCheckpoint
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var err error
		after, err = readCheckpoint(iv)
		return err == nil && after.node == "fence-b", fmt.Sprintf("checkpoint after the rejoin %+v (%v)", after, err)
	})
	if !after.started.Equal(before.started) {
		t.Fatalf("a new session %v on fence-b, want the first one's %v to go on", after.started, before.started)
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var got wire.Interview
		apiGet(t, other.URL, fmt.Sprintf("/api/interviews/%d", iv), &got)
		return got.Live != nil && got.Live.FramesDecoded > 30 && got.Status == "live", fmt.Sprintf("on fence-b: %+v", got)
	})
	t.Logf("the candidate rejoined on fence-b %s after the cut", rejoinedAfter.Round(time.Millisecond))

	// Restore the proxy: fence-a renews, gives up what it fenced, and its late writes
	// do not overwrite fence-b's.
	var restoredAt time.Time
	if err := pool.QueryRow(ctx, `SELECT now()`).Scan(&restoredAt); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		n, err := st.Node(ctx, "fence-a")
		return err == nil && n.HeartbeatAt.After(restoredAt), fmt.Sprintf("fence-a's heartbeat %v (%v)", n, err)
	})
	// Its queued attempt end lands (its own row, with what it measured), then its session's
	// end is refused: the session goes on at fence-b.
	refused := func() bool {
		out := cut.Output.String()
		return strings.Contains(out, "write refused") && strings.Contains(out, "session end")
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		c := rowCounts(t, pool, iv)
		return refused() || c["session_results"] > 0 || c["session_checkpoints"] == 0,
			fmt.Sprintf("fence-a's session end neither refused nor stored yet: rows %v", c)
	})
	c := rowCounts(t, pool, iv)
	if c["session_results"] != 0 || c["verdicts"] != 0 || c["session_checkpoints"] != 1 {
		t.Fatalf("fence-a's late writes stored the session it lost: rows %v", c)
	}
	if !refused() {
		t.Fatalf("no refused session end in fence-a's log:\n%s", tail(cut.Output.String(), 3000))
	}
	if cp, err := readCheckpoint(iv); err != nil || cp.node != "fence-b" || !cp.started.Equal(before.started) {
		t.Fatalf("fence-b's checkpoint overwritten: %+v %v", cp, err)
	}
	if l, err := st.InterviewLease(ctx, iv); err != nil || l.NodeID != "fence-b" {
		t.Fatalf("the lease after fence-a's return: %+v %v", l, err)
	}

	// fence-a takes new interviews again: it has no lease, fence-b one, so a new one goes there.
	iv2, cand2 := newInterview("Second Candidate")
	join(cand2, "the second candidate")
	if cand2.Node() != cut.URL {
		t.Fatalf("the second interview placed on %s, want fence-a again", cand2.Node())
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var got wire.Interview
		apiGet(t, cut.URL, fmt.Sprintf("/api/interviews/%d", iv2), &got)
		return got.Live != nil && got.Live.FramesDecoded > 30 && got.Status == "live", fmt.Sprintf("on fence-a: %+v", got)
	})

	// End both: each interview has one session and verdict, no checkpoint, each row once.
	for _, e := range []struct {
		node string
		id   int64
	}{{other.URL, iv}, {cut.URL, iv2}} {
		if code := apiPost(t, e.node, fmt.Sprintf("/api/interviews/%d/end", e.id)); code != http.StatusAccepted {
			t.Fatalf("end %d: %d", e.id, code)
		}
	}
	for _, id := range []int64{iv, iv2} {
		apptest.Eventually(t, 60*time.Second, func() (bool, string) {
			c := rowCounts(t, pool, id)
			return c["session_results"] == 1 && c["verdicts"] == 1 && c["session_checkpoints"] == 0, fmt.Sprintf("interview %d rows %v", id, c)
		})
	}
	cand.Close()
	cand2.Close()
	c = rowCounts(t, pool, iv)
	var sessionStarted time.Time
	var rows, distinct int
	_ = pool.QueryRow(ctx, `SELECT started_at FROM session_results WHERE interview_id = $1`, iv).Scan(&sessionStarted)
	_ = pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT challenge_id) FROM challenges WHERE interview_id = $1`, iv).Scan(&rows, &distinct)
	if c["attempts"] != 2 || c["consents"] != 1 || !sessionStarted.Equal(before.started) || rows != distinct {
		t.Errorf("interview %d: rows %v, session started %v (want %v), %d challenge rows (%d distinct)", iv, c, sessionStarted,
			before.started, rows, distinct)
	}
	reasons := attemptEndReasons(t, ctx, pool, iv)
	t.Logf("attempts of the fenced interview end: %v; whole test %s", reasons, time.Since(start).Round(time.Millisecond))
	if len(reasons) != 2 || reasons[0] != "node fenced" {
		t.Errorf("the fenced node's attempt: %v, want it closed by fence-a's own late write (node fenced)", reasons)
	}
}

// tail is the last n bytes of s, without River's lines.
func tail(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "component=river") {
			keep = append(keep, l)
		}
	}
	s = strings.Join(keep, "\n")
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
