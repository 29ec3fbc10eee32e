package media

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_image_t *img; // last decoded image, valid until the next decode
	int corrupt;      // VP8D_GET_FRAME_CORRUPTED of the last decode
	int quant;        // VPXD_GET_LAST_QUANTIZER of the last decode (base q index 0..127), -1 unknown
} lc_vp8;

static lc_vp8 *lc_vp8_new(int *err) {
	lc_vp8 *d = calloc(1, sizeof(lc_vp8));
	if (d == NULL) {
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_codec_dec_cfg_t cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.threads = 1;
	vpx_codec_err_t e = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0);
	if (e != VPX_CODEC_OK) {
		free(d);
		*err = (int)e;
		return NULL;
	}
	return d;
}

static void lc_vp8_free(lc_vp8 *d) {
	vpx_codec_destroy(&d->ctx);
	free(d);
}

// lc_vp8_decode decodes one frame. On success d->img is the frame to show (NULL if none)
// and d->corrupt tells whether libvpx flagged it as corrupted.
static int lc_vp8_decode(lc_vp8 *d, const uint8_t *data, unsigned int n) {
	d->img = NULL;
	d->corrupt = 0;
	vpx_codec_err_t e = vpx_codec_decode(&d->ctx, data, n, NULL, 0);
	if (e != VPX_CODEC_OK) {
		return (int)e;
	}
	vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &d->corrupt);
	d->quant = -1;
	if (vpx_codec_control(&d->ctx, VPXD_GET_LAST_QUANTIZER, &d->quant) != VPX_CODEC_OK) {
		d->quant = -1;
	}
	vpx_codec_iter_t it = NULL;
	d->img = vpx_codec_get_frame(&d->ctx, &it);
	return 0;
}

static const char *lc_vp8_detail(lc_vp8 *d) {
	const char *s = vpx_codec_error_detail(&d->ctx);
	return s ? s : "";
}
*/
import "C"

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/livecheck/livecheck/models"
)

// vp8InputPad is the number of zero bytes kept after the compressed frame handed to libvpx.
const vp8InputPad = 64

// MaxVP8Pixels is the largest keyframe (width*height, 4K UHD) the decoder accepts. A keyframe may
// claim up to 16383x16383, for which libvpx would allocate gigabytes of reference frames.
const MaxVP8Pixels = 3840 * 2160

// maxPooledFrames bounds the number of released frames a VP8Decoder keeps for reuse.
const maxPooledFrames = 8

// VP8Decoder decodes VP8 frames with libvpx (one thread) into tightly packed I420 frames.
//
// Decode, DecodeLazy, CopyPicture and Close must be called from one goroutine. Release may be called from any goroutine,
// also after Close.
//
// Ownership: each frame returned by Decode is owned by the caller and stays valid until the
// caller passes it to Release; later decodes never overwrite it. Release hands the frame and its
// plane buffers back for reuse, so nobody may touch the frame afterwards (as with any pool).
// Releasing is optional: an unreleased frame is simply garbage-collected. Releasing the same
// frame twice in a row is detected and ignored; nil is ignored.
type VP8Decoder struct {
	ctx     *C.lc_vp8
	in      unsafe.Pointer // C copy of the compressed frame (libvpx never sees Go memory)
	inCap   int
	needKey bool
	seq     uint64
	width   int
	height  int
	img     *C.vpx_image_t // the last picture DecodeLazy decoded (libvpx's, valid until the next decode); nil: none
	pool    framePool
}

// NewVP8Decoder creates a single-threaded libvpx VP8 decoder. Close it when done.
func NewVP8Decoder() (*VP8Decoder, error) {
	var cerr C.int
	ctx := C.lc_vp8_new(&cerr)
	if ctx == nil {
		msg := C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(cerr)))
		return nil, fmt.Errorf("media: vp8 decoder init: %s", msg)
	}
	return &VP8Decoder{ctx: ctx, needKey: true}, nil
}

// Decode decodes one complete VP8 frame and returns it with the given capture time.
//
// Until the first keyframe, and after any decode error, inter frames are refused with an error
// wrapping ErrNeedKeyframe without being passed to libvpx; the caller should request a
// keyframe (see PLILimiter). Malformed data returns an error wrapping ErrCorrupt. A frame that
// decodes but is not shown returns ErrNoFrame. See VP8Decoder for who owns the result.
func (d *VP8Decoder) Decode(frame []byte, capture time.Time) (*models.Frame, error) {
	var meta models.Frame
	if err := d.DecodeLazy(frame, capture, &meta); err != nil {
		return nil, err
	}
	f := d.pool.get(meta.Width, meta.Height)
	f.Capture, f.Keyframe, f.Seq, f.Quant = meta.Capture, meta.Keyframe, meta.Seq, meta.Quant
	d.CopyPicture(f)
	return f, nil
}

// DecodeLazy decodes one frame like Decode but leaves its picture in the
// decoder: meta gets the frame's size, capture time, keyframe flag and
// sequence number (its planes are left alone), and CopyPicture copies the
// picture out until the next decode. Live, most frames are decoded only as
// the references of the next ones (the analysis takes 6 of a camera's 15 per
// second outside challenges), so copying every one out of libvpx (460 KB at
// 640x480) and then the analysed ones again was wasted. Errors are Decode's.
func (d *VP8Decoder) DecodeLazy(frame []byte, capture time.Time, meta *models.Frame) error {
	d.img = nil
	if d.ctx == nil {
		return fmt.Errorf("media: vp8 decode: %w", ErrClosed)
	}
	if len(frame) == 0 {
		return fmt.Errorf("media: vp8 decode: %w", ErrEmpty)
	}
	info, err := ParseVP8FrameHeader(frame)
	if err != nil {
		d.needKey = true
		return fmt.Errorf("media: vp8 decode: %w", err)
	}
	if info.Keyframe && info.Width*info.Height > MaxVP8Pixels {
		// Refuse before libvpx allocates reference buffers for the size a sender claims.
		d.needKey = true
		return fmt.Errorf("media: vp8 decode: keyframe size %dx%d exceeds %d pixels: %w",
			info.Width, info.Height, MaxVP8Pixels, ErrUnsupported)
	}
	if !info.Keyframe && d.needKey {
		return fmt.Errorf("media: vp8 decode: inter frame without reference: %w", ErrNeedKeyframe)
	}
	if uint64(len(frame)) > 1<<30 {
		return fmt.Errorf("media: vp8 decode: frame of %d bytes: %w", len(frame), ErrCorrupt)
	}
	if err := d.ensureInput(len(frame)); err != nil {
		return err
	}
	buf := unsafe.Slice((*byte)(d.in), d.inCap)
	copy(buf, frame)
	clear(buf[len(frame) : len(frame)+vp8InputPad])

	rc := C.lc_vp8_decode(d.ctx, (*C.uint8_t)(d.in), C.uint(len(frame)))
	if rc != 0 {
		d.needKey = true
		msg := C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(rc)))
		if detail := C.GoString(C.lc_vp8_detail(d.ctx)); detail != "" {
			msg += ": " + detail
		}
		return fmt.Errorf("media: vp8 decode: libvpx: %s: %w", msg, ErrCorrupt)
	}
	img := d.ctx.img
	if d.ctx.corrupt != 0 {
		d.needKey = true
		return fmt.Errorf("media: vp8 decode: libvpx flagged the frame as corrupted: %w", ErrCorrupt)
	}
	if info.Keyframe {
		d.needKey = false
	}
	if img == nil {
		return fmt.Errorf("media: vp8 decode: %w", ErrNoFrame)
	}
	if img.fmt != C.VPX_IMG_FMT_I420 {
		return fmt.Errorf("media: vp8 decode: image format %#x is not I420: %w", int(img.fmt), ErrUnsupported)
	}
	w, h := int(img.d_w), int(img.d_h)
	d.seq++
	d.width, d.height = w, h
	d.img = img
	meta.Width, meta.Height = w, h
	meta.Capture = capture
	meta.Keyframe = info.Keyframe
	meta.Seq = d.seq
	meta.Quant = int(d.ctx.quant) + 1 // models.Frame.Quant: 0 unknown
	return nil
}

// CopyPicture copies the picture of the last frame DecodeLazy decoded into
// dst's packed planes (resized as needed; dst's size, capture time and the
// other fields are left alone). Without such a frame (none yet, or the last
// decode failed) it does nothing and reports false.
func (d *VP8Decoder) CopyPicture(dst *models.Frame) bool {
	img := d.img
	if img == nil || d.ctx == nil {
		return false
	}
	w, h := int(img.d_w), int(img.d_h)
	cw, ch := (w+1)/2, (h+1)/2
	dst.Y = resize(dst.Y, w*h)
	dst.U = resize(dst.U, cw*ch)
	dst.V = resize(dst.V, cw*ch)
	copyPlane(dst.Y, img.planes[0], int(img.stride[0]), w, h)
	copyPlane(dst.U, img.planes[1], int(img.stride[1]), cw, ch)
	copyPlane(dst.V, img.planes[2], int(img.stride[2]), cw, ch)
	return true
}

// copyPlane copies a strided plane from libvpx memory into the packed dst (w*h bytes).
func copyPlane(dst []byte, src *C.uchar, stride, w, h int) {
	if h == 0 || w == 0 {
		return
	}
	all := unsafe.Slice((*byte)(unsafe.Pointer(src)), (h-1)*stride+w)
	for y := 0; y < h; y++ {
		copy(dst[y*w:(y+1)*w], all[y*stride:y*stride+w])
	}
}

func (d *VP8Decoder) ensureInput(n int) error {
	if n+vp8InputPad <= d.inCap {
		return nil
	}
	if d.in != nil {
		C.free(d.in)
	}
	c := n + vp8InputPad
	if c < 64<<10 {
		c = 64 << 10
	}
	d.in = C.malloc(C.size_t(c))
	if d.in == nil {
		d.inCap = 0
		return fmt.Errorf("media: vp8 decode: cannot allocate %d bytes of C memory", c)
	}
	d.inCap = c
	return nil
}

// Release returns a frame from Decode so that its buffers can be reused. See VP8Decoder.
func (d *VP8Decoder) Release(f *models.Frame) { d.pool.put(f) }

// NeedKeyframe reports whether the decoder is waiting for a keyframe (start, or after an error).
func (d *VP8Decoder) NeedKeyframe() bool { return d.needKey }

// Size returns the dimensions of the last decoded frame (0, 0 before the first).
func (d *VP8Decoder) Size() (width, height int) { return d.width, d.height }

// Frames returns the number of frames decoded so far (the Seq of the last one).
func (d *VP8Decoder) Frames() uint64 { return d.seq }

// Close frees the libvpx context. It is idempotent; Decode after Close returns ErrClosed.
func (d *VP8Decoder) Close() error {
	d.img = nil
	if d.ctx != nil {
		C.lc_vp8_free(d.ctx)
		d.ctx = nil
	}
	if d.in != nil {
		C.free(d.in)
		d.in = nil
		d.inCap = 0
	}
	return nil
}

// framePool recycles frames handed out by a decoder: a small bounded free list.
type framePool struct {
	mu   sync.Mutex
	free []*models.Frame
}

func (p *framePool) get(w, h int) *models.Frame {
	p.mu.Lock()
	var f *models.Frame
	if n := len(p.free); n > 0 {
		f = p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
	} else {
		f = new(models.Frame)
	}
	p.mu.Unlock()

	ys, cs := w*h, ((w+1)/2)*((h+1)/2)
	f.Width, f.Height = w, h
	f.Y = resize(f.Y, ys)
	f.U = resize(f.U, cs)
	f.V = resize(f.V, cs)
	return f
}

func resize(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

func (p *framePool) put(f *models.Frame) {
	if f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.free {
		if g == f {
			return // released twice
		}
	}
	if len(p.free) < maxPooledFrames {
		f.Capture, f.Keyframe, f.Seq, f.Quant = time.Time{}, false, 0, 0
		p.free = append(p.free, f)
	}
}
