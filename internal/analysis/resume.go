package analysis

import (
	"context"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
)

// Checkpoint is what a live session has done so far, stored as it happens
// (Store.Checkpoint, through the ordered writer) so that the session can go
// on where it stopped when its node dies and the candidate rejoins on
// another node, or on the same node restarted (Store.Resume): the same
// session (its start, hence its stored row), the challenge plan's progress,
// and the identities seen. The challenge results themselves are stored as
// they come (Store.ChallengeResult) and read back on resume (Results).
//
// A checkpoint write carries one part (the other nil: left as stored). The
// challenge part holds the secret plan and the identity part face templates
// (biometric): neither is ever logged or sent to a browser.
type Checkpoint struct {
	InterviewID    int64
	SessionStarted time.Time
	// At is when this state was reached; on resume, the time the session was
	// away is counted from the latest At.
	At         time.Time
	Challenges *challenge.Progress
	Identity   *faceid.Snapshot
	// Results are the session's stored challenge results, in order (filled
	// on resume; never written with the checkpoint).
	Results []challenge.Result
}

// resumeTimeout bounds the read of a checkpoint when a live session opens.
const resumeTimeout = 5 * time.Second

// identityCheckpointEvery: the identity part is written at the first face,
// at every change, and else at most this often while faces come (a
// template is 128 floats: about 1.7 KB of JSON per identity).
const identityCheckpointEvery = 10 * time.Second

// resume reads the checkpoint of the interview's unfinished session (nil:
// start afresh; a failing read is logged and the session starts afresh).
func (s *Session) resume() *Checkpoint {
	h := s.cfg.Store.Resume
	if h == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resumeTimeout)
	defer cancel()
	cp, err := h(ctx, s.id)
	if err != nil {
		s.cfg.Logger.Error("analysis: checkpoint unreadable; the session starts afresh", "interview", s.id, "err", err)
		return nil
	}
	if cp == nil || cp.SessionStarted.IsZero() {
		return nil
	}
	return cp
}

// checkpoint queues a write of one part of the live session's checkpoint.
func (s *Session) checkpoint(cp Checkpoint) {
	h := s.cfg.Store.Checkpoint
	if h == nil || !s.live || s.handed.Load() {
		return
	}
	cp.InterviewID, cp.SessionStarted, cp.At = s.id, s.started, s.cfg.Now()
	s.persist("checkpoint", func(ctx context.Context) error { return h(ctx, &cp) })
}

// Resumed reports when the session went on from a checkpoint (zero: it
// started afresh).
func (s *Session) Resumed() time.Time { return s.resumedAt }
