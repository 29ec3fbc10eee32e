// Command facemodel converts the face recogniser of the pinned npm package
// @vladmandic/face-api (a tarball made by `npm pack`) into the ONNX model
// livecheck loads (LIVECHECK_FACE_MODEL). scripts/setup.sh runs it:
//
//	go run ./internal/faceid/cmd/facemodel -tarball vladmandic-face-api-1.7.15.tgz -out ~/.cache/livecheck/face/dlib-resnet-128.onnx
//	go run ./internal/faceid/cmd/facemodel -check ~/.cache/livecheck/face/dlib-resnet-128.onnx   # exit 0: present and valid
//
// The tarball and the result are checked against pinned SHA-256 sums; the
// output is written atomically (temporary file, then rename).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/livecheck/livecheck/internal/faceid/convert"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("facemodel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tarball := fs.String("tarball", "", "npm pack tarball of "+convert.PackageName+"@"+convert.PackageVersion)
	out := fs.String("out", "", "where to write the ONNX model")
	check := fs.String("check", "", "only check that this file is the converted model (exit 0) or not (exit 1)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *check != "" {
		b, err := os.ReadFile(*check)
		if err != nil || convert.Sum(b) != convert.ModelSHA256 {
			return 1
		}
		return 0
	}
	if *tarball == "" || *out == "" {
		fmt.Fprintln(stderr, "facemodel: -tarball and -out are required")
		return 2
	}
	if err := convertFile(*tarball, *out); err != nil {
		fmt.Fprintln(stderr, "facemodel:", err)
		return 1
	}
	fmt.Fprintf(stdout, "facemodel: wrote %s (%s, SHA-256 %s)\n", *out, convert.ModelName, convert.ModelSHA256)
	return 0
}

func convertFile(tarball, out string) error {
	tb, err := os.ReadFile(tarball)
	if err != nil {
		return err
	}
	model, err := convert.Convert(tb)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".facemodel-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(model); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
