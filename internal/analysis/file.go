package analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/livecheck/livecheck/internal/detect"
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
	// FPS is the analysis rate: frames closer than 1/FPS to the previous
	// analysed frame are decoded but not analysed, as in the live room.
	// 0 means DefaultFileFPS; a negative value analyses every frame.
	FPS float64
	// Suite configures the detectors (LiveCapture stays false for files).
	Suite detect.Config
	// Vision configures the face analyser. Set Landmarker to share a loaded
	// model between concurrent analyses.
	Vision vision.Config
	// Progress, when set, is called after each decoded frame with the count
	// so far and the container's frame count (0 when unknown).
	Progress func(done, total int)
}

// DefaultFileFPS is the live room's passive analysis rate.
const DefaultFileFPS = 8

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
	// Signals are the session-level signals (one per detector, plus
	// face_presence when there was video).
	Signals []models.Signal `json:"signals"`
	// Windows are the detectors' window scores.
	Windows []detect.Window `json:"windows"`
	// Features are the detectors' raw session measures.
	Features map[string]map[string]float64 `json:"features"`
	// Stats are the detectors' per-frame costs.
	Stats detect.Stats `json:"stats"`
}

// FileEpoch is the capture time AnalyzeFile gives a file's first frame and
// first audio sample; window and signal times are relative to it.
var FileEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// AnalyzeFile runs the live chain on a recording: decode, vision at the
// analysis rate, the passive detectors, and the voice detectors on the audio.
func AnalyzeFile(ctx context.Context, opt FileOptions) (*FileResult, error) {
	if opt.Video == "" && opt.Audio == "" {
		return nil, errors.New("detect: nothing to analyse (no video and no audio)")
	}
	cfg := opt.Suite
	cfg.LiveCapture = false
	s := detect.NewSuite(cfg)
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
	res.Signals = s.Signals()
	if opt.Video != "" {
		res.Signals = append(res.Signals, FacePresenceSignal(res.Faces, res.Analysed))
	}
	res.Windows = s.Windows()
	res.Features = s.Features()
	res.Stats = s.Stats()
	return res, nil
}

func feedWAV(s *detect.Suite, path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("detect: %w", err)
	}
	defer f.Close()
	x, rate, err := voice.ReadWAV(f)
	if err != nil {
		return 0, fmt.Errorf("detect: %s: not a readable WAV file: %w", path, err)
	}
	if rate <= 0 {
		return 0, fmt.Errorf("detect: %s: invalid sample rate %d", path, rate)
	}
	if rate != voice.SampleRate {
		x = voice.Resample(x, rate, voice.SampleRate)
	}
	for i := 0; i < len(x); i += voice.FrameSize * 50 {
		s.AddAudioFloat(FileEpoch, x[i:min(len(x), i+voice.FrameSize*50)])
	}
	return float64(len(x)) / voice.SampleRate, nil
}

func feedVideo(ctx context.Context, s *detect.Suite, opt FileOptions, res *FileResult) error {
	src, err := OpenVideo(opt.Video, FileEpoch)
	if err != nil {
		return err
	}
	defer src.Close()
	res.Source = src.Info()
	an, err := vision.NewAnalyzer(opt.Vision)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer an.Close()
	fps := opt.FPS
	if fps == 0 {
		fps = DefaultFileFPS
	}
	var minGap time.Duration
	if fps > 0 {
		minGap = time.Duration(float64(time.Second)/fps) - 5*time.Millisecond
	}
	var first, last, lastAnalysed time.Time
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if res.Decoded == 0 {
				return err
			}
			break // a damaged tail: keep what was decoded
		}
		res.Decoded++
		if first.IsZero() {
			first = fr.Capture
		}
		last = fr.Capture
		s.AddFrameTime(fr.Capture)
		if opt.Progress != nil {
			opt.Progress(res.Decoded, res.Source.Frames)
		}
		if !lastAnalysed.IsZero() && fr.Capture.Sub(lastAnalysed) < minGap {
			continue
		}
		lastAnalysed = fr.Capture
		o, err := an.Measure(fr)
		if err != nil {
			return fmt.Errorf("detect: frame %d: %w", res.Decoded, err)
		}
		o.At = fr.Capture
		res.Analysed++
		if o.FacePresent && !o.Coasting {
			res.Faces++
		}
		s.Add(fr, o)
	}
	if res.Decoded == 0 {
		return fmt.Errorf("detect: %s: the file holds no video frame", opt.Video)
	}
	res.Duration = last.Sub(first)
	if res.Source.FPS > 0 {
		res.Duration += time.Duration(float64(time.Second) / res.Source.FPS)
	}
	return nil
}

// FacePresenceSignal is the face_presence signal of the live room for a
// recording: the share of analysed frames with a face (scored as the room
// scores it, so that live and offline verdicts agree).
func FacePresenceSignal(faces, analysed int) models.Signal {
	if analysed == 0 {
		return models.Signal{Kind: "face_presence", Score: 0.5, Confidence: 0.3, Reason: "no video frame could be analysed"}
	}
	ratio := float64(faces) / float64(analysed)
	round3 := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	return models.Signal{Kind: "face_presence", Value: round3(ratio), Score: round3(math.Max(0, 0.8-ratio) / 0.8 * 0.5),
		Confidence: round3(math.Min(1, float64(analysed)/150)),
		Reason:     fmt.Sprintf("a face was found in %.0f %% of %d analysed frames", ratio*100, analysed)}
}
