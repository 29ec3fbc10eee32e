package challenge

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
)

// idBytes is the number of random bytes in a challenge ID (128 bits).
const idBytes = 16

// source draws unbiased integers and floats from an io.Reader (crypto/rand.Reader in
// production). The first read error is kept and every later draw returns zero; callers check
// err once after drawing.
type source struct {
	r   io.Reader
	err error
	buf [8]byte
}

func newSource(r io.Reader) *source {
	// Buffering only changes how many bytes each read syscall fetches, not their randomness.
	return &source{r: bufio.NewReaderSize(r, 512)}
}

func (s *source) bytes(p []byte) {
	if s.err != nil {
		clear(p)
		return
	}
	if _, err := io.ReadFull(s.r, p); err != nil {
		s.err = fmt.Errorf("challenge: reading randomness: %w", err)
		clear(p)
	}
}

func (s *source) uint64() uint64 {
	s.bytes(s.buf[:])
	var v uint64
	for _, b := range s.buf {
		v = v<<8 | uint64(b)
	}
	return v
}

// intn returns a uniform integer in [0, n) by rejection sampling (no modulo bias).
func (s *source) intn(n int) int {
	if n <= 1 {
		return 0
	}
	un := uint64(n)
	thresh := -un % un // 2^64 mod n: values below it would bias the modulo
	for {
		v := s.uint64()
		if s.err != nil {
			return 0
		}
		if v >= thresh {
			return int(v % un)
		}
	}
}

// float returns a uniform float64 in [0, 1).
func (s *source) float() float64 {
	return float64(s.uint64()>>11) / (1 << 53)
}

// pick returns a uniform element of choices.
func pick[T any](s *source, choices []T) T {
	return choices[s.intn(len(choices))]
}

// id returns a random URL-safe identifier of idBytes random bytes.
func (s *source) id() string {
	b := make([]byte, idBytes)
	s.bytes(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
