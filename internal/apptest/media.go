package apptest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// repoRoot is the module root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Testdata returns the path of a file in the project's testdata directory.
func Testdata(name string) string { return filepath.Join(repoRoot(), "testdata", name) }

var fixtureMu sync.Mutex

// cached makes a fixture once per machine: build writes to tmp, which is renamed
// to a path keyed by the recipe, so concurrent test binaries never see half a file.
func cached(t testing.TB, recipe, ext string, build func(out string) error) string {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	sum := sha256.Sum256([]byte(recipe))
	dir := filepath.Join(os.TempDir(), "livecheck-fixtures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, hex.EncodeToString(sum[:8])+ext)
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path
	}
	tmp := fmt.Sprintf("%s.%d.tmp%s", path, os.Getpid(), ext)
	if err := build(tmp); err != nil {
		os.Remove(tmp)
		t.Fatalf("apptest: make fixture %s: %v", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		if len(out) > 600 {
			out = out[len(out)-600:]
		}
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

// FaceY4M returns a 640x480, 15 fps, 10 s y4m of the public-domain astronaut
// still with a slow zoom and sway, made with ffmpeg (the fake camera).
func FaceY4M(t testing.TB) string {
	src := Testdata("faces/astronaut.png")
	vf := "scale=800:800,zoompan=z='1.0+0.002*on':x='iw/2-(iw/zoom/2)+20*sin(on/10)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15,format=yuv420p"
	recipe := "face-y4m-v1|" + src + "|" + vf
	return cached(t, recipe, ".y4m", func(out string) error {
		return run("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", src, "-t", "10", "-r", "15",
			"-vf", vf, "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", out)
	})
}

// SpeechWAV returns 48 kHz mono speech made with espeak-ng and sox (the fake microphone).
func SpeechWAV(t testing.TB) string {
	text := "Hello, my name is Alex. I have worked as a software engineer for eight years, mostly on distributed systems and databases."
	return cached(t, "speech-wav-v1|"+text, ".wav", func(out string) error {
		raw := out + ".raw.wav"
		defer os.Remove(raw)
		if err := run("espeak-ng", "-w", raw, text); err != nil {
			return err
		}
		return run("sox", raw, "-r", "48000", "-c", "1", "-b", "16", out)
	})
}
