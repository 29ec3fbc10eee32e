package media

/*
#cgo pkg-config: opus
#include <opus.h>

static int lc_opus_set_bitrate(OpusEncoder *e, opus_int32 bps) {
	return opus_encoder_ctl(e, OPUS_SET_BITRATE(bps));
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// OpusSampleRate is the output rate of OpusDecoder and the RTP clock rate of Opus.
const OpusSampleRate = 48000

// opusMaxFrame is the largest Opus frame: 120 ms at 48 kHz, per channel.
const opusMaxFrame = OpusSampleRate * 120 / 1000

// opusMaxPacket is a safe upper bound for one encoded Opus packet.
const opusMaxPacket = 4000

func opusError(code C.int) string { return C.GoString(C.opus_strerror(code)) }

// OpusDecoder decodes Opus packets (mono or stereo) to 48 kHz mono PCM with libopus.
// It must be used from one goroutine.
type OpusDecoder struct {
	dec *C.OpusDecoder
	buf []int16
}

// NewOpusDecoder creates a 48 kHz mono decoder; stereo packets are down-mixed by libopus.
func NewOpusDecoder() (*OpusDecoder, error) {
	var cerr C.int
	dec := C.opus_decoder_create(OpusSampleRate, 1, &cerr)
	if cerr != C.OPUS_OK || dec == nil {
		return nil, fmt.Errorf("media: opus decoder init: %s", opusError(cerr))
	}
	return &OpusDecoder{dec: dec, buf: make([]int16, opusMaxFrame)}, nil
}

// Decode decodes one Opus packet into a new slice of 48 kHz mono samples (960 for 20 ms).
// An empty packet (RTP padding or a probe) returns an error wrapping ErrEmpty: skip it.
func (d *OpusDecoder) Decode(packet []byte) ([]int16, error) {
	n, err := d.DecodeTo(packet, d.buf)
	if err != nil {
		return nil, err
	}
	out := make([]int16, n)
	copy(out, d.buf[:n])
	return out, nil
}

// DecodeTo decodes one Opus packet into pcm and returns the number of samples written.
// pcm must hold the whole frame (5760 samples always suffice). It does not allocate.
func (d *OpusDecoder) DecodeTo(packet []byte, pcm []int16) (int, error) {
	if d.dec == nil {
		return 0, fmt.Errorf("media: opus decode: %w", ErrClosed)
	}
	if len(packet) == 0 {
		return 0, fmt.Errorf("media: opus decode: %w", ErrEmpty)
	}
	if len(pcm) == 0 {
		return 0, fmt.Errorf("media: opus decode: empty output buffer")
	}
	frameSize := min(len(pcm), opusMaxFrame)
	n := C.opus_decode(d.dec, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(frameSize), 0)
	if n < 0 {
		return 0, fmt.Errorf("media: opus decode: %s: %w", opusError(n), ErrCorrupt)
	}
	return int(n), nil
}

// Conceal synthesises samples (a multiple of 2.5 ms, e.g. 960 for 20 ms) for a lost packet
// with libopus packet-loss concealment, so that the audio timeline stays continuous.
func (d *OpusDecoder) Conceal(samples int) ([]int16, error) {
	if d.dec == nil {
		return nil, fmt.Errorf("media: opus conceal: %w", ErrClosed)
	}
	if samples <= 0 || samples > opusMaxFrame {
		return nil, fmt.Errorf("media: opus conceal: %d samples out of range", samples)
	}
	n := C.opus_decode(d.dec, nil, 0, (*C.opus_int16)(unsafe.Pointer(&d.buf[0])), C.int(samples), 0)
	if n < 0 {
		return nil, fmt.Errorf("media: opus conceal: %s", opusError(n))
	}
	out := make([]int16, n)
	copy(out, d.buf[:n])
	return out, nil
}

// Close frees the decoder. It is idempotent.
func (d *OpusDecoder) Close() error {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
	return nil
}

// OpusEncoder encodes 20 ms frames of interleaved int16 PCM to Opus (application "audio").
// It must be used from one goroutine.
type OpusEncoder struct {
	enc        *C.OpusEncoder
	channels   int
	frameSize  int // samples per channel in 20 ms
	sampleRate int
	buf        []byte
}

// NewOpusEncoder creates an encoder. sampleRate is one of 8000, 12000, 16000, 24000 or 48000;
// channels is 1 or 2.
func NewOpusEncoder(sampleRate, channels int) (*OpusEncoder, error) {
	switch sampleRate {
	case 8000, 12000, 16000, 24000, 48000:
	default:
		return nil, fmt.Errorf("media: opus encoder: sample rate %d: %w", sampleRate, ErrUnsupported)
	}
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("media: opus encoder: %d channels: %w", channels, ErrUnsupported)
	}
	var cerr C.int
	enc := C.opus_encoder_create(C.opus_int32(sampleRate), C.int(channels), C.OPUS_APPLICATION_AUDIO, &cerr)
	if cerr != C.OPUS_OK || enc == nil {
		return nil, fmt.Errorf("media: opus encoder init: %s", opusError(cerr))
	}
	return &OpusEncoder{
		enc: enc, channels: channels, sampleRate: sampleRate,
		frameSize: sampleRate / 50, buf: make([]byte, opusMaxPacket),
	}, nil
}

// FrameSamples returns the number of int16 values Encode expects: 20 ms times channels.
func (e *OpusEncoder) FrameSamples() int { return e.frameSize * e.channels }

// SetBitrate sets the target bitrate in bits per second.
func (e *OpusEncoder) SetBitrate(bps int) error {
	if e.enc == nil {
		return fmt.Errorf("media: opus set bitrate: %w", ErrClosed)
	}
	if rc := C.lc_opus_set_bitrate(e.enc, C.opus_int32(bps)); rc != C.OPUS_OK {
		return fmt.Errorf("media: opus set bitrate %d: %s", bps, opusError(rc))
	}
	return nil
}

// Encode encodes exactly 20 ms of interleaved PCM (FrameSamples values) into a new Opus packet.
func (e *OpusEncoder) Encode(pcm []int16) ([]byte, error) {
	if e.enc == nil {
		return nil, fmt.Errorf("media: opus encode: %w", ErrClosed)
	}
	if len(pcm) != e.FrameSamples() {
		return nil, fmt.Errorf("media: opus encode: got %d samples, want %d (20 ms x %d channels)",
			len(pcm), e.FrameSamples(), e.channels)
	}
	n := C.opus_encode(e.enc, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(e.frameSize),
		(*C.uchar)(unsafe.Pointer(&e.buf[0])), C.opus_int32(len(e.buf)))
	if n < 0 {
		return nil, fmt.Errorf("media: opus encode: %s", opusError(n))
	}
	out := make([]byte, n)
	copy(out, e.buf[:n])
	return out, nil
}

// Close frees the encoder. It is idempotent.
func (e *OpusEncoder) Close() error {
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
	return nil
}
