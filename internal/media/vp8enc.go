package media

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_image_t img;
	unsigned char *buf; // I420 input, w*h*3/2
	unsigned char *out; // last packet's bytes, copied
	size_t out_len, out_cap;
	int key;
	unsigned long deadline; // VPX_DL_REALTIME or VPX_DL_GOOD_QUALITY
} lc_vp8enc;

static lc_vp8enc *lc_vp8enc_new(int w, int h, int fps, int kbps, int kfmax, int cpu, int good, int layers, int *err) {
	lc_vp8enc *e = calloc(1, sizeof(lc_vp8enc));
	if (e == NULL) {
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_codec_enc_cfg_t cfg;
	vpx_codec_err_t r = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0);
	if (r != VPX_CODEC_OK) {
		free(e);
		*err = (int)r;
		return NULL;
	}
	cfg.g_w = w;
	cfg.g_h = h;
	cfg.g_timebase.num = 1;
	cfg.g_timebase.den = fps;
	cfg.rc_target_bitrate = kbps;
	cfg.g_threads = 1;
	cfg.g_lag_in_frames = 0;
	cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
	cfg.rc_end_usage = VPX_CBR;
	cfg.kf_mode = VPX_KF_AUTO;
	cfg.kf_max_dist = kfmax;
	cfg.rc_dropframe_thresh = 0;
	if (layers == 2) {
		// L1T2: TL0 at half the frame rate, TL1 in between (60 % / 100 % of the bitrate).
		cfg.ts_number_layers = 2;
		cfg.ts_periodicity = 2;
		cfg.ts_layer_id[0] = 0; cfg.ts_layer_id[1] = 1;
		cfg.ts_rate_decimator[0] = 2; cfg.ts_rate_decimator[1] = 1;
		cfg.ts_target_bitrate[0] = kbps * 6 / 10; cfg.ts_target_bitrate[1] = kbps;
	} else if (layers == 3) {
		// L1T3: TL0 at a quarter, TL1 at half, TL2 at the full rate (40 / 60 / 100 %), as WebRTC.
		cfg.ts_number_layers = 3;
		cfg.ts_periodicity = 4;
		cfg.ts_layer_id[0] = 0; cfg.ts_layer_id[1] = 2; cfg.ts_layer_id[2] = 1; cfg.ts_layer_id[3] = 2;
		cfg.ts_rate_decimator[0] = 4; cfg.ts_rate_decimator[1] = 2; cfg.ts_rate_decimator[2] = 1;
		cfg.ts_target_bitrate[0] = kbps * 4 / 10; cfg.ts_target_bitrate[1] = kbps * 6 / 10; cfg.ts_target_bitrate[2] = kbps;
	}
	r = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &cfg, 0);
	if (r != VPX_CODEC_OK) {
		free(e);
		*err = (int)r;
		return NULL;
	}
	vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, cpu);
	vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0);
	e->buf = malloc((size_t)w * h * 3 / 2);
	if (e->buf == NULL) {
		vpx_codec_destroy(&e->ctx);
		free(e);
		*err = VPX_CODEC_MEM_ERROR;
		return NULL;
	}
	vpx_img_wrap(&e->img, VPX_IMG_FMT_I420, w, h, 1, e->buf);
	e->deadline = good ? VPX_DL_GOOD_QUALITY : VPX_DL_REALTIME;
	return e;
}

static void lc_vp8enc_free(lc_vp8enc *e) {
	vpx_codec_destroy(&e->ctx);
	free(e->buf);
	free(e->out);
	free(e);
}

// lc_vp8enc_encode encodes the image in e->buf; the packet is in e->out/e->out_len (0 when the
// encoder produced none).
// With temporal layers, layer is the frame's layer (-1: none) and flags its VP8_EFLAG_* reference flags.
static int lc_vp8enc_encode(lc_vp8enc *e, long pts, int force_key, int layer, long flags) {
	e->out_len = 0;
	e->key = 0;
	if (layer >= 0) {
		vpx_codec_control(&e->ctx, VP8E_SET_TEMPORAL_LAYER_ID, layer);
	}
	vpx_enc_frame_flags_t fl = (vpx_enc_frame_flags_t)flags;
	if (force_key) {
		fl = VPX_EFLAG_FORCE_KF;
	}
	vpx_codec_err_t r = vpx_codec_encode(&e->ctx, &e->img, pts, 1, fl, e->deadline);
	if (r != VPX_CODEC_OK) {
		return (int)r;
	}
	vpx_codec_iter_t it = NULL;
	const vpx_codec_cx_pkt_t *p;
	while ((p = vpx_codec_get_cx_data(&e->ctx, &it)) != NULL) {
		if (p->kind != VPX_CODEC_CX_FRAME_PKT) {
			continue;
		}
		size_t need = e->out_len + p->data.frame.sz;
		if (need > e->out_cap) {
			unsigned char *nb = realloc(e->out, need);
			if (nb == NULL) {
				return VPX_CODEC_MEM_ERROR;
			}
			e->out = nb;
			e->out_cap = need;
		}
		memcpy(e->out + e->out_len, p->data.frame.buf, p->data.frame.sz);
		e->out_len = need;
		if (p->data.frame.flags & VPX_FRAME_IS_KEY) {
			e->key = 1;
		}
	}
	return 0;
}

static int lc_vp8enc_set_bitrate(lc_vp8enc *e, int kbps) {
	vpx_codec_enc_cfg_t cfg = *e->ctx.config.enc;
	cfg.rc_target_bitrate = kbps;
	return (int)vpx_codec_enc_config_set(&e->ctx, &cfg);
}

// Reference flags of the temporal-layer patterns (libvpx's vp8_multi_resolution / WebRTC's).
#define LC_TS_TL0 (VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF)
#define LC_TS_TL1_GOLDEN (VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_ARF)
#define LC_TS_TOP_SYNC (VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_GF | \
	VP8_EFLAG_NO_UPD_ARF | VP8_EFLAG_NO_UPD_ENTROPY)
#define LC_TS_TOP (VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF | \
	VP8_EFLAG_NO_UPD_ENTROPY)

static const char *lc_vp8enc_detail(lc_vp8enc *e) {
	const char *s = vpx_codec_error_detail(&e->ctx);
	return s ? s : "";
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/livecheck/livecheck/models"
)

// VP8EncoderConfig configures a VP8Encoder. Zero fields take the defaults.
type VP8EncoderConfig struct {
	Width, Height int // required, even
	FPS           int // time base of the rate control; default 15
	BitrateKbps   int // target bitrate; default 800 (a browser's camera at 640x480)
	KeyframeMax   int // at most this many frames between keyframes; default 150
	CPUUsed       int // libvpx speed (-16..16); default 8, the realtime setting browsers use
	// TemporalLayers (0 or 1: none; 2: L1T2; 3: L1T3) encodes WebRTC-style temporal layers:
	// the top layer's frames (every second frame) update no reference buffer and no
	// probabilities, so a receiver may skip decoding them. LastLayer tells each frame's layer.
	TemporalLayers int
	// Good encodes with libvpx's good deadline instead of the realtime one: the realtime
	// deadline adapts its effort to the time it gets, so its bytes differ run to run and under
	// load; the good deadline on one thread gives the same bytes every run (tests that count
	// outcomes).
	Good bool
}

// VP8Encoder encodes I420 frames to VP8 with libvpx (one thread, realtime deadline, CBR, no
// lag): what a browser's camera sends. It is used by test and measurement tools (the red team);
// the server only decodes. Encode and Close must be called from one goroutine.
type VP8Encoder struct {
	ctx      *C.lc_vp8enc
	cfg      VP8EncoderConfig
	pts      int64
	ySz      int
	cSz      int
	cw       int
	ch       int
	outs     int
	tsIdx    int   // position in the temporal-layer pattern of the next frame
	lastTID  uint8 // temporal layer of the last frame encoded
	lastSync bool  // the last frame references only TL0 (a layer sync)
}

// NewVP8Encoder creates an encoder. Close it when done.
func NewVP8Encoder(cfg VP8EncoderConfig) (*VP8Encoder, error) {
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width%2 != 0 || cfg.Height%2 != 0 || cfg.Width*cfg.Height > MaxVP8Pixels {
		return nil, fmt.Errorf("media: vp8 encoder: size %dx%d must be positive, even and at most %d pixels: %w",
			cfg.Width, cfg.Height, MaxVP8Pixels, ErrUnsupported)
	}
	if cfg.FPS <= 0 {
		cfg.FPS = 15
	}
	if cfg.BitrateKbps <= 0 {
		cfg.BitrateKbps = 800
	}
	if cfg.KeyframeMax <= 0 {
		cfg.KeyframeMax = 150
	}
	if cfg.CPUUsed == 0 {
		cfg.CPUUsed = 8
	}
	if cfg.TemporalLayers < 0 || cfg.TemporalLayers > 3 {
		return nil, fmt.Errorf("media: vp8 encoder: %d temporal layers (want 1, 2 or 3): %w", cfg.TemporalLayers, ErrUnsupported)
	}
	var cerr C.int
	ctx := C.lc_vp8enc_new(C.int(cfg.Width), C.int(cfg.Height), C.int(cfg.FPS), C.int(cfg.BitrateKbps),
		C.int(cfg.KeyframeMax), C.int(cfg.CPUUsed), C.int(b2i(cfg.Good)), C.int(cfg.TemporalLayers), &cerr)
	if ctx == nil {
		return nil, fmt.Errorf("media: vp8 encoder init: %s", C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(cerr))))
	}
	cw, ch := cfg.Width/2, cfg.Height/2
	return &VP8Encoder{ctx: ctx, cfg: cfg, ySz: cfg.Width * cfg.Height, cSz: cw * ch, cw: cw, ch: ch}, nil
}

// Encode encodes one frame (tightly packed I420 of the configured size) and returns the VP8
// frame, a new slice, and whether it is a keyframe. forceKey asks for a keyframe (answering a
// PLI). The first frame is always a keyframe.
func (e *VP8Encoder) Encode(f *models.Frame, forceKey bool) ([]byte, bool, error) {
	if e.ctx == nil {
		return nil, false, fmt.Errorf("media: vp8 encode: %w", ErrClosed)
	}
	if f.Width != e.cfg.Width || f.Height != e.cfg.Height || len(f.Y) < e.ySz || len(f.U) < e.cSz || len(f.V) < e.cSz {
		return nil, false, fmt.Errorf("media: vp8 encode: frame %dx%d (planes %d/%d/%d), encoder %dx%d: %w",
			f.Width, f.Height, len(f.Y), len(f.U), len(f.V), e.cfg.Width, e.cfg.Height, ErrUnsupported)
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(e.ctx.buf)), e.ySz+2*e.cSz)
	copy(buf, f.Y[:e.ySz])
	copy(buf[e.ySz:], f.U[:e.cSz])
	copy(buf[e.ySz+e.cSz:], f.V[:e.cSz])
	fk := C.int(0)
	if forceKey {
		fk = 1
	}
	if forceKey || e.pts == 0 {
		e.tsIdx = 0
	}
	layer, flags, sync := e.layerFlags()
	rc := C.lc_vp8enc_encode(e.ctx, C.long(e.pts), fk, C.int(layer), flags)
	e.pts++
	if rc != 0 {
		msg := C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(rc)))
		if d := C.GoString(C.lc_vp8enc_detail(e.ctx)); d != "" {
			msg += ": " + d
		}
		return nil, false, fmt.Errorf("media: vp8 encode: libvpx: %s", msg)
	}
	if e.ctx.out_len == 0 {
		return nil, false, fmt.Errorf("media: vp8 encode: %w", ErrNoFrame)
	}
	e.outs++
	out := C.GoBytes(unsafe.Pointer(e.ctx.out), C.int(e.ctx.out_len))
	key := e.ctx.key != 0
	e.lastTID, e.lastSync = 0, false
	if layer > 0 && !key {
		e.lastTID, e.lastSync = uint8(layer), sync
	}
	if key {
		e.tsIdx = 1 // a keyframe is the pattern's TL0 frame
	} else {
		e.tsIdx++
	}
	return out, key, nil
}

// layerFlags returns the temporal layer (-1 without layers), the libvpx reference flags and
// the layer-sync bit of the frame at e.tsIdx in the pattern.
func (e *VP8Encoder) layerFlags() (int, C.long, bool) {
	switch e.cfg.TemporalLayers {
	case 2:
		if e.tsIdx%2 == 0 {
			return 0, C.LC_TS_TL0, false
		}
		return 1, C.LC_TS_TOP_SYNC, true
	case 3:
		switch e.tsIdx % 4 {
		case 0:
			return 0, C.LC_TS_TL0, false
		case 1:
			return 2, C.LC_TS_TOP_SYNC, true
		case 2:
			return 1, C.LC_TS_TL1_GOLDEN, true
		default:
			return 2, C.LC_TS_TOP, false
		}
	}
	return -1, 0, false
}

// LastLayer returns the temporal layer (TID) of the last frame Encode returned and whether it
// is a layer sync (it references only TL0 frames). Without temporal layers: 0, false.
func (e *VP8Encoder) LastLayer() (tid uint8, sync bool) { return e.lastTID, e.lastSync }

// SetBitrate changes the target bitrate (kbit/s) from the next frame on.
func (e *VP8Encoder) SetBitrate(kbps int) error {
	if e.ctx == nil {
		return fmt.Errorf("media: vp8 encoder: %w", ErrClosed)
	}
	if kbps <= 0 {
		return fmt.Errorf("media: vp8 encoder: bitrate %d: %w", kbps, ErrUnsupported)
	}
	if rc := C.lc_vp8enc_set_bitrate(e.ctx, C.int(kbps)); rc != 0 {
		return fmt.Errorf("media: vp8 encoder: bitrate: %s", C.GoString(C.vpx_codec_err_to_string(C.vpx_codec_err_t(rc))))
	}
	e.cfg.BitrateKbps = kbps
	return nil
}

// Close frees the libvpx context. It is idempotent.
func (e *VP8Encoder) Close() error {
	if e.ctx != nil {
		C.lc_vp8enc_free(e.ctx)
		e.ctx = nil
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
