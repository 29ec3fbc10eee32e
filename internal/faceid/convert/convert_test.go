package convert

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadWeights(t *testing.T) {
	manifest := `[{"paths": ["a.bin"], "weights": [
		{"name": "q", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
		{"name": "f", "shape": [2], "dtype": "float32"},
		{"name": "q16", "shape": [1], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.25, "min": 0}}]}]`
	bin := []byte{0, 1, 2, 255}
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(1.5))
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(-2))
	bin = binary.LittleEndian.AppendUint16(bin, 8)
	shard := func(b []byte) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if p != "a.bin" {
				return nil, errors.New("no such shard")
			}
			return b, nil
		}
	}
	ws, err := ReadWeights([]byte(manifest), shard(bin))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{"q": {-1, -0.5, 0, 126.5}, "f": {1.5, -2}, "q16": {2}}
	for _, w := range ws {
		for i, v := range want[w.Name] {
			if w.Data[i] != v {
				t.Errorf("%s[%d] = %v, want %v", w.Name, i, w.Data[i], v)
			}
		}
	}
	for name, tc := range map[string]struct {
		manifest string
		bin      []byte
	}{
		"short shard":     {manifest, bin[:len(bin)-1]},
		"bytes left over": {manifest, append(append([]byte(nil), bin...), 0)},
		"bad dtype":       {`[{"paths": ["a.bin"], "weights": [{"name": "x", "shape": [1], "dtype": "int32"}]}]`, bin},
		"bad shape":       {`[{"paths": ["a.bin"], "weights": [{"name": "x", "shape": [-1], "dtype": "float32"}]}]`, bin},
		"huge shape":      {`[{"paths": ["a.bin"], "weights": [{"name": "x", "shape": [65536, 65536], "dtype": "float32"}]}]`, bin},
		"not JSON":        {`{`, bin},
	} {
		if _, err := ReadWeights([]byte(tc.manifest), shard(tc.bin)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	if _, err := ReadWeights([]byte(`[{"paths": ["b.bin"], "weights": []}]`), shard(bin)); err == nil {
		t.Error("missing shard accepted")
	}
}

func TestBuildResNetChecksWeights(t *testing.T) {
	if _, err := BuildResNet(nil); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "conv32_down/conv/filters") {
		t.Fatalf("no weights: %v", err)
	}
	wrong := []Weight{{Name: "conv32_down/conv/filters", Shape: []int{3, 3, 3, 32}, Data: make([]float32, 864)}}
	if _, err := BuildResNet(wrong); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "shape") {
		t.Fatalf("wrong shape: %v", err)
	}
}

func tarball(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(b)
	}
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

// TestConvertRefusesOtherTarballs: only the pinned tarball is converted.
func TestConvertRefusesOtherTarballs(t *testing.T) {
	tb := tarball(t, map[string][]byte{manifestPath: []byte("[]")})
	if _, err := Convert(tb); !errors.Is(err, ErrChecksum) {
		t.Fatalf("unpinned tarball: %v", err)
	}
	files, err := readModelFiles(tarball(t, map[string][]byte{
		manifestPath: []byte("[]"), "package/model/face_recognition_model.bin": {1, 2},
		"package/model/other_model.bin": {3}, "package/../evil/face_recognition_model.bin": {4}}))
	if err != nil || len(files) != 2 || files[manifestPath] == nil {
		t.Fatalf("files %v %v", files, err)
	}
	if _, err := readModelFiles([]byte("not gzip")); !errors.Is(err, ErrFormat) {
		t.Fatalf("not a tarball: %v", err)
	}
}
