package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	ivfHeaderSize      = 32
	ivfFrameHeaderSize = 12
	// MaxIVFFrameSize bounds the size field of an IVF frame; larger values are treated as corrupt.
	MaxIVFFrameSize = 16 << 20
)

// IVFHeader is the 32-byte file header of an IVF file.
type IVFHeader struct {
	FourCC        string // "VP80" for VP8
	Width, Height uint16
	// TimebaseDen and TimebaseNum give the unit of the frame timestamps: TimebaseNum/TimebaseDen
	// seconds (ffmpeg writes 1/framerate, WebRTC tools often 1/90000 or 1/1000).
	TimebaseDen, TimebaseNum uint32
	FrameCount               uint32 // as written; 0 or stale in streamed files
	headerLen                uint16
}

// ReadIVFHeader reads and validates an IVF file header from r, leaving r at the first frame.
func ReadIVFHeader(r io.Reader) (IVFHeader, error) {
	var b [ivfHeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return IVFHeader{}, fmt.Errorf("media: ivf header: %w", eofToTruncated(err))
	}
	if string(b[0:4]) != "DKIF" {
		return IVFHeader{}, fmt.Errorf("media: ivf header: bad signature %q, want \"DKIF\": %w", b[0:4], ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != 0 {
		return IVFHeader{}, fmt.Errorf("media: ivf header: version %d: %w", v, ErrUnsupported)
	}
	h := IVFHeader{
		headerLen:   binary.LittleEndian.Uint16(b[6:]),
		FourCC:      string(b[8:12]),
		Width:       binary.LittleEndian.Uint16(b[12:]),
		Height:      binary.LittleEndian.Uint16(b[14:]),
		TimebaseDen: binary.LittleEndian.Uint32(b[16:]),
		TimebaseNum: binary.LittleEndian.Uint32(b[20:]),
		FrameCount:  binary.LittleEndian.Uint32(b[24:]),
	}
	if h.headerLen < ivfHeaderSize {
		return IVFHeader{}, fmt.Errorf("media: ivf header: header length %d < 32: %w", h.headerLen, ErrCorrupt)
	}
	if extra := int64(h.headerLen) - ivfHeaderSize; extra > 0 {
		if _, err := io.CopyN(io.Discard, r, extra); err != nil {
			return IVFHeader{}, fmt.Errorf("media: ivf header: %w", eofToTruncated(err))
		}
	}
	return h, nil
}

// eofToTruncated maps a short read inside a structure to ErrTruncated.
func eofToTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// IVFReader reads frames of an IVF file (VP8 as written by ffmpeg, libvpx tools or pion's ivfwriter).
type IVFReader struct {
	r      io.Reader
	header IVFHeader
	buf    []byte
	n      int
}

// NewIVFReader reads the file header from r and returns a reader positioned at the first frame.
func NewIVFReader(r io.Reader) (*IVFReader, error) {
	h, err := ReadIVFHeader(r)
	if err != nil {
		return nil, err
	}
	return &IVFReader{r: r, header: h}, nil
}

// Header returns the file header.
func (ir *IVFReader) Header() IVFHeader { return ir.header }

// NextFrame returns the next frame and its timestamp in timebase units. The frame slice is
// reused by the next call: copy it to keep it. At the clean end of the file it returns io.EOF;
// a file cut inside a frame returns an error wrapping ErrTruncated.
func (ir *IVFReader) NextFrame() (frame []byte, pts uint64, err error) {
	var fh [ivfFrameHeaderSize]byte
	n, err := io.ReadFull(ir.r, fh[:])
	if err != nil {
		if errors.Is(err, io.EOF) && n == 0 {
			return nil, 0, io.EOF
		}
		return nil, 0, fmt.Errorf("media: ivf frame %d header: %w", ir.n, eofToTruncated(err))
	}
	size := binary.LittleEndian.Uint32(fh[0:])
	pts = binary.LittleEndian.Uint64(fh[4:])
	if size > MaxIVFFrameSize {
		return nil, 0, fmt.Errorf("media: ivf frame %d: size %d exceeds %d: %w", ir.n, size, MaxIVFFrameSize, ErrCorrupt)
	}
	if cap(ir.buf) < int(size) {
		// Grow in steps so a lying size field in a short file cannot force a huge allocation
		// before the read fails.
		ir.buf = make([]byte, 0, min(int(size), 1<<20))
	}
	buf := ir.buf[:0]
	if int(size) <= cap(buf) {
		buf = buf[:size]
		if _, err := io.ReadFull(ir.r, buf); err != nil {
			return nil, 0, fmt.Errorf("media: ivf frame %d: %d bytes: %w", ir.n, size, eofToTruncated(err))
		}
	} else {
		got, err := io.ReadAll(io.LimitReader(ir.r, int64(size)))
		if err != nil {
			return nil, 0, fmt.Errorf("media: ivf frame %d: %w", ir.n, err)
		}
		if len(got) != int(size) {
			return nil, 0, fmt.Errorf("media: ivf frame %d: got %d of %d bytes: %w", ir.n, len(got), size, ErrTruncated)
		}
		buf = got
	}
	ir.buf = buf
	ir.n++
	return buf, pts, nil
}

// IVFWriter writes an IVF file. Close patches the frame count when the destination is an
// io.WriteSeeker (an *os.File, for example).
type IVFWriter struct {
	w      io.Writer
	header IVFHeader
	frames uint32
	closed bool
}

// NewIVFWriter writes the file header to w. An empty FourCC means "VP80"; zero timebase fields
// mean 1/90000 (the RTP video clock).
func NewIVFWriter(w io.Writer, h IVFHeader) (*IVFWriter, error) {
	if h.FourCC == "" {
		h.FourCC = "VP80"
	}
	if len(h.FourCC) != 4 {
		return nil, fmt.Errorf("media: ivf writer: fourcc %q is not 4 bytes", h.FourCC)
	}
	if h.TimebaseDen == 0 || h.TimebaseNum == 0 {
		h.TimebaseDen, h.TimebaseNum = 90000, 1
	}
	iw := &IVFWriter{w: w, header: h}
	if _, err := w.Write(iw.headerBytes()); err != nil {
		return nil, fmt.Errorf("media: ivf writer: header: %w", err)
	}
	return iw, nil
}

func (iw *IVFWriter) headerBytes() []byte {
	b := make([]byte, ivfHeaderSize)
	copy(b[0:4], "DKIF")
	binary.LittleEndian.PutUint16(b[6:], ivfHeaderSize)
	copy(b[8:12], iw.header.FourCC)
	binary.LittleEndian.PutUint16(b[12:], iw.header.Width)
	binary.LittleEndian.PutUint16(b[14:], iw.header.Height)
	binary.LittleEndian.PutUint32(b[16:], iw.header.TimebaseDen)
	binary.LittleEndian.PutUint32(b[20:], iw.header.TimebaseNum)
	binary.LittleEndian.PutUint32(b[24:], iw.frames)
	return b
}

// WriteFrame appends one frame with timestamp pts (in timebase units).
func (iw *IVFWriter) WriteFrame(frame []byte, pts uint64) error {
	if iw.closed {
		return fmt.Errorf("media: ivf write frame: %w", ErrClosed)
	}
	if len(frame) > MaxIVFFrameSize {
		return fmt.Errorf("media: ivf write frame: %d bytes exceeds %d", len(frame), MaxIVFFrameSize)
	}
	var fh [ivfFrameHeaderSize]byte
	binary.LittleEndian.PutUint32(fh[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(fh[4:], pts)
	if _, err := iw.w.Write(fh[:]); err != nil {
		return fmt.Errorf("media: ivf write frame: %w", err)
	}
	if _, err := iw.w.Write(frame); err != nil {
		return fmt.Errorf("media: ivf write frame: %w", err)
	}
	iw.frames++
	return nil
}

// Close rewrites the header with the final frame count if the writer can seek. It does not
// close the underlying writer. It is idempotent.
func (iw *IVFWriter) Close() error {
	if iw.closed {
		return nil
	}
	iw.closed = true
	ws, ok := iw.w.(io.WriteSeeker)
	if !ok {
		return nil
	}
	end, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("media: ivf close: %w", err)
	}
	if _, err := ws.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("media: ivf close: %w", err)
	}
	if _, err := ws.Write(iw.headerBytes()); err != nil {
		return fmt.Errorf("media: ivf close: %w", err)
	}
	if _, err := ws.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("media: ivf close: %w", err)
	}
	return nil
}
