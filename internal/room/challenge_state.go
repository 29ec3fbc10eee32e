package room

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// Reasons a "challenge now" is refused, besides ErrNoCandidate and the
// analysis's own (a challenge in progress, challenges locked: RefusalReason).
var (
	// ErrChallengesOff means challenges are disabled on this server.
	ErrChallengesOff = errors.New("room: challenges are switched off on this server")
	// ErrCandidateConnecting means the candidate has joined but their media path or control
	// channel is not up (still connecting, or lost for the moment).
	ErrCandidateConnecting = errors.New("room: the candidate's connection is not ready")
)

// ChallengeState returns the room's challenge state: the analysis's, or
// before the candidate joined the plan's (Config.Challenges).
func (r *Room) ChallengeState() wire.ChallengeState {
	if a := r.Session(); a != nil {
		return a.ChallengeState()
	}
	return r.m.cfg.Challenges
}

// ChallengeChanged pushes the challenge state to every staff page (the
// analysis calls it when a challenge was issued or verified).
func (r *Room) ChallengeChanged() { r.pushChallengeState() }

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
	case errors.Is(err, models.ErrConflict):
		return "A challenge is already running. Wait for its result."
	case errors.Is(err, models.ErrLocked):
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

// isOpen reports whether the control channel has opened.
func (c *control) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}
