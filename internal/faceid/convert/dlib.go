package convert

import (
	"fmt"
	"slices"
)

// Input and output of the converted recogniser.
const (
	// InputSize is the side of the aligned RGB face chip the network takes.
	InputSize = 150
	// Dims is the length of the descriptor it returns.
	Dims = 128
	// InputName and OutputName are the ONNX tensor names.
	InputName  = "chip"
	OutputName = "descriptor"
)

// MeanRGB is what face-api subtracts from each channel before dividing by
// 255 (dlib's training means); the converted model expects its input already
// normalised this way, RGB order, NCHW.
var MeanRGB = [3]float64{122.782, 117.001, 104.298}

// resnet is dlib's "ResNet-34-like" face recogniser as face-api runs it
// (src/faceRecognitionNet/FaceRecognitionNet.ts): a 7x7/2 convolution, a
// 3x3/2 max-pool, residual blocks at 32, 64, 128 and 256 channels (the first
// of each width downsampling), a global mean and a 256→128 fully connected
// layer.
var resnet = []struct {
	name string
	down bool
}{
	{"conv32_1", false}, {"conv32_2", false}, {"conv32_3", false},
	{"conv64_down", true}, {"conv64_1", false}, {"conv64_2", false}, {"conv64_3", false},
	{"conv128_down", true}, {"conv128_1", false}, {"conv128_2", false},
	{"conv256_down", true}, {"conv256_1", false}, {"conv256_2", false},
	{"conv256_down_out", true},
}

// builder builds the ONNX graph from the named weights, tracking the
// activation's shape (channels, height = width) to size the paddings.
type builder struct {
	g    graph
	w    map[string]Weight
	used map[string]bool
	c, h int
}

func (b *builder) weight(name string, shape ...int) ([]float32, error) {
	w, ok := b.w[name]
	if !ok {
		return nil, fmt.Errorf("%w: weight %s missing", ErrFormat, name)
	}
	if !slices.Equal(w.Shape, shape) {
		return nil, fmt.Errorf("%w: weight %s has shape %v, want %v", ErrFormat, name, w.Shape, shape)
	}
	b.used[name] = true
	return w.Data, nil
}

// conv adds face-api's conv layer — conv2d, + bias, · scale + shift, ReLU
// when relu — as one ONNX Conv whose weights and bias fold the affine scale
// in (exact up to float rounding). stride 1 pads "same", stride 2 "valid"
// as face-api does.
func (b *builder) conv(x, prefix string, k, out, stride int, relu bool) (string, error) {
	in := b.c
	f, err := b.weight(prefix+"/conv/filters", k, k, in, out)
	if err != nil {
		return "", err
	}
	bias, err := b.weight(prefix+"/conv/bias", out)
	if err != nil {
		return "", err
	}
	sw, err := b.weight(prefix+"/scale/weights", out)
	if err != nil {
		return "", err
	}
	sb, err := b.weight(prefix+"/scale/biases", out)
	if err != nil {
		return "", err
	}
	// TF.js HWIO → ONNX OIHW, scaled per output channel.
	wt := make([]float32, len(f))
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			for y := 0; y < k; y++ {
				for xx := 0; xx < k; xx++ {
					wt[((o*in+i)*k+y)*k+xx] = f[((y*k+xx)*in+i)*out+o] * sw[o]
				}
			}
		}
	}
	bt := make([]float32, out)
	for o := range bt {
		bt[o] = bias[o]*sw[o] + sb[o]
	}
	pad := int64(0)
	if stride == 1 {
		pad = int64(k / 2)
	}
	wn := b.g.floats(prefix+"/W", []int64{int64(out), int64(in), int64(k), int64(k)}, wt)
	bn := b.g.floats(prefix+"/B", []int64{int64(out)}, bt)
	y := b.g.node("Conv", []string{x, wn, bn}, intsAttr("kernel_shape", int64(k), int64(k)),
		intsAttr("strides", int64(stride), int64(stride)), intsAttr("pads", pad, pad, pad, pad),
		intsAttr("dilations", 1, 1), intAttr("group", 1))
	b.c = out
	b.h = (b.h+2*int(pad)-k)/stride + 1
	if relu {
		y = b.g.node("Relu", []string{y})
	}
	return y, nil
}

// pad zero-pads a 4-D NCHW tensor at the end of the channel, height and
// width axes.
func (b *builder) pad(x, name string, dc, dh, dw int) string {
	p := b.g.int64s(name, []int64{0, 0, 0, 0, 0, int64(dc), int64(dh), int64(dw)})
	v := b.g.floats(name+"/value", []int64{1}, []float32{0})
	return b.g.node("Pad", []string{x, p, v})
}

// residual adds a residual block: conv, conv without ReLU, + shortcut, ReLU.
// A downsampling block convolves with stride 2 and takes a 2x2 average pool
// as the shortcut, zero-padding the convolution's output to the pool's size
// and the pool's channels to the output's, as face-api does.
func (b *builder) residual(x, name string, down bool) (string, error) {
	inC, inH := b.c, b.h
	outC, stride := inC, 1
	if down {
		outC, stride = 2*inC, 2
		if name == "conv256_down_out" {
			outC = inC
		}
	}
	y, err := b.conv(x, name+"/conv1", 3, outC, stride, true)
	if err != nil {
		return "", err
	}
	if y, err = b.conv(y, name+"/conv2", 3, outC, 1, false); err != nil {
		return "", err
	}
	short := x
	if down {
		short = b.g.node("AveragePool", []string{x}, intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2),
			intsAttr("pads", 0, 0, 0, 0))
		ph := (inH-2)/2 + 1
		if b.h < ph {
			y = b.pad(y, name+"/pad_hw", 0, ph-b.h, ph-b.h)
			b.h = ph
		}
		if outC > inC {
			short = b.pad(short, name+"/pad_c", outC-inC, 0, 0)
		}
	}
	sum := b.g.node("Add", []string{y, short})
	return b.g.node("Relu", []string{sum}), nil
}

// BuildResNet builds the ONNX model of face-api's face recogniser from its
// dequantised weights. Input: a 1x3x150x150 float tensor (RGB, (pixel −
// MeanRGB)/255); output: the 1x128 descriptor (not normalised; dlib's
// Euclidean distance applies). Every weight must be used exactly once.
func BuildResNet(weights []Weight) ([]byte, error) {
	b := &builder{w: map[string]Weight{}, used: map[string]bool{}, c: 3, h: InputSize}
	for _, w := range weights {
		if _, dup := b.w[w.Name]; dup {
			return nil, fmt.Errorf("%w: weight %s twice", ErrFormat, w.Name)
		}
		b.w[w.Name] = w
	}
	x, err := b.conv(InputName, "conv32_down", 7, 32, 2, true)
	if err != nil {
		return nil, err
	}
	x = b.g.node("MaxPool", []string{x}, intsAttr("kernel_shape", 3, 3), intsAttr("strides", 2, 2), intsAttr("pads", 0, 0, 0, 0))
	b.h = (b.h-3)/2 + 1
	for _, l := range resnet {
		if x, err = b.residual(x, l.name, l.down); err != nil {
			return nil, err
		}
	}
	fc, err := b.weight("fc", b.c, Dims)
	if err != nil {
		return nil, err
	}
	x = b.g.node("GlobalAveragePool", []string{x})
	x = b.g.node("Flatten", []string{x}, intAttr("axis", 1))
	// Gemm with transB: B is [128, 256], the transpose of TF.js's [256, 128].
	bt := make([]float32, len(fc))
	for k := 0; k < b.c; k++ {
		for n := 0; n < Dims; n++ {
			bt[n*b.c+k] = fc[k*Dims+n]
		}
	}
	wn := b.g.floats("fc/W", []int64{Dims, int64(b.c)}, bt)
	cn := b.g.floats("fc/C", []int64{Dims}, make([]float32, Dims))
	x = b.g.nodeAs(OutputName, "Gemm", []string{x, wn, cn}, intAttr("transB", 1))
	for name := range b.w {
		if !b.used[name] {
			return nil, fmt.Errorf("%w: weight %s not used by the rebuilt network", ErrFormat, name)
		}
	}
	return b.g.model("dlib_resnet_face_recognition", doc, InputName, []int64{1, 3, InputSize, InputSize}, x, []int64{1, Dims}), nil
}

const doc = "dlib face recognition ResNet (dlib_face_recognition_resnet_model_v1, Boost Software License, Davis E. King) " +
	"as ported to TensorFlow.js by @vladmandic/face-api (MIT); converted by livecheck's internal/faceid/convert."
