package analysis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// evidenceFrame is a JPEG face crop kept while a challenge runs.
type evidenceFrame struct {
	at   time.Time
	jpeg []byte
}

// challenges drives a session's challenge runner: due prompts go to the
// candidate's page, acknowledgements and measurements come back, results are
// stored with an evidence image and pushed to the staff pages.
type challenges struct {
	s       *Session
	runner  *challenge.Runner
	stopped chan struct{} // closed when loop returned

	mu       sync.Mutex
	evidence []evidenceFrame // ring of recent face crops during challenges
	results  []challenge.Result
	failed   int
	locked   bool // too many failures: no more challenges, the session goes to review
}

// ErrLocked means the session's challenges are locked for review.
var ErrLocked = fmt.Errorf("analysis: challenges are locked after repeated failures; the session goes to review: %w", models.ErrLocked)

const maxEvidenceFrames = 90

func newChallenges(s *Session) (*challenges, error) {
	cc := s.cfg.Challenges
	rc := cc.Runner
	if rc.Behind == nil {
		rc.Behind = s.analysisBehind // verify a window once its frames are analysed
	}
	c := &challenges{s: s, stopped: make(chan struct{})}
	if cp := s.resumed; cp != nil {
		c.resume(cp)
		if cp.Challenges != nil { // the plan goes on where the node that died left it
			r, err := challenge.ResumeRunner(*cp.Challenges, s.started, cp.At, s.cfg.Now(), cp.Results, rc)
			if err != nil {
				return nil, err
			}
			c.runner = r
			return c, nil
		}
	}
	plan, err := challenge.NewPlan(cc.Plan, rand.Reader)
	if err != nil {
		return nil, err
	}
	c.runner = challenge.NewRunner(plan, s.started, rc)
	return c, nil
}

// resume takes over the results a resumed session stored before it moved:
// they count in the outcome, the failures and the lock, as if the session
// had not moved.
func (c *challenges) resume(cp *Checkpoint) {
	c.results = append(c.results, cp.Results...)
	for _, r := range cp.Results {
		if r.Outcome == challenge.OutcomeFailed {
			c.failed++
		}
	}
	if lim := c.s.cfg.Challenges.LockAfter; lim > 0 && c.failed >= lim {
		c.locked = true
	}
}

// checkpoint queues the plan's progress for the session's checkpoint.
func (c *challenges) checkpoint() {
	p := c.runner.Progress()
	c.s.checkpoint(Checkpoint{Challenges: &p})
}

// loop issues due prompts and collects results until ctx ends.
func (c *challenges) loop(ctx context.Context) {
	defer c.s.guard("challenges")
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := c.s.cfg.Now()
		if c.isLocked() {
			continue
		}
		if p, ok := c.runner.Due(now); ok {
			c.send(p)
		}
		for _, r := range c.runner.Poll(now) {
			c.finish(r)
		}
	}
}

// issueNow is the recruiter's "challenge now".
func (c *challenges) issueNow() error {
	if c.isLocked() {
		return ErrLocked
	}
	p, err := c.runner.IssueNow(c.s.cfg.Now())
	if err != nil {
		return err
	}
	c.send(p)
	return nil
}

func (c *challenges) send(p challenge.Prompt) {
	if c.s.out == nil || c.s.out.SendCandidate(p) != nil {
		c.s.cfg.Logger.Warn("analysis: challenge prompt not delivered", "interview", c.s.id, "kind", string(p.Kind))
	}
	b, _ := json.Marshal(map[string]any{"id": p.ID, "kind": p.Kind, "text": p.Text, "issued": c.s.cfg.Now()})
	c.s.staff(signal.Message{T: "challenge_issued", Data: b})
	c.s.challengeChanged()
	c.checkpoint()
}

// shown records the page's display acknowledgement at server time at.
func (c *challenges) shown(id string, at time.Time) {
	if err := c.runner.Shown(id, at); err != nil {
		c.s.cfg.Logger.Debug("analysis: display ack refused", "interview", c.s.id, "err", err)
	}
}

// observe feeds a measurement; during a challenge it also keeps a face crop.
func (c *challenges) observe(f *models.Frame, o models.Observation) {
	c.runner.Observe(o)
	if !c.runner.Active() || !o.FacePresent || o.Coasting || o.Face.Empty() || c.s.cfg.EncodeEvidence == nil {
		return
	}
	jpeg, err := c.s.cfg.EncodeEvidence(f, o.Face)
	if err != nil {
		return
	}
	c.mu.Lock()
	if len(c.evidence) >= maxEvidenceFrames {
		c.evidence = c.evidence[1:]
	}
	c.evidence = append(c.evidence, evidenceFrame{at: o.At, jpeg: jpeg})
	c.mu.Unlock()
}

// evidenceAt returns the kept crop closest to at.
func (c *challenges) evidenceAt(at time.Time) ([]byte, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best []byte
	var bestAt time.Time
	bestD := time.Duration(1<<62 - 1)
	for _, e := range c.evidence {
		d := e.at.Sub(at)
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestAt, bestD = e.jpeg, e.at, d
		}
	}
	return best, bestAt
}

func (c *challenges) finish(r challenge.Result) {
	if c.s.identity != nil { // the identity before, during and after the response, stored with the result
		c.s.identity.challengeMetrics(&r, c.s.cfg.Now())
	}
	at := r.PeakAt
	if at.IsZero() {
		at = r.Onset
	}
	if at.IsZero() {
		at = r.Shown
	}
	jpeg, jpegAt := c.evidenceAt(at)
	metrics.ChallengeResult(string(r.Outcome), c.s.cfg.Now().Sub(r.Deadline))
	c.mu.Lock()
	c.results = append(c.results, r)
	lockNow := false
	if r.Outcome == challenge.OutcomeFailed {
		c.failed++
		if lim := c.s.cfg.Challenges.LockAfter; lim > 0 && c.failed >= lim && !c.locked {
			c.locked, lockNow = true, true
		}
	}
	c.mu.Unlock()
	if lockNow {
		c.s.staff(signal.Message{T: "challenges_locked", Data: []byte(`{"reason":"repeated failed challenges"}`)})
	}
	b, _ := json.Marshal(map[string]any{"id": r.ID, "kind": r.Kind, "outcome": r.Outcome, "reason": r.Reason,
		"latency_ms": r.OnsetLatency.Milliseconds(), "peak": r.Peak, "unit": r.Unit, "drift": r.Drift})
	c.s.staff(signal.Message{T: "challenge_result", Data: b})
	c.s.challengeChanged()
	if h := c.s.cfg.Store.ChallengeResult; h != nil {
		c.s.persist("challenge result", func(ctx context.Context) error { return h(ctx, c.s.id, r, jpeg, jpegAt) })
	}
	c.checkpoint() // after the result: a checkpoint stored means its results were stored before it
}

func (c *challenges) isLocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.locked
}

// outcome returns the verified challenges, the failures and whether
// challenges were locked.
func (c *challenges) outcome() ([]challenge.Result, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]challenge.Result(nil), c.results...), c.failed, c.locked
}

// plannedChallenges is the challenge state of a session whose challenges
// have not started (or could not be planned): what the configuration plans.
func plannedChallenges(cc ChallengeConfig) wire.ChallengeState {
	st := wire.ChallengeState{Enabled: cc.Enabled, LockAfter: cc.LockAfter}
	if cc.Enabled {
		st.Remaining = cc.Plan.Count
		if st.Remaining == 0 {
			st.Remaining = challenge.DefaultCount
		}
	}
	return st
}

// ChallengeState returns what the recruiter's call bar shows about the
// session's challenges: the one running, failures, lock, what remains and
// the candidate's no-flash choice.
func (s *Session) ChallengeState() wire.ChallengeState {
	if s.ch == nil {
		return plannedChallenges(s.cfg.Challenges)
	}
	st := wire.ChallengeState{Enabled: s.cfg.Challenges.Enabled, LockAfter: s.cfg.Challenges.LockAfter}
	rs := s.ch.runner.State()
	st.Remaining, st.NoFlash = rs.Remaining, rs.Photosensitive
	if a := rs.Active; a != nil {
		st.Running = &wire.RunningChallenge{ID: a.ID, Kind: string(a.Kind), Text: a.Text, DeadlineMS: a.Deadline.Milliseconds(), Issued: rs.Issued}
	}
	s.ch.mu.Lock()
	st.Locked, st.Failed = s.ch.locked, s.ch.failed
	s.ch.mu.Unlock()
	return st
}

// AvoidFlashes honours the candidate's choice of no flashing for the rest of
// the session: flash challenges still planned become slow colour fades.
func (s *Session) AvoidFlashes() {
	if s.ch == nil {
		return
	}
	if _, err := s.ch.runner.AvoidFlashes(); err != nil {
		s.cfg.Logger.Error("analysis: no-flash choice not applied", "interview", s.id, "err", err)
	}
}

// challengeChanged tells the staff pages that a challenge was issued or verified.
func (s *Session) challengeChanged() {
	if s.out != nil {
		s.out.ChallengeChanged()
	}
}
