//go:build matprofile

package analysis

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

// Run with: go test -tags matprofile ./internal/analysis/
// gocv then records every Mat created and not yet closed.

// TestMatProfileCaptureSource reads a recording through OpenCV's FFmpeg
// backend (the only place this package makes Mats) and checks that closing
// the source leaves no Mat open.
func TestMatProfileCaptureSource(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	avi := filepath.Join(t.TempDir(), "still.avi")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", filepath.Join(visiontest.FacesDir, "astronaut.png"),
		"-t", "1", "-r", "10", "-vf", "scale=320:320,format=yuv420p", "-c:v", "mpeg4", avi).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	before := gocv.MatProfile.Count()
	src, err := OpenVideo(avi, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	src.Close()
	if n != 10 {
		t.Errorf("%d frames, want 10", n)
	}
	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Errorf("%d Mats left open by the capture source:\n%s", after-before, b.String())
	}
}
