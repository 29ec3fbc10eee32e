package analysis

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/models"
)

// recordingOutlet records what a session sends back to the room.
type recordingOutlet struct {
	mu      sync.Mutex
	prompts int
	staff   []string
	changed int
}

func (o *recordingOutlet) SendCandidate(any) error {
	o.mu.Lock()
	o.prompts++
	o.mu.Unlock()
	return nil
}
func (o *recordingOutlet) BroadcastStaff(m signal.Message) {
	o.mu.Lock()
	o.staff = append(o.staff, m.T)
	o.mu.Unlock()
}
func (o *recordingOutlet) ChallengeChanged() { o.mu.Lock(); o.changed++; o.mu.Unlock() }
func (o *recordingOutlet) changes() int      { o.mu.Lock(); defer o.mu.Unlock(); return o.changed }

// TestChallengeStateAndRefusals: what the recruiter's call bar shows comes
// from the session (planned before the candidate joined, then the running
// challenge, the failures and the lock, the no-flash choice); every issued
// and verified challenge tells the room; a busy or locked session refuses
// "challenge now" with the errors the room words for people (models.ErrConflict,
// models.ErrLocked).
func TestChallengeStateAndRefusals(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return t0 } // the planned challenges are never due, the running one never expires
	e := New(Config{Logger: quietLogger(), Now: now, Challenges: ChallengeConfig{Enabled: true, LockAfter: 1,
		Plan: challenge.PlanConfig{Count: 2, Kinds: []challenge.Kind{challenge.KindFlash, challenge.KindTurnHead}}}})
	if st := e.ChallengeState(); !st.Enabled || st.Remaining != 2 || st.LockAfter != 1 || st.Running != nil {
		t.Fatalf("planned state %+v", st)
	}
	out := &recordingOutlet{}
	s := e.Open(7, out)
	defer s.End(models.EndCompleted, now())
	if st := s.ChallengeState(); st.NoFlash || st.Remaining != 2 {
		t.Fatalf("state at the start %+v", st)
	}
	s.AvoidFlashes()
	if st := s.ChallengeState(); !st.NoFlash {
		t.Fatalf("the no-flash choice is not shown: %+v", st)
	}
	if err := s.ChallengeNow(); err != nil {
		t.Fatal(err)
	}
	st := s.ChallengeState()
	if st.Running == nil || st.Running.Text == "" || st.Remaining != 1 || out.changes() != 1 {
		t.Fatalf("after challenge now: %+v, %d changes told", st, out.changes())
	}
	if err := s.ChallengeNow(); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second challenge now: %v, want a models.ErrConflict", err)
	}
	// A failed challenge (as the runner's verification reports it) locks (LockAfter 1).
	s.ch.finish(challenge.Result{ID: st.Running.ID, Kind: challenge.Kind(st.Running.Kind), Outcome: challenge.OutcomeFailed, Issued: now()})
	if st := s.ChallengeState(); !st.Locked || st.Failed != 1 || out.changes() != 2 {
		t.Fatalf("after the failure: %+v, %d changes told", st, out.changes())
	}
	if err := s.ChallengeNow(); !errors.Is(err, models.ErrLocked) {
		t.Fatalf("challenge now when locked: %v, want a models.ErrLocked", err)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if want := []string{"challenge_issued", "challenges_locked", "challenge_result"}; out.prompts != 1 || !slices.Equal(out.staff, want) {
		t.Fatalf("sent %d prompts and staff messages %v, want 1 and %v", out.prompts, out.staff, want)
	}
}
