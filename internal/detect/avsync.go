package detect

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/internal/voice"
	"github.com/livecheck/livecheck/models"
)

// A/V sync: the mouth-opening series of the video against the audio envelope
// (voice.AVOffset), judged in chunks so that memory and cost stay bounded in
// long sessions. A chunk needs speech and a visible mouth.
const (
	avChunk       = 30 * time.Second
	avMinSpeech   = 60 // speech frames (20 ms) per chunk: 1.2 s
	avMaxOffset   = 1000 * time.Millisecond
	avTolerance   = 120 * time.Millisecond // offsets within this are normal capture/encode skew
	avGoodCorr    = 0.3
	avMaxBuffered = 3 * avChunk
)

type avChunkResult struct {
	from, to time.Time
	offset   time.Duration
	corr     float64
	speech   int
}

type avSync struct {
	mu      sync.Mutex
	mouth   []voice.TimedValue
	env     []voice.TimedValue
	speech  []time.Time // times of speech frames in env's span
	results []avChunkResult
}

func newAVSync() *avSync { return &avSync{} }

func (a *avSync) addMouth(t time.Time, v float64) {
	a.mu.Lock()
	a.mouth = append(a.mouth, voice.TimedValue{At: t, Value: v})
	a.flushLocked(false)
	a.mu.Unlock()
}

func (a *avSync) addAudio(frames []voice.Frame) {
	if len(frames) == 0 {
		return
	}
	a.mu.Lock()
	a.env = append(a.env, voice.Envelope(frames)...)
	for _, f := range frames {
		if f.Speech {
			a.speech = append(a.speech, f.At)
		}
	}
	a.flushLocked(false)
	a.mu.Unlock()
}

// flushLocked judges complete chunks (both series past the chunk's end) and
// drops what they covered; with all, it judges what is left without dropping.
func (a *avSync) flushLocked(all bool) []avChunkResult {
	var partial []avChunkResult
	for len(a.mouth) > 0 && len(a.env) > 0 {
		start := a.mouth[0].At
		if a.env[0].At.After(start) {
			start = a.env[0].At
		}
		end := start.Add(avChunk)
		lastM, lastE := a.mouth[len(a.mouth)-1].At, a.env[len(a.env)-1].At
		complete := lastM.After(end.Add(avMaxOffset)) && lastE.After(end.Add(avMaxOffset))
		if !complete {
			// Keep memory bounded when one side stops (camera or mic off).
			if lastM.Sub(a.mouth[0].At) > avMaxBuffered || lastE.Sub(a.env[0].At) > avMaxBuffered {
				a.dropBefore(lastM.Add(-avChunk), lastE.Add(-avChunk))
				continue
			}
			if all {
				if r, ok := a.judge(start, lastM, lastE); ok {
					partial = append(partial, r)
				}
			}
			return partial
		}
		if r, ok := a.judge(start, end, end); ok {
			a.results = append(a.results, r)
		}
		a.dropBefore(end, end)
	}
	return partial
}

func (a *avSync) dropBefore(tm, te time.Time) {
	i := 0
	for i < len(a.mouth) && a.mouth[i].At.Before(tm) {
		i++
	}
	a.mouth = append(a.mouth[:0], a.mouth[i:]...)
	i = 0
	for i < len(a.env) && a.env[i].At.Before(te) {
		i++
	}
	a.env = append(a.env[:0], a.env[i:]...)
	i = 0
	for i < len(a.speech) && a.speech[i].Before(te) {
		i++
	}
	a.speech = append(a.speech[:0], a.speech[i:]...)
}

// judge runs AVOffset on the series up to the given ends (plus the lag margin).
func (a *avSync) judge(start, endM, endE time.Time) (avChunkResult, bool) {
	var m, e []voice.TimedValue
	for _, v := range a.mouth {
		if !v.At.After(endM.Add(avMaxOffset)) {
			m = append(m, v)
		}
	}
	for _, v := range a.env {
		if !v.At.After(endE.Add(avMaxOffset)) {
			e = append(e, v)
		}
	}
	speech := 0
	for _, t := range a.speech {
		if !t.After(endE) {
			speech++
		}
	}
	if speech < avMinSpeech {
		return avChunkResult{}, false
	}
	off, corr, ok := voice.AVOffset(m, e)
	if !ok {
		return avChunkResult{}, false
	}
	return avChunkResult{from: start, to: endM, offset: off, corr: corr, speech: speech}, true
}

// signal condenses the chunks. A clear correlation peak away from zero means
// the audio is shifted against the lips (a separately routed voice, a
// lip-sync model's latency); no correlation at all while someone speaks and a
// mouth is visible means the lips do not follow the voice (dubbed or
// generated audio, or a talking head driven by other audio). Both are
// scored moderately: a candidate may be silent while someone else in the room
// speaks.
func (a *avSync) signal() models.Signal {
	a.mu.Lock()
	res := append(append([]avChunkResult(nil), a.results...), a.flushLocked(true)...)
	a.mu.Unlock()
	sg := models.Signal{Kind: KindAVSync}
	if len(res) == 0 {
		sg.Reason = "A/V sync not measured: less than 3 s of speech with a visible mouth"
		return sg
	}
	// Speech-weighted median offset and mean correlation over the chunks.
	var sumW, corr float64
	best := res[0]
	for _, r := range res {
		w := float64(r.speech)
		sumW += w
		corr += w * r.corr
		if r.corr > best.corr {
			best = r
		}
	}
	corr /= sumW
	offsets := make([]float64, len(res))
	for i, r := range res {
		offsets[i] = float64(r.offset.Milliseconds())
	}
	off := dsp.Median(offsets)
	speechSec := sumW * 0.02
	rel := saturate(speechSec, 6)
	sg.Value = off
	sg.At = best.from
	switch {
	case corr >= avGoodCorr:
		dev := math.Abs(off) - float64(avTolerance.Milliseconds())
		sg.Score = dsp.Clamp01(sigmoid(dev, 120, 40))
		sg.Confidence = 0.7 * rel * dsp.Clamp01((corr-0.15)/0.35)
		if sg.Score >= 0.5 {
			sg.Reason = fmt.Sprintf("audio is %+d ms out of step with the lips (correlation %.2f over %.0f s of speech)", int(off), corr, speechSec)
		} else {
			sg.Reason = fmt.Sprintf("lips and voice in step (offset %+d ms, correlation %.2f over %.0f s of speech)", int(off), corr, speechSec)
		}
	default:
		// Weak or no correlation: the lips do not follow the voice.
		sg.Score = dsp.Clamp01((avGoodCorr - corr) / 0.3)
		sg.Confidence = 0.35 * rel
		sg.Reason = fmt.Sprintf("lips barely follow the voice (correlation %.2f over %.0f s of speech)", corr, speechSec)
	}
	return sg
}

func (a *avSync) features() map[string]float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return map[string]float64{"chunks": float64(len(a.results)), "mouth_samples": float64(len(a.mouth)), "env_samples": float64(len(a.env))}
}
