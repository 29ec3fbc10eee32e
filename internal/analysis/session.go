package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// Result is what a session measured, stored when it ends.
type Result struct {
	InterviewID      int64
	Reason           string // models.EndCompleted | models.EndInterrupted
	StartedAt        time.Time
	EndedAt          time.Time
	FramesDecoded    uint64
	FramesAnalysed   uint64
	FramesDropped    uint64 // dropped from analysis (stale in the mailbox, thinned from a full queue, or above the analysis rate)
	DecodeErrors     uint64
	KeyframeRequests uint64
	AudioChunks      uint64
	AudioErrors      uint64
	FacePresence     []models.Point    // 1 face found, 0 not, per analysed frame
	Yaw, EAR, Mouth  []models.Point    // landmark measurements of analysed frames with a face
	AudioLevel       []models.Point    // dBFS per 20 ms
	FaceAbsent       []models.Interval // ≥ 1 s without a face in the analysed frames
	CameraOff        []models.Interval // ≥ 1 s without frames, or black frames
	RTT              []models.Point    // control-channel round-trip time, ms
	// DetectorSignals are the passive detectors' session signals, one per
	// detector that ran; Windows their windowed scores.
	DetectorSignals []models.Signal
	Windows         []detect.Window
	// Challenges are the verified challenges, in order; Locked says that
	// challenges stopped after ChallengeFailures failures.
	Challenges        []challenge.Result
	ChallengeFailures int
	Locked            bool
	// StageSignals are the further stages' signals (Config.Stages and the
	// identity stage's identity_change).
	StageSignals []models.Signal
	// Identity is what the face-identity stage measured (templates, changes
	// with their evidence faces; biometric); nil without the stage
	// (Config.Identity).
	Identity *faceid.Report
	// Cadence is how regularly the live camera source produced frames (nil offline: a
	// recording's timestamps are not a camera's).
	Cadence *Cadence
	// Video and Audio say which media the session had: a live session
	// always both, a recording what was given. Signals about a medium the
	// session never had are not made.
	Video, Audio bool
	// AnalyserUnavailable: the frame analyser could not be created, so no
	// frame was measured.
	AnalyserUnavailable bool
	// Failure names the part whose internal error (a panic) stopped the
	// session's analysis at FailedAt; empty when nothing failed. What was
	// measured before is kept.
	Failure  string
	FailedAt time.Time
	// ResumedAt is when this session went on from its checkpoint on this
	// node after the node running it died or handed it over (zero: it ran on
	// one node). The result covers both parts (resume.go): the challenge
	// results, identities, series, counters, camera-off stretches and
	// detector windows stored with the first part's checkpoint (all but its
	// last measuresEvery when its node died) are carried on; the passive
	// detectors' running measures (Signal.Value's medians, the virtual
	// camera's, the voice's and lip sync's) cover the part since then, except
	// that a hand-over carries the last three's signals (kept when they have
	// more confidence than this part's).
	ResumedAt time.Time
}

// frameItem is a copy of a decoded frame waiting for the analyser; keep
// marks a frame of a challenge window (analysed at full rate, never replaced
// by a newer one).
type frameItem struct {
	f       models.Frame
	arrival time.Time
	queued  time.Time // when it was handed to the queue (metrics.FrameStages)
	keep    bool
	fresh   bool // not due by the rate: it took the place of an older due frame (frameQueue.refresh)
}

// windowMargin widens the challenge windows whose frames are all analysed
// (Runner.NeedsFrame), so that a window's verification finds frames past
// both of its ends.
const windowMargin = 500 * time.Millisecond

// Session accumulates the analysis of one interview across candidate
// reconnects: decoded frames and audio come in (live from the room's media
// sinks, offline from a file), frames are analysed at the analysis rate (every
// frame during a challenge), and End summarises and stores the results.
type Session struct {
	cfg       Config
	id        int64
	started   time.Time
	live      bool
	resumed   *Checkpoint // the checkpoint this session went on from; nil: started afresh
	resumedAt time.Time
	out       Outlet // nil offline
	hasVideo  bool   // the session has (or expects) video; see Result.Video
	hasAudio  bool
	queue     *frameQueue
	pool      sync.Pool
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	ch        *challenges   // nil when challenges are disabled
	suite     *detect.Suite // passive detectors; nil when disabled
	stages    []*stageRun
	identity  *identityStage        // nil without Config.Identity
	change    challenge.ChangeMeter // the face region's change from the previous decoded frame (analysis goroutine only)

	mu              sync.Mutex
	decoded         uint64
	skipped         uint64 // droppable frames not decoded (videoPipe.skippable)
	analysed        uint64
	rateSkipped     uint64
	decodeErrors    uint64
	kfRequests      uint64
	audioChunks     uint64
	audioErrors     uint64
	lastFrame       time.Time // capture time of the last decoded frame
	cadence         Cadence   // of the live video tracks so far
	leftAt          time.Time // when the candidate last disconnected
	nextDue         time.Time // capture time from which the next frame outside the challenge windows is due (due)
	face            []models.Point
	yaw, ear, mouth []models.Point // landmark-derived series (biometric)
	audio           []models.Point
	rtt             []models.Point
	cameraOff       []models.Interval
	black           bool
	blackFrom       time.Time
	analyserFailed  bool
	failure         string    // the part that failed (see Result.Failure)
	failedAt        time.Time // when, on the session's clock
	failed          atomic.Bool
	handed          atomic.Bool     // handed over to another node (HandOver): no more checkpoints
	restoredDropped uint64          // frames dropped in the first part of a resumed session
	sent            sent            // how much of the measurements the checkpoint's parts hold (resume.go)
	carried         []models.Signal // the first part's signals of carriedKinds (resume.go)
	moves           []int64         // ms times at which the session went on at another node, in order
}

// MaxSeriesPoints bounds each stored series (4 h of 20 ms audio levels).
const MaxSeriesPoints = 720000

func newSession(cfg Config, id int64, out Outlet, live bool) *Session {
	s := &Session{cfg: cfg, id: id, started: cfg.Now(), live: live, done: make(chan struct{}), out: out, hasVideo: true, hasAudio: true}
	if live {
		// The same session goes on when its node died: its start (its stored
		// row), the plan's progress and the identities seen (resume.go).
		if cp := s.resume(); cp != nil {
			s.resumed, s.resumedAt, s.started = cp, s.started, cp.SessionStarted
			cfg.Logger.Info("analysis: session resumed from its checkpoint", "interview", id,
				"session_started", cp.SessionStarted, "challenge_results", len(cp.Results))
		}
	}
	qmax := cfg.ChallengeQueue
	if qmax <= 0 {
		qmax = DefaultChallengeQueue
	}
	s.queue = newFrameQueue(qmax, func(it *frameItem) { s.pool.Put(it) })
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Detectors {
		s.suite = detect.NewSuite(cfg.Detect)
	}
	for _, f := range cfg.Stages {
		st, err := f.New(id)
		if err != nil {
			cfg.Logger.Error("analysis: stage unavailable", "interview", id, "stage", f.Name, "err", err)
			continue
		}
		s.stages = append(s.stages, &stageRun{name: f.Name, every: f.Every, stage: st})
	}
	if cfg.Identity.Model != nil {
		var pool *embedPool
		if live {
			pool = cfg.embeds
		}
		s.identity = newIdentityStage(s, cfg.Identity, pool)
		s.stages = append(s.stages, &stageRun{name: "identity", stage: s.identity})
	}
	s.sent.at = s.cfg.Now()
	if cp := s.resumed; cp != nil {
		if cp.MeasuresErr != nil {
			cfg.Logger.Error("analysis: stored measurements unreadable; the session goes on without them",
				"interview", id, "err", cp.MeasuresErr)
		}
		if cp.Measures != nil {
			s.restoreMeasures(cp.Measures)
		}
		s.moves = append(s.moves, s.ms(s.resumedAt))
		s.sent.seq = max(s.sent.seq, cp.NextPart) // never over a part stored, read or not
	}
	if cfg.Challenges.Enabled {
		ch, err := newChallenges(s)
		if err != nil {
			cfg.Logger.Error("analysis: challenge plan", "interview", id, "err", err)
		} else {
			s.ch = ch
			ch.checkpoint()
			go func() { defer close(ch.stopped); ch.loop(s.ctx) }()
		}
	}
	if s.ch == nil && live && s.resumed == nil {
		s.checkpoint(Checkpoint{}) // the session's start, so that it goes on after a move
	}
	if live {
		go s.analyse()
	} else {
		close(s.done)
	}
	return s
}

// stageRun is a session's instance of a Stage with its sampling.
type stageRun struct {
	name  string
	every time.Duration
	last  time.Time
	stage Stage
}

// persist queues a write of this session's results.
func (s *Session) persist(what string, store func(ctx context.Context) error) {
	if s.cfg.Writes != nil {
		s.cfg.Writes.Add(what, s.id, store)
	}
}

// staff sends m to the staff pages of a live session.
func (s *Session) staff(m signal.Message) {
	if s.out != nil {
		s.out.BroadcastStaff(m)
	}
}

// inWindow reports whether a frame captured at t may belong to a challenge
// window (then it is analysed, whatever the analysis rate; live, it waits for
// the analysis instead of being replaced by a newer frame).
func (s *Session) inWindow(t time.Time) bool {
	return s.ch != nil && !s.ch.isLocked() && s.ch.runner.NeedsFrame(t, windowMargin)
}

// decodeAllMargin widens the challenge windows (Runner.NeedsFrame) in which
// every video frame is decoded, also the droppable ones (videoPipe.skippable):
// wider than windowMargin, so that the frames a window's analysis may take
// are all there.
const decodeAllMargin = windowMargin + time.Second

// decodeAllAt reports whether a frame captured at t is in a challenge window
// widened by decodeAllMargin (or the challenges' state is unknown).
func (s *Session) decodeAllAt(t time.Time) bool {
	return s.ch != nil && !s.ch.isLocked() && s.ch.runner.NeedsFrame(t, decodeAllMargin)
}

// challengeActive reports whether a challenge is running now (the identity
// stage samples faster then).
func (s *Session) challengeActive() bool { return s.ch != nil && s.ch.runner.Active() }

// turnActive reports whether a turn_head challenge is in progress (the identity stage then
// samples the turned faces densely for the same-pose check: faceid.PairConfig).
func (s *Session) turnActive() bool {
	if s.ch == nil {
		return false
	}
	k, ok := s.ch.runner.ActiveKind()
	return ok && k == challenge.KindTurnHead
}

// coverActive reports whether a cover_face challenge is in progress (the identity stage then
// embeds the faces around the hand's transitions: faceid.CoverConfig).
func (s *Session) coverActive() bool {
	if s.ch == nil {
		return false
	}
	k, ok := s.ch.runner.ActiveKind()
	return ok && k == challenge.KindCoverFace
}

func (s *Session) ms(t time.Time) int64 { return t.Sub(s.started).Milliseconds() }

// guard, deferred by every entry point into the session's analysis, turns a
// panic into the end of this session's analysis: logged with its stack,
// recorded for the result (Result.Failure), and never the end of the
// process or of another session.
func (s *Session) guard(part string) {
	if v := recover(); v != nil {
		s.fail(part, v)
	}
}

// fail records the first failure and stops the analysis: later frames and
// audio are only counted, no challenge is issued any more.
func (s *Session) fail(part string, v any) {
	s.cfg.Logger.Error("analysis: internal error; this session's analysis stops", "interview", s.id, "part", part,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	s.mu.Lock()
	if s.failure == "" {
		s.failure, s.failedAt = part, s.cfg.Now()
	}
	s.mu.Unlock()
	first := !s.failed.Swap(true)
	s.cancel()
	if first {
		s.staff(signal.Message{T: "analysis_stopped", Data: []byte(`{"reason":"internal error"}`)})
	}
}

// safely runs one part of the session's summary; a panic skips that part
// and is recorded like any other failure.
func (s *Session) safely(part string, f func()) {
	defer s.guard(part)
	f()
}

// frameDecoded counts a decoded frame and notes its capture time (camera-off gaps,
// the detectors' frame timing). Every decoded frame comes through here, live
// and offline, analysed or not.
func (s *Session) frameDecoded(f *models.Frame) {
	s.mu.Lock()
	s.decoded++
	if s.failed.Load() {
		s.mu.Unlock()
		return
	}
	if !s.lastFrame.IsZero() && f.Capture.Sub(s.lastFrame) > time.Second {
		s.cameraOff = append(s.cameraOff, models.Interval{From: s.ms(s.lastFrame), To: s.ms(f.Capture)})
	}
	s.lastFrame = f.Capture
	s.mu.Unlock()
	if s.suite != nil {
		s.suite.AddFrameTime(f.Capture)
	}
}

// frameSkipped records a frame that was not decoded because no later frame
// depends on it (videoPipe.skippable): its capture time still counts for the
// camera-off gaps and the frame-interval regularity (detect's AddFrameTime),
// which see the camera's cadence as if it had been decoded.
func (s *Session) frameSkipped(capture time.Time) {
	s.mu.Lock()
	s.skipped++
	if s.failed.Load() {
		s.mu.Unlock()
		return
	}
	if !s.lastFrame.IsZero() && capture.Sub(s.lastFrame) > time.Second {
		s.cameraOff = append(s.cameraOff, models.Interval{From: s.ms(s.lastFrame), To: s.ms(capture)})
	}
	s.lastFrame = capture
	s.mu.Unlock()
	if s.suite != nil {
		s.suite.AddFrameTime(capture)
	}
}

// frame takes a decoded live frame (its planes copied when the analysis
// takes it; see framePicture).
func (s *Session) frame(f *models.Frame, arrival time.Time) {
	s.framePicture(f, planesOf{f}, arrival)
}

// picture copies a decoded frame's planes into dst's, resizing them; false
// when there is no picture. *media.VP8Decoder is one (the last frame it
// decoded).
type picture interface {
	CopyPicture(dst *models.Frame) bool
}

// planesOf is the picture of a frame that has its planes.
type planesOf struct{ f *models.Frame }

func (p planesOf) CopyPicture(dst *models.Frame) bool {
	dst.Y = append(dst.Y[:0], p.f.Y...)
	dst.U = append(dst.U[:0], p.f.U...)
	dst.V = append(dst.V[:0], p.f.V...)
	return true
}

// framePicture takes a decoded live frame, meta (its size, capture time and
// sequence number; its planes are not read), and hands it to the analysis
// goroutine without ever blocking the RTP reader: a frame the analysis rate
// lets through gets its picture copied from pic (the decoder keeps its
// buffers) into the queue; a frame it does not let through is copied only
// to take the place of an older due frame still waiting for analysis
// (frameQueue.refresh: the analysis gets the newer picture, at the same
// rate); others are only counted and never copied.
func (s *Session) framePicture(meta *models.Frame, pic picture, arrival time.Time) {
	s.frameDecoded(meta)
	if s.failed.Load() {
		return
	}
	keep := s.inWindow(meta.Capture)
	due := s.due(meta.Capture, keep)
	if !due {
		metrics.FrameDropped("rate", false)
		if keep || !s.queue.wantsFresh() {
			return
		}
	}
	it, _ := s.pool.Get().(*frameItem)
	if it == nil {
		it = &frameItem{}
	}
	it.f.Width, it.f.Height, it.f.Capture, it.f.Keyframe, it.f.Seq, it.f.Quant = meta.Width, meta.Height, meta.Capture, meta.Keyframe, meta.Seq, meta.Quant
	if !pic.CopyPicture(&it.f) {
		s.pool.Put(it)
		return
	}
	it.arrival, it.keep, it.fresh, it.queued = arrival, keep, !due, time.Now()
	if due {
		s.queue.put(it)
	} else if !s.queue.refresh(it) {
		s.pool.Put(it)
	}
}

// newAnalyzer creates the session's frame analyser (nil without video analysis).
func (s *Session) newAnalyzer() FrameAnalyzer {
	if s.cfg.NewAnalyzer == nil {
		return nil
	}
	an, err := s.cfg.NewAnalyzer()
	if err != nil {
		s.cfg.Logger.Error("analysis: frame analyser unavailable", "interview", s.id, "err", err)
		s.mu.Lock()
		s.analyserFailed = true
		s.mu.Unlock()
		return nil
	}
	return an
}

// due applies the analysis rate: it reports whether a frame captured at t is
// analysed (always in a challenge window, and with a negative rate),
// counting the frames it skips.
//
// The rate is kept on average: a frame is due once the capture time the
// previous one was due at plus 1/fps is reached (within rateSlack), so a
// 15 fps camera at 6 gives 6 analysed fps (every third and every second
// frame in turn). The gap rule used before (a frame at least 1/fps − 5 ms
// after the last analysed one) gave every third frame, exactly 5 fps, so
// that each frame a newer one replaced in the mailbox put the interview
// under 5 (docs/BENCH.md, issue 17). The credit never exceeds one frame: a
// frame that comes more than 1/fps after its due time (a pause, a slow
// camera) moves the schedule to itself, and each challenge-window frame
// restarts it. At a rate that divides the camera's (DefaultFileFPS on 15 and
// 30 fps recordings) both rules take the same frames.
func (s *Session) due(t time.Time, window bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.AnalysisFPS <= 0 {
		return true
	}
	gap := time.Duration(float64(time.Second) / s.cfg.AnalysisFPS)
	switch {
	case window || s.nextDue.IsZero():
		s.nextDue = t.Add(gap)
	case t.Before(s.nextDue.Add(-rateSlack)):
		s.rateSkipped++
		return false
	default:
		s.nextDue = s.nextDue.Add(gap)
		if s.nextDue.Before(t) {
			s.nextDue = t
		}
	}
	return true
}

// rateSlack is how much earlier than due by the analysis rate a frame is
// still taken (capture times jitter by a few milliseconds).
const rateSlack = 5 * time.Millisecond

// analysisBehind reports whether live frames wait for analysis or one is
// being measured (the challenge runner then waits before verifying).
func (s *Session) analysisBehind() bool { return s.queue.behind() }

// analyse is a live session's one analysis goroutine.
func (s *Session) analyse() {
	defer close(s.done)
	defer s.guard("frame analysis")
	an := s.newAnalyzer()
	if an != nil {
		defer an.Close()
	}
	for {
		it, err := s.queue.get(s.ctx)
		if err != nil {
			return
		}
		taken := time.Now()
		if !s.cfg.Gate.acquire(s.ctx, it.keep, it.f.Capture) { // an analysis slot; challenge frames first, then the oldest (gate.go)
			s.pool.Put(it)
			return
		}
		if fr := s.queue.fresher(it); fr != it { // a newer picture arrived while waiting for the slot: analyse that one
			// It came after the goroutine began to wait: it waited for the
			// slot from its hand-off on.
			it = fr
			if it.queued.After(taken) {
				taken = it.queued
			}
		}
		if it.fresh {
			metrics.FrameRefreshed()
		}
		t0 := time.Now()
		if err := s.observeGated(an, &it.f); err != nil {
			s.cfg.Logger.Warn("analysis: measure frame", "interview", s.id, "err", err)
		}
		metrics.FrameObserved(it.f.Capture, t0, it.keep)
		metrics.FrameStages(it.f.Capture, it.queued, taken, t0, time.Now(), it.keep)
		s.pool.Put(it)
		s.identity.waitRoom(s.ctx) // faces waiting for their embedding are bounded (identity.go)
	}
}

// observeGated is observe holding an analysis slot, which it gives back
// whatever happens.
func (s *Session) observeGated(an FrameAnalyzer, f *models.Frame) error {
	defer s.cfg.Gate.release()
	return s.observe(an, f)
}

// observe measures one analysed frame and feeds the measurement to the
// series, the challenges, the detectors and the stages. A frame on which the
// face tracker only coasts (the detector lost the face; the box is the last
// one) counts as a frame without a face everywhere except in the challenges:
// their verifiers tell a coasting box from a detected face themselves
// (challenge.seen), and cover_face needs the coasting box to tell a hand over
// a face that is still there from a face that left (verify_cover.go).
func (s *Session) observe(an FrameAnalyzer, f *models.Frame) error {
	meanY := meanLuma(f)
	var o models.Observation
	if an != nil {
		var err error
		if o, err = an.Measure(f); err != nil {
			return fmt.Errorf("analysis: measure frame %d: %w", f.Seq, err)
		}
	}
	o.At = f.Capture
	// The face region's change from the previous decoded frame, when that one was analysed too
	// (every frame of a challenge window): a repeated picture barely changes (challenge.CountStalls).
	o.Change, o.ChangeOK = s.change.Measure(f, o.Face)
	raw := o // what the challenges see
	if o.Coasting {
		o.FacePresent = false
	}
	s.mu.Lock()
	s.analysed++
	v := 0.0
	if o.FacePresent {
		v = 1
	}
	if len(s.face) < MaxSeriesPoints {
		t := s.ms(f.Capture)
		s.face = append(s.face, models.Point{T: t, V: v})
		if o.LandmarksOK && v == 1 {
			s.yaw = append(s.yaw, models.Point{T: t, V: math.Round(o.Yaw*10) / 10})
			s.ear = append(s.ear, models.Point{T: t, V: math.Round(o.EAR*1000) / 1000})
			s.mouth = append(s.mouth, models.Point{T: t, V: math.Round(o.Mouth*1000) / 1000})
		}
	}
	// A black picture (camera covered or switched off in software) counts as camera off.
	if meanY < 16 {
		if !s.black {
			s.black, s.blackFrom = true, f.Capture
		}
	} else if s.black {
		s.black = false
		if f.Capture.Sub(s.blackFrom) >= time.Second {
			s.cameraOff = append(s.cameraOff, models.Interval{From: s.ms(s.blackFrom), To: s.ms(f.Capture)})
		}
	}
	s.mu.Unlock()
	if s.ch != nil {
		s.ch.observe(f, raw)
	}
	if s.suite != nil {
		s.suite.Add(f, o)
	}
	for _, st := range s.stages {
		if st.every > 0 && !st.last.IsZero() && f.Capture.Sub(st.last) < st.every {
			continue
		}
		st.last = f.Capture
		s.stageFrame(st, f, o)
	}
	s.maybeMeasures()
	return nil
}

// stageFrame feeds one stage; a panic there ends the analysis, named after the stage.
func (s *Session) stageFrame(st *stageRun, f *models.Frame, o models.Observation) {
	defer s.guard("stage " + st.name)
	st.stage.Frame(f, o)
}

func meanLuma(f *models.Frame) float64 {
	if len(f.Y) == 0 {
		return 0
	}
	var sum uint64
	step := 7 // a sparse sample is plenty for "is the picture black"
	n := 0
	for i := 0; i < len(f.Y); i += step {
		sum += uint64(f.Y[i])
		n++
	}
	return float64(sum) / float64(n)
}

// audioChunk is the length of one audio level: 20 ms at 48 kHz.
const audioChunk = 960

// audioDecoded takes decoded 48 kHz mono audio whose first sample was captured at
// at: the detectors get the samples, the level series and the challenges one
// level per 20 ms.
func (s *Session) audioDecoded(at time.Time, pcm []float32) {
	if s.failed.Load() {
		return
	}
	if s.suite != nil {
		s.suite.AddAudioFloat(at, pcm)
	}
	for off := 0; off < len(pcm); off += audioChunk {
		end := min(off+audioChunk, len(pcm))
		var sum float64
		for _, x := range pcm[off:end] {
			f := float64(x)
			sum += f * f
		}
		rms := math.Sqrt(sum / float64(end-off))
		metrics.AudioChunk()
		s.audioLevel(at.Add(time.Duration(off)*time.Second/48000), rms)
	}
	s.maybeMeasures()
}

func (s *Session) audioLevel(at time.Time, rms float64) {
	db := -100.0
	if rms > 1e-5 {
		db = 20 * math.Log10(rms)
	}
	s.mu.Lock()
	s.audioChunks++
	if len(s.audio) < MaxSeriesPoints {
		s.audio = append(s.audio, models.Point{T: s.ms(at), V: math.Round(db*10) / 10})
	}
	s.mu.Unlock()
	if s.ch != nil {
		s.ch.runner.Audio(challenge.AudioSample{At: at, RMS: rms})
	}
}

// Shown records the page's acknowledgement, at server time at, that it drew
// the prompt of challenge id.
func (s *Session) Shown(id string, at time.Time) {
	defer s.guard("challenges")
	if s.ch != nil && !s.failed.Load() {
		s.ch.shown(id, at)
	}
}

// ControlRTT records a control-channel round trip measured at at.
func (s *Session) ControlRTT(at time.Time, rtt time.Duration) {
	s.mu.Lock()
	if len(s.rtt) < MaxSeriesPoints {
		s.rtt = append(s.rtt, models.Point{T: s.ms(at), V: float64(rtt.Microseconds()) / 1000})
	}
	s.mu.Unlock()
}

// KeyframeRequested counts a keyframe request sent to the candidate.
func (s *Session) KeyframeRequested() { s.mu.Lock(); s.kfRequests++; s.mu.Unlock() }

// ChallengeNow issues a challenge at once (the recruiter's button). A
// challenge in progress is refused with challenge.ErrBusy (a
// models.ErrConflict), locked challenges with ErrLocked (a models.ErrLocked).
func (s *Session) ChallengeNow() (err error) {
	if s.ch == nil {
		return ErrNoChallenges
	}
	if s.failed.Load() || s.handed.Load() {
		return ErrStopped
	}
	defer func() {
		if v := recover(); v != nil {
			s.fail("challenges", v)
			err = ErrStopped
		}
	}()
	return s.ch.issueNow()
}

// ErrNoChallenges means challenges are disabled on this server.
var ErrNoChallenges = errors.New("analysis: challenges are disabled on this server")

// ErrStopped means the session's analysis stopped after an internal error.
var ErrStopped = errors.New("analysis: this session's analysis stopped after an internal error")

func (s *Session) addCadence(c Cadence) { s.mu.Lock(); s.cadence.add(c); s.mu.Unlock() }
func (s *Session) countDecodeError()    { s.mu.Lock(); s.decodeErrors++; s.mu.Unlock() }
func (s *Session) countAudioError()     { s.mu.Lock(); s.audioErrors++; s.mu.Unlock() }

// Snapshot returns the live figures.
func (s *Session) Snapshot() wire.Live {
	queueDropped := s.queue.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := wire.Live{FramesDecoded: s.decoded, FramesAnalysed: s.analysed, FramesDropped: queueDropped + s.rateSkipped + s.restoredDropped, AudioDB: -100}
	if len(s.face) > 0 {
		l.FacePresent = meanOfLast(s.face, 40) // ~5 s of analysed frames
	}
	if len(s.audio) > 0 {
		l.AudioDB = meanOfLast(s.audio, 50) // 1 s of 20 ms levels
	}
	if n := len(s.rtt); n > 0 {
		l.RTTMs = s.rtt[n-1].V
	}
	return l
}

// meanOfLast is the mean value of the last n points of a series (0 for none).
func meanOfLast(pts []models.Point, n int) float64 {
	pts = pts[max(0, len(pts)-n):]
	if len(pts) == 0 {
		return 0
	}
	var sum float64
	for _, p := range pts {
		sum += p.V
	}
	return sum / float64(len(pts))
}

// End stops the analysis, summarises the session and queues its results for
// storage (Config.Store.SessionEnded through Config.Writes). Call it once,
// when the interview ends; it returns once the analysis goroutine stopped.
func (s *Session) End(reason string, at time.Time) {
	r := s.finish(reason, at)
	if h := s.cfg.Store.SessionEnded; h != nil {
		s.persist("session results", func(ctx context.Context) error { return h(ctx, r) })
	}
}

// HandOver stops the analysis of a live session that goes on at another
// node (this node is draining and hands its interviews over): the analysis
// goroutine and the challenge driver stop, the identities taken so far are
// folded in, and the final checkpoint — the plan's progress, the
// identities and the measurements since the last part, at — is queued
// (Config.Writes); nothing is queued after it, and the session's results
// are not stored: the session ends where it goes on.
// A challenge on screen without a result is issued again there (resume.go).
// Call it once, instead of End.
func (s *Session) HandOver(at time.Time) {
	s.queue.close()
	s.cancel()
	<-s.done
	cp := Checkpoint{}
	if s.ch != nil {
		<-s.ch.stopped // no result or prompt after the final checkpoint
		p := s.ch.runner.Progress()
		cp.Challenges = &p
	}
	if s.identity != nil {
		cp.Identity = s.identity.snapshot()
	}
	var carried []models.Signal
	if s.suite != nil {
		s.safely("passive detectors", func() {
			s.suite.Seal() // the current detector window goes with the rest
			for _, sg := range carrySignals(s.suite.Signals(), s.carried) {
				if slices.Contains(carriedKinds, sg.Kind) {
					carried = append(carried, sg)
				}
			}
		})
	}
	s.mu.Lock()
	s.handed.Store(true) // late folds (none: settled above) and parts queue no checkpoint behind the final one
	cp.Measures = s.measuresLocked()
	cp.Measures.Signals = carried
	s.mu.Unlock()
	if h := s.cfg.Store.Checkpoint; h != nil && s.live {
		cp.InterviewID, cp.SessionStarted, cp.At = s.id, s.started, at
		s.persist("final checkpoint", func(ctx context.Context) error { return h(ctx, &cp) })
	}
	s.cfg.Logger.Info("analysis: session handed over with its checkpoint", "interview", s.id, "session_started", s.started)
}

// finish stops the analyser and summarises the session.
func (s *Session) finish(reason string, now time.Time) *Result {
	s.queue.close()
	s.cancel()
	<-s.done
	queueDropped := s.queue.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	tail := now // the time after the candidate left is not "camera off"
	if !s.leftAt.IsZero() && s.leftAt.Before(tail) {
		tail = s.leftAt
	}
	if !s.lastFrame.IsZero() && tail.Sub(s.lastFrame) > time.Second {
		s.cameraOff = append(s.cameraOff, models.Interval{From: s.ms(s.lastFrame), To: s.ms(tail)})
	}
	if s.black && now.Sub(s.blackFrom) >= time.Second {
		s.cameraOff = append(s.cameraOff, models.Interval{From: s.ms(s.blackFrom), To: s.ms(now)})
	}
	r := &Result{
		InterviewID: s.id, Reason: reason, StartedAt: s.started, EndedAt: now,
		FramesDecoded: s.decoded, FramesAnalysed: s.analysed, FramesDropped: queueDropped + s.rateSkipped + s.restoredDropped,
		DecodeErrors: s.decodeErrors, KeyframeRequests: s.kfRequests, AudioChunks: s.audioChunks, AudioErrors: s.audioErrors,
		FacePresence: s.face, AudioLevel: s.audio, RTT: s.rtt, Yaw: s.yaw, EAR: s.ear, Mouth: s.mouth,
		FaceAbsent: splitAbsent(s.face, time.Second, s.moves), CameraOff: mergeIntervals(s.cameraOff),
		Video: s.hasVideo, Audio: s.hasAudio, AnalyserUnavailable: s.analyserFailed, ResumedAt: s.resumedAt,
	}
	if s.cadence.Intervals > 0 {
		c := s.cadence
		r.Cadence = &c
	}
	s.mu.Unlock() // the parts below may fail (and record it)
	if s.suite != nil {
		s.safely("passive detectors", func() {
			r.DetectorSignals, r.Windows = carrySignals(s.suite.Signals(), s.carried), s.suite.Windows()
			if fn := photoTrace.Load(); fn != nil {
				m, sh := s.suite.PhotoWindows()
				(*fn)(s.id, s.started, m, sh)
			}
		})
	}
	if s.ch != nil {
		r.Challenges, r.ChallengeFailures, r.Locked = s.ch.outcome()
	}
	for _, st := range s.stages {
		s.safely("stage "+st.name, func() { r.StageSignals = append(r.StageSignals, st.stage.Signals()...) })
	}
	if s.identity != nil {
		s.safely("stage identity", func() { r.Identity = s.identity.report() })
	}
	s.mu.Lock()
	r.Failure, r.FailedAt = s.failure, s.failedAt
	return r
}

// splitAbsent is absentIntervals over the stretches of face between the
// session's moves (ms times at which it went on at another node): the time
// away is not a time without a face (the node was gone, not the face).
func splitAbsent(face []models.Point, min time.Duration, moves []int64) []models.Interval {
	var out []models.Interval
	for _, m := range moves {
		i := sort.Search(len(face), func(i int) bool { return face[i].T >= m })
		out = append(out, absentIntervals(face[:i], min)...)
		face = face[i:]
	}
	return append(out, absentIntervals(face, min)...)
}

// absentIntervals finds stretches of at least min where no face was found.
func absentIntervals(face []models.Point, min time.Duration) []models.Interval {
	var out []models.Interval
	start := int64(-1)
	for i, p := range face {
		if p.V == 0 && start < 0 {
			start = p.T
		}
		if (p.V != 0 || i == len(face)-1) && start >= 0 {
			end := p.T
			if end-start >= min.Milliseconds() {
				out = append(out, models.Interval{From: start, To: end})
			}
			start = -1
		}
	}
	return out
}

func mergeIntervals(in []models.Interval) []models.Interval {
	if len(in) == 0 {
		return nil
	}
	sort.Slice(in, func(i, j int) bool { return in[i].From < in[j].From })
	out := []models.Interval{in[0]}
	for _, iv := range in[1:] {
		last := &out[len(out)-1]
		if iv.From <= last.To {
			if iv.To > last.To {
				last.To = iv.To
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// CandidateLeft notes when the candidate disconnected.
func (s *Session) CandidateLeft(at time.Time) {
	s.mu.Lock()
	s.leftAt = at
	s.mu.Unlock()
}

var photoTrace atomic.Pointer[func(interview int64, started time.Time, measured, short []detect.PhotoWindow)]

// SetPhotoTrace calls f with the photo detector's windows (counts and ratios, nothing
// biometric) of every session that ends from now on (nil: none). For development
// measurements in the same process (the red team's probe, REDTEAM_METRICS): never set by the
// server.
func SetPhotoTrace(f func(interview int64, started time.Time, measured, short []detect.PhotoWindow)) {
	if f == nil {
		photoTrace.Store(nil)
		return
	}
	photoTrace.Store(&f)
}
