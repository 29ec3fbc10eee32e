package challenge

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Runner defaults.
const (
	DefaultMaxObservations = 1024 // ~34 s at 30 fps; a window is at most ~20 s (fade flash)
	DefaultMaxAudio        = 2048 // ~41 s of 20 ms chunks
	DefaultMinGap          = 10 * time.Second
	DefaultReissueAfter    = 5 * time.Second
	DefaultSettle          = 2 * time.Second
	DefaultMaxBehind       = 20 * time.Second
)

// Runner errors; they wrap the models sentinels.
var (
	// ErrBusy means a challenge is already in progress.
	ErrBusy = fmt.Errorf("challenge: a challenge is in progress: %w", models.ErrConflict)
	// ErrUnknownChallenge means the ID is not the challenge in progress.
	ErrUnknownChallenge = fmt.Errorf("challenge: not the challenge in progress: %w", models.ErrNotFound)
)

// RunnerConfig tunes a Runner. Zero fields take the defaults.
type RunnerConfig struct {
	Verifier Verifier
	// MaxObservations and MaxAudio bound the buffers (ring buffers; the oldest entry goes).
	// The defaults hold a full window at up to 30 fps and 50 audio chunks per second.
	MaxObservations int
	MaxAudio        int
	// MinGap is the least time between the end of one response window and the next planned
	// issue, so the next baseline is not the previous response. Default 10 s.
	MinGap time.Duration
	// ReissueAfter is the delay before an inconclusive challenge is issued again. Default 5 s.
	ReissueAfter time.Duration
	// Settle is how long past a window's end Poll waits for observations still in the
	// pipeline, unless the streams have already passed the end. Default 2 s.
	Settle time.Duration
	// Behind, if set, reports whether frames are still waiting for analysis (queued or
	// being measured). While it does, Poll waits past Settle for the analysis to reach a
	// window's end, up to MaxBehind after it; then the challenge ends inconclusive with
	// ReasonAnalysisBehind instead of being verified on the frames analysed so far. Nil:
	// never behind (Settle alone bounds the wait). It is called without the runner's
	// lock held.
	Behind func() bool
	// MaxBehind is the hard cap of that wait, counted from the window's end. Default 20 s.
	MaxBehind time.Duration
	// Rand draws reissued, extra and alternative challenges; default crypto/rand.Reader. It
	// is only read under the runner's lock, so it need not be safe for concurrent use.
	Rand io.Reader
}

// Runner runs one session's plan: it issues one challenge at a time, collects the ack and a
// bounded buffer of observations and audio, and verifies each challenge once its window ends.
//
// All methods are safe for concurrent use (one mutex). Observe and Audio only append to a
// ring buffer and are cheap enough for the analysis goroutines. Poll runs the verifier and
// the texture hook after releasing the lock. The caller drives time: call Due from a ticker
// (every ~250 ms) and send the returned prompt; call Poll as often.
type Runner struct {
	cfg   RunnerConfig
	start time.Time

	mu       sync.Mutex
	plan     Plan
	next     int      // index of the next plan item to issue
	active   *issued  // challenge in progress
	reissue  *pending // inconclusive challenge waiting to go again
	lastEnd  time.Time
	lastKind Kind
	obs      *ring[models.Observation]
	audio    *ring[AudioSample]
}

type issued struct {
	ch        Challenge
	at, shown time.Time
}

type pending struct {
	ch  Challenge
	due time.Time
}

// NewRunner returns a runner for plan, whose offsets count from start (the session start).
func NewRunner(plan Plan, start time.Time, cfg RunnerConfig) *Runner {
	if cfg.MaxObservations <= 0 {
		cfg.MaxObservations = DefaultMaxObservations
	}
	if cfg.MaxAudio <= 0 {
		cfg.MaxAudio = DefaultMaxAudio
	}
	if cfg.MinGap == 0 {
		cfg.MinGap = DefaultMinGap
	}
	if cfg.ReissueAfter == 0 {
		cfg.ReissueAfter = DefaultReissueAfter
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.MaxBehind == 0 {
		cfg.MaxBehind = DefaultMaxBehind
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if len(plan.Kinds) == 0 {
		plan.Kinds = Kinds()
	}
	return &Runner{
		cfg: cfg, start: start, plan: plan,
		obs:   newRing[models.Observation](cfg.MaxObservations),
		audio: newRing[AudioSample](cfg.MaxAudio),
	}
}

// issue makes ch the active challenge. r.mu must be held.
func (r *Runner) issue(ch Challenge, now time.Time) Prompt {
	r.active = &issued{ch: ch, at: now}
	r.lastKind = ch.Kind
	return ch.Prompt()
}

// Due returns the prompt to send at now, if one is due: a pending reissue once its delay has
// passed, else the next plan item once its offset has come and MinGap has passed since the
// previous window. Nothing is due while a challenge is in progress; a delayed plan item is
// issued late rather than skipped. The returned prompt counts as issued at now.
func (r *Runner) Due(now time.Time) (Prompt, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active != nil {
		return Prompt{}, false
	}
	if r.reissue != nil {
		if now.Before(r.reissue.due) {
			return Prompt{}, false
		}
		ch := r.reissue.ch
		r.reissue = nil
		return r.issue(ch, now), true
	}
	if r.next >= len(r.plan.Items) {
		return Prompt{}, false
	}
	it := r.plan.Items[r.next]
	if now.Before(r.start.Add(it.At)) || now.Before(r.lastEnd.Add(r.cfg.MinGap)) {
		return Prompt{}, false
	}
	r.next++
	return r.issue(it.Challenge, now), true
}

// IssueNow issues a challenge at once (the recruiter's "challenge now" button): a pending
// reissue, else the next plan item brought forward, else — plan exhausted — a fresh challenge
// of a kind drawn uniformly from the plan's kinds other than the last one issued. It ignores
// MinGap and returns ErrBusy while a challenge is in progress.
func (r *Runner) IssueNow(now time.Time) (Prompt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active != nil {
		return Prompt{}, ErrBusy
	}
	if r.reissue != nil {
		ch := r.reissue.ch
		r.reissue = nil
		return r.issue(ch, now), nil
	}
	if r.next < len(r.plan.Items) {
		ch := r.plan.Items[r.next].Challenge
		r.next++
		return r.issue(ch, now), nil
	}
	src := newSource(r.cfg.Rand)
	k := drawKind(src, r.plan.Kinds, r.lastKind)
	ch := drawChallenge(src, k, r.plan.Photosensitive)
	if src.err != nil {
		return Prompt{}, src.err
	}
	return r.issue(ch, now), nil
}

// Replace swaps the challenge in progress for its accessible alternative (see Alternative),
// issued at now, when the candidate cannot do it. The replaced challenge yields no result;
// the alternative's Result.Replaces names it.
func (r *Runner) Replace(id string, now time.Time) (Prompt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active == nil || r.active.ch.ID != id {
		return Prompt{}, ErrUnknownChallenge
	}
	alt, err := Alternative(r.active.ch, r.cfg.Rand)
	if err != nil {
		return Prompt{}, err
	}
	return r.issue(alt, now), nil
}

// Shown records the arrival of the candidate's display ack for challenge id at server time at.
// Only the first ack counts; later ones are ignored. It returns ErrUnknownChallenge when id is
// not in progress (unknown, or already verified) and an error wrapping models.ErrInvalid for
// an ack timed before the issue.
func (r *Runner) Shown(id string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active == nil || r.active.ch.ID != id {
		return ErrUnknownChallenge
	}
	if at.Before(r.active.at) {
		return fmt.Errorf("challenge: ack before issue: %w", models.ErrInvalid)
	}
	if r.active.shown.IsZero() {
		r.active.shown = at
	}
	return nil
}

// Active reports whether a challenge is in progress (the analyser then works at full rate).
func (r *Runner) Active() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active != nil
}

// ActiveKind is the kind of the challenge in progress (ok false when none is).
func (r *Runner) ActiveKind() (k Kind, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active == nil {
		return "", false
	}
	return r.active.ch.Kind, true
}

// Observe buffers one observation. Observations with a zero time are dropped.
func (r *Runner) Observe(o models.Observation) {
	if o.At.IsZero() {
		return
	}
	r.mu.Lock()
	r.obs.push(o)
	r.mu.Unlock()
}

// Audio buffers one audio envelope sample. Samples with a zero time are dropped.
func (r *Runner) Audio(a AudioSample) {
	if a.At.IsZero() {
		return
	}
	r.mu.Lock()
	r.audio.push(a)
	r.mu.Unlock()
}

// NeedsFrame reports whether a frame captured at t may belong to a challenge window, widened
// by margin on both sides: the window of the challenge in progress (from Thresholds.Baseline
// before its issue to Grace after its latest possible deadline), or the baseline of the next
// challenge the runner will issue on its own (a pending reissue, or the next plan item from
// the earliest time Due can issue it). Such frames should all be analysed: a window's
// verification needs its frames, not the latest ones. A "challenge now" cannot be foreseen;
// its baseline is whatever was analysed before it.
func (r *Runner) NeedsFrame(t time.Time, margin time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	th := r.cfg.Verifier.thresholds()
	if a := r.active; a != nil {
		from, to := r.cfg.Verifier.Window(a.ch, a.at, a.shown) // before the ack: the latest deadline it can become
		return !t.Before(from.Add(-margin)) && !t.After(to.Add(margin))
	}
	var next time.Time
	switch {
	case r.reissue != nil:
		next = r.reissue.due
	case r.next < len(r.plan.Items):
		next = r.start.Add(r.plan.Items[r.next].At)
		if gap := r.lastEnd.Add(r.cfg.MinGap); gap.After(next) {
			next = gap
		}
	default:
		return false
	}
	return !t.Before(next.Add(-th.Baseline - margin))
}

// Poll verifies the challenge in progress once its window (Verifier.Window) has ended and its
// frames have been analysed — when the observation stream (and for read_digits the audio
// stream) has passed the window end — and returns its result; nil otherwise. When the streams
// stop short of the end (the camera stopped, the candidate left), it verifies what came
// Settle after the end, unless frames are still waiting for analysis (RunnerConfig.Behind):
// then it waits for them, and MaxBehind after the end gives up with an inconclusive
// ReasonAnalysisBehind (the response may be in the frames not analysed; calling it "no
// video" or "no response" would be wrong). An inconclusive first attempt is queued for
// reissue with fresh parameters (ShouldReissue), due ReissueAfter later; if no randomness
// could be read for it, the result carries Metrics["reissue_error"] = 1.
func (r *Runner) Poll(now time.Time) []Result {
	behind := false
	if r.cfg.Behind != nil {
		behind = r.cfg.Behind() // outside the lock: it may take the caller's locks
	}
	r.mu.Lock()
	a := r.active
	if a == nil {
		r.mu.Unlock()
		return nil
	}
	v := r.cfg.Verifier
	from, to := v.Window(a.ch, a.at, a.shown)
	lastObs, _ := r.obs.last()
	lastAudio, _ := r.audio.last()
	obsDone := !lastObs.At.Before(to)
	streamsDone := obsDone && (a.ch.Kind != KindReadDigits || !lastAudio.At.Before(to))
	gaveUp := false
	if !streamsDone {
		switch {
		case now.Before(to.Add(r.cfg.Settle)):
			r.mu.Unlock()
			return nil
		case behind && !obsDone && now.Before(to.Add(r.cfg.MaxBehind)):
			r.mu.Unlock()
			return nil
		case behind && !obsDone:
			gaveUp = true
		}
	}
	in := Input{Challenge: a.ch, Issued: a.at, Shown: a.shown}
	r.obs.each(func(o models.Observation) {
		if !o.At.Before(from) && !o.At.After(to) {
			in.Observations = append(in.Observations, o)
		}
	})
	if a.ch.Kind == KindReadDigits {
		r.audio.each(func(s AudioSample) {
			if !s.At.Before(from) && !s.At.After(to) {
				in.Audio = append(in.Audio, s)
			}
		})
	}
	r.active = nil
	r.lastEnd = to
	r.mu.Unlock()

	res := v.Verify(in)
	if gaveUp {
		res.Outcome, res.Reason = OutcomeInconclusive, ReasonAnalysisBehind
		if !lastObs.At.IsZero() {
			res.Metrics["analysed_through_ms"] = ms(lastObs.At.Sub(to)) // < 0: how far short of the window's end
		}
	}
	if ShouldReissue(res, a.ch.Attempt) {
		if err := r.queueReissue(a.ch, res.Reason, now); err != nil {
			res.Metrics["reissue_error"] = 1
		}
	}
	return []Result{res}
}

// queueReissue draws a fresh challenge of ch's kind for the next attempt; after a flash's
// weak reflection (reason ReasonWeakFlash), a longer sequence (NewLongFlash).
func (r *Runner) queueReissue(ch Challenge, reason string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	photosensitive := r.plan.Photosensitive || ch.Params.Fade
	fresh, err := NewChallenge(ch.Kind, photosensitive, r.cfg.Rand)
	if ch.Kind == KindFlash && reason == ReasonWeakFlash {
		fresh, err = NewLongFlash(photosensitive, r.cfg.Rand)
	}
	if err != nil {
		return err
	}
	fresh.Attempt, fresh.Replaces = ch.Attempt+1, ch.Replaces
	r.reissue = &pending{ch: fresh, due: now.Add(r.cfg.ReissueAfter)}
	return nil
}
