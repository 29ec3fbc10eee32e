package room

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/metrics"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// Point is one sample of a time series: T in milliseconds since the session
// started, V the value.
type Point struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// Interval is a stretch of the session, in milliseconds since it started.
type Interval struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Ms is the interval's length in milliseconds.
func (i Interval) Ms() int64 { return i.To - i.From }

// Result is what a session measured, stored when it ends.
type Result struct {
	InterviewID      int64
	Reason           string // completed | interrupted
	StartedAt        time.Time
	EndedAt          time.Time
	FramesDecoded    uint64
	FramesAnalysed   uint64
	FramesDropped    uint64 // dropped from analysis (stale in the mailbox or above the analysis rate)
	DecodeErrors     uint64
	KeyframeRequests uint64
	AudioChunks      uint64
	AudioErrors      uint64
	FacePresence     []Point    // 1 face found, 0 not, per analysed frame
	Yaw, EAR, Mouth  []Point    // landmark measurements of analysed frames with a face
	AudioLevel       []Point    // dBFS per 20 ms
	FaceAbsent       []Interval // ≥ 1 s without a face in the analysed frames
	CameraOff        []Interval // ≥ 1 s without frames, or black frames
	RTT              []Point    // control-channel round-trip time, ms
	Signals          []models.Signal
	Locked           bool            // challenges were locked after repeated failures
	Windows          []detect.Window // the passive detectors' windowed scores
}

// frameItem is a copy of a decoded frame waiting for the analyser.
type frameItem struct {
	f       models.Frame
	arrival time.Time
}

// Session accumulates the analysis of one interview across candidate reconnects.
type Session struct {
	cfg     Config
	id      int64
	started time.Time
	box     *media.Mailbox[*frameItem]
	pool    sync.Pool
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	ch      *challenges   // nil when challenges are disabled
	suite   *detect.Suite // passive detectors; nil when disabled

	sendControl func(v any) error
	staff       func(signal.Message)
	onChallenge func() // a challenge was issued or verified (challenge_state.go)
	w           *writer

	mu              sync.Mutex
	decoded         uint64
	analysed        uint64
	rateSkipped     uint64
	decodeErrors    uint64
	kfRequests      uint64
	audioChunks     uint64
	audioErrors     uint64
	lastFrame       time.Time // capture time of the last decoded frame
	leftAt          time.Time // when the candidate last disconnected
	lastAnalysed    time.Time
	face            []Point
	yaw, ear, mouth []Point // landmark-derived series (biometric)
	audio           []Point
	rtt             []Point
	cameraOff       []Interval
	black           bool
	blackFrom       time.Time
	analyserFailed  bool
}

// MaxSeriesPoints bounds each stored series (4 h of 20 ms audio levels).
const MaxSeriesPoints = 720000

func newSession(cfg Config, id int64, sendControl func(v any) error, staff func(signal.Message), w *writer) *Session {
	s := &Session{cfg: cfg, id: id, started: cfg.Now(), done: make(chan struct{}), sendControl: sendControl, staff: staff, w: w}
	s.box = media.NewMailbox[*frameItem](func(it *frameItem) {
		metrics.FrameDropped("mailbox", s.ch != nil && s.ch.runner.Active()) // replaced by a newer frame: analysis is behind
		s.pool.Put(it)
	})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Detectors {
		s.suite = detect.NewSuite(detect.Config{LiveCapture: true})
	}
	if cfg.Challenges.Enabled {
		ch, err := newChallenges(s)
		if err != nil {
			cfg.Logger.Error("room: challenge plan", "interview", id, "err", err)
		} else {
			s.ch = ch
			go ch.loop(s.ctx)
		}
	}
	go s.analyse()
	return s
}

// persist queues a write of this session's results for the manager's writer.
func (s *Session) persist(what string, store func(ctx context.Context) error) {
	s.w.add(what, s.id, store)
}

func (s *Session) ms(t time.Time) int64 { return t.Sub(s.started).Milliseconds() }

// frame takes a decoded frame (the decoder keeps its buffers, so it is copied)
// and hands it to the analyser without ever blocking the RTP reader.
func (s *Session) frame(f *models.Frame, arrival time.Time) {
	s.mu.Lock()
	s.decoded++
	if !s.lastFrame.IsZero() && f.Capture.Sub(s.lastFrame) > time.Second {
		s.cameraOff = append(s.cameraOff, Interval{From: s.ms(s.lastFrame), To: s.ms(f.Capture)})
	}
	s.lastFrame = f.Capture
	s.mu.Unlock()
	if s.suite != nil {
		s.suite.AddFrameTime(f.Capture)
	}

	it, _ := s.pool.Get().(*frameItem)
	if it == nil {
		it = &frameItem{}
	}
	it.f.Width, it.f.Height, it.f.Capture, it.f.Keyframe, it.f.Seq = f.Width, f.Height, f.Capture, f.Keyframe, f.Seq
	it.f.Y = append(it.f.Y[:0], f.Y...)
	it.f.U = append(it.f.U[:0], f.U...)
	it.f.V = append(it.f.V[:0], f.V...)
	it.arrival = arrival
	s.box.Put(it)
}

// analyse is the session's one analysis goroutine.
func (s *Session) analyse() {
	defer close(s.done)
	var an FrameAnalyzer
	if s.cfg.NewAnalyzer != nil {
		var err error
		if an, err = s.cfg.NewAnalyzer(); err != nil {
			s.cfg.Logger.Error("room: frame analyser unavailable", "interview", s.id, "err", err)
			s.mu.Lock()
			s.analyserFailed = true
			s.mu.Unlock()
			an = nil
		}
	}
	if an != nil {
		defer an.Close()
	}
	minGap := time.Duration(float64(time.Second) / s.cfg.AnalysisFPS)
	for {
		it, err := s.box.Get(s.ctx)
		if err != nil {
			return
		}
		active := s.ch != nil && s.ch.runner.Active() // during a challenge every frame is analysed
		s.mu.Lock()
		skip := !active && !s.lastAnalysed.IsZero() && it.f.Capture.Sub(s.lastAnalysed) < minGap-5*time.Millisecond
		if skip {
			s.rateSkipped++
		} else {
			s.lastAnalysed = it.f.Capture
		}
		s.mu.Unlock()
		if skip {
			metrics.FrameDropped("rate", false)
			s.pool.Put(it)
			continue
		}
		if !gate.acquire(s.ctx, active) { // an analysis slot; challenge frames first (gate.go)
			s.pool.Put(it)
			return
		}
		if newer, ok := s.box.TryGet(); ok { // a fresher frame arrived while waiting: analyse that one
			metrics.FrameDropped("mailbox", active)
			s.pool.Put(it)
			it = newer
		}
		t0 := time.Now()
		s.observe(an, &it.f)
		gate.release()
		metrics.FrameObserved(it.f.Capture, t0, active)
		s.pool.Put(it)
	}
}

func (s *Session) observe(an FrameAnalyzer, f *models.Frame) {
	meanY := meanLuma(f)
	var o models.Observation
	o.At = f.Capture
	if an != nil {
		var err error
		o, err = an.Measure(f)
		if err != nil {
			s.cfg.Logger.Warn("room: measure frame", "interview", s.id, "err", err)
			return
		}
		o.At = f.Capture
	}
	s.mu.Lock()
	s.analysed++
	v := 0.0
	if o.FacePresent {
		v = 1
	}
	if len(s.face) < MaxSeriesPoints {
		t := s.ms(f.Capture)
		s.face = append(s.face, Point{T: t, V: v})
		if o.LandmarksOK && v == 1 {
			s.yaw = append(s.yaw, Point{T: t, V: math.Round(o.Yaw*10) / 10})
			s.ear = append(s.ear, Point{T: t, V: math.Round(o.EAR*1000) / 1000})
			s.mouth = append(s.mouth, Point{T: t, V: math.Round(o.Mouth*1000) / 1000})
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
			s.cameraOff = append(s.cameraOff, Interval{From: s.ms(s.blackFrom), To: s.ms(f.Capture)})
		}
	}
	s.mu.Unlock()
	if s.ch != nil {
		s.ch.observe(f, o)
	}
	if s.suite != nil {
		s.suite.Add(f, o)
	}
	if h := s.cfg.Hooks.Observation; h != nil {
		h(s.id, o)
	}
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

func (s *Session) audioLevel(at time.Time, rms float64) {
	db := -100.0
	if rms > 1e-5 {
		db = 20 * math.Log10(rms)
	}
	s.mu.Lock()
	s.audioChunks++
	if len(s.audio) < MaxSeriesPoints {
		s.audio = append(s.audio, Point{T: s.ms(at), V: math.Round(db*10) / 10})
	}
	s.mu.Unlock()
	if s.ch != nil {
		s.ch.runner.Audio(challenge.AudioSample{At: at, RMS: rms})
	}
	if h := s.cfg.Hooks.AudioLevel; h != nil {
		h(s.id, at, rms)
	}
}

func (s *Session) control(m ControlMessage, at time.Time, rtt time.Duration) {
	if m.T == "shown" && s.ch != nil {
		s.ch.shown(m.ID, at)
		return
	}
	if m.T != "pong" {
		return
	}
	s.mu.Lock()
	if len(s.rtt) < MaxSeriesPoints {
		s.rtt = append(s.rtt, Point{T: s.ms(s.cfg.Now()), V: float64(rtt.Microseconds()) / 1000})
	}
	s.mu.Unlock()
}

func (s *Session) countDecodeError()     { s.mu.Lock(); s.decodeErrors++; s.mu.Unlock() }
func (s *Session) countKeyframeRequest() { s.mu.Lock(); s.kfRequests++; s.mu.Unlock() }
func (s *Session) countAudioError()      { s.mu.Lock(); s.audioErrors++; s.mu.Unlock() }

// Live is a snapshot for the recruiter's page and the admin API (internal/wire).
type Live = wire.Live

// Snapshot returns the live figures.
func (s *Session) Snapshot() Live {
	_, boxDropped := s.box.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	l := Live{FramesDecoded: s.decoded, FramesAnalysed: s.analysed, FramesDropped: boxDropped + s.rateSkipped, AudioDB: -100}
	if n := len(s.face); n > 0 {
		from := n - 40
		if from < 0 {
			from = 0
		}
		var sum float64
		for _, p := range s.face[from:] {
			sum += p.V
		}
		l.FacePresent = sum / float64(n-from)
	}
	if n := len(s.audio); n > 0 {
		from := n - 50
		if from < 0 {
			from = 0
		}
		var sum float64
		for _, p := range s.audio[from:] {
			sum += p.V
		}
		l.AudioDB = sum / float64(n-from)
	}
	if n := len(s.rtt); n > 0 {
		l.RTTMs = s.rtt[n-1].V
	}
	return l
}

// finish stops the analyser and summarises the session.
func (s *Session) finish(reason string, now time.Time) *Result {
	s.box.Close()
	s.cancel()
	<-s.done
	put, boxDropped := s.box.Stats()
	_ = put
	s.mu.Lock()
	defer s.mu.Unlock()
	tail := now // the time after the candidate left is not "camera off"
	if !s.leftAt.IsZero() && s.leftAt.Before(tail) {
		tail = s.leftAt
	}
	if !s.lastFrame.IsZero() && tail.Sub(s.lastFrame) > time.Second {
		s.cameraOff = append(s.cameraOff, Interval{From: s.ms(s.lastFrame), To: s.ms(tail)})
	}
	if s.black && now.Sub(s.blackFrom) >= time.Second {
		s.cameraOff = append(s.cameraOff, Interval{From: s.ms(s.blackFrom), To: s.ms(now)})
	}
	r := &Result{
		InterviewID: s.id, Reason: reason, StartedAt: s.started, EndedAt: now,
		FramesDecoded: s.decoded, FramesAnalysed: s.analysed, FramesDropped: boxDropped + s.rateSkipped,
		DecodeErrors: s.decodeErrors, KeyframeRequests: s.kfRequests, AudioChunks: s.audioChunks, AudioErrors: s.audioErrors,
		FacePresence: s.face, AudioLevel: s.audio, RTT: s.rtt, Yaw: s.yaw, EAR: s.ear, Mouth: s.mouth,
		FaceAbsent: absentIntervals(s.face, time.Second), CameraOff: mergeIntervals(s.cameraOff),
	}
	r.Signals = s.signals(r)
	if s.suite != nil {
		r.Signals = append(r.Signals, s.suite.Signals()...)
		r.Windows = s.suite.Windows()
	}
	if s.ch != nil {
		r.Signals = append(r.Signals, s.ch.signals()...)
		r.Locked = s.ch.isLocked()
	}
	return r
}

// absentIntervals finds stretches of at least min where no face was found.
func absentIntervals(face []Point, min time.Duration) []Interval {
	var out []Interval
	start := int64(-1)
	for i, p := range face {
		if p.V == 0 && start < 0 {
			start = p.T
		}
		if (p.V != 0 || i == len(face)-1) && start >= 0 {
			end := p.T
			if end-start >= min.Milliseconds() {
				out = append(out, Interval{From: start, To: end})
			}
			start = -1
		}
	}
	return out
}

func mergeIntervals(in []Interval) []Interval {
	if len(in) == 0 {
		return nil
	}
	sort.Slice(in, func(i, j int) bool { return in[i].From < in[j].From })
	out := []Interval{in[0]}
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

func sumMs(iv []Interval) int64 {
	var t int64
	for _, i := range iv {
		t += i.Ms()
	}
	return t
}

// signals turns the session's first measurements into evidence for the risk engine.
func (s *Session) signals(r *Result) []models.Signal {
	var out []models.Signal
	dur := r.EndedAt.Sub(r.StartedAt)
	if r.FramesAnalysed > 0 {
		var present float64
		for _, p := range r.FacePresence {
			present += p.V
		}
		ratio := present / float64(len(r.FacePresence))
		conf := math.Min(1, float64(r.FramesAnalysed)/150)
		out = append(out, models.Signal{Kind: "face_presence", Value: ratio, Score: math.Max(0, 0.8-ratio) / 0.8 * 0.5,
			Confidence: conf, Reason: fmt.Sprintf("a face was found in %.0f %% of %d analysed frames", ratio*100, r.FramesAnalysed)})
	} else if !s.analyserFailed {
		out = append(out, models.Signal{Kind: "face_presence", Value: 0, Score: 0.5, Confidence: 0.3,
			Reason: "no video frame could be analysed"})
	}
	absent := time.Duration(sumMs(r.FaceAbsent)) * time.Millisecond
	out = append(out, models.Signal{Kind: "face_absent", Value: absent.Seconds(), Score: fracScore(absent, dur), Confidence: 0.8,
		Reason: fmt.Sprintf("no face for %s in %d interval(s) of at least 1 s", absent.Round(100*time.Millisecond), len(r.FaceAbsent))})
	off := time.Duration(sumMs(r.CameraOff)) * time.Millisecond
	out = append(out, models.Signal{Kind: "camera_off", Value: off.Seconds(), Score: fracScore(off, dur), Confidence: 0.9,
		Reason: fmt.Sprintf("camera off or black for %s in %d interval(s)", off.Round(100*time.Millisecond), len(r.CameraOff))})
	if len(r.AudioLevel) > 0 {
		var sum float64
		silent := 0
		for _, p := range r.AudioLevel {
			sum += p.V
			if p.V < -50 {
				silent++
			}
		}
		mean := sum / float64(len(r.AudioLevel))
		out = append(out, models.Signal{Kind: "audio_level", Value: mean, Score: 0, Confidence: 0.9,
			Reason: fmt.Sprintf("mean level %.1f dBFS over %d chunks of 20 ms; %.0f %% below -50 dBFS", mean, len(r.AudioLevel),
				100*float64(silent)/float64(len(r.AudioLevel)))})
	} else {
		out = append(out, models.Signal{Kind: "audio_level", Value: -100, Score: 0.3, Confidence: 0.5, Reason: "no audio was received"})
	}
	return out
}

// fracScore maps the share of the session spent in a state to a 0..1 score.
func fracScore(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return math.Min(1, 2*part.Seconds()/whole.Seconds())
}

// candidateLeft notes when the candidate disconnected.
func (s *Session) candidateLeft(at time.Time) {
	s.mu.Lock()
	s.leftAt = at
	s.mu.Unlock()
}
