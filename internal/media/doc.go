// Package media turns the candidate's RTP streams and media files into decoded frames and PCM:
// a marker-bit VP8 frame assembler, cgo wrappers over libvpx (VP8) and libopus, an RTCP
// sender-report clock, a latest-wins mailbox between decode and analysis, a keyframe-request
// rate limiter, and IVF/Y4M/WAV readers and writers for the offline analyser and tests.
//
// Threading: a VP8Decoder, OpusDecoder, OpusEncoder and VP8Assembler each belong to one
// goroutine (the track's RTP reader). Clock, Mailbox, PLILimiter and VP8Decoder.Release are
// safe for concurrent use.
package media

import "errors"

// Sentinel errors. Errors returned by this package wrap them where they apply; test with errors.Is.
var (
	// ErrClosed means the object was closed.
	ErrClosed = errors.New("closed")
	// ErrEmpty means the input (packet, frame) had no data.
	ErrEmpty = errors.New("empty input")
	// ErrCorrupt means the input is malformed or could not be decoded.
	ErrCorrupt = errors.New("corrupt data")
	// ErrNeedKeyframe means an inter frame was refused because the decoder has no valid
	// reference (start of stream, or after an error); decoding resumes at the next keyframe.
	ErrNeedKeyframe = errors.New("keyframe needed")
	// ErrNoFrame means the data decoded without error but produced no frame to display
	// (for example an invisible alt-ref frame). It is not a stream failure.
	ErrNoFrame = errors.New("no displayable frame")
	// ErrUnsupported means a well-formed file uses a format this package does not read.
	ErrUnsupported = errors.New("unsupported format")
	// ErrTruncated means a file ended in the middle of a header or frame.
	ErrTruncated = errors.New("truncated")
)
