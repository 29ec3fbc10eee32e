package voice

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Test inputs. The human recording is the public-domain LJ Speech clip in the
// repository (22.05 kHz, so band-limited at 11 kHz although human). The other
// two are made at test time:
//   - espeak: espeak-ng (formant synthesiser, 22.05 kHz) resampled to 48 kHz by sox;
//   - narrow: the LJ clip through sox "lowpass 4000 rate 8000" (telephone band),
//     brought back to 48 kHz by this package's Resample.
const (
	ljPath     = "../../testdata/voice/LJ001-0010.wav"
	ljPath2    = "../../testdata/voice/LJ001-0011.wav"
	espeakText = "Thank you for having me today. I have worked as a software engineer for five years, mostly on payment systems, and I enjoy working with distributed teams."
)

var (
	fixOnce sync.Once
	fixDir  string
	fixErr  string
	fixSkip bool
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

// generated returns the directory holding espeak48.wav and lj8k.wav, or skips
// the test when espeak-ng or sox is not installed.
func generated(t testing.TB) string {
	t.Helper()
	fixOnce.Do(func() {
		for _, tool := range []string{"espeak-ng", "sox"} {
			if _, err := exec.LookPath(tool); err != nil {
				fixErr = tool + " not installed (apt-get install espeak-ng sox); skipping test that needs generated speech"
				fixSkip = true
				return
			}
		}
		dir, err := os.MkdirTemp("", "voicetest")
		if err != nil {
			fixErr = err.Error()
			return
		}
		fixDir = dir
		run := func(name string, args ...string) {
			if fixErr != "" {
				return
			}
			if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
				fixErr = name + " failed: " + err.Error() + ": " + string(out)
			}
		}
		run("espeak-ng", "-w", filepath.Join(dir, "espeak22.wav"), espeakText)
		run("sox", filepath.Join(dir, "espeak22.wav"), "-r", "48000", filepath.Join(dir, "espeak48.wav"))
		run("sox", ljPath, filepath.Join(dir, "lj8k.wav"), "lowpass", "4000", "rate", "8000")
	})
	switch {
	case fixSkip:
		t.Skip(fixErr)
	case fixErr != "":
		t.Fatal(fixErr)
	}
	return fixDir
}

// load48 reads a WAV file and resamples it to 48 kHz.
func load48(t testing.TB, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, rate, err := ReadWAV(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return Resample(x, rate, SampleRate)
}

// analyse runs a fresh Analyzer over x and returns the frames and features.
func analyse(x []float32) ([]Frame, Features) {
	a := NewAnalyzer(time.Unix(1700000000, 0))
	frames := append([]Frame(nil), a.Write(x)...)
	return frames, a.Features()
}

func sine(hz, amp float64, seconds float64) []float32 {
	x := make([]float32, int(seconds*SampleRate))
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate))
	}
	return x
}

// noise returns deterministic uniform noise with the given RMS.
func noise(rms float64, seconds float64, seed uint32) []float32 {
	x := make([]float32, int(seconds*SampleRate))
	s := seed
	for i := range x {
		s = s*1664525 + 1013904223
		x[i] = float32(rms * math.Sqrt(12) * (float64(s)/4294967296 - 0.5))
	}
	return x
}
