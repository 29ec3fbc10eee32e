package analysis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// IdentityConfig enables the face-identity stage (internal/faceid) in every
// session: who is on camera, sampled on the analysed frames, live and
// offline alike (live, embedded on the engine's embedPool).
type IdentityConfig struct {
	// Model embeds faces (a loaded *faceid.Model); nil: no identity stage.
	Model faceid.Embedder
	// Session configures the sampling, the gate and the tracker; the zero
	// value samples one face per DefaultIdentityEvery and one per 250 ms
	// during a challenge, and during turn_head every analysed face turned
	// 10–60° too (at most 24 more per challenge: faceid.PairConfig, the
	// same-pose check), and during cover_face the faces around the hand's
	// transitions (at most 24 more per challenge: faceid.CoverConfig).
	Session faceid.SessionConfig
	// Workers embed the faces of live sessions off their analysis
	// goroutines (embedPool), shared by the engine's sessions: 0 one per
	// CPU (at most 4, the model's networks); negative: embed on the
	// analysis goroutine inside its slot, as a recording is analysed.
	Workers int
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
// own frames (faceid.Session.Due: one per DefaultIdentityEvery, one per
// 250 ms during a challenge, and always the first frame of a challenge and
// the first after it; during turn_head also faceid.Session.PairDue: every
// turned face, within the challenge's budget). Live, the analysis goroutine only takes the due
// frame (a copy, with its observation) and an embedPool worker describes
// it (align, embed: 11–30 ms of CPU) and folds it into the track, in the
// order taken: the frames behind it are measured meanwhile. The sampling
// decisions (which frames, in or out of a challenge) are made at the
// frame, as offline, so live and offline give the same identity results.
// The challenge driver reads its windows from another goroutine, hence the
// lock.
type identityStage struct {
	s    *Session
	pool *embedPool // nil: embed inline (offline, or IdentityConfig.Workers < 0)

	mu        sync.Mutex
	cond      *sync.Cond // on mu: a job was folded
	ids       *faceid.Session
	active    bool        // a challenge was running at the previous frame
	cover     bool        // a cover_face challenge was running at the previous frame
	before    []*embedJob // cover_face: the last usable faces not embedded (faceid.Session.CoverStep)
	errs      int
	jobs      []*embedJob // taken and not yet folded, oldest first (the head may be being described)
	free      []*embedJob // folded jobs' buffers for reuse (at most 2)
	scheduled bool        // the session is in the pool's queue or a worker runs its head job
	saved     int         // faces embedded at the last identity checkpoint
	savedAt   time.Time   // when it was queued
	taken     uint64      // jobs taken so far
	folded    uint64      // of which folded
}

// maxIdentityJobs bounds the frames a session keeps waiting for their
// embedding (each a 640x480 frame copy, 460 KB): 2 s of a challenge's
// sampling, 8 s of the passive one. Beyond it the analysis goroutine waits
// for the workers (after giving back its analysis slot) before it takes its
// next frame.
const maxIdentityJobs = 8

// embedJob is a frame taken for embedding: a copy of the frame and its
// observation.
type embedJob struct {
	taken faceid.Taken
	f     models.Frame
	o     models.Observation
}

func newIdentityStage(s *Session, cfg IdentityConfig, pool *embedPool) *identityStage {
	sc := cfg.Session
	if sc.Every <= 0 {
		sc.Every = DefaultIdentityEvery
	}
	st := &identityStage{s: s, pool: pool, ids: faceid.NewSession(cfg.Model, sc)}
	st.cond = sync.NewCond(&st.mu)
	if cp := s.resumed; cp != nil && cp.Identity != nil {
		if st.ids.Restore(*cp.Identity) {
			st.saved = st.ids.Embedded()
		} else {
			s.cfg.Logger.Warn("analysis: identity checkpoint not usable; identity starts afresh", "interview", s.id)
		}
	}
	return st
}

// foldedFace checkpoints the identities after a face was folded in: the
// first face, every change, and else at most once per
// identityCheckpointEvery. st.mu is held.
func (st *identityStage) foldedFace(changed bool) {
	now := st.s.cfg.Now()
	if n := st.ids.Embedded(); n > st.saved && (changed || st.savedAt.IsZero() || now.Sub(st.savedAt) >= identityCheckpointEvery) {
		st.saved, st.savedAt = n, now
		snap := st.ids.Snapshot()
		st.s.checkpoint(Checkpoint{Identity: &snap})
	}
}

// Frame takes the frame's face when it is due: embedded at once without a
// pool, else queued for the pool's workers (never blocking: see waitRoom).
func (st *identityStage) Frame(f *models.Frame, o models.Observation) {
	active := st.s.challengeActive()
	turn := active && st.s.turnActive()
	cover := active && st.s.coverActive()
	st.mu.Lock()
	defer st.mu.Unlock()
	if active != st.active {
		st.ids.ForceNext()
		st.ids.SetChallenge(active)
		st.active = active
	}
	if cover != st.cover {
		st.ids.SetCover(cover)
		st.cover = cover
		st.before = nil // the kept frames' memory goes with the cover
	}
	// Due by the sampling clock, or (in turn_head) a turned face for the same-pose
	// comparison (faceid.PairConfig: every analysed frame of a turn, within a budget), or (in
	// cover_face) a face around the hand's transitions (faceid.CoverConfig, within a budget).
	// The extra faces are best effort: live, they are not taken while half of maxIdentityJobs
	// frames wait for the workers, so that they never hold the analysis goroutine at waitRoom
	// (on a loaded machine a challenge then has fewer of them; offline, without a pool, never).
	due := st.ids.Due(o.At, active)
	room := st.pool == nil || len(st.jobs) < maxIdentityJobs/2
	if cover {
		now, flush, keep := st.ids.CoverStep(&o)
		if flush {
			st.flushBefore(o.At)
		}
		switch {
		case due:
		case now && room:
			st.take(st.ids.TakeCover(o.At), f, &o)
			return
		case keep:
			st.keepBefore(f, &o)
		}
	}
	pair := !due && turn && room && st.ids.PairDue(&o)
	switch {
	case due:
		st.take(st.ids.Take(o.At), f, &o)
	case pair:
		st.take(st.ids.TakePair(o.At), f, &o)
	}
}

// take embeds a taken frame: at once without a pool (Describe, Fold), else queued for the
// pool's workers (a copy of the frame). st.mu is held.
func (st *identityStage) take(p faceid.Taken, f *models.Frame, o *models.Observation) {
	if st.pool == nil {
		smp, why, err := st.ids.Describe(p, f, o)
		n := st.ids.Embedded()
		_, changed, err := st.ids.Fold(p, smp, why, err)
		st.trace(n, p, f, o, smp)
		if err != nil {
			st.errs++ // a failing model: the session goes on without this face
		} else {
			st.foldedFace(changed)
		}
		return
	}
	j := st.job()
	j.taken = p
	j.copyFrom(f, o)
	st.queue(j)
}

// job returns a free job buffer. st.mu is held.
func (st *identityStage) job() *embedJob {
	if n := len(st.free); n > 0 {
		j := st.free[n-1]
		st.free = st.free[:n-1]
		return j
	}
	return &embedJob{}
}

// queue hands a taken job to the pool's workers. st.mu is held.
func (st *identityStage) queue(j *embedJob) {
	st.jobs = append(st.jobs, j)
	st.taken++
	if !st.scheduled {
		st.scheduled = true
		st.pool.schedule(st)
	}
}

func (j *embedJob) copyFrom(f *models.Frame, o *models.Observation) {
	j.f.Width, j.f.Height, j.f.Capture, j.f.Keyframe, j.f.Seq, j.f.Quant = f.Width, f.Height, f.Capture, f.Keyframe, f.Seq, f.Quant
	j.f.Y = append(j.f.Y[:0], f.Y...)
	j.f.U = append(j.f.U[:0], f.U...)
	j.f.V = append(j.f.V[:0], f.V...)
	j.o = *o
}

// keepBefore keeps a copy of a usable face of a cover_face challenge that was not embedded, in
// case the hand arrives next (faceid.Session.CoverStep): the last CoverBefore of them. st.mu is
// held.
func (st *identityStage) keepBefore(f *models.Frame, o *models.Observation) {
	var j *embedJob
	if len(st.before) >= st.ids.CoverBefore() {
		j = st.before[0]
		copy(st.before, st.before[1:])
		st.before = st.before[:len(st.before)-1]
	} else {
		j = &embedJob{}
	}
	j.copyFrom(f, o)
	st.before = append(st.before, j)
}

// flushBefore embeds the kept faces just before the hand arrived at at (those within
// faceid.CoverConfig.After of it, within the challenge's budget and, live, while the queue has
// room), oldest first. st.mu is held.
func (st *identityStage) flushBefore(at time.Time) {
	for _, b := range st.before {
		if !st.ids.CoverFlushDue(b.o.At, at) || (st.pool != nil && len(st.jobs) >= maxIdentityJobs/2) {
			continue
		}
		p := st.ids.TakeCover(b.o.At)
		if st.pool == nil {
			st.take(p, &b.f, &b.o)
			continue
		}
		j := st.job()
		j.taken = p
		j.f, b.f = b.f, j.f // hand the copy over; the kept buffer takes the job's
		j.o = b.o
		st.queue(j)
	}
	st.before = st.before[:0]
}

// waitRoom waits until fewer than maxIdentityJobs frames wait for their
// embedding (the analysis goroutine calls it between frames, holding no
// analysis slot), or ctx ends.
func (st *identityStage) waitRoom(ctx context.Context) {
	if st == nil || st.pool == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.jobs) >= maxIdentityJobs && ctx.Err() == nil {
		st.cond.Wait() // every fold broadcasts; a session's jobs always get folded
	}
}

// runOne describes the session's oldest waiting frame (outside the lock)
// and folds it in; more says that further frames wait (the caller
// schedules the session again). Only one worker runs a session's jobs at a
// time (scheduled), so they are folded in the order taken.
func (st *identityStage) runOne() (more bool) {
	st.mu.Lock()
	j := st.jobs[0]
	st.mu.Unlock()
	smp, why, err, ok := st.describe(j)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.jobs[0] = nil
	st.jobs = st.jobs[1:]
	if ok {
		n := st.ids.Embedded()
		_, changed, err := st.ids.Fold(j.taken, smp, why, err)
		st.trace(n, j.taken, &j.f, &j.o, smp)
		if err != nil {
			st.errs++
		} else {
			st.foldedFace(changed)
		}
	}
	st.folded++
	if len(st.free) < 2 { // a spare buffer or two; a burst's others go to the GC
		st.free = append(st.free, j)
	}
	st.cond.Broadcast()
	if len(st.jobs) == 0 {
		st.scheduled = false
		return false
	}
	return true
}

// describe runs the embedding of one job; a panic there ends the session's
// analysis like a panic of any stage (ok false: nothing to fold).
func (st *identityStage) describe(j *embedJob) (smp faceid.Sample, why string, err error, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			st.s.fail("stage identity", v)
			ok = false
		}
	}()
	smp, why, err = st.ids.Describe(j.taken, &j.f, &j.o)
	return smp, why, err, true
}

// settle waits until the frames taken so far are folded in (the challenge
// driver before reading a window; the end of the session). st.mu is held.
func (st *identityStage) settle() {
	for target := st.taken; st.folded < target; {
		st.cond.Wait()
	}
}

// Signals is the session's identity_change signal (none when no face was
// embedded).
func (st *identityStage) Signals() []models.Signal {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.settle()
	if sg, ok := st.ids.Signal(st.s.started); ok {
		return []models.Signal{sg}
	}
	return nil
}

// snapshot is the identities seen so far, once the frames taken are folded
// in (the final checkpoint of a session handed over); nil when no face was
// embedded.
func (st *identityStage) snapshot() *faceid.Snapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.settle()
	if st.ids.Embedded() == 0 {
		return nil
	}
	snap := st.ids.Snapshot()
	return &snap
}

// report is the stage's Result.Identity.
func (st *identityStage) report() *faceid.Report {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.settle()
	return st.ids.Report()
}

// challengeMetrics adds the identity windows of a verified challenge to
// its metrics (a copy of the map) and applies the challenge's identity
// check (challenge.CheckIdentity) to the faces sampled from its issue on.
func (st *identityStage) challengeMetrics(r *challenge.Result, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.settle() // the faces taken up to the verification, embedded
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
	if r.Kind == challenge.KindCoverFace {
		st.coverMetrics(r, now)
		return
	}
	// turn_head: the turned faces compared with each other at the same pose
	// (faceid.PairConfig): a swap breaking at a deep turn, whose operator's face the gate keeps
	// from the comparison with the session's identity (beyond 35° of yaw). Not the other kinds:
	// a half-covered face (cover_face) or a tilted one (look) next to a plain one at the same
	// yaw was not measured.
	if r.Kind != challenge.KindTurnHead {
		return
	}
	pc := st.ids.Pairs(r.Issued, now, challenge.DefaultPairFar)
	if pc.Faces > 0 {
		r.Metrics[challenge.MetricPoseFaces] = float64(pc.Faces)
		r.Metrics[challenge.MetricPosePairs] = float64(pc.Pairs)
		r.Metrics[challenge.MetricPoseMax] = round3(pc.Max)
		r.Metrics[challenge.MetricPoseFar] = float64(pc.Far)
		r.Metrics[challenge.MetricPoseApart] = float64(pc.Apart)
	}
	challenge.CheckSamePose(r, pc.Far)
}

// coverMetrics applies cover_face's transition check (faceid.CoverConfig): the faces embedded
// around the hand's transitions against the session's identity, counted with the clock's faces
// beyond the limit (CheckIdentity's count in r.Metrics). st.mu is held.
func (st *identityStage) coverMetrics(r *challenge.Result, now time.Time) {
	cc := st.ids.Covers(r.Issued, now, challenge.DefaultIdentityFar)
	if cc.Faces > 0 {
		r.Metrics[challenge.MetricCoverFaces] = float64(cc.Faces)
		r.Metrics[challenge.MetricCoverMax] = round3(cc.Max)
		r.Metrics[challenge.MetricCoverFar] = float64(cc.Far)
	}
	challenge.CheckCoverTransitions(r, cc.Far, int(r.Metrics[challenge.MetricIdentityOther]))
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// IdentityFace is one face the identity stage folded into a session's track, with the
// conditions it was taken under: what SetIdentityTrace's function gets (development only).
// Sample carries the face's descriptor, which is biometric: a tracer keeps it in memory and
// never logs or stores it.
type IdentityFace struct {
	Interview int64
	Started   time.Time // the session's start (Sample.At is the frame's capture time)
	Sample    faceid.Sample
	// Distance is the face's distance to the identity current when it came (faceid.Point);
	// HasDistance is false for the session's first face, which starts the first identity.
	Distance    float64
	HasDistance bool
	Challenge   bool // taken while a challenge ran
	// What vision and the decoder reported for the frame: how the face was found
	// (models.Observation.Found), the detector's confidence, the box's width in pixels, the
	// frame's VP8 quantiser (models.Frame.Quant, 0 unknown), keyframe flag and decode number.
	Found    string
	Conf     float64
	BoxW     int
	Quant    int
	Keyframe bool
	Seq      uint64
}

var identityTrace atomic.Pointer[func(IdentityFace)]

// SetIdentityTrace calls f with every face any session's identity stage folds into its track
// from now on (nil: none); f runs under the stage's lock and must be quick. For development
// measurements in the same process (the red team's probe, REDTEAM_IDTRACE): never set by the
// server.
func SetIdentityTrace(f func(IdentityFace)) {
	if f == nil {
		identityTrace.Store(nil)
		return
	}
	identityTrace.Store(&f)
}

// trace reports a folded face to the identity trace, when one is set and the face joined the
// track (the tracker counted it: embedded before was n). st.mu is held.
func (st *identityStage) trace(n int, p faceid.Taken, f *models.Frame, o *models.Observation, smp faceid.Sample) {
	fn := identityTrace.Load()
	if fn == nil || st.ids.Embedded() != n+1 {
		return
	}
	face := IdentityFace{Interview: st.s.id, Started: st.s.started, Sample: smp, Challenge: p.Challenge(),
		Found: o.Found, Conf: o.FaceConf, BoxW: o.Face.W, Quant: f.Quant, Keyframe: f.Keyframe, Seq: f.Seq}
	if h := st.ids.History(); len(h) > 0 && h[len(h)-1].At.Equal(smp.At) && n > 0 {
		face.Distance, face.HasDistance = h[len(h)-1].Distance, true
	}
	(*fn)(face)
}
