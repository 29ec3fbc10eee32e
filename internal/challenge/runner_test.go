package challenge

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// runnerBundle is a runner over a hand-made plan, with the session starting at t0.
type runnerBundle struct {
	r    *Runner
	plan Plan
}

func setupRunner(t *testing.T, cfg RunnerConfig, items ...Item) runnerBundle {
	t.Helper()
	if cfg.Rand == nil {
		cfg.Rand = mrand.NewChaCha8([32]byte{'r', 'u', 'n'})
	}
	plan := Plan{Items: items, Kinds: Kinds()}
	return runnerBundle{r: NewRunner(plan, t0, cfg), plan: plan}
}

func item(n int, k Kind, p Params, at time.Duration) Item {
	ch := fixed(k, p)
	ch.ID = fmt.Sprintf("item-%d", n)
	return Item{Challenge: ch, At: at}
}

// feed gives the runner the observations with from ≤ At < to.
func feed(r *Runner, obs []models.Observation, from, to time.Time) {
	for _, o := range obs {
		if !o.At.Before(from) && o.At.Before(to) {
			r.Observe(o)
		}
	}
}

// feedEmpty gives the runner faceless frames at 15 fps over [from, to).
func feedEmpty(r *Runner, from, to time.Time) {
	for at := from; at.Before(to); at = at.Add(time.Second / 15) {
		r.Observe(models.Observation{At: at})
	}
}

func TestRunnerIssuesOnScheduleAndVerifies(t *testing.T) {
	left := item(0, KindTurnHead, Params{Dir: DirLeft}, issueAt)
	blink := item(1, KindBlink, Params{Count: 2}, issueAt+6*time.Second)
	b := setupRunner(t, RunnerConfig{}, left, blink)
	r := b.r
	s := newSubject(1)
	s.yaw = trapezoid(2, 45, sh(0.6), 0.4, 0.8, 0.4)
	obs := s.observations()
	feed(r, obs, t0, issuedAt())

	if _, ok := r.Due(issuedAt().Add(-time.Millisecond)); ok {
		t.Fatal("issued before its offset")
	}
	p, ok := r.Due(issuedAt())
	if !ok || p.ID != left.ID || p.Kind != KindTurnHead || p.Params.Dir != DirLeft {
		t.Fatalf("due at offset: %v %+v", ok, p)
	}
	if !r.Active() {
		t.Fatal("not active after issue")
	}
	if _, ok := r.Due(issuedAt().Add(time.Minute)); ok {
		t.Fatal("second challenge issued while one is in progress")
	}
	if err := r.Shown("item-9", shownAt()); !errors.Is(err, ErrUnknownChallenge) || !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown ack: %v", err)
	}
	if err := r.Shown(p.ID, issuedAt().Add(-time.Millisecond)); !errors.Is(err, models.ErrInvalid) {
		t.Fatalf("ack before issue: %v", err)
	}
	if err := r.Shown(p.ID, shownAt()); err != nil {
		t.Fatal(err)
	}
	if err := r.Shown(p.ID, shownAt().Add(time.Second)); err != nil {
		t.Fatal(err) // repeated acks are ignored, not errors
	}

	end := shownAt().Add(left.Deadline + DefaultThresholds().Grace) // window end
	feed(r, obs, issuedAt(), end.Add(-time.Second))
	if res := r.Poll(end.Add(-time.Second)); res != nil {
		t.Fatalf("verified before the window ended: %+v", res)
	}
	feed(r, obs, end.Add(-time.Second), t0.Add(clipLen))
	res := r.Poll(end.Add(time.Millisecond)) // the stream has passed the end: no need to wait
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	got := res[0]
	if got.ID != left.ID || got.Kind != KindTurnHead || got.Params.Dir != DirLeft || got.Attempt != 1 ||
		!got.Issued.Equal(issuedAt()) || !got.Shown.Equal(shownAt()) || got.Outcome != OutcomePassed {
		t.Fatalf("result %+v", got)
	}
	if r.Active() || r.Poll(end.Add(time.Hour)) != nil {
		t.Fatal("challenge still in progress after its result")
	}

	// The blink item's offset (10 s) has passed, but MinGap runs from the window end.
	if _, ok := r.Due(end.Add(DefaultMinGap - time.Millisecond)); ok {
		t.Fatal("next challenge issued within MinGap of the previous window")
	}
	p, ok = r.Due(end.Add(DefaultMinGap))
	if !ok || p.ID != blink.ID {
		t.Fatalf("blink not due after MinGap: %v %+v", ok, p)
	}
}

func TestRunnerWaitsForLateObservations(t *testing.T) {
	b := setupRunner(t, RunnerConfig{}, item(0, KindLook, Params{Dir: DirUp}, 0))
	r := b.r
	p, _ := r.Due(t0)
	_ = r.Shown(p.ID, t0.Add(100*time.Millisecond))
	end := t0.Add(100*time.Millisecond + 6*time.Second + DefaultThresholds().Grace)
	feedEmpty(r, t0.Add(-2*time.Second), end.Add(-2*time.Second)) // the pipeline lags by 2 s
	if res := r.Poll(end.Add(DefaultSettle - time.Millisecond)); res != nil {
		t.Fatal("gave up on late observations before Settle")
	}
	res := r.Poll(end.Add(DefaultSettle))
	if len(res) != 1 || res[0].Outcome != OutcomeInconclusive || res[0].Reason != ReasonFaceLost {
		t.Fatalf("%+v", res)
	}
}

func TestRunnerReissuesInconclusiveOnce(t *testing.T) {
	b := setupRunner(t, RunnerConfig{}, item(0, KindBlink, Params{Count: 3}, 0))
	r := b.r
	now := t0
	var ids []string
	for attempt := 1; attempt <= 2; attempt++ {
		p, ok := r.Due(now)
		if !ok {
			t.Fatalf("attempt %d not issued", attempt)
		}
		if p.Kind != KindBlink {
			t.Fatalf("reissue changed kind to %s", p.Kind)
		}
		ids = append(ids, p.ID)
		_ = r.Shown(p.ID, now.Add(100*time.Millisecond))
		end := now.Add(100*time.Millisecond + p.Deadline + DefaultThresholds().Grace)
		feedEmpty(r, now.Add(-2*time.Second), end.Add(time.Second))
		res := r.Poll(end.Add(time.Second))
		if len(res) != 1 || res[0].Outcome != OutcomeInconclusive || res[0].Attempt != attempt {
			t.Fatalf("attempt %d: %+v", attempt, res)
		}
		now = end.Add(time.Second)
		if attempt == 1 {
			if _, ok := r.Due(now.Add(DefaultReissueAfter - time.Millisecond)); ok {
				t.Fatal("reissued before ReissueAfter")
			}
			now = now.Add(DefaultReissueAfter)
		}
	}
	if ids[0] == ids[1] {
		t.Fatal("reissue reused the ID")
	}
	if p, ok := r.Due(now.Add(time.Hour)); ok {
		t.Fatalf("reissued a second time: %+v", p)
	}
}

func TestRunnerIssueNow(t *testing.T) {
	b := setupRunner(t, RunnerConfig{}, item(0, KindCoverFace, Params{HoldMS: 2000}, 20*time.Minute))
	r := b.r
	p, err := r.IssueNow(t0)
	if err != nil || p.ID != "item-0" {
		t.Fatalf("IssueNow did not bring the plan item forward: %+v %v", p, err)
	}
	if _, err := r.IssueNow(t0.Add(time.Second)); !errors.Is(err, ErrBusy) || !errors.Is(err, models.ErrConflict) {
		t.Fatalf("IssueNow while busy: %v", err)
	}
	// Complete it with a clear face and a hand over it: passed, so nothing is reissued.
	s := newSubject(3)
	s.occ = trapezoid(0.05, 0.55, 4.9, 0.2, 2, 0.2)
	_ = r.Shown(p.ID, t0.Add(150*time.Millisecond))
	for _, o := range s.observations() {
		o.At = o.At.Add(-issueAt) // shift the script so its prompt is at t0
		r.Observe(o)
	}
	if res := r.Poll(t0.Add(time.Minute)); len(res) != 1 || res[0].Outcome != OutcomePassed {
		t.Fatalf("%+v", res)
	}
	kinds := map[Kind]bool{}
	last := KindCoverFace
	for i := range 30 { // plan exhausted: fresh challenges, never the same kind twice in a row
		now := t0.Add(time.Duration(i+2) * time.Minute)
		p, err := r.IssueNow(now)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind == last || p.ID == "" {
			t.Fatalf("fresh challenge %+v after %s", p, last)
		}
		last = p.Kind
		kinds[p.Kind] = true
		_ = r.Shown(p.ID, now)
		feedEmpty(r, now, now.Add(30*time.Second))
		r.Poll(now.Add(30 * time.Second))
		r.mu.Lock()
		r.reissue = nil // keep drawing fresh ones
		r.mu.Unlock()
	}
	if len(kinds) < 5 {
		t.Fatalf("fresh challenges drew only %v", kinds)
	}
}

func TestRunnerReplace(t *testing.T) {
	b := setupRunner(t, RunnerConfig{}, item(0, KindFlash, Params{Colors: []string{"#ff0000", "#00ff00"}, StepMS: 200}, 0))
	r := b.r
	p, _ := r.Due(t0)
	if _, err := r.Replace("item-7", t0); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("replace unknown: %v", err)
	}
	alt, err := r.Replace(p.ID, t0.Add(time.Second))
	if err != nil || alt.Kind != KindFlash || !alt.Params.Fade || alt.ID == p.ID {
		t.Fatalf("alternative %+v %v", alt, err)
	}
	if err := r.Shown(p.ID, t0.Add(time.Second)); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatal("the replaced challenge still accepts acks")
	}
	feedEmpty(r, t0, t0.Add(time.Minute))
	res := r.Poll(t0.Add(time.Minute))
	if len(res) != 1 || res[0].ID != alt.ID || res[0].Replaces != p.ID {
		t.Fatalf("%+v", res)
	}
}

func TestRunnerBoundedMemory(t *testing.T) {
	small := setupRunner(t, RunnerConfig{MaxObservations: 100, MaxAudio: 50}).r
	def := setupRunner(t, RunnerConfig{}).r
	for i := range 100000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		for _, r := range []*Runner{small, def} {
			r.Observe(models.Observation{At: at})
			r.Audio(AudioSample{At: at, RMS: 0.01})
		}
	}
	small.Observe(models.Observation{}) // zero time: dropped
	for _, c := range []struct {
		r          *Runner
		obs, audio int
	}{{small, 100, 50}, {def, DefaultMaxObservations, DefaultMaxAudio}} {
		if c.r.obs.len() != c.obs || c.r.audio.len() != c.audio {
			t.Fatalf("buffers hold %d observations and %d audio samples, want %d and %d",
				c.r.obs.len(), c.r.audio.len(), c.obs, c.audio)
		}
		if last, _ := c.r.obs.last(); !last.At.Equal(t0.Add(99999 * time.Millisecond)) {
			t.Fatalf("newest observation lost: %v", last.At)
		}
	}
	var first time.Time
	small.obs.each(func(o models.Observation) {
		if first.IsZero() {
			first = o.At
		}
	})
	if !first.Equal(t0.Add(99900 * time.Millisecond)) {
		t.Fatalf("oldest kept observation at %v", first.Sub(t0))
	}
}

// TestRunnerConcurrentUse exercises every method from several goroutines (run with -race).
func TestRunnerConcurrentUse(t *testing.T) {
	var items []Item
	for i := range 20 {
		items = append(items, item(i, Kinds()[i%len(Kinds())], Params{Dir: DirLeft, Count: 2, Colors: []string{"#ff0000", "#0000ff"}, StepMS: 200, Digits: "1 2 3 4"}, time.Duration(i)*time.Second))
	}
	r := setupRunner(t, RunnerConfig{MinGap: time.Millisecond, ReissueAfter: time.Millisecond}, items...).r
	var wg sync.WaitGroup
	clock := func(i int) time.Time { return t0.Add(time.Duration(i) * 50 * time.Millisecond) }
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range 4000 {
			r.Observe(models.Observation{At: clock(i), FacePresent: true, FaceY: 100})
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 4000 {
			r.Audio(AudioSample{At: clock(i), RMS: 0.002})
		}
	}()
	results := 0
	go func() {
		defer wg.Done()
		for i := range 4000 {
			now := clock(i)
			if p, ok := r.Due(now); ok {
				_ = r.Shown(p.ID, now)
			}
			results += len(r.Poll(now))
			r.Active()
			if i%500 == 0 {
				_, _ = r.IssueNow(now)
			}
		}
	}()
	wg.Wait()
	if results == 0 {
		t.Fatal("no challenge completed")
	}
}

// TestRunnerWaitsForAnalysis: while frames wait for analysis (Behind), Poll
// does not verify a window the observations have not reached, however long
// past Settle; once they reach it, the whole window is verified (a turn that
// the frames analysed by Settle did not show yet passes). When the analysis
// never catches up, MaxBehind after the window's end the challenge is
// inconclusive "analysis fell behind" (and reissued), not "no video".
func TestRunnerWaitsForAnalysis(t *testing.T) {
	var behind bool
	cfg := RunnerConfig{Behind: func() bool { return behind }}
	s := newSubject(3)
	s.yaw = trapezoid(2, 45, sh(0.6), 0.4, 0.8, 0.4)
	obs := s.observations()
	left := item(0, KindTurnHead, Params{Dir: DirLeft}, issueAt)
	end := shownAt().Add(left.Challenge.Deadline + DefaultThresholds().Grace)

	b := setupRunner(t, cfg, left)
	r := b.r
	p, ok := r.Due(issuedAt())
	if !ok || r.Shown(p.ID, shownAt()) != nil {
		t.Fatal("not issued")
	}
	// The analysis is behind: it has measured the frames up to just after the ack.
	feed(r, obs, t0, shownAt().Add(300*time.Millisecond))
	behind = true
	for _, now := range []time.Time{end, end.Add(DefaultSettle), end.Add(DefaultMaxBehind - time.Millisecond)} {
		if res := r.Poll(now); res != nil {
			t.Fatalf("verified at end+%v while the analysis was behind: %+v", now.Sub(end), res[0])
		}
	}
	// It catches up: the frames to the window's end arrive, the last one past it.
	feed(r, obs, shownAt().Add(300*time.Millisecond), end.Add(100*time.Millisecond))
	res := r.Poll(end.Add(DefaultMaxBehind - time.Millisecond))
	if len(res) != 1 || res[0].Outcome != OutcomePassed {
		t.Fatalf("after the analysis caught up: %+v, want passed", res)
	}

	// Never catching up.
	b = setupRunner(t, cfg, left)
	r = b.r
	p, _ = r.Due(issuedAt())
	_ = r.Shown(p.ID, shownAt())
	feed(r, obs, t0, shownAt().Add(300*time.Millisecond))
	if res := r.Poll(end.Add(DefaultMaxBehind - time.Millisecond)); res != nil {
		t.Fatalf("gave up before MaxBehind: %+v", res[0])
	}
	res = r.Poll(end.Add(DefaultMaxBehind))
	if len(res) != 1 || res[0].Outcome != OutcomeInconclusive || res[0].Reason != ReasonAnalysisBehind {
		t.Fatalf("analysis never caught up: %+v, want inconclusive %q", res, ReasonAnalysisBehind)
	}
	if got := res[0].Metrics["analysed_through_ms"]; got > -5000 {
		t.Errorf("analysed_through_ms %v, want the window's last ~6 s missing", got)
	}
	if _, ok := r.Due(end.Add(DefaultMaxBehind + DefaultReissueAfter)); !ok {
		t.Error("the challenge was not reissued")
	}

	// Not behind (the stream stopped): Settle after the end, what came is verified as before.
	behind = false
	b = setupRunner(t, cfg, left)
	r = b.r
	p, _ = r.Due(issuedAt())
	_ = r.Shown(p.ID, shownAt())
	feed(r, obs, t0, shownAt().Add(300*time.Millisecond))
	if res := r.Poll(end.Add(DefaultSettle - time.Millisecond)); res != nil {
		t.Fatal("verified before Settle")
	}
	res = r.Poll(end.Add(DefaultSettle))
	if len(res) != 1 || res[0].Reason != ReasonNoVideo {
		t.Fatalf("stream stopped early: %+v, want inconclusive %q", res, ReasonNoVideo)
	}
}

// TestRunnerNeedsFrame: the frames the session must analyse all of are those
// of the running challenge's window (before the ack: up to the latest
// deadline it can have) and of the next planned or reissued challenge's
// baseline; none once the plan is done.
func TestRunnerNeedsFrame(t *testing.T) {
	const margin = 500 * time.Millisecond
	th := DefaultThresholds()
	left := item(0, KindTurnHead, Params{Dir: DirLeft}, issueAt)
	b := setupRunner(t, RunnerConfig{}, left)
	r := b.r
	before := issuedAt().Add(-th.Baseline - margin)
	if r.NeedsFrame(before.Add(-time.Millisecond), margin) || !r.NeedsFrame(before, margin) || !r.NeedsFrame(issuedAt(), margin) {
		t.Error("the planned challenge's baseline is not needed from Baseline+margin before its offset")
	}
	p, _ := r.Due(issuedAt())
	noAckEnd := issuedAt().Add(th.MaxAckDelay + p.Deadline + th.Grace + margin)
	if !r.NeedsFrame(noAckEnd, margin) || r.NeedsFrame(noAckEnd.Add(time.Millisecond), margin) {
		t.Error("before the ack the window does not reach the latest possible deadline")
	}
	_ = r.Shown(p.ID, shownAt())
	end := shownAt().Add(p.Deadline + th.Grace + margin)
	if !r.NeedsFrame(before, margin) || !r.NeedsFrame(end, margin) || r.NeedsFrame(end.Add(time.Millisecond), margin) ||
		r.NeedsFrame(before.Add(-time.Millisecond), margin) {
		t.Error("the running challenge's window (with margins) is not what is needed")
	}
	feedEmpty(r, t0, end.Add(time.Second))
	if res := r.Poll(end); len(res) != 1 {
		t.Fatal("not verified")
	}
	// Inconclusive (no face): reissued ReissueAfter later, whose baseline is needed.
	re := end.Add(DefaultReissueAfter)
	if r.NeedsFrame(re.Add(-th.Baseline-margin-time.Millisecond), margin) || !r.NeedsFrame(re.Add(-th.Baseline-margin), margin) {
		t.Error("the reissue's baseline is not needed")
	}
	p, _ = r.Due(re)
	_ = r.Shown(p.ID, re)
	feedEmpty(r, re, re.Add(p.Deadline+th.Grace+time.Second))
	if res := r.Poll(re.Add(time.Hour)); len(res) != 1 {
		t.Fatal("reissue not verified")
	}
	if r.NeedsFrame(re.Add(time.Hour), margin) {
		t.Error("frames needed after the plan is done")
	}
}
