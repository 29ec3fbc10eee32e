package faceid

import (
	"time"

	"github.com/livecheck/livecheck/models"
)

// SessionConfig configures a Session. The zero value uses the defaults.
type SessionConfig struct {
	Gate    Gate
	Tracker TrackerConfig
	// Every is the sampling interval outside challenges (default 2 s: at
	// 10–20 ms of CPU per face this costs 5–10 ms per second of interview,
	// against about 100 ms for decoding and analysing it; within the 15 %
	// capacity budget, docs/EVAL.md).
	Every time.Duration
	// ChallengeEvery is the sampling interval while a challenge runs
	// (default 250 ms): a face swap tends to fail at a deep turn or under a
	// hand, briefly showing the operator's face.
	ChallengeEvery time.Duration
	// ChallengeMaxYaw is the gate's yaw limit (degrees) for the faces
	// sampled while a challenge runs (default, and never below, the gate's
	// own MaxYaw: no wider limit is adopted). A swap breaking at a deep turn
	// shows the operator's face beyond the steady gate's 35°: on the red
	// team's renderer 50 catches it in 5 of 6 offline turns, 45 in 1 (as 35
	// does), but the devset's real faces beyond 45° are 5 of one actor
	// (TestDevsetYawDistances, docs/REDTEAM.md finding 5). Faces beyond the
	// gate's MaxYaw never shape a template (TrackerConfig.TemplateMaxYaw).
	ChallengeMaxYaw float64
	// Pairs configures the same-pose comparison of a challenge's turned faces (pairs.go).
	Pairs PairConfig
	// Cover configures the transition faces of cover_face (cover.go).
	Cover CoverConfig
}

func (c SessionConfig) withDefaults() SessionConfig {
	if c.Every <= 0 {
		c.Every = 2 * time.Second
	}
	if c.ChallengeEvery <= 0 {
		c.ChallengeEvery = 250 * time.Millisecond
	}
	c.ChallengeMaxYaw = max(c.ChallengeMaxYaw, c.Gate.withDefaults().MaxYaw)
	c.Pairs = c.Pairs.withDefaults()
	c.Cover = c.Cover.withDefaults()
	if c.Tracker.TemplateMaxYaw <= 0 {
		c.Tracker.TemplateMaxYaw = c.Gate.withDefaults().MaxYaw
	}
	return c
}

// Embedder computes face samples (the Model; tests may wrap it).
type Embedder interface {
	Describe(f *models.Frame, o *models.Observation, g Gate) (Sample, string, error)
}

var _ Embedder = (*Model)(nil)

// Session is the identity check of one live or recorded interview: the
// analysis loop asks Due for each analysed frame and, when it is due, hands
// the frame and vision's observation to Observe (about 11–20 ms of CPU), or
// splits it into Take, Describe (on a worker) and Fold, in order. At the
// end, Signal gives identity_change and Main the template to store and
// compare (ReuseSignal, ReferenceSignal). Not safe for concurrent use (one
// per session, like vision.Analyzer), except Describe.
type Session struct {
	cfg       SessionConfig
	emb       Embedder
	tr        *Tracker
	last      time.Time
	rejected  map[string]int
	inChal    bool        // a challenge is running (SetChallenge)
	pairs     []poseFace  // the challenges' turned faces, oldest first (at most maxPairFaces)
	pairLeft  int         // faces the running challenge may still embed for pairs (PairDue)
	coverOn   bool        // the running challenge is cover_face (SetCover)
	coverLeft int         // transition faces it may still embed (CoverStep)
	coverHand bool        // the previous cover frame was a hand frame
	lastHand  time.Time   // the last hand frame of the running cover
	covers    []coverFace // the transition faces' distances, oldest first (at most maxCoverFaces)
}

// NewSession starts an identity check.
func NewSession(e Embedder, cfg SessionConfig) *Session {
	cfg = cfg.withDefaults()
	return &Session{cfg: cfg, emb: e, tr: NewTracker(cfg.Tracker), rejected: map[string]int{}}
}

// Due reports whether a frame captured at at should be embedded:
// one per Every, or per ChallengeEvery while a challenge runs.
func (s *Session) Due(at time.Time, challenge bool) bool {
	gap := s.cfg.Every
	if challenge {
		gap = s.cfg.ChallengeEvery
	}
	return s.last.IsZero() || at.Sub(s.last) >= gap-5*time.Millisecond || at.Before(s.last)
}

// Observe embeds the frame's face if it passes the gate and folds it into
// the identity track. It returns a change this sample confirmed. A frame
// without a usable face is not an error (it counts in Rejected) but still
// resets the Due clock, so that an unusable stretch is not re-tried on
// every frame.
func (s *Session) Observe(f *models.Frame, o *models.Observation) (Change, bool, error) {
	p := s.Take(o.At)
	smp, why, err := s.Describe(p, f, o)
	return s.Fold(p, smp, why, err)
}

// Taken is a due frame whose face is being described (Take), to be
// folded in with Fold.
type Taken struct {
	at        time.Time
	challenge bool
	pairOnly  bool // taken by TakePair: for the same-pose comparison only
	coverOnly bool // taken by TakeCover: for the transition comparison only
}

// Challenge reports whether a challenge ran when the frame was taken.
func (p Taken) Challenge() bool { return p.challenge }

// Take is Observe's first step, for a caller that describes the face
// elsewhere (a worker, so that the analysis does not wait for the
// network): it resets the Due clock to at and notes whether a challenge
// runs (SetChallenge). Describe then embeds the face, and Fold folds the
// outcome in; Fold must see the Takens in the order they were taken, so
// that the identity track is the same as Observe's.
func (s *Session) Take(at time.Time) Taken {
	s.last = at
	return Taken{at: at, challenge: s.inChal}
}

// Describe gates, aligns and embeds the face of a Taken frame (the
// Embedder with the session's gate; in a challenge with the yaw limit of
// the same-pose faces, PairConfig.MaxYaw, or ChallengeMaxYaw if wider: Fold
// keeps a face beyond ChallengeMaxYaw out of the identity track). It reads
// no session state: it may run on another goroutine than the session's
// other methods, concurrently with them.
func (s *Session) Describe(p Taken, f *models.Frame, o *models.Observation) (Sample, string, error) {
	g := s.cfg.Gate
	if p.challenge {
		g.MaxYaw = max(s.cfg.ChallengeMaxYaw, s.cfg.Pairs.MaxYaw)
	}
	return s.emb.Describe(f, o, g)
}

// Fold folds the outcome of Describe for a Taken frame into the identity
// track, as Observe does.
func (s *Session) Fold(p Taken, smp Sample, why string, err error) (Change, bool, error) {
	if err != nil {
		return Change{}, false, err
	}
	if why != "" {
		if !p.pairOnly && !p.coverOnly {
			s.rejected[why]++
		}
		return Change{}, false, nil
	}
	if p.coverOnly {
		if abs(smp.Yaw) <= s.cfg.ChallengeMaxYaw {
			s.keepCover(smp)
		}
		return Change{}, false, nil
	}
	if p.challenge && abs(smp.Yaw) >= s.cfg.Pairs.MinYaw {
		s.keepPair(smp)
	}
	if p.pairOnly {
		return Change{}, false, nil
	}
	if abs(smp.Yaw) > s.cfg.ChallengeMaxYaw { // embedded for the pairs only: beyond the identity's gate
		s.rejected[RejectPose]++
		return Change{}, false, nil
	}
	smp.Unsteady = p.challenge || abs(smp.Yaw) > SteadyPose
	c, ok := s.tr.Add(smp)
	return c, ok, nil
}

// Signal is the session's identity_change signal (ok false when no face
// was embedded).
func (s *Session) Signal(start time.Time) (models.Signal, bool) { return ChangeSignal(s.tr, start) }

// Changes lists the confirmed identity changes, with their evidence
// samples (Before.JPEG, After.JPEG).
func (s *Session) Changes() []Change { return s.tr.Changes() }

// Identities lists every identity seen (a template per stretch of the same
// face), for storage.
func (s *Session) Identities() []Identity { return s.tr.Identities() }

// Main is the session's template: the identity seen longest.
func (s *Session) Main() (Identity, bool) { return s.tr.Main() }

// Window is the largest identity distance among samples in [from, to] (a
// challenge's before/during/after check) and their number.
func (s *Session) Window(from, to time.Time) (float64, int) { return s.tr.Window(from, to) }

// History is the distance of each sample to the identity current when it
// came (a timeline series; not biometric by itself, but derived from faces).
func (s *Session) History() []Point { return s.tr.History() }

// Embedded is the number of faces embedded.
func (s *Session) Embedded() int { return s.tr.Samples() }

// Rejected counts the frames the gate refused, by reason (a copy).
func (s *Session) Rejected() map[string]int {
	out := make(map[string]int, len(s.rejected))
	for k, v := range s.rejected {
		out[k] = v
	}
	return out
}

// Report is what a Session measured, for storage and the verdict: every
// identity seen (templates, biometric), the index of the main one, the
// confirmed changes with their evidence images, and the gate's counts.
type Report struct {
	Model      string
	Embedded   int
	Rejected   map[string]int
	Identities []Identity
	Main       int // index into Identities of the identity seen longest; −1 when none
	Changes    []Change
}

// MainIdentity returns the main identity (ok false when no face was embedded).
func (r *Report) MainIdentity() (Identity, bool) {
	if r == nil || r.Main < 0 || r.Main >= len(r.Identities) {
		return Identity{}, false
	}
	return r.Identities[r.Main], true
}

// Report summarises the session so far.
func (s *Session) Report() *Report {
	r := &Report{Model: ModelName, Embedded: s.tr.Samples(), Rejected: s.Rejected(), Identities: s.tr.Identities(),
		Main: -1, Changes: s.tr.Changes()}
	for i, id := range r.Identities {
		if r.Main < 0 || id.Samples > r.Identities[r.Main].Samples {
			r.Main = i
		}
	}
	return r
}

// SetChallenge tells the session whether a challenge is running: its faces
// are Unsteady (a turned or half-covered face of the same person is not
// taken for another person) and the gate lets them through up to
// ChallengeMaxYaw; its turned faces are kept for the same-pose comparison
// (Pairs), and a new challenge gets its budget of PairDue faces.
func (s *Session) SetChallenge(on bool) {
	if on && !s.inChal {
		s.pairLeft = max(s.cfg.Pairs.Budget, 0)
	}
	s.inChal = on
}

// gate is the gate of a challenge's identity samples: the session's, up to ChallengeMaxYaw.
func (s *Session) gate() Gate {
	g := s.cfg.Gate
	g.MaxYaw = s.cfg.ChallengeMaxYaw
	return g
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// ForceNext makes the next frame due whatever the sampling interval (the
// first frame of a challenge and the first after it: the identity just
// before and just after the response).
func (s *Session) ForceNext() { s.last = time.Time{} }
