package analysis

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/livecheck/livecheck/internal/vision/visiontest"
)

var (
	fixtureOnce sync.Once
	fixturePath string
	fixtureErr  error
)

// faceIVF returns a 4 s, 15 fps, 640x480 VP8 recording of the public-domain
// astronaut still with a slow zoom and sway, made once per test binary. It is
// encoded with libvpx's "good" deadline on one thread: the realtime deadline
// adapts its effort to the time it gets, so under load it gave other bytes
// each run, and tests that count outcomes on this clip moved with the load.
func faceIVF(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			fixtureErr = errors.New("ffmpeg not installed (scripts/setup.sh installs it)")
			return
		}
		dir, err := os.MkdirTemp("", "livecheck-analysis-")
		if err != nil {
			fixtureErr = err
			return
		}
		fixturePath = filepath.Join(dir, "face.ivf")
		vf := "scale=800:800,zoompan=z='1.0+0.002*on':x='iw/2-(iw/zoom/2)+20*sin(on/10)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15,format=yuv420p"
		out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", filepath.Join(visiontest.FacesDir, "astronaut.png"),
			"-t", "4", "-vf", vf, "-c:v", "libvpx", "-b:v", "600k", "-deadline", "good", "-cpu-used", "5", "-threads", "1", fixturePath).CombinedOutput()
		if err != nil {
			fixtureErr = fmt.Errorf("ffmpeg: %v: %s", err, out)
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixturePath
}
