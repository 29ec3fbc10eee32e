package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// fixtureDir holds media made by ffmpeg once per test binary run (removed by TestMain).
var fixtureDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "media-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// vp8Fixture is an IVF made by ffmpeg/libvpx plus ffmpeg's own decode of it (raw I420).
type vp8Fixture struct {
	ivfPath string
	width   int
	height  int
	frames  [][]byte // compressed frames from the IVF
	ref     []byte   // ffmpeg-decoded I420 frames, concatenated
}

func (f *vp8Fixture) refFrame(i int) (y, u, v []byte) {
	ys := f.width * f.height
	cs := (f.width / 2) * (f.height / 2)
	fr := f.ref[i*(ys+2*cs) : (i+1)*(ys+2*cs)]
	return fr[:ys], fr[ys : ys+cs], fr[ys+cs:]
}

var (
	fixtureMu    sync.Mutex
	fixtureCache = map[string]*vp8Fixture{}
)

func requireFFmpeg(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		tb.Skip("ffmpeg not found in PATH: VP8 fixtures are made with ffmpeg at test time (apt-get install ffmpeg)")
	}
	return p
}

func runFFmpeg(tb testing.TB, args ...string) {
	tb.Helper()
	ff := requireFFmpeg(tb)
	cmd := exec.Command(ff, append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// loadVP8Fixture encodes testsrc at 640x480 15 fps with libvpx realtime settings (keyframe every
// gop frames) and decodes it again with ffmpeg's native VP8 decoder as the reference.
func loadVP8Fixture(tb testing.TB, seconds, gop int) *vp8Fixture {
	tb.Helper()
	requireFFmpeg(tb)
	key := fmt.Sprintf("testsrc-%ds-g%d", seconds, gop)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f, ok := fixtureCache[key]; ok {
		return f
	}
	ivf := filepath.Join(fixtureDir, key+".ivf")
	raw := filepath.Join(fixtureDir, key+".yuv")
	runFFmpeg(tb, "-f", "lavfi", "-i", "testsrc=size=640x480:rate=15", "-t", fmt.Sprint(seconds),
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
		"-g", fmt.Sprint(gop), "-keyint_min", fmt.Sprint(gop), "-auto-alt-ref", "0", ivf)
	runFFmpeg(tb, "-c:v", "vp8", "-i", ivf, "-f", "rawvideo", "-pix_fmt", "yuv420p", raw)
	fx := &vp8Fixture{ivfPath: ivf, width: 640, height: 480}
	fx.frames = readIVFFrames(tb, ivf)
	var err error
	if fx.ref, err = os.ReadFile(raw); err != nil {
		tb.Fatal(err)
	}
	fixtureCache[key] = fx
	return fx
}

func readIVFFrames(tb testing.TB, path string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewIVFReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	var frames [][]byte
	for {
		fr, _, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, append([]byte(nil), fr...))
	}
}

// psnr returns the peak signal-to-noise ratio of b against a in dB (+Inf when equal).
func psnr(a, b []byte) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	mse := se / float64(len(a))
	return 10 * math.Log10(255*255/mse)
}
