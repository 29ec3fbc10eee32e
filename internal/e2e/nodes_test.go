package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/auth"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/store/pgtest"
	"github.com/livecheck/livecheck/internal/webhook"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

const nodesToken = "nodes-test-api-token-0123456789abcdefghijkl"

// hookSink counts webhook deliveries by delivery id.
type hookSink struct {
	mu    sync.Mutex
	byID  map[string]int
	event map[string]int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	h.byID[r.Header.Get(webhook.HeaderDelivery)]++
	h.event[r.Header.Get(webhook.HeaderEvent)]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookSink) counts() (deliveries int, dup string, verdicts int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.byID {
		deliveries += n
		if n > 1 {
			dup = fmt.Sprintf("delivery %s received %d times", id, n)
		}
	}
	return deliveries, dup, h.event[webhook.EventVerdictStored]
}

// apiGet calls the admin API of one node.
func apiGet(t *testing.T, base, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+nodesToken)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func apiPost(t *testing.T, base, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+nodesToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestThreeNodes runs three `livecheck serve` processes on one database:
// interviews spread over the nodes by their leases; joins opened on a node that
// does not hold the interview reach the one that does (a socket sent to the
// wrong node directly is refused, a ticket is good on its node only); a node
// killed with SIGKILL loses its leases, its interviews are marked interrupted
// with what was stored kept, and their candidates rejoin on another node and go
// on; every stored row exists once; webhooks are delivered exactly once by the
// two nodes left; a load-generator run goes across both.
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("three server processes and real WebRTC")
	}
	start := time.Now()
	dbURL := pgtest.SchemaURL(t)
	const secret = nodesSecret
	sink := &hookSink{byID: map[string]int{}, event: map[string]int{}}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	ctx := context.Background()
	pool := rawDB(t, dbURL)
	st := store.New(pool)

	var nodes []*apptest.Proc
	byURL := map[string]string{} // node URL -> node id
	for i := 1; i <= 3; i++ {
		s := nodeEnv(fmt.Sprintf("node-%d", i), dbURL)
		s["LIVECHECK_CHALLENGES"], s["LIVECHECK_WEBHOOK_ALLOW_PRIVATE"] = "0", "true"
		p := apptest.StartProc(t, apptest.FreePort(t), s)
		nodes = append(nodes, p)
		byURL[p.URL] = s["LIVECHECK_NODE_ID"]
	}
	t.Logf("three nodes up after %s", time.Since(start).Round(time.Millisecond))
	if err := st.CreateWebhook(ctx, &store.Webhook{URL: hooks.URL + "/hook", Secret: "hook-secret-0123456789", Events: []string{"*"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		ns, err := st.Nodes(ctx)
		return err == nil && len(ns) == 3, fmt.Sprintf("%d nodes registered (%v)", len(ns), err)
	})
	media, err := loadgen.LoadMedia("", "", apptest.Testdata("faces/astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}

	// Six interviews, each opened on the node after the one it will run on.
	type call struct {
		iv    int64
		token string
		page  string // the node whose join page the candidate opened
		cand  *loadgen.Rejoiner
	}
	calls := make([]*call, 6)
	for i := range calls {
		page := nodes[(i+1)%3].URL
		var cr wire.InterviewCreated
		if code := apiPostJSON(t, page, "/api/interviews", wire.InterviewRequest{CandidateName: fmt.Sprintf("Node Candidate %d", i),
			CandidateEmail: fmt.Sprintf("node%d@candidate.test", i)}, &cr); code != http.StatusCreated {
			t.Fatalf("create interview on %s: %d", page, code)
		}
		cand, err := loadgen.NewRejoiner(ctx, cr.JoinURL, media)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cand.Close)
		c := &call{iv: cr.ID, token: cr.JoinURL[strings.LastIndex(cr.JoinURL, "/")+1:], page: page, cand: cand}
		calls[i] = c
		if err := cand.Join(ctx, ""); err != nil { // routed at once: the next join sees this lease
			t.Fatalf("interview %d: join: %v", c.iv, err)
		}
	}
	for _, c := range calls {
		waitConnected(t, c.cand, fmt.Sprintf("interview %d", c.iv))
	}
	perNode := map[string]int{}
	for _, c := range calls {
		owner := c.cand.Node()
		l, err := st.InterviewLease(ctx, c.iv)
		if err != nil || byURL[owner] != l.NodeID {
			t.Fatalf("interview %d runs on %s (%s) but its lease is %+v (%v)", c.iv, owner, byURL[owner], l, err)
		}
		if owner == c.page {
			t.Errorf("interview %d: the least-loaded pick should have been another node than its page's %s", c.iv, c.page)
		}
		perNode[l.NodeID]++
		// Live on the owner (its room and session), on no other node.
		apptest.Eventually(t, 30*time.Second, func() (bool, string) {
			var got wire.Interview
			apiGet(t, owner, fmt.Sprintf("/api/interviews/%d", c.iv), &got)
			return got.Live != nil && got.Live.FramesDecoded > 0 && got.Status == "live", fmt.Sprintf("interview %d on %s: %+v", c.iv, owner, got)
		})
		if code := apiPost(t, c.page, fmt.Sprintf("/api/interviews/%d/challenge", c.iv)); code != http.StatusConflict {
			t.Errorf("interview %d: challenge on a node without its room: %d, want 409", c.iv, code)
		}
	}
	if perNode["node-1"] != 2 || perNode["node-2"] != 2 || perNode["node-3"] != 2 {
		t.Fatalf("interviews per node %v, want 2 each", perNode)
	}
	t.Logf("six interviews spread %v after %s", perNode, time.Since(start).Round(time.Millisecond))

	// The wrong node directly: a socket without a route is refused with the
	// owner (421), and a ticket made for the owner is refused elsewhere (403),
	// as is a ticket of another interview.
	c0 := calls[0]
	wrong := c0.page
	bearer := http.Header{"Authorization": {"Bearer " + nodesToken}}
	dial := func(u string, hdr http.Header) (int, string) {
		h := http.Header{"Origin": {wrong}}
		for k, v := range hdr {
			h[k] = v
		}
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		ws, resp, err := d.Dial(u, h)
		if err == nil {
			ws.Close()
			return http.StatusSwitchingProtocols, ""
		}
		if resp == nil {
			return 0, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	wsOf := func(httpURL string) string { return strings.Replace(httpURL, "http://", "ws://", 1) }
	if code, body := dial(fmt.Sprintf("%s/ws/interviews/%d?mode=observe", wsOf(wrong), c0.iv), bearer); code != http.StatusMisdirectedRequest ||
		!strings.Contains(body, c0.cand.Node()) {
		t.Errorf("an observer socket on the wrong node: %d %s, want 421 naming %s", code, body, c0.cand.Node())
	}
	var rt wire.Route
	if code := apiGet(t, wrong, fmt.Sprintf("/api/interviews/%d/node?mode=observe", c0.iv), &rt); code != http.StatusOK || rt.URL != c0.cand.Node() ||
		rt.Node != byURL[rt.URL] {
		t.Fatalf("route asked of %s: %d %+v, want %s", wrong, code, rt, c0.cand.Node())
	}
	u, _ := url.Parse(rt.WS)
	u.Host = strings.TrimPrefix(wrong, "http://")
	if code, body := dial(u.String(), bearer); code != http.StatusForbidden {
		t.Errorf("the owner's ticket on another node: %d %s, want 403", code, body)
	}
	signer, _ := auth.NewSigner([]byte(secret))
	other := calls[1].iv
	forged := signer.NodeTicket(auth.Ticket{Interview: other, Role: "observer", Node: rt.Node}, time.Now())
	u, _ = url.Parse(rt.WS)
	q := u.Query()
	q.Set("ticket", forged)
	u.RawQuery = q.Encode()
	if code, body := dial(u.String(), bearer); code != http.StatusForbidden {
		t.Errorf("a ticket of another interview: %d %s, want 403", code, body)
	}
	// Without the API token, the ticket alone signs the observer in on the owner (no cookie crosses origins).
	if code, body := dial(rt.WS, nil); code != http.StatusSwitchingProtocols {
		t.Errorf("the route's ticket on the owner: %d %s, want the socket", code, body)
	}

	// Kill the node holding calls[0]'s interview.
	victimURL := c0.cand.Node()
	victim := byURL[victimURL]
	var killed []*call
	for _, c := range calls {
		if c.cand.Node() == victimURL {
			killed = append(killed, c)
		}
	}
	attemptsBefore := map[int64]int{}
	for _, c := range calls {
		apptest.Eventually(t, 30*time.Second, func() (bool, string) { // written by the ordered writer
			a, _ := st.Attempts(ctx, c.iv)
			attemptsBefore[c.iv] = len(a)
			return len(a) == 1, fmt.Sprintf("interview %d: %d attempts before the kill", c.iv, len(a))
		})
	}
	var alive []*apptest.Proc
	for _, p := range nodes {
		if p.URL == victimURL {
			p.Kill()
		} else {
			alive = append(alive, p)
		}
	}
	killedAt := time.Now()
	for _, c := range killed {
		select {
		case <-c.cand.Failed():
		case <-time.After(60 * time.Second):
			t.Fatalf("interview %d: the candidate did not notice its node died", c.iv)
		}
		// The page reloads on a node that answers (its own, or another if its own was the one killed).
		page := c.page
		if page == victimURL {
			page = alive[0].URL
		}
		apptest.Eventually(t, 90*time.Second, func() (bool, string) {
			if err := c.cand.Join(ctx, page); err != nil {
				return false, "rejoin: " + err.Error()
			}
			select {
			case <-c.cand.Connected():
				return true, ""
			case <-c.cand.Failed():
				return false, "rejoined call failed"
			case <-time.After(45 * time.Second):
				return false, "rejoined call did not connect"
			}
		})
		if c.cand.Node() == victimURL || c.cand.Node() == "" {
			t.Fatalf("interview %d rejoined on %q, the dead node", c.iv, c.cand.Node())
		}
	}
	t.Logf("%d interviews of %s rejoined elsewhere %s after the kill", len(killed), victim, time.Since(killedAt).Round(time.Millisecond))
	for _, c := range killed {
		var atts []store.Attempt
		apptest.Eventually(t, 30*time.Second, func() (bool, string) { // attempts are written by the ordered writer, after the join
			atts, _ = st.Attempts(ctx, c.iv)
			return len(atts) == attemptsBefore[c.iv]+1, fmt.Sprintf("interview %d: %d attempts after the rejoin, %d before", c.iv, len(atts), attemptsBefore[c.iv])
		})
		first := atts[0]
		if first.EndReason == nil || *first.EndReason != "node lost" {
			t.Errorf("interview %d: the dead node's attempt ended %v, want \"node lost\"", c.iv, first.EndReason)
		}
		l, err := st.InterviewLease(ctx, c.iv)
		if err != nil || l.NodeID == victim || l.Epoch < 1 {
			t.Errorf("interview %d: lease after the rejoin %+v (%v)", c.iv, l, err)
		}
		apptest.Eventually(t, 30*time.Second, func() (bool, string) {
			var got wire.Interview
			apiGet(t, c.cand.Node(), fmt.Sprintf("/api/interviews/%d", c.iv), &got)
			return got.Live != nil && got.Live.FramesDecoded > 30 && got.Status == "live", fmt.Sprintf("after the rejoin: %+v", got)
		})
	}
	if n, err := st.Node(ctx, victim); err != nil || time.Since(n.HeartbeatAt) < 4*time.Second {
		t.Errorf("the dead node's row: %+v (%v)", n, err)
	}

	// End every call on its node; each session is stored once and each verdict's webhook delivered once.
	for _, c := range calls {
		if code := apiPost(t, c.cand.Node(), fmt.Sprintf("/api/interviews/%d/end", c.iv)); code != http.StatusAccepted {
			t.Errorf("end interview %d on %s: %d", c.iv, c.cand.Node(), code)
		}
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		_, dup, verdicts := sink.counts()
		return verdicts >= len(calls) && dup == "", fmt.Sprintf("%d verdict webhooks of %d %s", verdicts, len(calls), dup)
	})
	for _, c := range calls {
		c.cand.Close()
		counts := rowCounts(t, pool, c.iv)
		wantAttempts := 1
		for _, k := range killed {
			if k == c {
				wantAttempts = 2
			}
		}
		if counts["session_results"] != 1 || counts["verdicts"] != 1 || counts["consents"] != 1 || counts["attempts"] != wantAttempts ||
			counts["webhook_deliveries"] != 1 || counts["session_checkpoints"] != 0 {
			t.Errorf("interview %d: rows %v, want 1 session, verdict, consent and delivery, %d attempts, no checkpoint left", c.iv, counts, wantAttempts)
		}
		iv, _ := st.Interview(ctx, c.iv)
		if iv.Status != models.StatusCompleted && iv.Status != models.StatusFlagged {
			t.Errorf("interview %d: final status %s", c.iv, iv.Status)
		}
	}

	// A load-generator run across the two nodes left, one observer each joining through the other node.
	urls := []string{alive[0].URL, alive[1].URL}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	rep, err := loadgen.Run(lctx, loadgen.Config{Servers: urls, APIToken: nodesToken, Interviews: 4, Duration: 4 * time.Second,
		WarmUp: time.Second, Media: media, Viewers: 1, Label: "nodes"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	used := map[string]int{}
	for _, iv := range rep.Interviews {
		used[iv.Node]++
		if !iv.Stored {
			t.Errorf("loadgen interview %d on %s: results not stored (%s)", iv.ID, iv.Node, iv.Error)
		}
	}
	if rep.Connected != 4 || rep.Stored != 4 || len(used) != 2 || rep.ViewerPackets == 0 {
		t.Errorf("loadgen across nodes: %d connected, %d stored, nodes %v, viewer packets %d, errors %v",
			rep.Connected, rep.Stored, used, rep.ViewerPackets, rep.Errors)
	}
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		_, dup, verdicts := sink.counts()
		return verdicts == len(calls)+4 && dup == "", fmt.Sprintf("%d verdict webhooks of %d %s", verdicts, len(calls)+4, dup)
	})
	// The worker records a success after the receiver answered: wait for the rows too.
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		var undelivered, total int
		_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state <> 'succeeded'), count(*) FROM webhook_deliveries`).Scan(&undelivered, &total)
		return undelivered == 0 && total == len(calls)+4, fmt.Sprintf("%d of %d deliveries not recorded as succeeded", undelivered, total)
	})
	if deliveries, dup, _ := sink.counts(); dup != "" || deliveries != len(calls)+4 {
		t.Errorf("webhooks: %d received, want %d, each once %s", deliveries, len(calls)+4, dup)
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

func waitConnected(t *testing.T, c *loadgen.Rejoiner, what string) {
	t.Helper()
	select {
	case <-c.Connected():
	case <-c.Failed():
		t.Fatalf("%s: the call failed before connecting", what)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: not connected within 60 s", what)
	}
}

// rowCounts counts an interview's rows in the tables a session writes.
func rowCounts(t *testing.T, pool *pgxpool.Pool, id int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"session_results", "verdicts", "consents", "attempts", "webhook_deliveries", "signals", "session_checkpoints"} {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE interview_id = $1`, id).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func apiPostJSON(t *testing.T, base, path string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+nodesToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestBrowserCallOnAnotherNode: Chromium opens the candidate's pages on one
// node while the interview is placed on the other; the page learns the
// owner, its signaling socket and media cross origins with the ticket (no CSP
// violation, the origin check admits it), and when the owner is killed the
// page reloads on its own node and the interview goes on there.
func TestBrowserCallOnAnotherNode(t *testing.T) {
	if testing.Short() {
		t.Skip("two server processes and a browser")
	}
	start := time.Now()
	dbURL := pgtest.SchemaURL(t)
	const secret = "a-test-secret-that-is-long-enough-0123456789"
	settings := func(id string) map[string]string {
		return map[string]string{"LIVECHECK_DATABASE_URL": dbURL, "LIVECHECK_SIGNING_SECRET": secret, "LIVECHECK_NODE_ID": id,
			"LIVECHECK_NODE_HEARTBEAT": "2s", "LIVECHECK_ANALYSIS": "decode", "LIVECHECK_CHALLENGES": "0",
			"LIVECHECK_REJOIN_GRACE": "3s", "LIVECHECK_LOG_LEVEL": "info"}
	}
	owner := apptest.StartProc(t, apptest.FreePort(t), settings("node-1")) // both empty: the pick goes to node-1 (by id)
	page := apptest.StartProc(t, apptest.FreePort(t), settings("node-2"))
	ctx := context.Background()
	st := store.New(rawDB(t, dbURL))
	signer, _ := auth.NewSigner([]byte(secret))
	token, hash, _ := signer.NewJoinToken()
	iv := &models.Interview{CandidateName: "Cross Node", CandidateEmail: "cross@candidate.test", ScheduledAt: time.Now(),
		TokenHash: hash, ExpiresAt: time.Now().Add(72 * time.Hour)}
	if err := st.CreateInterview(ctx, iv); err != nil {
		t.Fatal(err)
	}
	cand := apptest.NewBrowser(t, apptest.BrowserOptions{VideoFile: apptest.FaceY4M(t), AudioFile: apptest.SpeechWAV(t), Script: cspProbe,
		Timeout: 4 * time.Minute})
	if err := chromedp.Do(cand, chromedp.Navigate(page.URL+"/join/"+url.PathEscape(token)), chromedp.WaitVisible(chromedp.CSS("#consent-give")),
		chromedp.Click(chromedp.CSS("#consent-give")), chromedp.WaitEnabled(chromedp.CSS("#join")), chromedp.Click(chromedp.CSS("#join")),
		chromedp.WaitVisible(chromedp.CSS("#candidate-call"))); err != nil {
		t.Fatal(err)
	}
	onNode := func(want string, minFrames int) {
		t.Helper()
		apptest.Eventually(t, 90*time.Second, func() (bool, string) {
			node, _ := chromedp.Run(cand, chromedp.Evaluate[string](`window.lcCall ? (window.lcCall.node || "") : ""`))
			frames, _ := chromedp.Run(cand, chromedp.Evaluate[int](`window.lcCall ? window.lcCall.stats().then(s => s.sentFrames) : 0`, chromedp.EvalAwaitPromise))
			l, err := st.InterviewLease(ctx, iv.ID)
			got, _ := st.Interview(ctx, iv.ID)
			return node == want && frames > minFrames && err == nil && l.NodeID == want && got.Status == models.StatusLive,
				fmt.Sprintf("page on %q, %d frames sent, lease %+v (%v), status %s", node, frames, l, err, got.Status)
		})
	}
	onNode("node-1", 60)
	csp, err := chromedp.Run(cand, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil || len(csp) > 0 {
		t.Errorf("CSP violations on the call page: %v (%v)", csp, err)
	}
	var atts []store.Attempt
	apptest.Eventually(t, 30*time.Second, func() (bool, string) { // written by the ordered writer
		atts, _ = st.Attempts(ctx, iv.ID)
		return len(atts) == 1, fmt.Sprintf("%d attempts", len(atts))
	})
	cons, _ := st.Consents(ctx, iv.ID)
	if len(cons) != 1 || atts[0].BrowserID != cons[0].BrowserID || atts[0].BrowserID == "" {
		t.Fatalf("attempts %+v, consents %+v: want one each, of the same browser (the ticket's)", atts, cons)
	}
	t.Logf("the page on node-2 runs its call on node-1 after %s", time.Since(start).Round(time.Millisecond))

	owner.Kill()
	killed := time.Now()
	onNode("node-2", 30)
	t.Logf("after the kill the page went on on node-2 in %s", time.Since(killed).Round(time.Millisecond))
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		atts, _ = st.Attempts(ctx, iv.ID)
		return len(atts) == 2, fmt.Sprintf("%d attempts after the rejoin", len(atts))
	})
	if len(atts) != 2 || atts[0].EndReason == nil || *atts[0].EndReason != "node lost" || atts[1].EndedAt != nil {
		t.Errorf("attempts after the rejoin: %+v", atts)
	}
	if csp, err := chromedp.Run(cand, chromedp.Evaluate[[]string](`window.__csp || []`)); err != nil || len(csp) > 0 {
		t.Errorf("CSP violations after the rejoin: %v (%v)", csp, err)
	}
	if cons, _ := st.Consents(ctx, iv.ID); len(cons) != 1 {
		t.Errorf("consents after the rejoin: %d, want the first one only", len(cons))
	}
}
