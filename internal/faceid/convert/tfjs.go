// Package convert turns the TensorFlow.js face-recognition weights shipped in
// the npm package @vladmandic/face-api into an ONNX model that OpenCV 4.6's
// dnn module reads. It is pure Go (no cgo): the npm tarball is read directly,
// the weights are dequantised, dlib's ResNet topology is rebuilt from the
// weight names (the package ships no graph for this network), and the ONNX
// protobuf is written by hand with only the operators the network needs.
//
// The conversion is deterministic: the same tarball gives the same bytes, and
// both the tarball and the result are checked against pinned SHA-256 sums
// (PackageSHA256, ModelSHA256) so that nothing the project did not convert
// and validate is ever handed to OpenCV (whose ONNX importer aborts the
// process on malformed input).
package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrFormat reports malformed or unexpected TF.js weights.
var ErrFormat = errors.New("convert: malformed TF.js weights")

// Weight is one dequantised TF.js weight tensor.
type Weight struct {
	Name  string
	Shape []int
	Data  []float32
}

// manifestGroup is one entry of a TF.js weights manifest.
type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

type manifestWeight struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	DType        string `json:"dtype"`
	Quantization *struct {
		DType string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} `json:"quantization"`
}

// maxElements bounds one tensor (the largest of the recogniser has 589,824).
const maxElements = 1 << 24

// ReadWeights decodes a TF.js weights manifest and its shards. shard returns
// the bytes of a shard path named by the manifest. Float32 tensors and uint8
// or uint16 quantised ones (value = q·scale + min) are supported; anything
// else is ErrFormat. Every size is checked before it is allocated.
func ReadWeights(manifest []byte, shard func(path string) ([]byte, error)) ([]Weight, error) {
	var groups []manifestGroup
	if err := json.Unmarshal(manifest, &groups); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	var out []Weight
	for _, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := shard(p)
			if err != nil {
				return nil, fmt.Errorf("convert: shard %s: %w", p, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			n := 1
			for _, d := range w.Shape {
				if d <= 0 || n > maxElements/d {
					return nil, fmt.Errorf("%w: %s: bad shape %v", ErrFormat, w.Name, w.Shape)
				}
				n *= d
			}
			if w.DType != "float32" {
				return nil, fmt.Errorf("%w: %s: dtype %q", ErrFormat, w.Name, w.DType)
			}
			size := 4
			q := w.Quantization
			if q != nil {
				switch q.DType {
				case "uint8":
					size = 1
				case "uint16":
					size = 2
				default:
					return nil, fmt.Errorf("%w: %s: quantisation %q", ErrFormat, w.Name, q.DType)
				}
			}
			if off+n*size > len(buf) {
				return nil, fmt.Errorf("%w: %s: shards end at %d bytes, need %d", ErrFormat, w.Name, len(buf), off+n*size)
			}
			data := make([]float32, n)
			src := buf[off : off+n*size]
			for i := range data {
				switch size {
				case 1:
					data[i] = float32(float64(src[i])*q.Scale + q.Min)
				case 2:
					data[i] = float32(float64(binary.LittleEndian.Uint16(src[2*i:]))*q.Scale + q.Min)
				default:
					data[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
				}
			}
			off += n * size
			out = append(out, Weight{Name: w.Name, Shape: append([]int(nil), w.Shape...), Data: data})
		}
		if off != len(buf) {
			return nil, fmt.Errorf("%w: %d bytes of shards left unread", ErrFormat, len(buf)-off)
		}
	}
	return out, nil
}
