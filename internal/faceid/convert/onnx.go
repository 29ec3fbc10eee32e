package convert

import (
	"encoding/binary"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX protobuf field numbers (onnx.proto3) of the messages written here.
const (
	modelIRVersion   = 1
	modelProducer    = 2
	modelProducerVer = 3
	modelDoc         = 6
	modelGraph       = 7
	modelOpset       = 8
	opsetVersion     = 2
	graphNode        = 1
	graphName        = 2
	graphInit        = 5
	graphInput       = 11
	graphOutput      = 12
	nodeInput        = 1
	nodeOutput       = 2
	nodeName         = 3
	nodeOpType       = 4
	nodeAttr         = 5
	attrName         = 1
	attrI            = 3
	attrInts         = 8
	attrType         = 20
	attrTypeInt      = 2
	attrTypeInts     = 7
	tensorDims       = 1
	tensorDataType   = 2
	tensorName       = 8
	tensorRaw        = 9
	tensorFloat      = 1
	tensorInt64      = 7
	valueName        = 1
	valueType        = 2
	typeTensor       = 1
	typeElem         = 1
	typeShape        = 2
	shapeDim         = 1
	dimValue         = 1
	onnxIRVersion    = 7
	onnxOpsetVersion = 11
)

// attr is a node attribute: an int or a list of ints (the only kinds used).
type attr struct {
	name string
	i    int64
	ints []int64
	list bool
}

func intAttr(name string, v int64) attr     { return attr{name: name, i: v} }
func intsAttr(name string, v ...int64) attr { return attr{name: name, ints: v, list: true} }
func appendString(b []byte, f protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, f, protowire.BytesType)
	return protowire.AppendString(b, s)
}
func appendBytes(b []byte, f protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, f, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}
func appendVarint(b []byte, f protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, f, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// graph accumulates the nodes and initialisers of an ONNX graph in order.
type graph struct {
	nodes []byte
	inits []byte
	n     int
}

// node appends a node and returns its (single) output name.
func (g *graph) node(op string, inputs []string, attrs ...attr) string {
	g.n++
	return g.nodeAs(op+"_"+strconv.Itoa(g.n), op, inputs, attrs...)
}

// nodeAs appends a node whose output is named out.
func (g *graph) nodeAs(out, op string, inputs []string, attrs ...attr) string {
	var b []byte
	for _, in := range inputs {
		b = appendString(b, nodeInput, in)
	}
	b = appendString(b, nodeOutput, out)
	b = appendString(b, nodeName, out)
	b = appendString(b, nodeOpType, op)
	for _, a := range attrs {
		var ab []byte
		ab = appendString(ab, attrName, a.name)
		if a.list {
			for _, v := range a.ints {
				ab = appendVarint(ab, attrInts, uint64(v))
			}
			ab = appendVarint(ab, attrType, attrTypeInts)
		} else {
			ab = appendVarint(ab, attrI, uint64(a.i))
			ab = appendVarint(ab, attrType, attrTypeInt)
		}
		b = appendBytes(b, nodeAttr, ab)
	}
	g.nodes = appendBytes(g.nodes, graphNode, b)
	return out
}

// floats adds a float32 initialiser.
func (g *graph) floats(name string, dims []int64, data []float32) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	g.inits = appendBytes(g.inits, graphInit, tensor(name, tensorFloat, dims, raw))
	return name
}

// int64s adds an int64 initialiser.
func (g *graph) int64s(name string, data []int64) string {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.inits = appendBytes(g.inits, graphInit, tensor(name, tensorInt64, []int64{int64(len(data))}, raw))
	return name
}

func tensor(name string, dtype uint64, dims []int64, raw []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = appendVarint(b, tensorDims, uint64(d))
	}
	b = appendVarint(b, tensorDataType, dtype)
	b = appendString(b, tensorName, name)
	return appendBytes(b, tensorRaw, raw)
}

// valueInfo describes a float tensor graph input or output with its full
// shape (OpenCV 4.6 refuses graph outputs without one).
func valueInfo(name string, dims []int64) []byte {
	var shape []byte
	for _, d := range dims {
		shape = appendBytes(shape, shapeDim, appendVarint(nil, dimValue, uint64(d)))
	}
	var tt []byte
	tt = appendVarint(tt, typeElem, tensorFloat)
	tt = appendBytes(tt, typeShape, shape)
	var b []byte
	b = appendString(b, valueName, name)
	return appendBytes(b, valueType, appendBytes(nil, typeTensor, tt))
}

// model serialises the graph as an ONNX ModelProto (IR 7, opset 11) with one
// input and one output, both with full shapes.
func (g *graph) model(name, doc, in string, inDims []int64, out string, outDims []int64) []byte {
	var gb []byte
	gb = append(gb, g.nodes...)
	gb = appendString(gb, graphName, name)
	gb = append(gb, g.inits...)
	gb = appendBytes(gb, graphInput, valueInfo(in, inDims))
	gb = appendBytes(gb, graphOutput, valueInfo(out, outDims))

	var m []byte
	m = appendVarint(m, modelIRVersion, onnxIRVersion)
	m = appendString(m, modelProducer, "livecheck-convert")
	m = appendString(m, modelProducerVer, "1")
	m = appendString(m, modelDoc, doc)
	m = appendBytes(m, modelGraph, gb)
	m = appendBytes(m, modelOpset, appendVarint(nil, opsetVersion, onnxOpsetVersion))
	return m
}
