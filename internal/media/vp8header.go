package media

import "fmt"

// VP8FrameInfo is what the uncompressed header of a VP8 frame (RFC 6386 section 9.1) tells
// without decoding it.
type VP8FrameInfo struct {
	Keyframe  bool
	Version   int  // 0..3
	Show      bool // show_frame: false for invisible (alt-ref) frames
	FirstPart int  // size of the first partition in bytes
	// Width and Height are set for keyframes only (scaling bits removed).
	Width, Height int
}

// ParseVP8FrameHeader reads the 3-byte frame tag of a VP8 frame and, for keyframes, the start
// code and dimensions. It validates only the header; the frame may still fail to decode.
func ParseVP8FrameHeader(frame []byte) (VP8FrameInfo, error) {
	if len(frame) < 3 {
		return VP8FrameInfo{}, fmt.Errorf("media: vp8 frame header: %d bytes: %w", len(frame), ErrCorrupt)
	}
	tag := uint32(frame[0]) | uint32(frame[1])<<8 | uint32(frame[2])<<16
	info := VP8FrameInfo{
		Keyframe:  tag&1 == 0,
		Version:   int(tag>>1) & 7,
		Show:      tag>>4&1 == 1,
		FirstPart: int(tag >> 5),
	}
	if info.Version > 3 {
		return info, fmt.Errorf("media: vp8 frame header: version %d: %w", info.Version, ErrCorrupt)
	}
	if !info.Keyframe {
		return info, nil
	}
	if len(frame) < 10 {
		return info, fmt.Errorf("media: vp8 keyframe header: %d bytes: %w", len(frame), ErrCorrupt)
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return info, fmt.Errorf("media: vp8 keyframe header: bad start code % x: %w", frame[3:6], ErrCorrupt)
	}
	info.Width = int(uint16(frame[6])|uint16(frame[7])<<8) & 0x3fff
	info.Height = int(uint16(frame[8])|uint16(frame[9])<<8) & 0x3fff
	if info.Width == 0 || info.Height == 0 {
		return info, fmt.Errorf("media: vp8 keyframe header: size %dx%d: %w", info.Width, info.Height, ErrCorrupt)
	}
	return info, nil
}

// VP8Refresh is what a VP8 frame changes in the decoder's state for the frames after it, read
// from the start of its first partition (RFC 6386 sections 9.3-9.11 and 19.2) with the boolean
// decoder, without decoding any macroblock.
type VP8Refresh struct {
	Keyframe     bool
	Last         bool  // refresh_last
	Golden       bool  // refresh_golden_frame
	AltRef       bool  // refresh_alternate_frame
	CopyToGolden uint8 // copy_buffer_to_golden: 0 none, 1 last, 2 altref
	CopyToAltRef uint8 // copy_buffer_to_alternate: 0 none, 1 last, 2 golden
	Entropy      bool  // refresh_entropy_probs: this frame's probability updates persist
	Segmentation bool  // update_mb_segmentation_map or update_segment_feature_data: persists
	LFDeltas     bool  // mode_ref_lf_delta_update: the loop filter deltas persist
	// LFDeltaSet has bit i (ref_frame deltas 0-3, mb_mode deltas 4-7) set when the frame
	// writes delta i, and LFDelta the values written. libvpx in error-resilient mode (WebRTC's)
	// writes all of them in every frame, usually unchanged: VP8DropTracker compares.
	LFDeltaSet uint8
	LFDelta    [8]int8
}

// Droppable reports whether decoding the frame changes nothing a later frame depends on: an
// inter frame that refreshes and copies no reference buffer and leaves the probabilities, the
// segmentation and the loop-filter deltas as they were. Such a frame (the top temporal layer of
// an L1T2 or L1T3 stream) can be skipped without any drift in the frames decoded after it. This
// is the frame's own header, which libvpx obeys; the RTP payload descriptor's TID and N bit are
// the sender's claim about it and are not trusted.
func (r VP8Refresh) Droppable() bool {
	return !r.Keyframe && !r.Last && !r.Golden && !r.AltRef && r.CopyToGolden == 0 && r.CopyToAltRef == 0 &&
		!r.Entropy && !r.Segmentation && !r.LFDeltas
}

// ParseVP8Refresh reads a VP8 frame's refresh flags. It returns an error wrapping ErrCorrupt
// when the frame tag is malformed or the header runs past the first partition; the caller must
// then treat the frame as a reference (decode it).
func ParseVP8Refresh(frame []byte) (VP8Refresh, error) {
	info, err := ParseVP8FrameHeader(frame)
	if err != nil {
		return VP8Refresh{}, err
	}
	r := VP8Refresh{Keyframe: info.Keyframe}
	start := 3
	if info.Keyframe {
		start = 10
	}
	if info.FirstPart <= 0 || start+info.FirstPart > len(frame) {
		return r, fmt.Errorf("media: vp8 header: first partition of %d bytes in a %d-byte frame: %w", info.FirstPart, len(frame), ErrCorrupt)
	}
	bd := newBoolDecoder(frame[start : start+info.FirstPart])
	if info.Keyframe {
		bd.literal(2) // color_space, clamping_type
	}
	if bd.flag() { // segmentation_enabled
		updMap, updData := bd.flag(), bd.flag()
		r.Segmentation = updMap || updData
		if updData {
			bd.flag() // segment_feature_mode
			for i := 0; i < 4; i++ {
				bd.signed(7) // quantizer
			}
			for i := 0; i < 4; i++ {
				bd.signed(6) // loop filter level
			}
		}
		if updMap {
			for i := 0; i < 3; i++ {
				if bd.flag() {
					bd.literal(8) // segment_prob
				}
			}
		}
	}
	bd.literal(1 + 6 + 3) // filter_type, loop_filter_level, sharpness_level
	if bd.flag() {        // loop_filter_adj_enable
		if bd.flag() { // mode_ref_lf_delta_update
			r.LFDeltas = true
			for i := 0; i < 8; i++ {
				if v, ok := bd.signedValue(6); ok {
					r.LFDeltaSet |= 1 << i
					r.LFDelta[i] = int8(v)
				}
			}
		}
	}
	bd.literal(2) // log2_nbr_of_dct_partitions
	bd.literal(7) // y_ac_qi
	for i := 0; i < 5; i++ {
		bd.signed(4) // y_dc, y2_dc, y2_ac, uv_dc, uv_ac deltas
	}
	if info.Keyframe {
		r.Entropy = bd.flag()
		r.Last, r.Golden, r.AltRef = true, true, true
	} else {
		r.Golden = bd.flag()
		r.AltRef = bd.flag()
		if !r.Golden {
			r.CopyToGolden = uint8(bd.literal(2))
		}
		if !r.AltRef {
			r.CopyToAltRef = uint8(bd.literal(2))
		}
		bd.literal(2) // sign_bias_golden, sign_bias_alternate
		r.Entropy = bd.flag()
		r.Last = bd.flag()
	}
	if bd.over {
		return r, fmt.Errorf("media: vp8 header: runs past its %d-byte first partition: %w", info.FirstPart, ErrCorrupt)
	}
	return r, nil
}

// boolDecoder is the boolean entropy decoder of RFC 6386 section 7.3, enough for the frame
// header's flags and literals (probability 128).
type boolDecoder struct {
	data     []byte
	pos      int
	value    uint32
	rng      uint32
	bitCount int
	over     bool // a byte past the end was needed
}

func newBoolDecoder(data []byte) *boolDecoder {
	d := &boolDecoder{data: data, rng: 255}
	d.value = uint32(d.next())<<8 | uint32(d.next())
	return d
}

func (d *boolDecoder) next() byte {
	if d.pos >= len(d.data) {
		// libvpx reads zeros past the end; a header that needs them is refused by the caller.
		// The 2-byte look-ahead of the decoder's window is allowed.
		if d.pos >= len(d.data)+2 {
			d.over = true
		}
		d.pos++
		return 0
	}
	b := d.data[d.pos]
	d.pos++
	return b
}

func (d *boolDecoder) bool(prob uint32) bool {
	split := 1 + ((d.rng-1)*prob)>>8
	bigSplit := split << 8
	var ret bool
	if d.value >= bigSplit {
		ret = true
		d.rng -= split
		d.value -= bigSplit
	} else {
		d.rng = split
	}
	for d.rng < 128 {
		d.value <<= 1
		d.rng <<= 1
		if d.bitCount++; d.bitCount == 8 {
			d.bitCount = 0
			d.value |= uint32(d.next())
		}
	}
	return ret
}

func (d *boolDecoder) flag() bool { return d.bool(128) }

func (d *boolDecoder) literal(n int) int {
	v := 0
	for i := 0; i < n; i++ {
		v <<= 1
		if d.flag() {
			v |= 1
		}
	}
	return v
}

// signed reads an optional signed value: a presence flag, n bits of magnitude and a sign.
func (d *boolDecoder) signed(n int) { d.signedValue(n) }

func (d *boolDecoder) signedValue(n int) (int, bool) {
	if !d.flag() {
		return 0, false
	}
	v := d.literal(n)
	if d.flag() {
		v = -v
	}
	return v, true
}

// VP8DropTracker decides which frames of a stream may be skipped, keeping the one piece of
// decoder state a frame header may rewrite to the same value: the loop-filter deltas
// (VP8Refresh.LFDeltaSet). Tell it every frame the decoder decoded (Decoded), in order; a frame
// is Droppable when VP8Refresh.Droppable holds apart from the deltas and the deltas it writes
// equal the decoder's. After a decoded frame whose header did not parse it allows no skipping
// until the next keyframe. Use it from one goroutine.
type VP8DropTracker struct {
	lf    [8]int8
	known bool // lf mirrors the decoder's (since a keyframe)
}

// Droppable reports whether the frame with header r may be skipped without drift.
func (t *VP8DropTracker) Droppable(r VP8Refresh) bool {
	if !t.known {
		return false
	}
	if r.LFDeltas {
		for i := 0; i < 8; i++ {
			if r.LFDeltaSet&(1<<i) != 0 && r.LFDelta[i] != t.lf[i] {
				return false
			}
		}
		r.LFDeltas, r.LFDeltaSet = false, 0
	}
	return r.Droppable()
}

// Decoded records a frame the decoder decoded; err is ParseVP8Refresh's for it.
func (t *VP8DropTracker) Decoded(r VP8Refresh, err error) {
	if err != nil {
		t.known = false
		return
	}
	if r.Keyframe { // libvpx zeroes the deltas on a keyframe, before its header
		t.lf, t.known = [8]int8{}, true
	}
	for i := 0; i < 8; i++ {
		if r.LFDeltaSet&(1<<i) != 0 {
			t.lf[i] = r.LFDelta[i]
		}
	}
}
