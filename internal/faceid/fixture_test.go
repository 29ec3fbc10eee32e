package faceid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/faceid/convert"
)

// The reference descriptors (testdata/faceid/reference.json) were computed
// by scripts/face-reference.mjs with the npm package's own TensorFlow.js on
// the fixture chips (written by TestFixtureChips -update) and a synthetic
// pattern.
type reference struct {
	Package string `json:"package"`
	TFJS    string `json:"tfjs"`
	Inputs  []struct {
		Name       string    `json:"name"`
		RGBSHA256  string    `json:"rgb_sha256"`
		Descriptor []float32 `json:"descriptor"`
	} `json:"inputs"`
}

// pattern is the synthetic 150x150 RGB input of the fixture (the same
// formula as in scripts/face-reference.mjs).
func pattern() []byte {
	b := make([]byte, ChipSize*ChipSize*3)
	for y := 0; y < ChipSize; y++ {
		for x := 0; x < ChipSize; x++ {
			i := (y*ChipSize + x) * 3
			b[i] = byte((x*7 + y*3) & 255)
			b[i+1] = byte((x*2 + y*11 + 80) & 255)
			b[i+2] = byte((((x-75)*(x-75) + (y-75)*(y-75)) >> 4) & 255)
		}
	}
	return b
}

// rgbToChip makes a BGR Mat from packed RGB bytes.
func rgbToChip(t *testing.T, rgb []byte) gocv.Mat {
	t.Helper()
	m, err := gocv.NewMatFromBytes(ChipSize, ChipSize, gocv.MatTypeCV8UC3, rgb)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bgr := gocv.NewMat()
	gocv.CvtColor(m, &bgr, gocv.ColorBGRToRGB)
	return bgr
}

func readPPM(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head := []byte(fmt.Sprintf("P6\n%d %d\n255\n", ChipSize, ChipSize))
	if !bytes.HasPrefix(b, head) || len(b) != len(head)+ChipSize*ChipSize*3 {
		t.Fatalf("%s: not a %dx%d P6 PPM", path, ChipSize, ChipSize)
	}
	return b[len(head):]
}

// TestFixtureChips checks that the committed chips are what today's
// alignment cuts out of the astronaut still (plain and mirrored), within a
// few grey levels; with -update it rewrites them.
func TestFixtureChips(t *testing.T) {
	for name, edit := range map[string]func(m *gocv.Mat){
		"astronaut.ppm":        nil,
		"astronaut_mirror.ppm": func(m *gocv.Mat) { gocv.Flip(*m, m, 1) },
	} {
		f := stillFrame(t, "astronaut.png", 640, 480, edit)
		o := measure(t, f)
		chip, err := Align(f, &o.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		rgb := gocv.NewMat()
		gocv.CvtColor(chip, &rgb, gocv.ColorBGRToRGB)
		chip.Close()
		px, _ := rgb.DataPtrUint8()
		got := append([]byte(nil), px...)
		rgb.Close()
		path := filepath.Join(fixtureDir, name)
		if *update {
			head := fmt.Sprintf("P6\n%d %d\n255\n", ChipSize, ChipSize)
			if err := os.WriteFile(path, append([]byte(head), got...), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want := readPPM(t, path)
		var sum float64
		for i := range want {
			d := float64(got[i]) - float64(want[i])
			sum += d * d
		}
		if rms := sum / float64(len(want)); rms > 4*4 {
			t.Errorf("%s: today's alignment differs from the fixture chip by %.1f grey levels RMS", name, rms)
		}
	}
}

// TestModelMatchesTFJS runs the converted model through OpenCV on the
// fixture inputs and compares with the descriptors TensorFlow.js computed
// with the package's own code. Tolerance: 1e-5 per value and 1e-4 in
// Euclidean distance (measured: at most 2.1e-7 and 8.7e-7). The conversion
// folds each scale layer into its convolution and OpenCV sums in another
// order than TF.js, so float32 rounding differs slightly over 30 layers;
// 1e-4 is 1/5000 of the decision distance (about 0.5), while a wrong layer,
// layout or normalisation moves descriptors by 0.1 or more.
func TestModelMatchesTFJS(t *testing.T) {
	m := testModel(t)
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Package != convert.PackageName+"@"+convert.PackageVersion {
		t.Fatalf("reference made with %s, model converted from %s@%s", ref.Package, convert.PackageName, convert.PackageVersion)
	}
	if len(ref.Inputs) < 3 {
		t.Fatalf("reference has %d inputs", len(ref.Inputs))
	}
	for _, in := range ref.Inputs {
		rgb := pattern()
		if in.Name != "pattern" {
			rgb = readPPM(t, filepath.Join(fixtureDir, in.Name))
		}
		if got := convert.Sum(rgb); got != in.RGBSHA256 {
			t.Fatalf("%s: pixels changed since the reference was computed (SHA-256 %s, reference %s)", in.Name, got, in.RGBSHA256)
		}
		chip := rgbToChip(t, rgb)
		d, err := m.Embed(chip)
		chip.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Descriptor) != Dims {
			t.Fatalf("%s: reference has %d values", in.Name, len(in.Descriptor))
		}
		var want Descriptor
		copy(want[:], in.Descriptor)
		diff, dist := maxAbsDiff(d[:], want[:]), Distance(d, want)
		t.Logf("%s: max |Δ| %.2g, distance %.2g", in.Name, diff, dist)
		if diff > 1e-5 || dist > 1e-4 {
			t.Errorf("%s: converted model differs from TF.js: max |Δ| %.3g, distance %.3g", in.Name, diff, dist)
		}
	}
}

// TestLoadModelChecksFirst: a file that is not the converted model is
// refused by its checksum before OpenCV parses it (a malformed ONNX file
// would abort the process inside OpenCV).
func TestLoadModelChecksFirst(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte("\x08\x07garbage that would crash OpenCV's importer"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bad, filepath.Join(dir, "missing.onnx")} {
		if _, err := LoadModel(p, 1); !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v, want ErrModel", p, err)
		}
	}
}

// TestEmbedConcurrent: the network pool gives every goroutine the same
// descriptor as a serial call (a cv::dnn::Net is not safe for concurrent
// use; the pool must serialise each network).
func TestEmbedConcurrent(t *testing.T) {
	m := testModel(t)
	rgb := pattern()
	chip := rgbToChip(t, rgb)
	defer chip.Close()
	want, err := m.Embed(chip)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 6)
	for g := 0; g < 6; g++ {
		c := rgbToChip(t, rgb)
		go func() {
			defer c.Close()
			for i := 0; i < 3; i++ {
				d, err := m.Embed(c)
				if err == nil && d != want {
					err = fmt.Errorf("descriptor differs under concurrency by %.3g", Distance(d, want))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 6; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if _, err := DescriptorFrom(want.Slice()); err != nil {
		t.Error(err)
	}
	if _, err := DescriptorFrom([]float32{1, 2}); err == nil {
		t.Error("short descriptor accepted")
	}
}
