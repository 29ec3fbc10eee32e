package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// TestNodeOrigins: the CSP's connect-src and the WebSocket origin check
// admit this server and the registered nodes, nothing else; the route of an
// interview leased by another node names that node with a ticket for it.
func TestNodeOrigins(t *testing.T) {
	env := apptest.New(t, apptest.Options{Env: map[string]string{"LIVECHECK_API_TOKEN": testAPIToken, "LIVECHECK_NODE_ID": "node-a",
		"LIVECHECK_ANALYSIS": "decode"}})
	ctx := context.Background()
	if err := env.Store.RegisterNode(ctx, store.Node{ID: "node-b", PublicURL: "https://node-b.example.test", Capacity: 5}); err != nil {
		t.Fatal(err)
	}
	rec := env.CreateUser(models.RoleRecruiter)
	iv, _ := env.CreateInterview("Origins", env.Clock.Now().Add(time.Hour), rec.ID)
	// The node list is read at most once a second.
	apptest.Eventually(t, 10*time.Second, func() (bool, string) {
		csp := env.NewClient().Get("/login").Header.Get("Content-Security-Policy")
		return strings.Contains(csp, "connect-src 'self' "+env.URL+" "+strings.Replace(env.URL, "http://", "ws://", 1)) &&
			strings.Contains(csp, "https://node-b.example.test wss://node-b.example.test;") && !strings.Contains(csp, " ws: ") &&
			!strings.Contains(csp, " wss: "), csp
	})
	dial := func(origin string) int {
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		ws, resp, err := d.Dial(fmt.Sprintf("%s/ws/interviews/%d?mode=observe", strings.Replace(env.URL, "http://", "ws://", 1), iv.ID),
			http.Header{"Authorization": {"Bearer " + testAPIToken}, "Origin": {origin}})
		if err == nil {
			ws.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	for origin, want := range map[string]int{env.URL: 101, "https://node-b.example.test": 101, "https://evil.example.test": 403,
		"https://node-b.example.test.evil.test": 403} {
		if got := dial(origin); got != want {
			t.Errorf("socket from %s: %d, want %d", origin, got, want)
		}
	}
	// node-b holds another interview: the route names it, with a ticket made for it.
	other, _ := env.CreateInterview("Elsewhere", env.Clock.Now().Add(time.Hour), rec.ID)
	if _, err := env.Store.AcquireLease(ctx, other.ID, "node-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	r := apiCall(t, env, env.NewClient(), http.MethodGet, fmt.Sprintf("/api/interviews/%d/node?mode=host", other.ID), testAPIToken, "")
	var rt wire.Route
	if err := json.Unmarshal([]byte(r.body), &rt); err != nil || r.status != 200 || rt.Node != "node-b" || rt.URL != "https://node-b.example.test" ||
		!strings.HasPrefix(rt.WS, fmt.Sprintf("wss://node-b.example.test/ws/interviews/%d?mode=host&ticket=", other.ID)) {
		t.Fatalf("route: %d %s", r.status, r.body)
	}
	// Here, node-b's ticket is refused, and a socket without one is sent to node-b.
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for _, q := range []string{"&" + strings.SplitN(rt.WS, "&", 2)[1], ""} {
		_, resp, err := d.Dial(fmt.Sprintf("%s/ws/interviews/%d?mode=host%s", strings.Replace(env.URL, "http://", "ws://", 1), other.ID, q),
			http.Header{"Authorization": {"Bearer " + testAPIToken}})
		want := http.StatusForbidden
		if q == "" {
			want = http.StatusMisdirectedRequest
		}
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Errorf("socket here for node-b's interview (ticket %v): %v %v, want %d", q != "", err, resp, want)
		}
	}
}
