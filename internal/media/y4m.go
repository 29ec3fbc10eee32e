package media

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/livecheck/livecheck/models"
)

const (
	y4mMagic      = "YUV4MPEG2"
	y4mMaxLine    = 4096
	y4mMaxDim     = 16384
	y4mMaxPixels  = 1 << 26
	y4mDefaultFPS = 25
)

// Y4MHeader is the stream header of a YUV4MPEG2 file.
type Y4MHeader struct {
	Width, Height int
	// FPSNum/FPSDen is the frame rate (25:1 when the header has no F field, as ffmpeg assumes).
	FPSNum, FPSDen int
	// Interlace is the I field ('p', 't', 'b', 'm' or '?'); 0 when absent.
	Interlace byte
	// AspectNum:AspectDen is the pixel aspect ratio; 0:0 when unknown.
	AspectNum, AspectDen int
	// Chroma is the C field; "420jpeg" when absent. Only the 4:2:0 8-bit variants are read:
	// 420jpeg, 420mpeg2, 420paldv and 420 (they differ only in chroma siting).
	Chroma string
}

// FrameDuration returns the duration of one frame from the frame rate.
func (h Y4MHeader) FrameDuration() time.Duration {
	if h.FPSNum <= 0 || h.FPSDen <= 0 {
		return 0
	}
	return time.Duration(int64(time.Second) * int64(h.FPSDen) / int64(h.FPSNum))
}

// frameTime returns the start time of frame n, exact to the nanosecond (no accumulated rounding).
func (h Y4MHeader) frameTime(n uint64) time.Duration {
	if h.FPSNum <= 0 || h.FPSDen <= 0 {
		return 0
	}
	q := n * uint64(h.FPSDen)
	num := uint64(h.FPSNum)
	return time.Duration(q/num)*time.Second + time.Duration((q%num)*uint64(time.Second)/num)
}

// Y4MReader reads 4:2:0 frames from a YUV4MPEG2 stream into models.Frame values.
type Y4MReader struct {
	// Start is the capture time given to frame 0; frame n gets Start + n*FPSDen/FPSNum seconds.
	Start time.Time

	br     *bufio.Reader
	header Y4MHeader
	n      uint64
}

// NewY4MReader reads and validates the stream header.
func NewY4MReader(r io.Reader) (*Y4MReader, error) {
	br := bufio.NewReaderSize(r, y4mMaxLine)
	line, err := readY4MLine(br)
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("empty file: %w", ErrTruncated)
	}
	if err != nil {
		return nil, fmt.Errorf("media: y4m header: %w", err)
	}
	h, err := parseY4MHeader(line)
	if err != nil {
		return nil, err
	}
	return &Y4MReader{br: br, header: h}, nil
}

func readY4MLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("line longer than %d bytes: %w", y4mMaxLine, ErrCorrupt)
	case errors.Is(err, io.EOF) && len(line) == 0:
		return nil, io.EOF
	case errors.Is(err, io.EOF):
		return nil, ErrTruncated
	case err != nil:
		return nil, err
	}
	return line[:len(line)-1], nil
}

func parseY4MHeader(line []byte) (Y4MHeader, error) {
	fields := bytes.Split(line, []byte{' '})
	if string(fields[0]) != y4mMagic {
		return Y4MHeader{}, fmt.Errorf("media: y4m header: bad signature %q, want %q: %w",
			truncateForError(fields[0]), y4mMagic, ErrCorrupt)
	}
	h := Y4MHeader{Chroma: "420jpeg", FPSNum: y4mDefaultFPS, FPSDen: 1}
	for _, f := range fields[1:] {
		if len(f) == 0 {
			continue // tolerate double spaces
		}
		val := string(f[1:])
		var err error
		switch f[0] {
		case 'W':
			h.Width, err = strconv.Atoi(val)
		case 'H':
			h.Height, err = strconv.Atoi(val)
		case 'F':
			h.FPSNum, h.FPSDen, err = parseRatio(val)
			if err == nil && (h.FPSNum <= 0 || h.FPSDen <= 0) {
				err = errors.New("must be positive")
			}
		case 'A':
			h.AspectNum, h.AspectDen, err = parseRatio(val)
		case 'I':
			if len(val) != 1 {
				err = errors.New("want one character")
			} else {
				h.Interlace = val[0]
			}
		case 'C':
			h.Chroma = val
		case 'X':
			// application-specific; ignored
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return Y4MHeader{}, fmt.Errorf("media: y4m header: field %q: %v: %w", truncateForError(f), err, ErrCorrupt)
		}
	}
	if h.Width <= 0 || h.Height <= 0 {
		return Y4MHeader{}, fmt.Errorf("media: y4m header: missing or invalid size %dx%d: %w", h.Width, h.Height, ErrCorrupt)
	}
	if h.Width > y4mMaxDim || h.Height > y4mMaxDim || h.Width*h.Height > y4mMaxPixels {
		return Y4MHeader{}, fmt.Errorf("media: y4m header: size %dx%d too large: %w", h.Width, h.Height, ErrUnsupported)
	}
	switch h.Chroma {
	case "420jpeg", "420mpeg2", "420paldv", "420":
	default:
		return Y4MHeader{}, fmt.Errorf("media: y4m header: chroma %q (only 8-bit 4:2:0 is read): %w",
			truncateForError([]byte(h.Chroma)), ErrUnsupported)
	}
	return h, nil
}

func parseRatio(s string) (int, int, error) {
	i := bytes.IndexByte([]byte(s), ':')
	if i < 0 {
		return 0, 0, errors.New("want n:d")
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, 0, err
	}
	d, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return 0, 0, err
	}
	if n < 0 || d < 0 {
		return 0, 0, errors.New("negative")
	}
	return n, d, nil
}

func truncateForError(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

// Header returns the stream header.
func (yr *Y4MReader) Header() Y4MHeader { return yr.header }

// NextFrame reads the next frame into a newly allocated frame. It returns io.EOF at the clean end
// of the stream and an error wrapping ErrTruncated when the stream ends inside a frame.
func (yr *Y4MReader) NextFrame() (*models.Frame, error) {
	f := new(models.Frame)
	if err := yr.ReadFrameInto(f); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFrameInto reads the next frame into f, reusing f's plane buffers when they are large enough.
// Frames are all keyframes; Seq counts from 1 and Capture is Start + index/framerate.
func (yr *Y4MReader) ReadFrameInto(f *models.Frame) error {
	line, err := readY4MLine(yr.br)
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("media: y4m frame %d header: %w", yr.n, err)
	}
	if !bytes.HasPrefix(line, []byte("FRAME")) || (len(line) > 5 && line[5] != ' ') {
		return fmt.Errorf("media: y4m frame %d: bad frame marker %q: %w", yr.n, truncateForError(line), ErrCorrupt)
	}
	w, h := yr.header.Width, yr.header.Height
	cs := ((w + 1) / 2) * ((h + 1) / 2)
	f.Width, f.Height = w, h
	f.Y, f.U, f.V = resize(f.Y, w*h), resize(f.U, cs), resize(f.V, cs)
	for i, p := range [][]byte{f.Y, f.U, f.V} {
		if _, err := io.ReadFull(yr.br, p); err != nil {
			return fmt.Errorf("media: y4m frame %d plane %d: %w", yr.n, i, eofToTruncated(err))
		}
	}
	f.Capture = yr.Start.Add(yr.header.frameTime(yr.n))
	f.Keyframe = true
	yr.n++
	f.Seq = yr.n
	return nil
}

// Y4MWriter writes 4:2:0 frames as a YUV4MPEG2 stream (for tests and the load generator).
type Y4MWriter struct {
	w      io.Writer
	header Y4MHeader
}

// NewY4MWriter writes the stream header. Zero frame-rate fields mean 25:1; Chroma defaults to
// "420jpeg" and must be one of the 4:2:0 variants Y4MReader reads.
func NewY4MWriter(w io.Writer, h Y4MHeader) (*Y4MWriter, error) {
	if h.FPSNum <= 0 || h.FPSDen <= 0 {
		h.FPSNum, h.FPSDen = y4mDefaultFPS, 1
	}
	if h.Chroma == "" {
		h.Chroma = "420jpeg"
	}
	if h.Interlace == 0 {
		h.Interlace = 'p'
	}
	line := fmt.Sprintf("%s W%d H%d F%d:%d I%c A%d:%d C%s\n", y4mMagic, h.Width, h.Height,
		h.FPSNum, h.FPSDen, h.Interlace, h.AspectNum, h.AspectDen, h.Chroma)
	if _, err := parseY4MHeader([]byte(line[:len(line)-1])); err != nil {
		return nil, fmt.Errorf("media: y4m writer: %w", err)
	}
	if _, err := io.WriteString(w, line); err != nil {
		return nil, fmt.Errorf("media: y4m writer: header: %w", err)
	}
	return &Y4MWriter{w: w, header: h}, nil
}

// WriteFrame writes one frame; its size must match the header.
func (yw *Y4MWriter) WriteFrame(f *models.Frame) error {
	w, h := yw.header.Width, yw.header.Height
	cs := ((w + 1) / 2) * ((h + 1) / 2)
	if f.Width != w || f.Height != h || len(f.Y) != w*h || len(f.U) != cs || len(f.V) != cs {
		return fmt.Errorf("media: y4m write frame: frame %dx%d (planes %d/%d/%d) does not match %dx%d",
			f.Width, f.Height, len(f.Y), len(f.U), len(f.V), w, h)
	}
	if _, err := io.WriteString(yw.w, "FRAME\n"); err != nil {
		return fmt.Errorf("media: y4m write frame: %w", err)
	}
	for _, p := range [][]byte{f.Y, f.U, f.V} {
		if _, err := yw.w.Write(p); err != nil {
			return fmt.Errorf("media: y4m write frame: %w", err)
		}
	}
	return nil
}
