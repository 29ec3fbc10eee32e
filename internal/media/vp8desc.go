package media

import "fmt"

// VP8Descriptor is the VP8 RTP payload descriptor (RFC 7741 section 4.2).
type VP8Descriptor struct {
	NonReference bool  // N: the frame can be discarded without affecting others
	Start        bool  // S: the packet starts a VP8 partition
	PartitionID  uint8 // PID: 0 for the first partition
	HasPictureID bool
	PictureID    uint16 // 7 or 15 bits
	HasTL0PicIdx bool
	TL0PicIdx    uint8
	HasTID       bool
	TID          uint8 // temporal layer index
	LayerSync    bool  // Y
	HasKeyIdx    bool
	KeyIdx       uint8
	// Size is the length of the descriptor; the VP8 data starts at payload[Size].
	Size int
}

// FrameStart reports whether the packet starts a frame (S=1 and PID=0).
func (d VP8Descriptor) FrameStart() bool { return d.Start && d.PartitionID == 0 }

// ParseVP8Descriptor parses the payload descriptor at the start of a VP8 RTP payload. It returns
// an error wrapping ErrCorrupt when the payload is shorter than the descriptor it announces.
// The VP8 data after the descriptor may be empty (pion accepts that too); a frame's first packet
// needs at least the frame tag, which the assembler checks.
func ParseVP8Descriptor(payload []byte) (VP8Descriptor, error) {
	var d VP8Descriptor
	if len(payload) == 0 {
		return d, fmt.Errorf("media: vp8 descriptor: %w", ErrEmpty)
	}
	b := payload[0]
	d.NonReference = b&0x20 != 0
	d.Start = b&0x10 != 0
	d.PartitionID = b & 0x07
	i := 1
	if b&0x80 != 0 {
		if i >= len(payload) {
			return d, fmt.Errorf("media: vp8 descriptor: short extension: %w", ErrCorrupt)
		}
		x := payload[i]
		i++
		if x&0x80 != 0 {
			if i >= len(payload) {
				return d, fmt.Errorf("media: vp8 descriptor: short picture id: %w", ErrCorrupt)
			}
			d.HasPictureID = true
			p := payload[i]
			i++
			if p&0x80 != 0 {
				if i >= len(payload) {
					return d, fmt.Errorf("media: vp8 descriptor: short 15-bit picture id: %w", ErrCorrupt)
				}
				d.PictureID = uint16(p&0x7f)<<8 | uint16(payload[i])
				i++
			} else {
				d.PictureID = uint16(p)
			}
		}
		if x&0x40 != 0 {
			if i >= len(payload) {
				return d, fmt.Errorf("media: vp8 descriptor: short TL0PICIDX: %w", ErrCorrupt)
			}
			d.HasTL0PicIdx = true
			d.TL0PicIdx = payload[i]
			i++
		}
		if x&0x30 != 0 {
			if i >= len(payload) {
				return d, fmt.Errorf("media: vp8 descriptor: short TID/KEYIDX: %w", ErrCorrupt)
			}
			t := payload[i]
			i++
			if x&0x20 != 0 {
				d.HasTID = true
				d.TID = t >> 6
				d.LayerSync = t&0x20 != 0
			}
			if x&0x10 != 0 {
				d.HasKeyIdx = true
				d.KeyIdx = t & 0x1f
			}
		}
	}
	d.Size = i
	return d, nil
}

// VP8Packetizer splits VP8 frames into RTP payloads with the payload descriptor's extension
// (RFC 7741 section 4.2): a 15-bit PictureID, TL0PICIDX and TID/Y, which pion's VP8 payloader
// does not write (it writes the PictureID only). Use it from one goroutine.
type VP8Packetizer struct {
	MTU       int    // payload bytes per packet, descriptor included; default 1100
	PictureID uint16 // of the next frame (15 bits)
	TL0PicIdx uint8  // of the last TL0 frame; incremented on each TL0 frame
	started   bool
}

// Payloads returns the RTP payloads of one frame in order (the last one carries the marker).
// tid and sync are the frame's temporal layer and layer-sync bit, nonRef the N bit (the frame
// updates no reference); without temporal layers use tid 0 (a receiver may ignore them).
func (p *VP8Packetizer) Payloads(frame []byte, tid uint8, sync, nonRef bool) [][]byte {
	mtu := p.MTU
	if mtu <= 0 {
		mtu = 1100
	}
	if tid == 0 && p.started {
		p.TL0PicIdx++
	}
	p.started = true
	const size = 6 // X|N|S|PID, I|L|T|K, 2 bytes of PictureID, TL0PICIDX, TID|Y|KEYIDX
	var out [][]byte
	for off := 0; off < len(frame) || off == 0; {
		n := min(len(frame)-off, mtu-size)
		b := make([]byte, size+n)
		b[0] = 0x80 // X
		if off == 0 {
			b[0] |= 0x10 // S, PID 0
		}
		if nonRef {
			b[0] |= 0x20 // N (a sender's claim; the server trusts only the frame header)
		}
		b[1] = 0x80 | 0x40 | 0x20 // I, L, T
		b[2] = 0x80 | byte(p.PictureID>>8&0x7f)
		b[3] = byte(p.PictureID)
		b[4] = p.TL0PicIdx
		b[5] = tid << 6
		if sync {
			b[5] |= 0x20
		}
		copy(b[size:], frame[off:off+n])
		out = append(out, b)
		off += n
		if n == 0 {
			break
		}
	}
	p.PictureID = (p.PictureID + 1) & 0x7fff
	return out
}
