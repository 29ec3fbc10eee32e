package analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/internal/voice"
	"github.com/livecheck/livecheck/models"
)

// FileOptions configures AnalyzeFile.
type FileOptions struct {
	// Video is the recording to analyse (see OpenVideo); may be empty when
	// Audio is set.
	Video string
	// Audio is an optional WAV file with the session's sound.
	Audio string
	// FPS is the analysis rate: FPS frames per second are analysed on
	// average, the others decoded only, as in the live room (Session.due).
	// 0 means DefaultFileFPS; a negative value analyses every frame.
	FPS float64
	// Suite configures the detectors (LiveCapture stays false for files).
	Suite detect.Config
	// Vision configures the face analyser. Set Landmarker to share a loaded
	// model between concurrent analyses.
	Vision vision.Config
	// Then are further recordings played after Video as one session, their
	// capture times continuing (eval joins two people's clips into a
	// person switch). FileResult.Joins gives where each starts.
	Then []string
	// Identity adds the face-identity stage (Identity.Model set: a loaded
	// *faceid.Model, shareable between concurrent analyses).
	Identity IdentityConfig
	// Progress, when set, is called after each decoded frame with the count
	// so far and the container's frame count (0 when unknown).
	Progress func(done, total int)
}

// DefaultFileFPS is the analysis rate of recordings: every second frame of a
// 15 fps recording, every fourth of a 30 fps one — the frames the dev set
// was evaluated on (the gap rule before the average one, Session.due, took
// the same ones at 8).
const DefaultFileFPS = 7.5

// FileResult is the outcome of AnalyzeFile.
type FileResult struct {
	// Source describes the video (zero when there was none).
	Source SourceInfo `json:"source"`
	// Decoded is the number of video frames decoded; Analysed how many went
	// through vision and the detectors; Faces in how many a face was found.
	Decoded  int `json:"decoded"`
	Analysed int `json:"analysed"`
	Faces    int `json:"faces"`
	// Duration is the media time covered (video, else audio).
	Duration time.Duration `json:"duration_ns"`
	// AudioSeconds is the length of the audio analysed.
	AudioSeconds float64 `json:"audio_seconds"`
	// Result is the session's result, as a live session's (internal/verdict
	// maps it to signals).
	Result *Result `json:"-"`
	// Windows are the detectors' window scores.
	Windows []detect.Window `json:"windows"`
	// Features are the detectors' raw session measures.
	Features map[string]map[string]float64 `json:"features"`
	// Stats are the detectors' per-frame costs.
	Stats detect.Stats `json:"stats"`
	// Joins are the capture times at which each of FileOptions.Then starts.
	Joins []time.Time `json:"-"`
	// Damaged says why decoding stopped before the end of the video (a
	// truncated or corrupt tail); the frames before it were analysed.
	Damaged string `json:"damaged,omitempty"`
}

// FileEpoch is the capture time AnalyzeFile gives a file's first frame and
// first audio sample; window and signal times are relative to it.
var FileEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// AnalyzeFile runs a recording through the analysis session of the live
// room: the same frame analysis at the same rate, the same series, detectors
// and signals, with the file's timing instead of RTP's. The detectors'
// Config.LiveCapture stays false: a file's timestamps are synthetic.
func AnalyzeFile(ctx context.Context, opt FileOptions) (*FileResult, error) {
	if opt.Video == "" && opt.Audio == "" {
		return nil, errors.New("analysis: nothing to analyse (no video and no audio)")
	}
	fps := opt.FPS
	if fps == 0 {
		fps = DefaultFileFPS
	}
	dcfg := opt.Suite
	dcfg.LiveCapture = false
	cfg := Config{AnalysisFPS: fps, Detectors: true, Detect: dcfg, Now: func() time.Time { return FileEpoch },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Identity: opt.Identity}
	if opt.Video != "" {
		cfg.NewAnalyzer = func() (FrameAnalyzer, error) {
			an, err := vision.NewAnalyzer(opt.Vision)
			if err != nil {
				return nil, fmt.Errorf("analysis: %w", err)
			}
			return an, nil
		}
	}
	s := newSession(cfg.withDefaults(), 0, nil, false)
	s.hasVideo, s.hasAudio = opt.Video != "", opt.Audio != ""
	res := &FileResult{}
	if opt.Audio != "" {
		sec, err := feedWAV(s, opt.Audio)
		if err != nil {
			return nil, err
		}
		res.AudioSeconds = sec
		res.Duration = time.Duration(sec * float64(time.Second))
	}
	if opt.Video != "" {
		if err := feedVideo(ctx, s, opt, res); err != nil {
			return nil, err
		}
	}
	r := s.finish(models.EndCompleted, FileEpoch.Add(res.Duration))
	if r.Failure != "" {
		return nil, fmt.Errorf("analysis: internal error in the %s; the recording was not judged", r.Failure)
	}
	res.Result, res.Windows = r, r.Windows
	res.Analysed = int(r.FramesAnalysed)
	for _, p := range r.FacePresence {
		if p.V == 1 {
			res.Faces++
		}
	}
	res.Features = s.suite.Features()
	res.Stats = s.suite.Stats()
	return res, nil
}

// feedWAV decodes a WAV file into the session in chunks of one second.
func feedWAV(s *Session, path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("analysis: %w", err)
	}
	defer f.Close()
	x, rate, err := voice.ReadWAV(f)
	if err != nil {
		return 0, fmt.Errorf("analysis: %s: not a readable WAV file: %w", path, err)
	}
	if rate <= 0 {
		return 0, fmt.Errorf("analysis: %s: invalid sample rate %d", path, rate)
	}
	if rate != voice.SampleRate {
		x = voice.Resample(x, rate, voice.SampleRate)
	}
	const chunk = voice.FrameSize * 50
	for i := 0; i < len(x); i += chunk {
		at := FileEpoch.Add(time.Duration(i) * time.Second / voice.SampleRate)
		s.audioDecoded(at, x[i:min(len(x), i+chunk)])
	}
	return float64(len(x)) / voice.SampleRate, nil
}

// feedVideo decodes a recording (and the recordings of opt.Then after it)
// frame by frame into the session, analysing the frames its rate selects in
// the caller's goroutine (no mailbox: a file waits for the analysis, nothing
// is dropped).
func feedVideo(ctx context.Context, s *Session, opt FileOptions, res *FileResult) error {
	an, err := s.cfg.NewAnalyzer()
	if err != nil {
		return err
	}
	defer an.Close()
	var first, last time.Time
	start := FileEpoch
	for i, path := range append([]string{opt.Video}, opt.Then...) {
		if i > 0 {
			res.Joins = append(res.Joins, start)
		}
		step, err := feedOne(ctx, s, an, path, start, opt, res, &first, &last)
		if err != nil {
			return err
		}
		start = last.Add(step)
		if res.Damaged != "" {
			break
		}
	}
	res.Duration = start.Sub(first)
	return nil
}

// feedOne feeds one recording whose first frame is captured at start; it
// returns the recording's frame interval (for the next one's start).
func feedOne(ctx context.Context, s *Session, an FrameAnalyzer, path string, start time.Time, opt FileOptions, res *FileResult, first, last *time.Time) (time.Duration, error) {
	src, err := OpenVideo(path, start)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	info := src.Info()
	if res.Source.Format == "" {
		res.Source = info
	}
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if n == 0 {
				return 0, err
			}
			// A damaged tail: keep what was decoded, and say so.
			what := "damaged"
			if errors.Is(err, media.ErrTruncated) {
				what = "truncated"
			}
			res.Damaged = fmt.Sprintf("the file is %s after frame %d; the rest was not analysed (%v)", what, res.Decoded, err)
			break
		}
		n++
		res.Decoded++
		if first.IsZero() {
			*first = fr.Capture
		}
		*last = fr.Capture
		s.frameDecoded(fr)
		if opt.Progress != nil {
			opt.Progress(res.Decoded, res.Source.Frames)
		}
		if !s.due(fr.Capture, s.inWindow(fr.Capture)) {
			continue
		}
		if err := observeFile(s, an, fr); err != nil {
			return 0, fmt.Errorf("%w (frame %d)", err, res.Decoded)
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("analysis: %s: the file holds no video frame", path)
	}
	step := time.Duration(0)
	if info.FPS > 0 {
		step = time.Duration(float64(time.Second) / info.FPS)
	}
	return step, nil
}

// observeFile is the session's observe for a recording: an internal error
// (a panic) stops the analysis with an error instead of the process.
func observeFile(s *Session, an FrameAnalyzer, f *models.Frame) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.fail("frame analysis", v)
			err = fmt.Errorf("analysis: internal error in the frame analysis: %v", v)
		}
	}()
	if err := s.observe(an, f); err != nil {
		return err
	}
	if s.failed.Load() {
		return fmt.Errorf("analysis: internal error in the %s", s.failure)
	}
	return nil
}
