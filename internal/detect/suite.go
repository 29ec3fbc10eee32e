package detect

import (
	"slices"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/internal/voice"
	"github.com/livecheck/livecheck/models"
)

// Signal kinds emitted by the Suite. Each is described in the package
// documentation; Signal.Value holds the measure named there.
const (
	KindSeam          = "seam"
	KindTexture       = "texture"
	KindFlicker       = "flicker"
	KindJitter        = "landmark_jitter"
	KindPhoto         = "photo"
	KindReplay        = "replay"
	KindVirtualCamera = "virtual_camera"
	KindPulse         = "pulse"
	KindVoice         = voice.SignalKind // "synthetic_voice"
	KindAVSync        = "av_sync"
)

// VideoKinds lists the video detectors' kinds in the order Signals returns them.
var VideoKinds = []string{KindSeam, KindTexture, KindFlicker, KindJitter, KindPhoto, KindReplay, KindVirtualCamera, KindPulse}

// Config configures a Suite. The zero value suits recorded files.
type Config struct {
	// Window is the length of the scoring windows (default 4 s).
	Window time.Duration
	// LiveCapture says that frame capture times come from a real capture
	// clock (RTP timestamps of the live room). Only then does the virtual
	// camera detector judge frame-interval regularity: the timestamps of a
	// file are synthetic and perfectly regular for every file.
	LiveCapture bool
	// ReplayEvery runs the replay detector's screen checks (border search and
	// spectrum) on every n-th analysed frame (default 4); they are the most
	// expensive per-frame measures.
	ReplayEvery int
	// Disable lists video signal kinds not to run (for example to benchmark
	// one detector alone).
	Disable []string
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 4 * time.Second
	}
	if c.ReplayEvery <= 0 {
		c.ReplayEvery = 4
	}
	return c
}

// Suite runs every passive detector over one session: video frames with their
// vision observations (Add), optionally the capture time of every decoded
// frame (AddFrameTime) and the audio (AddAudio). Signals condenses everything
// into one models.Signal per detector.
//
// A Suite is safe for concurrent use: the video methods and the audio methods
// take separate locks, so the live room may feed video from its analysis
// goroutine and audio from its audio goroutine. Frames are read during Add and
// never retained (pooled planes may be reused afterwards).
type Suite struct {
	cfg Config

	vmu       sync.Mutex
	dets      []detector
	vcam      *vcamDetector
	closed    []Window
	winStart  time.Time
	winFirst  time.Time
	winLast   time.Time
	winFrames int
	frames    int
	cost      []time.Duration
	buf       blockBuffers

	amu     sync.Mutex
	audio   *voice.Analyzer
	audioAt time.Time // start of the audio (first AddAudio)
	audioN  int64     // samples written

	av *avSync // own lock
}

// NewSuite returns a Suite with every detector not disabled in cfg.
func NewSuite(cfg Config) *Suite {
	cfg = cfg.withDefaults()
	s := &Suite{cfg: cfg, av: newAVSync()}
	s.vcam = newVcamDetector(cfg.LiveCapture)
	all := []detector{newSeamDetector(), newTextureDetector(), newFlickerDetector(), newJitterDetector(),
		newPhotoDetector(), newReplayDetector(cfg.ReplayEvery), s.vcam, newPulseDetector()}
	for _, d := range all {
		if !slices.Contains(cfg.Disable, d.kind()) {
			s.dets = append(s.dets, d)
		}
	}
	s.cost = make([]time.Duration, len(s.dets))
	return s
}

// Add feeds one analysed frame and the vision pipeline's observation of it.
// Frames must come in capture order; o.At (or f.Capture when o.At is zero) is
// the frame's time. Malformed frames are ignored.
func (s *Suite) Add(f *models.Frame, o models.Observation) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	fc, ok := newFrameCtx(f, &o, s.frames)
	if !ok {
		return
	}
	s.frames++
	if s.winStart.IsZero() {
		s.winStart = fc.t
	}
	if fc.t.Sub(s.winStart) >= s.cfg.Window {
		s.closeWindowLocked()
		// Skip empty windows (a pause in the video) so windows stay aligned.
		n := fc.t.Sub(s.winStart) / s.cfg.Window
		s.winStart = s.winStart.Add(n * s.cfg.Window)
	}
	if s.winFrames == 0 {
		s.winFirst = fc.t
	}
	s.winLast = fc.t
	s.winFrames++
	fc.computeBlocks(&s.buf)
	for i, d := range s.dets {
		t0 := time.Now()
		d.add(fc)
		s.cost[i] += time.Since(t0)
	}
	if fc.lm != nil {
		s.av.addMouth(fc.t, o.Mouth)
	}
}

// AddFrameTime records the capture time of a decoded frame, analysed or not.
// The live room should call it for every decoded frame: frame-interval
// regularity is judged on these times (with Config.LiveCapture). Without any
// AddFrameTime call the times of the analysed frames are used.
func (s *Suite) AddFrameTime(t time.Time) {
	s.vmu.Lock()
	s.vcam.addTime(t)
	s.vmu.Unlock()
}

// AddAudio feeds 48 kHz mono PCM. at is the capture time of the first sample
// of the first call; later calls continue the same timeline (the live room
// conceals lost packets, so the stream stays continuous).
func (s *Suite) AddAudio(at time.Time, pcm []int16) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.audio == nil {
		s.audio, s.audioAt = voice.NewAnalyzer(at), at
	}
	s.audioN += int64(len(pcm))
	s.av.addAudio(s.audio.WriteInt16(pcm))
}

// AddAudioFloat is AddAudio for float samples in [-1, 1].
func (s *Suite) AddAudioFloat(at time.Time, pcm []float32) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.audio == nil {
		s.audio, s.audioAt = voice.NewAnalyzer(at), at
	}
	s.audioN += int64(len(pcm))
	s.av.addAudio(s.audio.Write(pcm))
}

// closeWindowLocked scores and resets the current window of every detector.
func (s *Suite) closeWindowLocked() {
	if s.winFrames == 0 {
		return
	}
	for _, d := range s.dets {
		if ws, ok := d.score(); ok {
			s.closed = append(s.closed, s.window(d.kind(), ws))
		}
		d.reset()
	}
	s.winFrames = 0
}

func (s *Suite) window(kind string, ws windowScore) Window {
	return Window{Kind: kind, From: s.winFirst, To: s.winLast, Score: round3(dsp.Clamp01(ws.Score)),
		Confidence: round3(dsp.Clamp01(ws.Confidence)), Value: round3(ws.Value)}
}

// partialLocked returns the closed windows of kind plus the current window
// when it has something to score and either is long enough (at least 40 %
// of Config.Window) or is the only one.
func (s *Suite) windowsLocked(d detector) []Window {
	var out []Window
	for _, w := range s.closed {
		if w.Kind == d.kind() {
			out = append(out, w)
		}
	}
	if s.winFrames > 0 {
		if ws, ok := d.score(); ok {
			long := s.winLast.Sub(s.winFirst) >= s.cfg.Window*4/10
			if long || len(out) == 0 {
				out = append(out, s.window(d.kind(), ws))
			}
		}
	}
	return out
}

// Windows returns every detector's window scores so far (the current window
// included), grouped by detector in VideoKinds order, oldest first.
func (s *Suite) Windows() []Window {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	var out []Window
	for _, d := range s.dets {
		out = append(out, s.windowsLocked(d)...)
	}
	return out
}

// Signals returns one session-level signal per detector that ran: the video
// detectors in VideoKinds order, then synthetic_voice and av_sync when audio
// was fed. It may be called at any time; the Suite keeps running.
func (s *Suite) Signals() []models.Signal {
	var out []models.Signal
	s.vmu.Lock()
	for _, d := range s.dets {
		sg := d.signal(s.windowsLocked(d))
		sg.Kind = d.kind()
		sg.Score, sg.Confidence, sg.Value = round3(dsp.Clamp01(sg.Score)), round3(dsp.Clamp01(sg.Confidence)), round3(sg.Value)
		out = append(out, sg)
	}
	s.vmu.Unlock()

	s.amu.Lock()
	if s.audio != nil {
		f := s.audio.Features()
		sg := voice.Detector{}.Signal(f, s.audioAt)
		sg.Score, sg.Confidence, sg.Value = round3(sg.Score), round3(sg.Confidence), round3(sg.Value)
		out = append(out, sg)
	}
	hasAudio := s.audio != nil
	s.amu.Unlock()
	if hasAudio {
		sg := s.av.signal()
		sg.Score, sg.Confidence, sg.Value = round3(sg.Score), round3(sg.Confidence), round3(sg.Value)
		out = append(out, sg)
	}
	return out
}

// Features returns each detector's raw session measures by kind, for
// reports and threshold tuning (aggregates only, nothing biometric).
func (s *Suite) Features() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	s.vmu.Lock()
	for _, d := range s.dets {
		out[d.kind()] = d.features()
	}
	s.vmu.Unlock()
	out[KindAVSync] = s.av.features()
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.audio != nil {
		f := s.audio.Features()
		out[KindVoice] = map[string]float64{
			"speech_s": f.Speech.Seconds(), "voiced_frames": float64(f.VoicedFrames),
			"above_8k": f.Band.Above8k, "above_12k": f.Band.Above12k, "cutoff_hz": f.Band.CutoffHz,
			"jitter_pq5": f.Jitter.PQ5, "shimmer_pq5": f.Shimmer.PQ5, "hnr_db": f.HNR.Median,
			"envelope_line": f.Periodic.Prominence, "flatness": f.Flatness.Median, "pitch_hz": f.Pitch.Median,
		}
	}
	return out
}

// PhotoWindows returns the photo detector's windows (development
// measurements; counts and ratios only): the measured ones, and those too
// short to measure. Nil when the detector is disabled.
func (s *Suite) PhotoWindows() (measured, short []PhotoWindow) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	for _, d := range s.dets {
		if p, ok := d.(*photoDetector); ok {
			return p.diagWindows()
		}
	}
	return nil, nil
}

// Stats describes the work a Suite did.
type Stats struct {
	// Frames is the number of analysed frames added.
	Frames int `json:"frames"`
	// PerFrame is each video detector's mean time per analysed frame.
	PerFrame map[string]time.Duration `json:"per_frame_ns"`
}

// Stats returns the frame count and the detectors' mean cost per frame.
func (s *Suite) Stats() Stats {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	st := Stats{Frames: s.frames, PerFrame: map[string]time.Duration{}}
	for i, d := range s.dets {
		if s.frames > 0 {
			st.PerFrame[d.kind()] = s.cost[i] / time.Duration(s.frames)
		}
	}
	return st
}

// Restore starts the Suite with the windows a first part of the same session
// scored on another node (a live session that went on after its node died or
// handed it over): Windows returns them before this part's, and every
// detector whose session signal is condensed from its windows (all but the
// virtual camera's) weighs them with this part's. The detectors' own running
// measures (the medians in Signal.Value, the virtual camera's frame timing)
// start afresh. Call it before the first Add.
func (s *Suite) Restore(ws []Window) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	s.closed = append(append([]Window(nil), ws...), s.closed...)
}

// Closed returns the windows closed so far from the n-th on (in the order
// they closed, restored ones first) and how many there are in all: a live
// session checkpoints the windows closed since its last checkpoint.
func (s *Suite) Closed(n int) ([]Window, int) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if n >= len(s.closed) {
		return nil, len(s.closed)
	}
	return append([]Window(nil), s.closed[n:]...), len(s.closed)
}

// Seal closes the current window when Windows would report it (it is long
// enough, or the detector's only one), else drops it: a session handed over
// to another node checkpoints it as a closed window. Frames added after Seal
// start a new window.
func (s *Suite) Seal() {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if s.winFrames == 0 {
		return
	}
	long := s.winLast.Sub(s.winFirst) >= s.cfg.Window*4/10
	for _, d := range s.dets {
		if ws, ok := d.score(); ok {
			only := true
			for _, w := range s.closed {
				if w.Kind == d.kind() {
					only = false
					break
				}
			}
			if long || only {
				s.closed = append(s.closed, s.window(d.kind(), ws))
			}
		}
		d.reset()
	}
	s.winFrames = 0
	s.winStart = time.Time{}
}
