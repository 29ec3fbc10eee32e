// Package mediatest makes hostile media files for tests of the decoders.
package mediatest

import "encoding/binary"

// GIFBomb returns a complete GIF of 29 bytes whose canvas and only frame claim
// n x n pixels: the decompression bomb of the security probe (issue 13), for
// which FFmpeg allocated gigabytes.
func GIFBomb(n uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, n)
	b = binary.LittleEndian.AppendUint16(b, n)
	b = append(b, 0, 0, 0, 0x2C, 0, 0, 0, 0) // no colour table; an image descriptor at 0,0
	b = binary.LittleEndian.AppendUint16(b, n)
	b = binary.LittleEndian.AppendUint16(b, n)
	return append(b, 0, 2, 2, 0x4C, 0x01, 0, 0x3B) // LZW size 2, one sub-block, trailer
}
