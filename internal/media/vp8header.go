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
