package room

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/signal"
)

// Reasons a "challenge now" is refused, besides ErrNoCandidate and ErrLocked.
var (
	// ErrChallengesOff means challenges are disabled on this server.
	ErrChallengesOff = errors.New("room: challenges are switched off on this server")
	// ErrCandidateConnecting means the candidate has joined but their media path or control
	// channel is not up (still connecting, or lost for the moment).
	ErrCandidateConnecting = errors.New("room: the candidate's connection is not ready")
)

// RunningChallenge is the challenge on the candidate's screen, as staff see it.
type RunningChallenge struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"` // the instruction the candidate reads
	DeadlineMS int64     `json:"deadline_ms"`
	Issued     time.Time `json:"issued"`
}

// ChallengeState is what the recruiter's call bar shows about challenges.
type ChallengeState struct {
	Enabled   bool              `json:"enabled"`
	Running   *RunningChallenge `json:"running"`
	Locked    bool              `json:"locked"`
	Failed    int               `json:"failed"`
	LockAfter int               `json:"lock_after"`
	Remaining int               `json:"remaining"` // planned challenges not issued yet
	NoFlash   bool              `json:"no_flash"`  // the candidate chose slow fades instead of flashes
}

// ChallengeState returns the room's challenge state.
func (r *Room) ChallengeState() ChallengeState {
	cc := r.m.cfg.Challenges
	st := ChallengeState{Enabled: cc.Enabled, LockAfter: cc.LockAfter}
	s := r.Session()
	if s == nil || s.ch == nil {
		if cc.Enabled { // no session yet: the plan will have this many
			st.Remaining = cc.Plan.Count
			if st.Remaining == 0 {
				st.Remaining = challenge.DefaultCount
			}
		}
		return st
	}
	rs := s.ch.runner.State()
	st.Remaining, st.NoFlash = rs.Remaining, rs.Photosensitive
	if a := rs.Active; a != nil {
		st.Running = &RunningChallenge{ID: a.ID, Kind: string(a.Kind), Text: a.Text, DeadlineMS: a.Deadline.Milliseconds(), Issued: rs.Issued}
	}
	s.ch.mu.Lock()
	st.Locked, st.Failed = s.ch.locked, s.ch.failed
	s.ch.mu.Unlock()
	return st
}

// pushChallengeState sends the challenge state to every staff page.
func (r *Room) pushChallengeState() {
	b, _ := json.Marshal(r.ChallengeState())
	r.BroadcastStaff(signal.Message{T: signal.TypeChallengeState, Data: b})
}

// canChallenge reports why a challenge cannot be issued now, or nil.
func (r *Room) canChallenge() error {
	if !r.m.cfg.Challenges.Enabled {
		return ErrChallengesOff
	}
	r.mu.Lock()
	cand := r.candidate
	r.mu.Unlock()
	if cand == nil {
		return ErrNoCandidate
	}
	if cand.presence() != PresenceConnected || cand.ctl == nil || !cand.ctl.isOpen() {
		return ErrCandidateConnecting
	}
	return nil
}

// RefusalReason is the plain-language reason shown to the recruiter for a
// "challenge now" that was not carried out.
func RefusalReason(err error, lockAfter int) string {
	switch {
	case errors.Is(err, ErrNoCandidate):
		return "The candidate is not connected."
	case errors.Is(err, ErrCandidateConnecting):
		return "The candidate's connection is not ready (still connecting, or lost for a moment). Try again in a few seconds."
	case errors.Is(err, challenge.ErrBusy):
		return "A challenge is already running. Wait for its result."
	case errors.Is(err, ErrLocked):
		return fmt.Sprintf("Challenges are locked after %d failed challenges: the session goes to security review.", lockAfter)
	case errors.Is(err, ErrChallengesOff):
		return "Challenges are switched off on this server."
	}
	return "The challenge could not be started (server error). Try again."
}

// challengeNowFor carries out a host's "challenge now" and always answers
// them: the refused request with its reason, and every staff page with the new state.
func (r *Room) challengeNowFor(p *Peer) {
	if err := r.ChallengeNow(); err != nil {
		b, _ := json.Marshal(map[string]string{"reason": RefusalReason(err, r.m.cfg.Challenges.LockAfter)})
		_ = p.conn.Send(signal.Message{T: signal.TypeChallengeRefused, Data: b})
	}
	r.pushChallengeState()
}

// avoidFlashes honours the candidate's choice of no flashing for the rest of the session.
func (s *Session) avoidFlashes() {
	if s == nil || s.ch == nil {
		return
	}
	if _, err := s.ch.runner.AvoidFlashes(); err != nil {
		s.cfg.Logger.Error("room: no-flash choice not applied", "interview", s.id, "err", err)
	}
}

// isOpen reports whether the control channel has opened.
func (c *control) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// challengeChanged tells the staff pages that a challenge was issued or verified.
func (s *Session) challengeChanged() {
	s.mu.Lock()
	f := s.onChallenge
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

// setOnChallenge sets what challengeChanged calls (the session's goroutines are already running).
func (s *Session) setOnChallenge(f func()) {
	s.mu.Lock()
	s.onChallenge = f
	s.mu.Unlock()
}
