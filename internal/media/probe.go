package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Bounds of a recording decoded through FFmpeg (livecheck analyze and eval),
// checked before anything is decoded: a 35-byte GIF claiming 16000x16000 made
// FFmpeg allocate 4 GB.
const (
	// MaxFramePixels is the largest frame (width*height) decoded, as for VP8.
	MaxFramePixels = MaxVP8Pixels
	// MaxFrameSide is the longest side of a frame decoded.
	MaxFrameSide = 8192
	// MaxFrames is the most frames a recording may declare (100 minutes at 60 fps).
	MaxFrames = 360000
)

// ContainerInfo is what a container's headers declare about its video, read
// without decoding. Zero means not declared.
type ContainerInfo struct {
	Format        string // gif | isobmff | matroska | avi
	Width, Height int    // the largest frame or canvas declared
	Frames        int    // frames declared (GIF: counted)
}

// ErrUnknownContainer means ProbeContainer does not know the file's format.
var ErrUnknownContainer = errors.New("media: container not recognised")

// ProbeContainer reads the headers of a GIF, ISO BMFF (MP4, MOV), Matroska
// (MKV, WebM) or AVI file and returns the sizes and frame count they declare.
// Only headers are read (a GIF's blocks are walked, not decompressed). A file
// that ends inside its headers returns what was read so far with ErrTruncated.
func ProbeContainer(r io.ReaderAt, size int64) (ContainerInfo, error) {
	var magic [12]byte
	n, _ := r.ReadAt(magic[:], 0)
	m := magic[:n]
	switch {
	case n >= 6 && (string(m[:6]) == "GIF87a" || string(m[:6]) == "GIF89a"):
		return probeGIF(io.NewSectionReader(r, 0, size))
	case n >= 4 && binary.BigEndian.Uint32(m) == 0x1A45DFA3:
		return probeMatroska(r, size)
	case n >= 12 && string(m[:4]) == "RIFF" && string(m[8:12]) == "AVI ":
		return probeAVI(r, size)
	case n >= 8 && isBoxType(m[4:8]):
		return probeISOBMFF(r, size)
	}
	return ContainerInfo{}, ErrUnknownContainer
}

// CheckFrameBounds refuses a declared size or frame count beyond the bounds.
func CheckFrameBounds(width, height, frames int) error {
	if width < 0 || height < 0 || width > MaxFrameSide || height > MaxFrameSide || width*height > MaxFramePixels {
		return fmt.Errorf("media: frames of %dx%d exceed the limit of %d pixels (%d per side): %w",
			width, height, MaxFramePixels, MaxFrameSide, ErrUnsupported)
	}
	if frames < 0 || frames > MaxFrames {
		return fmt.Errorf("media: %d frames exceed the limit of %d: %w", frames, MaxFrames, ErrUnsupported)
	}
	return nil
}

func (c *ContainerInfo) size(w, h int) {
	c.Width, c.Height = max(c.Width, w), max(c.Height, h)
}

// probeGIF reads the logical screen and every image descriptor (its extent
// within the canvas), skipping extension and image data sub-blocks.
func probeGIF(sr *io.SectionReader) (ContainerInfo, error) {
	info := ContainerInfo{Format: "gif"}
	br := bufio.NewReader(sr)
	var hdr [13]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return info, fmt.Errorf("media: gif header: %w", ErrTruncated)
	}
	info.size(int(binary.LittleEndian.Uint16(hdr[6:])), int(binary.LittleEndian.Uint16(hdr[8:])))
	if hdr[10]&0x80 != 0 {
		if _, err := br.Discard(3 << (hdr[10]&7 + 1)); err != nil {
			return info, fmt.Errorf("media: gif colour table: %w", ErrTruncated)
		}
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			return info, fmt.Errorf("media: gif after %d frames: %w", info.Frames, ErrTruncated)
		}
		switch b {
		case 0x3B: // trailer
			return info, nil
		case 0x21: // extension: label, then sub-blocks
			if _, err := br.ReadByte(); err != nil {
				return info, fmt.Errorf("media: gif extension: %w", ErrTruncated)
			}
			if err := skipSubBlocks(br); err != nil {
				return info, err
			}
		case 0x2C: // image descriptor
			var d [9]byte
			if _, err := io.ReadFull(br, d[:]); err != nil {
				return info, fmt.Errorf("media: gif image descriptor: %w", ErrTruncated)
			}
			left, top := int(binary.LittleEndian.Uint16(d[0:])), int(binary.LittleEndian.Uint16(d[2:]))
			info.size(left+int(binary.LittleEndian.Uint16(d[4:])), top+int(binary.LittleEndian.Uint16(d[6:])))
			info.Frames++
			if d[8]&0x80 != 0 {
				if _, err := br.Discard(3 << (d[8]&7 + 1)); err != nil {
					return info, fmt.Errorf("media: gif local colour table: %w", ErrTruncated)
				}
			}
			if _, err := br.ReadByte(); err != nil { // LZW minimum code size
				return info, fmt.Errorf("media: gif image data: %w", ErrTruncated)
			}
			if err := skipSubBlocks(br); err != nil {
				return info, err
			}
			if info.Frames > MaxFrames {
				return info, nil // enough to refuse
			}
		default:
			return info, fmt.Errorf("media: gif block 0x%02x: %w", b, ErrCorrupt)
		}
	}
}

func skipSubBlocks(br *bufio.Reader) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("media: gif sub-block: %w", ErrTruncated)
		}
		if n == 0 {
			return nil
		}
		if _, err := br.Discard(int(n)); err != nil {
			return fmt.Errorf("media: gif sub-block: %w", ErrTruncated)
		}
	}
}

// isBoxType reports whether b is a plausible first ISO BMFF box type.
func isBoxType(b []byte) bool {
	switch string(b) {
	case "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid":
		return true
	}
	return false
}

// probeISOBMFF reads, for every track, the tkhd size and the first sample
// entry's size, and for video tracks the sample count (frames).
func probeISOBMFF(r io.ReaderAt, size int64) (ContainerInfo, error) {
	info := ContainerInfo{Format: "isobmff"}
	err := walkBoxes(r, 0, size, 0, func(typ string, off, n int64) error {
		if typ != "trak" {
			return nil
		}
		var video bool
		var w, h, frames int
		err := walkBoxes(r, off, off+n, 1, func(typ string, off, n int64) error {
			switch typ {
			case "tkhd": // full box; width and height are its last 8 bytes, 16.16 fixed point
				var b [8]byte
				if n < 8 {
					return nil
				}
				if _, err := r.ReadAt(b[:], off+n-8); err != nil {
					return fmt.Errorf("media: mp4 tkhd: %w", ErrTruncated)
				}
				w, h = max(w, int(binary.BigEndian.Uint32(b[0:])>>16)), max(h, int(binary.BigEndian.Uint32(b[4:])>>16))
			case "stsd": // full box, entry count, then sample entries
				var b [8 + 8 + 24 + 4]byte
				if n < int64(len(b)) {
					return nil
				}
				if _, err := r.ReadAt(b[:], off); err != nil {
					return fmt.Errorf("media: mp4 stsd: %w", ErrTruncated)
				}
				switch string(b[12:16]) { // the first entry's format
				case "avc1", "avc3", "hvc1", "hev1", "vp08", "vp09", "av01", "mp4v", "jpeg", "mjpa", "mjpb", "s263", "h263",
					"apcn", "apch", "apcs", "apco", "ap4h", "png ", "rle ", "raw ", "2vuy", "yuv2":
					video = true
					w, h = max(w, int(binary.BigEndian.Uint16(b[40:]))), max(h, int(binary.BigEndian.Uint16(b[42:])))
				}
			case "stsz": // full box, sample size, sample count
				var b [12]byte
				if n < 12 {
					return nil
				}
				if _, err := r.ReadAt(b[:], off); err != nil {
					return fmt.Errorf("media: mp4 stsz: %w", ErrTruncated)
				}
				frames = int(binary.BigEndian.Uint32(b[8:]))
			}
			return nil
		})
		info.size(w, h)
		if video {
			info.Frames = max(info.Frames, frames)
		}
		return err
	})
	return info, err
}

// walkBoxes calls f with every box's type, payload offset and payload size,
// descending into moov and into a track's media boxes (not into trak: f sees
// it whole).
func walkBoxes(r io.ReaderAt, off, end int64, depth int, f func(typ string, off, n int64) error) error {
	if depth > 8 {
		return nil
	}
	for off+8 <= end {
		var h [16]byte
		if _, err := r.ReadAt(h[:8], off); err != nil {
			return fmt.Errorf("media: mp4 box header: %w", ErrTruncated)
		}
		n, typ, hl := int64(binary.BigEndian.Uint32(h[:4])), string(h[4:8]), int64(8)
		switch n {
		case 0:
			n = end - off
		case 1:
			if _, err := r.ReadAt(h[8:16], off+8); err != nil {
				return fmt.Errorf("media: mp4 box header: %w", ErrTruncated)
			}
			n, hl = int64(binary.BigEndian.Uint64(h[8:16])), 16
		}
		if n > end-off || n < 0 {
			return fmt.Errorf("media: mp4 box %q ends beyond its container: %w", typ, ErrTruncated)
		}
		if n < hl {
			return fmt.Errorf("media: mp4 box %q of %d bytes: %w", typ, n, ErrCorrupt)
		}
		switch typ {
		case "moov", "mdia", "minf", "stbl":
			if err := walkBoxes(r, off+hl, off+n, depth+1, f); err != nil {
				return err
			}
		default:
			if err := f(typ, off+hl, n-hl); err != nil {
				return err
			}
		}
		off += n
	}
	return nil
}

// Matroska element IDs (with their length marker) read by probeMatroska.
const (
	mkvSegment     = 0x18538067
	mkvTracks      = 0x1654AE6B
	mkvTrackEntry  = 0xAE
	mkvVideo       = 0xE0
	mkvPixelWidth  = 0xB0
	mkvPixelHeight = 0xBA
	mkvCluster     = 0x1F43B675
)

// probeMatroska reads PixelWidth and PixelHeight of every video track, up to
// the first cluster.
func probeMatroska(r io.ReaderAt, size int64) (ContainerInfo, error) {
	info := ContainerInfo{Format: "matroska"}
	var walk func(off, end int64, depth int) (bool, error)
	walk = func(off, end int64, depth int) (bool, error) {
		for off < end {
			id, idLen, err := ebmlVint(r, off, true)
			if err != nil {
				return false, err
			}
			n, nLen, err := ebmlVint(r, off+int64(idLen), false)
			if err != nil {
				return false, err
			}
			data := off + int64(idLen+nLen)
			if n < 0 || n > end-data { // unknown or overlong size: up to the parent's end
				n = end - data
			}
			switch id {
			case mkvCluster:
				return true, nil
			case mkvSegment, mkvTracks, mkvTrackEntry, mkvVideo:
				if depth < 6 {
					if stop, err := walk(data, data+n, depth+1); stop || err != nil {
						return stop, err
					}
				}
			case mkvPixelWidth, mkvPixelHeight:
				if n > 8 {
					return false, fmt.Errorf("media: matroska pixel size of %d bytes: %w", n, ErrCorrupt)
				}
				var b [8]byte
				if _, err := r.ReadAt(b[8-n:], data); err != nil {
					return false, fmt.Errorf("media: matroska pixel size: %w", ErrTruncated)
				}
				v := binary.BigEndian.Uint64(b[:])
				if v > 1<<30 {
					v = 1 << 30
				}
				if id == mkvPixelWidth {
					info.size(int(v), 0)
				} else {
					info.size(0, int(v))
				}
			}
			off = data + n
		}
		return false, nil
	}
	_, err := walk(0, size, 0)
	return info, err
}

// ebmlVint reads an EBML variable-length integer at off: an element ID (the
// length marker kept) or a size (marker removed; -1 for "unknown").
func ebmlVint(r io.ReaderAt, off int64, id bool) (int64, int, error) {
	var b [8]byte
	if _, err := r.ReadAt(b[:1], off); err != nil {
		return 0, 0, fmt.Errorf("media: matroska element: %w", ErrTruncated)
	}
	l := 1
	for l <= 8 && b[0]&(0x80>>(l-1)) == 0 {
		l++
	}
	if l > 8 || (id && l > 4) {
		return 0, 0, fmt.Errorf("media: matroska element: bad length: %w", ErrCorrupt)
	}
	if l > 1 {
		if _, err := r.ReadAt(b[1:l], off+1); err != nil {
			return 0, 0, fmt.Errorf("media: matroska element: %w", ErrTruncated)
		}
	}
	var v uint64
	for i := 0; i < l; i++ {
		v = v<<8 | uint64(b[i])
	}
	if id {
		return int64(v), l, nil
	}
	v &^= 1 << (7 * l) // the length marker
	if v == 1<<(7*l)-1 {
		return -1, l, nil
	}
	return int64(v), l, nil
}

// probeAVI reads the main header (avih: total frames, width, height) and every
// stream format (strf: BITMAPINFOHEADER of video streams).
func probeAVI(r io.ReaderAt, size int64) (ContainerInfo, error) {
	info := ContainerInfo{Format: "avi"}
	var stream string // fccType of the stream whose strl is being read
	var walk func(off, end int64, depth int) error
	walk = func(off, end int64, depth int) error {
		for off+8 <= end {
			var h [12]byte
			if _, err := r.ReadAt(h[:8], off); err != nil {
				return fmt.Errorf("media: avi chunk: %w", ErrTruncated)
			}
			id, n := string(h[:4]), int64(binary.LittleEndian.Uint32(h[4:8]))
			data := off + 8
			if n > end-data {
				n = end - data
			}
			switch id {
			case "LIST":
				if n >= 4 && depth < 4 {
					if _, err := r.ReadAt(h[8:12], data); err != nil {
						return fmt.Errorf("media: avi list: %w", ErrTruncated)
					}
					if l := string(h[8:12]); l == "hdrl" || l == "strl" {
						if err := walk(data+4, data+n, depth+1); err != nil {
							return err
						}
					}
				}
			case "avih":
				var b [40]byte
				if n >= 40 {
					if _, err := r.ReadAt(b[:], data); err != nil {
						return fmt.Errorf("media: avi header: %w", ErrTruncated)
					}
					info.Frames = int(binary.LittleEndian.Uint32(b[16:]))
					info.size(int(binary.LittleEndian.Uint32(b[32:])), int(binary.LittleEndian.Uint32(b[36:])))
				}
			case "strh":
				stream = ""
				if n >= 4 {
					if _, err := r.ReadAt(h[8:12], data); err != nil {
						return fmt.Errorf("media: avi stream header: %w", ErrTruncated)
					}
					stream = string(h[8:12])
				}
			case "strf":
				var b [12]byte
				if n >= 12 && stream == "vids" {
					if _, err := r.ReadAt(b[:], data); err != nil {
						return fmt.Errorf("media: avi stream format: %w", ErrTruncated)
					}
					if binary.LittleEndian.Uint32(b[0:]) >= 40 { // a BITMAPINFOHEADER
						w, h := int32(binary.LittleEndian.Uint32(b[4:])), int32(binary.LittleEndian.Uint32(b[8:]))
						info.size(int(abs32(w)), int(abs32(h)))
					}
				}
			}
			off = data + n + n&1 // chunks are padded to even sizes
		}
		return nil
	}
	err := walk(12, size, 0)
	return info, err
}

func abs32(v int32) int64 {
	if v < 0 {
		return -int64(v)
	}
	return int64(v)
}
