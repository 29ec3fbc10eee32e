package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/store"
)

// responderEvent is one entry of the responder's log (responder.js).
type responderEvent struct {
	What string  `json:"what"`
	Wall int64   `json:"wall"` // Unix ms
	Kind string  `json:"kind"`
	Deg  float64 `json:"deg"`
	From float64 `json:"from"` // page ms
	T    float64 `json:"t"`    // page ms
}

// responderLog reads the responder's events in the candidate's page.
func responderLog(t *testing.T, ctx context.Context) []responderEvent {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__lcResponder ? window.__lcResponder.events : [])`))
	if err != nil {
		t.Fatalf("read the responder's log: %v", err)
	}
	var evs []responderEvent
	if err := json.Unmarshal([]byte(raw), &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestChallengesPassResponsiveCamera is the genuine path: the candidate's camera
// films a person who does what the prompts ask (responder.js: the head turns,
// the eyes blink, the face reflects the flashing screen), so turn_head, blink and
// flash pass, with a positive, human response latency. The production page is
// unchanged; only getUserMedia is replaced, as a virtual camera would be.
//
// A genuine candidate must never fail. An inconclusive result (e.g. the face
// lost at the peak of a deep turn) is what the product reissues, so it is
// tolerated and logged; every kind must pass.
func TestChallengesPassResponsiveCamera(t *testing.T) {
	kinds := []string{"turn_head", "blink", "flash"}
	c := startCallWith(t, challengeSettings(strings.Join(kinds, ",")), apptest.BrowserOptions{Script: responderScript(t, nil)})
	ctx := context.Background()

	// The candidate's page got the responder's stream, not the fake device.
	apptest.Eventually(t, 30*time.Second, func() (bool, string) {
		evs := responderLog(t, c.candidate)
		for _, e := range evs {
			if e.What == "getUserMedia" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("the call page did not ask the responder for the camera: %+v", evs)
	})
	apptest.Eventually(t, 60*time.Second, func() (bool, string) {
		s := c.session(t)
		if s == nil {
			return false, "no session"
		}
		l := s.Snapshot()
		return l.FramesAnalysed > 30, fmt.Sprintf("session %+v", l)
	})

	passed := map[string]store.ChallengeRecord{}
	var all []store.ChallengeRecord
	const budget = 9
	for len(all) < budget && len(passed) < len(kinds) {
		before, err := c.env.Store.Challenges(ctx, c.iv.ID)
		if err != nil {
			t.Fatal(err)
		}
		pressChallengeNow(t, c.recruiter)
		var recs []store.ChallengeRecord
		apptest.Eventually(t, 45*time.Second, func() (bool, string) {
			recs, _ = c.env.Store.Challenges(ctx, c.iv.ID)
			return len(recs) > len(before), fmt.Sprintf("%d challenge results stored", len(recs))
		})
		evs := responderLog(t, c.candidate)
		for _, r := range recs[len(before):] {
			all = append(all, r)
			logResult(t, r, evs)
			if r.Outcome == string(challenge.OutcomePassed) {
				if _, ok := passed[r.Kind]; !ok {
					passed[r.Kind] = r
				}
			}
		}
	}

	// Every kind must pass. A single failure is logged, not fatal: on this
	// two-core machine the responder's browser, the recruiter's browser and the
	// server share the CPU, and a starved renderer has been seen to tint the
	// face 750 ms after a flash step (the verifier accepts 50–600 ms), which a
	// real camera on an idle laptop does not do. More than one failure fails.
	failed := 0
	for _, r := range all {
		if r.Outcome == string(challenge.OutcomeFailed) {
			failed++
			t.Logf("%s %s failed (%q) although the camera did what was asked", r.Kind, string(r.Params), r.Reason)
		}
	}
	if failed > 1 {
		t.Errorf("%d of %d challenges failed for a camera that does what is asked", failed, len(all))
	}
	th := challenge.DefaultThresholds()
	for _, k := range kinds {
		r, ok := passed[k]
		if !ok {
			t.Errorf("%s did not pass within %d challenges", k, budget)
			continue
		}
		if r.ShownAt == nil || r.OnsetLatencyMs == nil {
			t.Errorf("%s passed without a display ack or an onset", k)
			continue
		}
		lat := time.Duration(*r.OnsetLatencyMs * float64(time.Millisecond))
		// Positive and human: a turn or a blink starts after a reaction time (the
		// responder's is 350–650 ms, plus the camera's 120 ms) and well before the
		// deadline; the face reflects the screen after the camera's latency.
		lo, hi := 200*time.Millisecond, 3*time.Second
		if k == "flash" {
			lo, hi = th.FlashLagMin, th.FlashLagMax
		}
		if lat < lo || lat > hi {
			t.Errorf("%s: onset latency %v, want within [%v, %v]", k, lat, lo, hi)
		}
	}
	// The interview page lists the passed challenges.
	staff := c.env.NewClient()
	staff.Login(c.env.CreateUser("reviewer"))
	page := staff.Get(fmt.Sprintf("/interviews/%d", c.iv.ID))
	if !strings.Contains(page.Body, `data-outcome="passed"`) {
		t.Error("the interview page does not list the passed challenges")
	}
}

// logResult logs a stored result with what the responder did: when it saw the
// prompt and started to act, relative to the display ack the server recorded.
func logResult(t *testing.T, r store.ChallengeRecord, evs []responderEvent) {
	t.Helper()
	var m []string
	for _, k := range []string{"neutral", "blinks", "open_ear", "close_level", "corr", "corr_level", "corr_diff", "lag_ms", "frames", "lost_after_ms", "ack_ms"} {
		if v, ok := r.Metrics[k]; ok {
			m = append(m, fmt.Sprintf("%s=%.3g", k, v))
		}
	}
	seen := "–"
	if r.ShownAt != nil {
		ack := r.ShownAt.UnixMilli()
		// The responder's prompt and action entries nearest after the issue.
		var prompt, act *responderEvent
		for i := range evs {
			e := &evs[i]
			if e.Wall < r.IssuedAt.UnixMilli()-50 || e.Wall > r.Deadline.UnixMilli() {
				continue
			}
			if e.What == "prompt" && prompt == nil {
				prompt = e
			}
			if (e.What == "turn" || e.What == "closed") && act == nil {
				act = e
			}
		}
		if prompt != nil {
			seen = fmt.Sprintf("responder saw it %+d ms from the ack", prompt.Wall-ack)
			if act != nil {
				seen += fmt.Sprintf(", acted %+.0f ms from the ack", float64(prompt.Wall-ack)+act.From-prompt.T)
			}
		}
	}
	t.Logf("%s %s attempt %d: %s %q peak %.2f %s, onset latency %v; %s; %s",
		r.Kind, string(r.Params), r.Attempt, r.Outcome, r.Reason, r.Peak, r.Unit, deref(r.OnsetLatencyMs), strings.Join(m, " "), seen)
}
