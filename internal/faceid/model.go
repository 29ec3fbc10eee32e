package faceid

import (
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/faceid/convert"
)

// Dims is the length of a descriptor.
const Dims = convert.Dims

// Descriptor is a face embedding of the dlib ResNet recogniser: 128 values,
// compared by Euclidean distance (Distance). Biometric data: never log it.
type Descriptor [Dims]float32

// ModelName identifies the model descriptors come from (stored with them).
const ModelName = convert.ModelName

// ErrModel reports a missing, altered or unloadable model file.
var ErrModel = errors.New("faceid: face model unavailable")

// DefaultModelPath is where scripts/setup.sh writes the converted model:
// $XDG_CACHE_HOME/livecheck/face/dlib-resnet-128.onnx, with $HOME/.cache
// when XDG_CACHE_HOME is unset and /tmp/.cache when HOME is unset too (the
// same rule as the script), outside the repository and shared by every
// checkout.
func DefaultModelPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = "/tmp/.cache"
	}
	return filepath.Join(dir, "livecheck", "face", "dlib-resnet-128.onnx")
}

// maxModelBytes bounds the model file read (the converted model has 22 MB).
const maxModelBytes = 64 << 20

// Model is the loaded face recogniser: a small pool of OpenCV networks
// built from the same validated bytes (a cv::dnn::Net is not safe for
// concurrent use). Embed may be called from any number of goroutines; calls
// beyond the pool size wait for a free network.
type Model struct {
	nets chan *gocv.Net
	all  []*gocv.Net
}

// LoadModel reads the converted model at path, checks its SHA-256 against
// the pinned convert.ModelSHA256 before OpenCV sees a byte (OpenCV's ONNX
// importer aborts the process on malformed input), and builds nets networks
// (≤ 0: one per CPU, at most 4). Call it once at start.
func LoadModel(path string, nets int) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (run scripts/setup.sh to convert it from npm)", ErrModel, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	if len(b) > maxModelBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrModel, path, maxModelBytes)
	}
	if got := convert.Sum(b); got != convert.ModelSHA256 {
		return nil, fmt.Errorf("%w: %s has SHA-256 %s, not the model livecheck converts (%s); rerun scripts/setup.sh", ErrModel, path, got, convert.ModelSHA256)
	}
	if nets <= 0 {
		nets = min(4, runtime.NumCPU())
	}
	m := &Model{nets: make(chan *gocv.Net, nets)}
	for range nets {
		n, err := gocv.ReadNetFromONNXBytes(b)
		if err != nil || n.Empty() {
			m.Close()
			return nil, fmt.Errorf("%w: OpenCV could not read %s: %v", ErrModel, path, err)
		}
		_ = n.SetPreferableBackend(gocv.NetBackendOpenCV)
		_ = n.SetPreferableTarget(gocv.NetTargetCPU)
		net := n
		m.all = append(m.all, &net)
		m.nets <- &net
	}
	return m, nil
}

// Close frees the networks. It must not race with Embed.
func (m *Model) Close() {
	for _, n := range m.all {
		_ = n.Close()
	}
	m.all = nil
}

// Embed computes the descriptor of an aligned ChipSize x ChipSize BGR chip
// (Align).
func (m *Model) Embed(chip gocv.Mat) (Descriptor, error) {
	var d Descriptor
	if chip.Empty() || chip.Cols() != ChipSize || chip.Rows() != ChipSize || chip.Type() != gocv.MatTypeCV8UC3 {
		return d, fmt.Errorf("faceid: chip must be %dx%d BGR", ChipSize, ChipSize)
	}
	// (pixel − mean)/255 in RGB order, NCHW: the mean is given in R, G, B
	// order because swapRB converts the BGR chip first.
	blob := gocv.BlobFromImage(chip, 1.0/255, image.Pt(ChipSize, ChipSize),
		gocv.NewScalar(convert.MeanRGB[0], convert.MeanRGB[1], convert.MeanRGB[2], 0), true, false)
	defer blob.Close()
	net := <-m.nets
	defer func() { m.nets <- net }()
	net.SetInput(blob, convert.InputName)
	out := net.Forward(convert.OutputName)
	defer out.Close()
	if out.Total() != Dims {
		return d, fmt.Errorf("faceid: model returned %d values, want %d", out.Total(), Dims)
	}
	v, err := out.DataPtrFloat32()
	if err != nil {
		return d, fmt.Errorf("faceid: model output: %w", err)
	}
	copy(d[:], v)
	return d, nil
}
