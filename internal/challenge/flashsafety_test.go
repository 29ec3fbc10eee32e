package challenge

import (
	mrand "math/rand/v2"
	"testing"
	"time"
)

func TestMaxChangesPerSecond(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		at   []time.Duration
		want int
	}{
		{nil, 0},
		{ms(0), 1},
		{ms(0, 1000, 2000), 1},           // [t, t+1 s) never holds two of them
		{ms(0, 333, 666, 999), 4},        // 333 ms steps: four in a second
		{ms(0, 350, 700, 1050, 1400), 3}, // 350 ms steps: three at most
		{ms(0, 200, 400, 600, 800, 1000), 5},
		{ms(900, 0, 100), 3}, // unsorted input
	} {
		if got := MaxChangesPerSecond(tc.at); got != tc.want {
			t.Errorf("MaxChangesPerSecond(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
	// The old catalog (steps of 200 ms) broke the limit; the helper must see it.
	old := FlashChanges(Params{Colors: make([]string, 8), StepMS: 200})
	if MaxChangesPerSecond(old) <= MaxFlashChangesPerSecond {
		t.Fatal("a 200 ms flash sequence was not caught")
	}
}

// TestFlashRateWithinLimit draws flash sequences every way a session can get one — planned,
// reissued, "challenge now", the accessible alternative, a plan switched to no-flash — at both
// settings, and checks that the screen never changes colour more than
// MaxFlashChangesPerSecond times in any second.
func TestFlashRateWithinLimit(t *testing.T) {
	rnd := mrand.NewChaCha8([32]byte{'s', 'a', 'f', 'e'})
	check := func(how string, ch Challenge) {
		t.Helper()
		if ch.Kind != KindFlash {
			return
		}
		if n := MaxChangesPerSecond(FlashChanges(ch.Params)); n > MaxFlashChangesPerSecond || n == 0 {
			t.Fatalf("%s: %d colour changes in one second (step %d ms, %d colours)", how, n, ch.Params.StepMS, len(ch.Params.Colors))
		}
		if 3*ch.Params.StepMS <= 1000 {
			t.Fatalf("%s: step %d ms", how, ch.Params.StepMS)
		}
	}
	flashOnly := []Kind{KindFlash, KindBlink}
	for i := range 400 {
		photo := i%2 == 1
		ch, err := NewChallenge(KindFlash, photo, rnd)
		if err != nil {
			t.Fatal(err)
		}
		check("NewChallenge", ch)
		alt, err := Alternative(ch, rnd)
		if err != nil {
			t.Fatal(err)
		}
		check("Alternative", alt)
		if !alt.Params.Fade {
			t.Fatal("the flash alternative is not the slow fade")
		}
		plan, err := NewPlan(PlanConfig{Count: 5, Kinds: flashOnly, Photosensitive: photo}, rnd)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range plan.Items {
			check("NewPlan", it.Challenge)
		}
		r := NewRunner(plan, t0, RunnerConfig{Rand: rnd})
		if _, err := r.AvoidFlashes(); err != nil {
			t.Fatal(err)
		}
		for range len(plan.Items) + 2 { // the plan, then extra challenges drawn at random
			p, err := r.IssueNow(t0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind == KindFlash && !p.Params.Fade {
				t.Fatalf("a fast flash after AvoidFlashes: %+v", p.Params)
			}
			check("IssueNow", Challenge{Kind: p.Kind, Params: p.Params})
			r.mu.Lock()
			r.active = nil
			r.mu.Unlock()
		}
	}
}

func TestAvoidFlashes(t *testing.T) {
	flash := item(0, KindFlash, Params{Colors: []string{"#ff0000", "#00ff00", "#0000ff"}, StepMS: 400}, issueAt)
	blink := item(1, KindBlink, Params{Count: 2}, issueAt+time.Minute)
	flash2 := item(2, KindFlash, Params{Colors: []string{"#ff0000", "#00ff00", "#0000ff"}, StepMS: 400}, issueAt+2*time.Minute)
	b := setupRunner(t, RunnerConfig{}, flash, blink, flash2)
	r := b.r
	if st := r.State(); st.Remaining != 3 || st.Active != nil || st.Photosensitive {
		t.Fatalf("state before: %+v", st)
	}
	// The first flash is already on screen: it finishes as it is.
	p, ok := r.Due(issuedAt())
	if !ok || p.ID != flash.ID {
		t.Fatalf("due: %v %+v", ok, p)
	}
	n, err := r.AvoidFlashes()
	if err != nil || n != 1 {
		t.Fatalf("AvoidFlashes: %d %v, want the one planned flash not yet issued", n, err)
	}
	st := r.State()
	if st.Active == nil || st.Active.ID != flash.ID || st.Remaining != 2 || !st.Photosensitive || !st.Issued.Equal(issuedAt()) {
		t.Fatalf("state after: %+v", st)
	}
	r.mu.Lock()
	got := r.plan.Items[2]
	r.mu.Unlock()
	if got.Kind != KindFlash || !got.Params.Fade || got.At != flash2.At || got.ID == flash2.ID || got.Attempt != 1 || got.Replaces != "" {
		t.Fatalf("planned flash not redrawn as a slow fade at the same offset: %+v", got)
	}
	if n, _ := r.AvoidFlashes(); n != 0 {
		t.Fatalf("second call redrew %d", n)
	}
}
