package challenge

import (
	"encoding/json"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// TestResumeRunner: a runner resumed from another's progress (through JSON,
// as the checkpoint stores it) does not issue the plan items already issued,
// keeps the rest where they were relative to the stop, issues a challenge
// that was on screen without a result again with fresh parameters (same
// kind, same attempt), counts one with a stored result as done, and keeps a
// pending reissue.
func TestResumeRunner(t *testing.T) {
	items := []Item{item(0, KindBlink, Params{Count: 2}, 10*time.Second), item(1, KindTurnHead, Params{Dir: DirLeft}, 60*time.Second),
		item(2, KindReadDigits, Params{Digits: "1 2 3 4"}, 120*time.Second)}
	cfg := RunnerConfig{Rand: mrand.NewChaCha8([32]byte{'r', 'e', 's'})}
	roundTrip := func(p Progress) Progress {
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var out Progress
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := NewRunner(Plan{Items: items, Kinds: Kinds()}, t0, cfg)
	if p, ok := first.Due(t0.Add(10 * time.Second)); !ok || p.ID != "item-0" {
		t.Fatalf("first issue %+v %v", p, ok)
	}
	// The node dies at 20 s with item-0 on screen and no result; the session resumes at 50 s.
	stopped, now := t0.Add(20*time.Second), t0.Add(50*time.Second)
	p := roundTrip(first.Progress())
	if p.Next != 1 || p.Active == nil || p.Active.ID != "item-0" {
		t.Fatalf("progress %+v", p)
	}
	r, err := ResumeRunner(p, t0, stopped, now, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.State(); st.Remaining != 3 || st.Active != nil {
		t.Fatalf("resumed state %+v, want 2 planned + 1 reissue, none on screen", st)
	}
	if _, ok := r.Due(now.Add(DefaultReissueAfter - time.Millisecond)); ok {
		t.Fatal("issued before ReissueAfter")
	}
	again, ok := r.Due(now.Add(DefaultReissueAfter))
	if !ok || again.Kind != KindBlink || again.ID == "item-0" {
		t.Fatalf("the interrupted challenge again: %+v %v, want a fresh blink", again, ok)
	}
	rp := r.Progress()
	if rp.Active == nil || rp.Active.Attempt != 1 || rp.Next != 1 {
		t.Fatalf("after the reissue %+v", rp)
	}
	// item-1 was due 40 s after the stop (at 60 s); it stays 40 s after the resume (90 s),
	// not at once and not at its old time.
	r2, _ := ResumeRunner(roundTrip(Progress{Plan: p.Plan, Next: 1}), t0, stopped, now, nil, cfg)
	if _, ok := r2.Due(t0.Add(89 * time.Second)); ok {
		t.Fatal("item-1 issued before its shifted time")
	}
	if p, ok := r2.Due(t0.Add(90 * time.Second)); !ok || p.ID != "item-1" {
		t.Fatalf("item-1 at its shifted time: %+v %v", p, ok)
	}
	// The challenge on screen had a stored result: done. Passed: nothing more of it;
	// inconclusive first attempt: reissued as Poll would have.
	passed := Result{ID: "item-0", Kind: KindBlink, Attempt: 1, Outcome: OutcomePassed}
	r3, _ := ResumeRunner(p, t0, stopped, now, []Result{passed}, cfg)
	if st := r3.State(); st.Remaining != 2 {
		t.Fatalf("with item-0 passed: %+v, want the 2 plan items left", st)
	}
	inconclusive := passed
	inconclusive.Outcome = OutcomeInconclusive
	r4, _ := ResumeRunner(p, t0, stopped, now, []Result{inconclusive}, cfg)
	if p, ok := r4.Due(now.Add(DefaultReissueAfter)); !ok || p.Kind != KindBlink || r4.Progress().Active.Attempt != 2 {
		t.Fatalf("with item-0 inconclusive: %+v %v, want its second attempt", p, ok)
	}
	// A pending reissue stays pending (same challenge: it was never shown).
	pend := fixed(KindLook, Params{Dir: DirUp})
	pend.ID, pend.Attempt = "re-1", 2
	r5, _ := ResumeRunner(Progress{Plan: p.Plan, Next: 3, Reissue: &pend}, t0, stopped, now, nil, cfg)
	if p, ok := r5.Due(now.Add(DefaultReissueAfter)); !ok || p.ID != "re-1" {
		t.Fatalf("pending reissue: %+v %v", p, ok)
	}
	if _, ok := r5.Due(now.Add(time.Hour)); ok {
		t.Fatal("an exhausted plan issued again")
	}
}
