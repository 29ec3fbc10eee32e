package redteam

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/media"
)

// speech is one spoken answer: 48 kHz mono PCM and its mouth-opening envelope.
type speech struct {
	pcm   []int16
	mouth []float64 // per 20 ms, 0..1
}

func (s *speech) mouthAt(d time.Duration) float64 {
	i := int(d / (20 * time.Millisecond))
	if i < 0 || i >= len(s.mouth) {
		return 0
	}
	return s.mouth[i]
}

// Voice speaks digits with espeak-ng (cached per text).
type Voice struct {
	mu    sync.Mutex
	cache map[string]*speech
}

// NewVoice checks that espeak-ng is installed.
func NewVoice() (*Voice, error) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		return nil, fmt.Errorf("redteam: espeak-ng is needed for spoken digits: %w", err)
	}
	return &Voice{cache: map[string]*speech{}}, nil
}

// Say returns the speech of text (digits separated by spaces). shifted raises the voice's
// pitch by resampling (a crude voice conversion: pitch and tempo up by 18 %).
func (v *Voice) Say(text string, shifted bool) *speech {
	key := fmt.Sprint(text, shifted)
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.cache[key]; ok {
		return s
	}
	// espeak-ng reads digits one by one at a reading pace.
	words := strings.Join(strings.Fields(text), ", ")
	tmp, err := os.CreateTemp("", "redteam-*.wav")
	if err != nil {
		return nil
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := exec.Command("espeak-ng", "-s", "150", "-w", tmp.Name(), words).Run(); err != nil {
		return nil
	}
	out, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil
	}
	pcm, err := media.ReadWAV(bytes.NewReader(out))
	if err != nil {
		return nil
	}
	rate := pcm.Rate
	if shifted {
		rate = int(float64(rate) * 1.18)
	}
	s := &speech{pcm: media.Resample(pcm.Mono(), rate, 48000)}
	// A speaking level: the loudest tenth of the 20 ms chunks at about -18 dBFS RMS (a voice at
	// arm's length from a laptop microphone).
	env := chunkRMS(s.pcm)
	sorted := append([]float64(nil), env...)
	sort.Float64s(sorted)
	if len(sorted) > 0 && sorted[len(sorted)*9/10] > 0 {
		g := 0.125 * 32768 / sorted[len(sorted)*9/10]
		for i := range s.pcm {
			s.pcm[i] = sat16(int(float64(s.pcm[i]) * g))
		}
	}
	s.mouth = mouthEnvelope(s.pcm)
	v.cache[key] = s
	return s
}

// mouthEnvelope maps 20 ms RMS to a mouth opening: 0 in silence, 1 at the loud syllables.
func chunkRMS(pcm []int16) []float64 {
	const n = 960
	var rms []float64
	for off := 0; off+n <= len(pcm); off += n {
		var s float64
		for _, x := range pcm[off : off+n] {
			s += float64(x) * float64(x)
		}
		rms = append(rms, math.Sqrt(s/n))
	}
	return rms
}

func mouthEnvelope(pcm []int16) []float64 {
	rms := chunkRMS(pcm)
	sorted := append([]float64(nil), rms...)
	sort.Float64s(sorted)
	ref := 1.0
	if len(sorted) > 0 {
		ref = math.Max(sorted[len(sorted)*9/10], 1)
	}
	out := make([]float64, len(rms))
	prev := 0.0
	for i, r := range rms {
		m := clampF((r/ref-0.05)/0.8, 0, 1)
		prev = 0.5*prev + 0.5*m // the jaw is slower than the voice
		out[i] = prev
	}
	return out
}
