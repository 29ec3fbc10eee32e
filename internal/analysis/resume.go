package analysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
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
	// Measures, on write, is the stretch of the session's measurements since
	// the last one written (one more stored part, appended: the series
	// points, camera-off stretches and closed detector windows since, the
	// counters as totals); on resume, the parts stored, joined (JoinMeasures).
	// Series of face presence, landmarks and audio levels are biometric:
	// never logged.
	Measures *Measures
	// MeasuresErr says why stored measurements could not be read back (a
	// part malformed or of another version: left out, Measures holds the
	// rest; parts out of order or too large: Measures is nil): the session
	// goes on (same start, plan and identities) without them. NextPart is
	// the number the session's next part takes (after every part stored,
	// read or not). Both filled on resume.
	MeasuresErr error
	NextPart    int
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

// MeasuresVersion is the version of the stored measurement parts; a part of
// another version is not read back (Checkpoint.MeasuresErr).
const MeasuresVersion = 1

// measuresEvery: a live session appends the measurements taken since its
// last part at most this often (10 s of 50 audio levels a second, a point
// per analysed frame in each face series and the detectors' windows: 19 KB
// of JSON measured without a face, 32 KB with one, BenchmarkMeasuresPart),
// and at its hand-over.
const measuresEvery = 10 * time.Second

// MaxCheckpointWindows bounds the detector windows read back (eight
// detectors, a window each per 4 s, for 4 h: 28,800).
const MaxCheckpointWindows = 40000

// Measures is a stretch of a live session's measurements, stored as one part
// of its checkpoint so that the session's result covers what was measured on
// a node that died or handed it over (what the verdict and the reviewer's
// console read: the series, the camera-off stretches, the counters, the
// detector windows). Times are the session's (milliseconds since its start,
// which the parts share). The counters and the cadence are totals at the
// part's end; the rest is what came since the previous part.
type Measures struct {
	V   int `json:"v"`
	Seq int `json:"seq"` // the part's number in its session, from 0

	FramesDecoded    uint64   `json:"frames_decoded"`
	FramesAnalysed   uint64   `json:"frames_analysed"`
	FramesDropped    uint64   `json:"frames_dropped"` // skipped by the analysis rate or from the queue
	DecodeErrors     uint64   `json:"decode_errors"`
	KeyframeRequests uint64   `json:"keyframe_requests"`
	AudioChunks      uint64   `json:"audio_chunks"`
	AudioErrors      uint64   `json:"audio_errors"`
	Cadence          *Cadence `json:"cadence,omitempty"`

	Face       []models.Point    `json:"face,omitempty"`
	Yaw        []models.Point    `json:"yaw,omitempty"`
	EAR        []models.Point    `json:"ear,omitempty"`
	Mouth      []models.Point    `json:"mouth,omitempty"`
	AudioLevel []models.Point    `json:"audio,omitempty"`
	RTT        []models.Point    `json:"rtt,omitempty"`
	CameraOff  []models.Interval `json:"camera_off,omitempty"`
	Windows    []detect.Window   `json:"windows,omitempty"`
	// Moves are the ms times at which the session went on at another node so
	// far (a total, as the counters): face-absent stretches stop there.
	Moves []int64 `json:"moves,omitempty"`
	// Signals are the session signals of the detectors not condensed from
	// their windows (carriedKinds) at a hand-over (computing them is too
	// costly for every part: a node that dies loses them).
	Signals []models.Signal `json:"signals,omitempty"`
}

// carriedKinds are the passive detectors whose session signal is not
// condensed from their windows but from running measures a checkpoint does
// not hold (frame timing and repeats, voice features, lip-sync chunks): a
// session handed over carries their signals as they were
// (Measures.Signals), and the result keeps, per kind, the part's signal with
// the more confidence (carrySignals).
var carriedKinds = []string{detect.KindVirtualCamera, detect.KindVoice, detect.KindAVSync}

// carrySignals returns sigs with each carried signal in place of this part's
// of the same kind when it has more confidence (or this part has none).
func carrySignals(sigs, carried []models.Signal) []models.Signal {
	for _, c := range carried {
		i := slices.IndexFunc(sigs, func(sg models.Signal) bool { return sg.Kind == c.Kind })
		switch {
		case i < 0:
			sigs = append(sigs, c)
		case c.Confidence > sigs[i].Confidence:
			sigs[i] = c
		}
	}
	return sigs
}

// ErrMeasures marks stored measurement parts that cannot be read back.
var ErrMeasures = errors.New("analysis: stored session measurements unreadable")

// JoinMeasures joins a session's stored parts, ordered by Seq, into the
// measurements of the whole stretch they cover (Seq: the last part's). It
// refuses, with an error wrapping ErrMeasures that names no measured value,
// a part of another version, parts out of order or repeated, and a join
// longer than MaxSeriesPoints per series or MaxCheckpointWindows windows. A
// missing part (a write lost) leaves a gap. Nil for no parts.
func JoinMeasures(parts []*Measures) (*Measures, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	out := &Measures{V: MeasuresVersion, Seq: -1}
	for _, p := range parts {
		switch {
		case p == nil:
			return nil, fmt.Errorf("%w: an empty part", ErrMeasures)
		case p.V != MeasuresVersion:
			return nil, fmt.Errorf("%w: part %d has version %d, this server reads %d", ErrMeasures, p.Seq, p.V, MeasuresVersion)
		case p.Seq <= out.Seq:
			return nil, fmt.Errorf("%w: part %d after part %d", ErrMeasures, p.Seq, out.Seq)
		}
		out.Seq = p.Seq
		out.FramesDecoded, out.FramesAnalysed, out.FramesDropped = p.FramesDecoded, p.FramesAnalysed, p.FramesDropped
		out.DecodeErrors, out.KeyframeRequests, out.AudioChunks, out.AudioErrors = p.DecodeErrors, p.KeyframeRequests, p.AudioChunks, p.AudioErrors
		if p.Cadence != nil {
			c := *p.Cadence
			out.Cadence = &c
		}
		for _, s := range []struct {
			name string
			dst  *[]models.Point
			src  []models.Point
		}{{"face", &out.Face, p.Face}, {"yaw", &out.Yaw, p.Yaw}, {"ear", &out.EAR, p.EAR}, {"mouth", &out.Mouth, p.Mouth},
			{"audio", &out.AudioLevel, p.AudioLevel}, {"rtt", &out.RTT, p.RTT}} {
			if len(*s.dst)+len(s.src) > MaxSeriesPoints {
				return nil, fmt.Errorf("%w: series %s longer than %d points", ErrMeasures, s.name, MaxSeriesPoints)
			}
			*s.dst = append(*s.dst, s.src...)
		}
		if len(out.CameraOff)+len(p.CameraOff) > MaxSeriesPoints {
			return nil, fmt.Errorf("%w: more than %d camera-off stretches", ErrMeasures, MaxSeriesPoints)
		}
		out.CameraOff = append(out.CameraOff, p.CameraOff...)
		if len(out.Windows)+len(p.Windows) > MaxCheckpointWindows {
			return nil, fmt.Errorf("%w: more than %d detector windows", ErrMeasures, MaxCheckpointWindows)
		}
		out.Windows = append(out.Windows, p.Windows...)
		if len(p.Signals) > len(carriedKinds) {
			return nil, fmt.Errorf("%w: part %d carries %d signals", ErrMeasures, p.Seq, len(p.Signals))
		}
		if p.Signals != nil {
			out.Signals = p.Signals
		}
		if len(p.Moves) > 1000 {
			return nil, fmt.Errorf("%w: part %d lists %d moves", ErrMeasures, p.Seq, len(p.Moves))
		}
		out.Moves = p.Moves
	}
	return out, nil
}

// sent is how much of a live session's measurements its stored parts hold.
type sent struct {
	seq                                       int // the next part's number
	face, yaw, ear, mouth, audio, rtt, camOff int
	windows                                   int
	at                                        time.Time // when the last part was queued
}

// restoreMeasures starts a resumed session with its first part's
// measurements (the joined parts of its checkpoint); call it before the
// analysis starts.
func (s *Session) restoreMeasures(m *Measures) {
	s.face, s.yaw, s.ear, s.mouth = m.Face, m.Yaw, m.EAR, m.Mouth
	s.audio, s.rtt, s.cameraOff = m.AudioLevel, m.RTT, m.CameraOff
	s.decoded, s.analysed, s.restoredDropped = m.FramesDecoded, m.FramesAnalysed, m.FramesDropped
	s.decodeErrors, s.kfRequests, s.audioChunks, s.audioErrors = m.DecodeErrors, m.KeyframeRequests, m.AudioChunks, m.AudioErrors
	if m.Cadence != nil {
		s.cadence = *m.Cadence
	}
	if s.suite != nil {
		s.suite.Restore(m.Windows)
	}
	s.moves = slices.Clone(m.Moves)
	for _, sg := range m.Signals {
		if slices.Contains(carriedKinds, sg.Kind) {
			s.carried = append(s.carried, sg)
		}
	}
	s.sent = sent{seq: m.Seq + 1, face: len(s.face), yaw: len(s.yaw), ear: len(s.ear), mouth: len(s.mouth),
		audio: len(s.audio), rtt: len(s.rtt), camOff: len(s.cameraOff), windows: len(m.Windows), at: s.cfg.Now()}
}

// measuresLocked takes the measurements since the last part (s.mu held) and
// marks them sent.
func (s *Session) measuresLocked() *Measures {
	tail := func(pts []models.Point, n *int) []models.Point {
		out := slices.Clone(pts[min(*n, len(pts)):])
		*n = len(pts)
		return out
	}
	m := &Measures{V: MeasuresVersion, Seq: s.sent.seq,
		FramesDecoded: s.decoded, FramesAnalysed: s.analysed, FramesDropped: s.queue.stats() + s.rateSkipped + s.restoredDropped,
		DecodeErrors: s.decodeErrors, KeyframeRequests: s.kfRequests, AudioChunks: s.audioChunks, AudioErrors: s.audioErrors,
		Face: tail(s.face, &s.sent.face), Yaw: tail(s.yaw, &s.sent.yaw), EAR: tail(s.ear, &s.sent.ear), Mouth: tail(s.mouth, &s.sent.mouth),
		AudioLevel: tail(s.audio, &s.sent.audio), RTT: tail(s.rtt, &s.sent.rtt), Moves: slices.Clone(s.moves)}
	if s.cadence.Intervals > 0 {
		c := s.cadence
		m.Cadence = &c
	}
	m.CameraOff = slices.Clone(s.cameraOff[min(s.sent.camOff, len(s.cameraOff)):])
	s.sent.camOff = len(s.cameraOff)
	if s.suite != nil {
		m.Windows, s.sent.windows = s.suite.Closed(s.sent.windows)
	}
	s.sent.seq++
	return m
}

// maybeMeasures queues the next part of the measurements once measuresEvery
// passed since the last one. The part is built and queued under s.mu, so
// that the hand-over's final part (HandOver) comes after it.
func (s *Session) maybeMeasures() {
	if s.cfg.Store.Checkpoint == nil || !s.live || s.handed.Load() {
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handed.Load() || now.Sub(s.sent.at) < measuresEvery {
		return
	}
	s.sent.at = now
	s.checkpoint(Checkpoint{Measures: s.measuresLocked()})
}
