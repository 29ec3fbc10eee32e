package detect

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/voice"
	"github.com/livecheck/livecheck/models"
)

// syllables returns a speech-like envelope (0..1) sampled at 1 kHz: bursts of
// 120–320 ms with short gaps and occasional pauses, as in running speech.
func syllables(seconds float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed+1))
	env := make([]float64, int(seconds*1000))
	for t := 300; t < len(env); {
		d := 120 + r.IntN(200)
		for k := 0; k < d && t+k < len(env); k++ {
			env[t+k] = math.Sin(math.Pi * float64(k) / float64(d))
		}
		t += d + 60 + r.IntN(180)
		if r.IntN(6) == 0 {
			t += 400 + r.IntN(400) // a pause
		}
	}
	return env
}

// avSession feeds a talking face (mouth following env) and a voiced sound
// following env delayed by delay, and returns the av_sync signal.
func avSession(t *testing.T, f *models.Frame, o models.Observation, env []float64, delay time.Duration) models.Signal {
	t.Helper()
	s := NewSuite(Config{})
	step := time.Second / 15
	n := int(time.Duration(len(env)) * time.Millisecond / step)
	feed(s, f, o, n, step, func(i int, _ *models.Frame, o *models.Observation) {
		k := int(time.Duration(i) * step / time.Millisecond)
		o.Mouth = 0.03 + 0.4*env[min(k, len(env)-1)]
	})
	// 48 kHz: a 140 Hz buzz with harmonics, shaped by the delayed envelope,
	// over a quiet noise floor.
	r := rand.New(rand.NewPCG(11, 12))
	pcm := make([]int16, len(env)*48)
	lag := int(delay / time.Millisecond)
	for i := range pcm {
		ms := i/48 - lag
		a := 0.0
		if ms >= 0 && ms < len(env) {
			a = env[ms]
		}
		ph := 2 * math.Pi * 140 * float64(i) / 48000
		buzz := math.Sin(ph) + 0.6*math.Sin(2*ph) + 0.4*math.Sin(3*ph) + 0.25*math.Sin(5*ph)
		pcm[i] = int16(6000*a*buzz + 20*r.NormFloat64())
	}
	for i := 0; i < len(pcm); i += voice.FrameSize {
		s.AddAudio(testEpoch, pcm[i:min(len(pcm), i+voice.FrameSize)])
	}
	return signalOf(t, s, KindAVSync)
}

// TestAVSyncDelayedAudio: a deliberately delayed audio track shows its
// offset; the same track in step does not.
func TestAVSyncDelayedAudio(t *testing.T) {
	f, o := still(t)
	env := syllables(14, 1)
	late := avSession(t, f, o, env, 300*time.Millisecond)
	sync := avSession(t, f, o, env, 0)
	t.Logf("late: %+v", late)
	t.Logf("sync: %+v", sync)
	if math.Abs(late.Value-300) > 40 {
		t.Errorf("audio delayed by 300 ms: measured offset %+.0f ms", late.Value)
	}
	if late.Score < 0.5 || late.Confidence < 0.3 {
		t.Errorf("delayed audio: score %.2f confidence %.2f, want >= 0.5 and >= 0.3", late.Score, late.Confidence)
	}
	if math.Abs(sync.Value) > 40 || sync.Score >= 0.3 {
		t.Errorf("audio in step: offset %+.0f ms score %.2f, want |offset| <= 40 and score < 0.3", sync.Value, sync.Score)
	}
}

// loadVoice reads a WAV file as 48 kHz mono float samples.
func loadVoice(t testing.TB, path string) []float32 {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	x, rate, err := voice.ReadWAV(fh)
	if err != nil {
		t.Fatal(err)
	}
	return voice.Resample(x, rate, voice.SampleRate)
}

func voiceSuite(x []float32) *Suite {
	s := NewSuite(Config{})
	for i := 0; i < len(x); i += 4800 {
		s.AddAudioFloat(testEpoch, x[i:min(len(x), i+4800)])
	}
	return s
}

// TestVoiceThroughSuite: espeak-ng speech and a band-limited copy of a human
// recording differ from the human recording on the voice features the Suite
// reports, and only the synthesiser is scored as synthetic.
func TestVoiceThroughSuite(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (apt-get install espeak-ng)")
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "espeak.wav")
	if out, err := exec.Command("espeak-ng", "-w", wav,
		"Thank you for having me today. I have worked as a software engineer for five years, mostly on payment systems, and I enjoy working with distributed teams.").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	human := loadVoice(t, filepath.Join("..", "..", "testdata", "voice", "LJ001-0010.wav"))
	narrow := voice.Resample(voice.Resample(human, voice.SampleRate, 16000), 16000, voice.SampleRate)
	synth := loadVoice(t, wav)

	feat := map[string]map[string]float64{}
	score := map[string]float64{}
	for name, x := range map[string][]float32{"human": human, "narrow": narrow, "espeak": synth} {
		s := voiceSuite(x)
		feat[name] = s.Features()[KindVoice]
		score[name] = signalOf(t, s, KindVoice).Score
		t.Logf("%-6s score %.2f %v", name, score[name], feat[name])
	}
	// The human recording is 22.05 kHz: its band ends near 11 kHz, the 16 kHz
	// copy's near 8 kHz.
	if !(feat["narrow"]["above_8k"] < 0.2*feat["human"]["above_8k"]) {
		t.Errorf("band-limited copy: energy above 8 kHz %.4f, want well below the human's %.4f", feat["narrow"]["above_8k"], feat["human"]["above_8k"])
	}
	if !(feat["narrow"]["cutoff_hz"] < feat["human"]["cutoff_hz"]-1500) {
		t.Errorf("band-limited copy: cut-off %.0f Hz, want well below the human's %.0f Hz", feat["narrow"]["cutoff_hz"], feat["human"]["cutoff_hz"])
	}
	if !(feat["espeak"]["jitter_pq5"] < feat["human"]["jitter_pq5"]) {
		t.Errorf("espeak jitter %.4f not below the human's %.4f", feat["espeak"]["jitter_pq5"], feat["human"]["jitter_pq5"])
	}
	if !(score["espeak"] >= 0.5 && score["espeak"] > score["human"]+0.3) {
		t.Errorf("espeak scored %.2f, human %.2f: want espeak >= 0.5 and well above", score["espeak"], score["human"])
	}
	if score["narrow"] >= 0.5 {
		t.Errorf("band limitation alone must not look synthetic: score %.2f", score["narrow"])
	}
}
