package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxWAVDataSize bounds the audio data ReadWAV accepts (1 GiB, about 3 hours of 48 kHz stereo).
const MaxWAVDataSize = 1 << 30

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	wavMaxChunk         = 1 << 20 // non-data chunks (fmt, LIST, ...) larger than this are corrupt
)

// PCM is 16-bit audio with interleaved channels.
type PCM struct {
	Rate     int     // samples per second per channel
	Channels int     // 1 or 2
	Samples  []int16 // interleaved: L R L R ... for stereo
}

// Frames returns the number of sample frames (samples per channel).
func (p *PCM) Frames() int {
	if p.Channels <= 0 {
		return 0
	}
	return len(p.Samples) / p.Channels
}

// Duration returns the length of the audio.
func (p *PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(int64(p.Frames()) * int64(time.Second) / int64(p.Rate))
}

// Mono returns the audio as one channel: the samples themselves for mono, the average of
// the channels otherwise.
func (p *PCM) Mono() []int16 {
	if p.Channels <= 1 {
		return p.Samples
	}
	n := p.Frames()
	out := make([]int16, n)
	for i := 0; i < n; i++ {
		sum := 0
		for c := 0; c < p.Channels; c++ {
			sum += int(p.Samples[i*p.Channels+c])
		}
		out[i] = int16(sum / p.Channels)
	}
	return out
}

// ReadWAV reads a RIFF/WAVE file with 16-bit PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with a PCM
// sub-format), mono or stereo, at any sample rate. Chunks other than "fmt " and "data" are
// skipped. A data size of 0 or 0xFFFFFFFF (written by streaming tools) means "until end of file";
// an incomplete last sample frame is then dropped.
func ReadWAV(r io.Reader) (*PCM, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return nil, fmt.Errorf("media: wav header: %w", eofToTruncated(err))
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, fmt.Errorf("media: wav header: signature %q/%q, want RIFF/WAVE: %w", riff[0:4], riff[8:12], ErrCorrupt)
	}
	var p *PCM
	var blockAlign int
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("media: wav: no data chunk: %w", ErrCorrupt)
			}
			return nil, fmt.Errorf("media: wav chunk header: %w", eofToTruncated(err))
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if p != nil {
				return nil, fmt.Errorf("media: wav: second fmt chunk: %w", ErrCorrupt)
			}
			var err error
			p, blockAlign, err = readWAVFormat(r, size)
			if err != nil {
				return nil, err
			}
		case "data":
			if p == nil {
				return nil, fmt.Errorf("media: wav: data chunk before fmt chunk: %w", ErrCorrupt)
			}
			if err := readWAVData(r, size, blockAlign, p); err != nil {
				return nil, err
			}
			return p, nil
		default:
			if size > wavMaxChunk {
				return nil, fmt.Errorf("media: wav: chunk %q of %d bytes: %w", id, size, ErrCorrupt)
			}
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size&1)); err != nil {
				return nil, fmt.Errorf("media: wav: chunk %q: %w", id, eofToTruncated(err))
			}
		}
	}
}

func readWAVFormat(r io.Reader, size uint32) (*PCM, int, error) {
	if size < 16 || size > 1024 {
		return nil, 0, fmt.Errorf("media: wav fmt chunk: size %d: %w", size, ErrCorrupt)
	}
	b := make([]byte, int(size)+int(size&1))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, 0, fmt.Errorf("media: wav fmt chunk: %w", eofToTruncated(err))
	}
	format := binary.LittleEndian.Uint16(b[0:])
	channels := int(binary.LittleEndian.Uint16(b[2:]))
	rate := int(binary.LittleEndian.Uint32(b[4:]))
	blockAlign := int(binary.LittleEndian.Uint16(b[12:]))
	bits := int(binary.LittleEndian.Uint16(b[14:]))
	if format == wavFormatExtensible {
		if size < 40 {
			return nil, 0, fmt.Errorf("media: wav fmt chunk: extensible format in %d bytes: %w", size, ErrCorrupt)
		}
		format = binary.LittleEndian.Uint16(b[24:]) // first two bytes of the sub-format GUID
	}
	if format != wavFormatPCM {
		return nil, 0, fmt.Errorf("media: wav: format %#x is not integer PCM: %w", format, ErrUnsupported)
	}
	if bits != 16 {
		return nil, 0, fmt.Errorf("media: wav: %d bits per sample, only 16 is read: %w", bits, ErrUnsupported)
	}
	if channels != 1 && channels != 2 {
		return nil, 0, fmt.Errorf("media: wav: %d channels, only mono and stereo are read: %w", channels, ErrUnsupported)
	}
	if rate <= 0 || rate > 768000 {
		return nil, 0, fmt.Errorf("media: wav: sample rate %d: %w", rate, ErrCorrupt)
	}
	if blockAlign != 2*channels {
		return nil, 0, fmt.Errorf("media: wav: block align %d, want %d: %w", blockAlign, 2*channels, ErrCorrupt)
	}
	return &PCM{Rate: rate, Channels: channels}, blockAlign, nil
}

func readWAVData(r io.Reader, size uint32, blockAlign int, p *PCM) error {
	streaming := size == 0 || size == 0xFFFFFFFF
	limit := int64(size)
	if streaming {
		limit = MaxWAVDataSize + 1
	} else if limit > MaxWAVDataSize {
		return fmt.Errorf("media: wav data: %d bytes exceeds %d: %w", size, MaxWAVDataSize, ErrUnsupported)
	}
	// ReadAll grows the buffer as data arrives, so a lying size cannot force a huge allocation.
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return fmt.Errorf("media: wav data: %w", err)
	}
	switch {
	case streaming && int64(len(data)) > MaxWAVDataSize:
		return fmt.Errorf("media: wav data: more than %d bytes: %w", MaxWAVDataSize, ErrUnsupported)
	case streaming:
		data = data[:len(data)/blockAlign*blockAlign]
	case int64(len(data)) < limit:
		return fmt.Errorf("media: wav data: got %d of %d bytes: %w", len(data), size, ErrTruncated)
	case len(data)%blockAlign != 0:
		return fmt.Errorf("media: wav data: %d bytes is not a multiple of %d: %w", len(data), blockAlign, ErrCorrupt)
	}
	p.Samples = make([]int16, len(data)/2)
	for i := range p.Samples {
		p.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return nil
}

// WriteWAV writes p as a canonical 44-byte-header PCM16 WAV file.
func WriteWAV(w io.Writer, p *PCM) error {
	if p.Channels != 1 && p.Channels != 2 {
		return fmt.Errorf("media: wav write: %d channels: %w", p.Channels, ErrUnsupported)
	}
	if p.Rate <= 0 {
		return fmt.Errorf("media: wav write: sample rate %d", p.Rate)
	}
	dataLen := 2 * len(p.Samples)
	if dataLen > MaxWAVDataSize {
		return fmt.Errorf("media: wav write: %d bytes exceeds %d: %w", dataLen, MaxWAVDataSize, ErrUnsupported)
	}
	b := make([]byte, 44+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(b[22:], uint16(p.Channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(p.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(p.Rate*2*p.Channels))
	binary.LittleEndian.PutUint16(b[32:], uint16(2*p.Channels))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	for i, s := range p.Samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("media: wav write: %w", err)
	}
	return nil
}
