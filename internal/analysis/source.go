package analysis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// ErrUnsupported means a recording's container or codec cannot be read.
var ErrUnsupported = errors.New("unsupported recording")

// SourceInfo describes an opened recording.
type SourceInfo struct {
	// Format is "ivf", "y4m" or "ffmpeg" (through OpenCV).
	Format string `json:"format"`
	// Width and Height are the frame size in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// FPS is the nominal frame rate (0 when unknown).
	FPS float64 `json:"fps"`
	// Frames is the frame count the container announces (0 when unknown).
	Frames int `json:"frames"`
}

// VideoSource yields the decoded frames of a recording in order.
type VideoSource interface {
	// Next returns the next frame, valid until the following call, or io.EOF
	// at the end. Capture times are start + the frame's timestamp.
	Next() (*models.Frame, error)
	// Info describes the recording.
	Info() SourceInfo
	// Close releases the file and decoder.
	Close() error
}

// OpenVideo opens a recording by its extension: .ivf (VP8, decoded with
// libvpx as in the live room), .y4m, or .mp4/.webm/.gif/.mkv/.mov/.avi
// through OpenCV's FFmpeg backend. Frame capture times start at start.
func OpenVideo(path string, start time.Time) (VideoSource, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".ivf":
		return openIVF(path, start)
	case ".y4m":
		return openY4M(path, start)
	case ".mp4", ".webm", ".gif", ".mkv", ".mov", ".avi":
		return openCapture(path, start)
	default:
		return nil, fmt.Errorf("detect: %s: %w: extension %q (want .ivf, .y4m, .mp4, .webm, .gif, .mkv, .mov or .avi)", path, ErrUnsupported, ext)
	}
}

type ivfSource struct {
	f      *os.File
	r      *media.IVFReader
	dec    *media.VP8Decoder
	start  time.Time
	tb     float64 // seconds per timestamp unit
	last   *models.Frame
	info   SourceInfo
	errors int
}

func openIVF(path string, start time.Time) (*ivfSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	r, err := media.NewIVFReader(bufio.NewReader(f))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("detect: %s: not a readable IVF file: %w", path, err)
	}
	h := r.Header()
	if h.FourCC != "VP80" {
		f.Close()
		return nil, fmt.Errorf("detect: %s: %w: IVF codec %q (only VP8 is decoded)", path, ErrUnsupported, h.FourCC)
	}
	dec, err := media.NewVP8Decoder()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("detect: %w", err)
	}
	s := &ivfSource{f: f, r: r, dec: dec, start: start, tb: 1.0 / 90000}
	if h.TimebaseDen > 0 && h.TimebaseNum > 0 {
		s.tb = float64(h.TimebaseNum) / float64(h.TimebaseDen)
	}
	s.info = SourceInfo{Format: "ivf", Width: int(h.Width), Height: int(h.Height), Frames: int(h.FrameCount)}
	if s.tb > 0 && s.tb >= 1.0/240 {
		s.info.FPS = 1 / s.tb // ffmpeg writes a 1/framerate timebase
	}
	return s, nil
}

func (s *ivfSource) Next() (*models.Frame, error) {
	if s.last != nil {
		s.dec.Release(s.last)
		s.last = nil
	}
	for {
		data, pts, err := s.r.NextFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("detect: IVF: %w", err)
		}
		at := s.start.Add(time.Duration(float64(pts) * s.tb * float64(time.Second)))
		fr, err := s.dec.Decode(data, at)
		switch {
		case err == nil:
			s.last = fr
			return fr, nil
		case errors.Is(err, media.ErrNoFrame), errors.Is(err, media.ErrNeedKeyframe), errors.Is(err, media.ErrCorrupt):
			// Skip to the next decodable frame, as the live room does; a file
			// that never decodes fails below.
			s.errors++
			if s.errors > 50 && s.dec.Frames() == 0 {
				return nil, fmt.Errorf("detect: IVF: no decodable VP8 frame: %w", err)
			}
		default:
			return nil, fmt.Errorf("detect: IVF: %w", err)
		}
	}
}

func (s *ivfSource) Info() SourceInfo { return s.info }

func (s *ivfSource) Close() error {
	s.dec.Close()
	return s.f.Close()
}

type y4mSource struct {
	f    *os.File
	r    *media.Y4MReader
	fr   models.Frame
	info SourceInfo
}

func openY4M(path string, start time.Time) (*y4mSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	r, err := media.NewY4MReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("detect: %s: not a readable Y4M file: %w", path, err)
	}
	r.Start = start
	h := r.Header()
	s := &y4mSource{f: f, r: r, info: SourceInfo{Format: "y4m", Width: h.Width, Height: h.Height}}
	if h.FPSDen > 0 {
		s.info.FPS = float64(h.FPSNum) / float64(h.FPSDen)
	}
	if st, err := f.Stat(); err == nil && h.Width > 0 && h.Height > 0 {
		// Each frame is a "FRAME\n" line plus the planes.
		per := int64(6 + h.Width*h.Height + 2*((h.Width+1)/2)*((h.Height+1)/2))
		s.info.Frames = int(st.Size() / per)
	}
	return s, nil
}

func (s *y4mSource) Next() (*models.Frame, error) {
	if err := s.r.ReadFrameInto(&s.fr); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("detect: Y4M: %w", err)
	}
	return &s.fr, nil
}

func (s *y4mSource) Info() SourceInfo { return s.info }
func (s *y4mSource) Close() error     { return s.f.Close() }

type captureSource struct {
	vc    *gocv.VideoCapture
	mat   gocv.Mat
	start time.Time
	n     int
	info  SourceInfo
}

func openCapture(path string, start time.Time) (*captureSource, error) {
	if err := probeCapture(path); err != nil {
		return nil, err
	}
	vc, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("detect: %s: %w: OpenCV's FFmpeg backend cannot open it", path, ErrUnsupported)
	}
	s := &captureSource{vc: vc, mat: gocv.NewMat(), start: start}
	s.info = SourceInfo{Format: "ffmpeg", Width: int(vc.Get(gocv.VideoCaptureFrameWidth)), Height: int(vc.Get(gocv.VideoCaptureFrameHeight)),
		FPS: vc.Get(gocv.VideoCaptureFPS), Frames: int(vc.Get(gocv.VideoCaptureFrameCount))}
	if s.info.Frames < 0 {
		s.info.Frames = 0
	}
	// What FFmpeg read from the stream itself, before the first frame is decoded.
	if err := media.CheckFrameBounds(s.info.Width, s.info.Height, s.info.Frames); err != nil {
		s.Close()
		return nil, fmt.Errorf("detect: %s: %w", path, err)
	}
	return s, nil
}

// probeCapture checks the sizes and frame count a GIF, MP4/MOV, Matroska or
// AVI file declares in its headers before FFmpeg decodes anything: FFmpeg
// allocates a frame as large as the header says (a 35-byte GIF claiming
// 16000x16000 took 4 GB).
func probeCapture(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	ci, err := media.ProbeContainer(f, st.Size())
	switch {
	case err == nil, errors.Is(err, media.ErrUnknownContainer):
		// Unknown to the probe: FFmpeg's own figures are checked after opening.
	case errors.Is(err, media.ErrTruncated):
		// The frames before the cut can still be read; the sizes seen so far are checked.
	default:
		return fmt.Errorf("detect: %s: %w: %v", path, ErrUnsupported, err)
	}
	if err := media.CheckFrameBounds(ci.Width, ci.Height, ci.Frames); err != nil {
		return fmt.Errorf("detect: %s: %w", path, err)
	}
	return nil
}

func (s *captureSource) Next() (*models.Frame, error) {
	if !s.vc.Read(&s.mat) || s.mat.Empty() {
		if s.n == 0 {
			return nil, fmt.Errorf("detect: %w: no frame could be decoded", ErrUnsupported)
		}
		return nil, io.EOF
	}
	if err := media.CheckFrameBounds(s.mat.Cols(), s.mat.Rows(), 0); err != nil {
		return nil, fmt.Errorf("detect: frame %d: %w", s.n+1, err) // the size changed within the stream
	}
	pos := s.vc.Get(gocv.VideoCapturePosMsec)
	fr := vision.FrameFromImage(s.mat)
	if fr == nil {
		return nil, fmt.Errorf("detect: %w: frame %d has an unsupported pixel format", ErrUnsupported, s.n)
	}
	s.n++
	fr.Seq = uint64(s.n)
	fr.Keyframe = true
	if pos > 0 || s.n == 1 {
		fr.Capture = s.start.Add(time.Duration(pos * float64(time.Millisecond)))
	} else if s.info.FPS > 0 {
		fr.Capture = s.start.Add(time.Duration(float64(s.n-1) / s.info.FPS * float64(time.Second)))
	}
	return fr, nil
}

func (s *captureSource) Info() SourceInfo { return s.info }

func (s *captureSource) Close() error {
	s.mat.Close()
	return s.vc.Close()
}
