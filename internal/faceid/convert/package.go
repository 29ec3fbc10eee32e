package convert

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
)

// The npm package the recogniser comes from, pinned: `npm pack` of exactly
// this version must give a tarball with this SHA-256.
const (
	PackageName    = "@vladmandic/face-api"
	PackageVersion = "1.7.15"
	PackageSHA256  = "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
)

// ModelSHA256 is the SHA-256 of the ONNX model Convert produces from the
// pinned package. Loaders check it before any byte reaches OpenCV.
const ModelSHA256 = "af9b867513aefab75224fb491f8b08878bdd6e95f7353ee6982d3650227bcec3"

// ModelName identifies the converted model in stored descriptors (the
// face_descriptors.model column): descriptors of different models are never
// compared.
const ModelName = "dlib-resnet-128/face-api-1.7.15"

// Files of the recogniser inside the tarball.
const (
	manifestPath = "package/model/face_recognition_model-weights_manifest.json"
	modelDir     = "package/model"
)

// ErrChecksum reports a tarball or model whose SHA-256 is not the pinned one.
var ErrChecksum = errors.New("convert: checksum mismatch")

// maxTarball and maxEntry bound what is read from the tarball.
const (
	maxTarball = 64 << 20
	maxEntry   = 16 << 20
)

// Convert checks the npm tarball against PackageSHA256, reads the
// recogniser's weights from it, builds the ONNX model and checks the result
// against ModelSHA256.
func Convert(tarball []byte) ([]byte, error) {
	if len(tarball) > maxTarball {
		return nil, fmt.Errorf("convert: tarball of %d bytes is larger than %d", len(tarball), maxTarball)
	}
	if got := Sum(tarball); got != PackageSHA256 {
		return nil, fmt.Errorf("%w: %s %s tarball has SHA-256 %s, want %s", ErrChecksum, PackageName, PackageVersion, got, PackageSHA256)
	}
	files, err := readModelFiles(tarball)
	if err != nil {
		return nil, err
	}
	manifest, ok := files[manifestPath]
	if !ok {
		return nil, fmt.Errorf("%w: %s not in the tarball", ErrFormat, manifestPath)
	}
	weights, err := ReadWeights(manifest, func(p string) ([]byte, error) {
		b, ok := files[path.Join(modelDir, path.Clean("/" + p)[1:])]
		if !ok {
			return nil, fmt.Errorf("%w: shard %s not in the tarball", ErrFormat, p)
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	model, err := BuildResNet(weights)
	if err != nil {
		return nil, err
	}
	if got := Sum(model); got != ModelSHA256 {
		return nil, fmt.Errorf("%w: converted model has SHA-256 %s, want %s", ErrChecksum, got, ModelSHA256)
	}
	return model, nil
}

// Sum is the hex SHA-256 of b.
func Sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readModelFiles returns the regular files under package/model/ whose name
// starts with face_recognition_model.
func readModelFiles(tarball []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tarball))
	if err != nil {
		return nil, fmt.Errorf("%w: tarball: %v", ErrFormat, err)
	}
	defer zr.Close()
	tr := tar.NewReader(io.LimitReader(zr, 4*maxTarball))
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: tarball: %v", ErrFormat, err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || path.Dir(name) != modelDir {
			continue
		}
		if base := path.Base(name); len(base) < 22 || base[:22] != "face_recognition_model" {
			continue
		}
		if h.Size < 0 || h.Size > maxEntry {
			return nil, fmt.Errorf("%w: %s has %d bytes", ErrFormat, name, h.Size)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFormat, name, err)
		}
		out[name] = b
	}
}
