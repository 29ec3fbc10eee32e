package analysis

import (
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// IdentityConfig enables the face-identity stage (internal/faceid) in every
// session: who is on camera, sampled on the analysed frames inside the
// analysis slot, live and offline alike.
type IdentityConfig struct {
	// Model embeds faces (a loaded *faceid.Model); nil: no identity stage.
	Model faceid.Embedder
	// Session configures the sampling, the gate and the tracker; the zero
	// value samples one face per DefaultIdentityEvery and one per 250 ms
	// during a challenge.
	Session faceid.SessionConfig
}

// DefaultIdentityEvery is the identity stage's sampling outside challenges:
// one face every 2 s (11–30 ms of CPU each, BenchmarkEmbed). One per
// second cost 30–40 % of an interview's CPU under load (docs/EVAL.md),
// far above the 15 % capacity budget; challenges, where swaps break, are
// sampled at 4 per second either way.
const DefaultIdentityEvery = 2 * time.Second

// Metric names of a challenge's identity check (challenge.Result.Metrics,
// stored with the challenge result). Each is the largest Euclidean distance
// (dlib descriptor units; the same person stays below
// faceid.DefaultChangeDistance = 0.50) between a face sampled in the
// window and the session's identity current at that time; a metric is
// absent when no usable face was sampled in its window.
//
//   - identity_before: the DefaultIdentityBefore before the prompt was issued,
//   - identity_during: from the issue to the response deadline,
//   - identity_after: from the deadline to the verification.
//
// identity_samples counts the faces over the three windows.
const (
	MetricIdentityBefore  = "identity_before"
	MetricIdentityDuring  = "identity_during"
	MetricIdentityAfter   = "identity_after"
	MetricIdentitySamples = "identity_samples"
)

// DefaultIdentityBefore is how far before a challenge's issue its
// "before" identity window reaches.
const DefaultIdentityBefore = 3 * time.Second

// identityStage is the face-identity Stage of one session. It samples its
// own frames (faceid.Session.Due: one per second, one per 250 ms during a
// challenge, and always the first frame of a challenge and the first after
// it). The challenge driver reads its windows from another goroutine, hence
// the lock.
type identityStage struct {
	s *Session

	mu     sync.Mutex
	ids    *faceid.Session
	active bool // a challenge was running at the previous frame
	errs   int
}

func newIdentityStage(s *Session, cfg IdentityConfig) *identityStage {
	sc := cfg.Session
	if sc.Every <= 0 {
		sc.Every = DefaultIdentityEvery
	}
	return &identityStage{s: s, ids: faceid.NewSession(cfg.Model, sc)}
}

// Frame embeds the frame's face when it is due.
func (st *identityStage) Frame(f *models.Frame, o models.Observation) {
	active := st.s.challengeActive()
	st.mu.Lock()
	defer st.mu.Unlock()
	if active != st.active {
		st.ids.ForceNext()
		st.ids.SetChallenge(active)
		st.active = active
	}
	if !st.ids.Due(o.At, active) {
		return
	}
	if _, _, err := st.ids.Observe(f, &o); err != nil {
		st.errs++ // a failing model: the session goes on without this face
	}
}

// Signals is the session's identity_change signal (none when no face was
// embedded).
func (st *identityStage) Signals() []models.Signal {
	st.mu.Lock()
	defer st.mu.Unlock()
	if sg, ok := st.ids.Signal(st.s.started); ok {
		return []models.Signal{sg}
	}
	return nil
}

// report is the stage's Result.Identity.
func (st *identityStage) report() *faceid.Report {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ids.Report()
}

// challengeMetrics adds the identity windows of a verified challenge to
// its metrics (a copy of the map) and applies the challenge's identity
// check (challenge.CheckIdentity) to the faces sampled from its issue on.
func (st *identityStage) challengeMetrics(r *challenge.Result, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := make(map[string]float64, len(r.Metrics)+4)
	for k, v := range r.Metrics {
		m[k] = v
	}
	total := 0
	for _, w := range []struct {
		name     string
		from, to time.Time
	}{
		{MetricIdentityBefore, r.Issued.Add(-DefaultIdentityBefore), r.Issued.Add(-time.Nanosecond)},
		{MetricIdentityDuring, r.Issued, r.Deadline},
		{MetricIdentityAfter, r.Deadline.Add(time.Nanosecond), now},
	} {
		if d, n := st.ids.Window(w.from, w.to); n > 0 {
			m[w.name] = round3(d)
			total += n
		}
	}
	m[MetricIdentitySamples] = float64(total)
	r.Metrics = m
	// A face of another person in the response fails the challenge (a swap dropping out
	// under the hand or breaking at a deep turn): challenge.CheckIdentity, live and offline.
	var ds []float64
	for _, p := range st.ids.History() {
		if !p.At.Before(r.Issued) && !p.At.After(now) {
			ds = append(ds, p.Distance)
		}
	}
	challenge.CheckIdentity(r, ds, 0)
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
