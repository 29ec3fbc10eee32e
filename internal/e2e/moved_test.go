package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
)

// TestMovedPagesSayWhatHappens: a room ended with "moved" (its node fenced
// itself off the database, or another node took the interview over) tells
// the candidate's page the truth — the interview's server changed and it
// reconnects — never "the interview has ended"; the page reloads and is in
// the call again (the lease was taken by another node meanwhile, so this
// node's session end is refused and the route places the interview anew). The recruiter's page says the interview moved and offers
// Rejoin.
func TestMovedPagesSayWhatHappens(t *testing.T) {
	env, iv, token, rec := experienceEnv(t, map[string]string{"LIVECHECK_REJOIN_GRACE": "120s"})
	cand := joinAsCandidate(t, env, token, true)
	openCall(t, env, iv, rec)
	rec.waitText("#call-status", recruiterSees, statusWait)
	cand.waitText("#call-status", candidateSeen, statusWait)
	// Every status the candidate's page shows from now on, kept across its reload.
	eval[bool](cand, `(() => {
		sessionStorage.setItem("statuses", "[]");
		const el = document.getElementById("call-status");
		new MutationObserver(() => {
			const s = JSON.parse(sessionStorage.getItem("statuses"));
			s.push(el.textContent);
			sessionStorage.setItem("statuses", JSON.stringify(s));
		}).observe(el, { childList: true, characterData: true, subtree: true });
		window.beforeMove = true;
		return true;
	})()`)
	r, ok := env.App.Rooms.Get(iv.ID)
	if !ok {
		t.Fatal("no room")
	}
	// Another node takes the interview over (and is gone by the time the page
	// reloads: its lease lasts a millisecond), so this node's session end is
	// refused and the session goes on from its checkpoint after the reload.
	ctx := context.Background()
	if err := env.Store.ReleaseLease(ctx, iv.ID, env.Config.NodeID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.AcquireLease(ctx, iv.ID, "another-node", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	r.EndMoved("taken over")
	rec.waitText("#call-status", "The interview moved to another server. Use Rejoin to follow it.", statusWait)
	rec.waitTrue(`!document.getElementById("rejoin").hidden`, 10*time.Second)
	// The candidate's page reloads (a new window) and is in the call again.
	cand.waitTrue(`window.beforeMove === undefined && document.readyState === "complete"`, statusWait)
	cand.waitText("#call-status", "Connected.", statusWait)
	statuses := eval[[]string](cand, `JSON.parse(sessionStorage.getItem("statuses"))`)
	joined := strings.Join(statuses, " | ")
	if !strings.Contains(joined, "The interview server changed. Reconnecting") {
		t.Errorf("the candidate was not told the server changed: %s", joined)
	}
	if strings.Contains(joined, "has ended") {
		t.Errorf("the candidate was told the interview ended: %s", joined)
	}
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		return strings.Contains(env.Logs.String(), "write refused"), "the old session's end was not refused"
	})
	if _, err := env.Store.Session(ctx, iv.ID); err == nil {
		t.Error("the session taken over was stored as ended")
	}
	t.Logf("the candidate's statuses: %s", joined)
}
