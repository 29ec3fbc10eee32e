package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Analysis constants. Everything in this package works on 48 kHz mono PCM cut
// into 20 ms frames, which is what the Opus decoder in the live path delivers.
const (
	// SampleRate is the analysis sample rate in Hz.
	SampleRate = 48000
	// FrameSize is the number of samples in one analysis frame (20 ms at 48 kHz).
	FrameSize = 960
	// FrameDuration is the length of one analysis frame.
	FrameDuration = 20 * time.Millisecond
)

// Int16ToFloat32 appends src converted to float32 in [-1, 1) (divided by 32768) to dst.
func Int16ToFloat32(dst []float32, src []int16) []float32 {
	for _, v := range src {
		dst = append(dst, float32(v)/32768)
	}
	return dst
}

// ReadWAV decodes a RIFF/WAVE stream into mono float32 samples in [-1, 1] and
// returns them with the file's sample rate. It accepts integer PCM of 8, 16, 24
// or 32 bits and IEEE float of 32 or 64 bits (plain or WAVE_FORMAT_EXTENSIBLE).
// Several channels are averaged into one. A data chunk whose declared size is
// larger than the stream (as written by some streaming encoders) is read to EOF.
// Use Resample to bring the result to SampleRate.
func ReadWAV(r io.Reader) ([]float32, int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("voice: read wav: %w", err)
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, errors.New("voice: not a RIFF/WAVE file")
	}
	var (
		format, channels, bits int
		rate                   int
		haveFmt                bool
	)
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		size := int(binary.LittleEndian.Uint32(data[off+4 : off+8]))
		body := data[off+8:]
		if size > len(body) || size < 0 {
			if id != "data" {
				return nil, 0, fmt.Errorf("voice: wav chunk %q truncated", id)
			}
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("voice: wav fmt chunk too short")
			}
			format = int(binary.LittleEndian.Uint16(body[0:2]))
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
			if format == 0xFFFE && size >= 26 {
				format = int(binary.LittleEndian.Uint16(body[24:26])) // sub-format GUID starts with the tag
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, errors.New("voice: wav data chunk before fmt chunk")
			}
			pcm, err := decodePCM(body, format, channels, bits)
			if err != nil {
				return nil, 0, err
			}
			return pcm, rate, nil
		}
		off += 8 + size + size&1
	}
	return nil, 0, errors.New("voice: wav has no data chunk")
}

func decodePCM(b []byte, format, channels, bits int) ([]float32, error) {
	if channels < 1 {
		return nil, errors.New("voice: wav has no channels")
	}
	bps := bits / 8
	switch {
	case format == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32):
	case format == 3 && (bits == 32 || bits == 64):
	default:
		return nil, fmt.Errorf("voice: unsupported wav encoding (format %d, %d bits)", format, bits)
	}
	frame := bps * channels
	n := len(b) / frame
	out := make([]float32, n)
	for i := range n {
		var sum float64
		for c := range channels {
			s := b[i*frame+c*bps:]
			var v float64
			switch {
			case format == 3 && bits == 32:
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(s)))
			case format == 3:
				v = math.Float64frombits(binary.LittleEndian.Uint64(s))
			case bits == 8:
				v = (float64(s[0]) - 128) / 128
			case bits == 16:
				v = float64(int16(binary.LittleEndian.Uint16(s))) / 32768
			case bits == 24:
				x := int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24) >> 8
				v = float64(x) / (1 << 23)
			default:
				v = float64(int32(binary.LittleEndian.Uint32(s))) / (1 << 31)
			}
			sum += v
		}
		out[i] = float32(sum / float64(channels))
	}
	return out, nil
}

// Resample converts x from rate from to rate to (both in Hz) with a windowed-sinc
// interpolator: 16 zero crossings on each side, Blackman window, and a cut-off at
// 0.95 × the lower of the two Nyquist frequencies, so downsampling is
// anti-aliased. The output has round(len(x)·to/from) samples. When the ratio
// reduces to at most 4096 phases the filter is precomputed per phase; otherwise
// every tap is computed on the fly (slower, same result). Resample works on
// whole buffers; it is meant for files and test inputs, not for the 48 kHz live
// path, which needs no conversion.
func Resample(x []float32, from, to int) []float32 {
	if from <= 0 || to <= 0 {
		panic("voice: Resample rates must be positive")
	}
	if from == to || len(x) == 0 {
		return append([]float32(nil), x...)
	}
	const zeros = 16
	fc := 0.5 * 0.95 * math.Min(1, float64(to)/float64(from)) // cycles per input sample
	half := int(math.Ceil(zeros / (2 * fc)))                  // taps on each side
	kernel := func(d float64) float64 {                       // d in input samples
		if d <= -float64(half) || d >= float64(half) {
			return 0
		}
		u := d / float64(half)
		w := 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
		a := 2 * fc * d
		s := 1.0
		if a != 0 {
			s = math.Sin(math.Pi*a) / (math.Pi * a)
		}
		return 2 * fc * s * w
	}
	g := gcd(from, to)
	up, down := to/g, from/g // output n sits at input position n*down/up
	nOut := int((int64(len(x))*int64(to) + int64(from)/2) / int64(from))
	out := make([]float32, nOut)
	var table [][]float64
	if up <= 4096 {
		table = make([][]float64, up)
		for ph := range up {
			frac := float64(ph) / float64(up)
			row := make([]float64, 2*half)
			for j := range row {
				k := j - half + 1 // input offset relative to floor(position)
				row[j] = kernel(frac - float64(k))
			}
			table[ph] = row
		}
	}
	for n := range nOut {
		num := int64(n) * int64(down)
		base := int(num / int64(up))
		ph := int(num % int64(up))
		var acc float64
		for j := range 2 * half {
			k := base + j - half + 1
			if k < 0 || k >= len(x) {
				continue
			}
			var h float64
			if table != nil {
				h = table[ph][j]
			} else {
				h = kernel(float64(ph)/float64(up) - float64(j-half+1))
			}
			acc += h * float64(x[k])
		}
		out[n] = float32(acc)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
