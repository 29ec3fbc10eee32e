package voice

import (
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// Stat summarises one per-frame feature over the frames it was measured on.
type Stat struct {
	// Median is the median over the frames used.
	Median float64 `json:"median"`
	// P10 is the 10th percentile.
	P10 float64 `json:"p10"`
	// P90 is the 90th percentile.
	P90 float64 `json:"p90"`
	// Frames is the number of 20 ms frames the statistic is based on.
	Frames int `json:"frames"`
}

// BandLimit describes how much of the speech energy lies in the high band and
// where the spectrum ends. It is measured on the long-term average power
// spectrum of the speech frames (Hann window, 1024-point FFT, 46.9 Hz bins).
type BandLimit struct {
	// Above8k is the fraction (0..1) of the energy above 50 Hz that lies above 8 kHz.
	Above8k float64 `json:"above_8k"`
	// Above11k is the fraction of the energy above 50 Hz that lies above 11 kHz.
	Above11k float64 `json:"above_11k"`
	// Above12k is the fraction of the energy above 50 Hz that lies above 12 kHz.
	Above12k float64 `json:"above_12k"`
	// CutoffHz is the highest frequency at which the smoothed long-term
	// spectrum is within 60 dB of its maximum; 24000 means full band.
	CutoffHz float64 `json:"cutoff_hz"`
	// Frames is the number of speech frames in the average.
	Frames int `json:"frames"`
}

// Perturbation is a cycle-to-cycle variation (jitter for periods, shimmer for
// peak-to-peak amplitudes), as fractions of the mean (0.01 = 1 %), with the
// definitions Praat uses. Only adjacent cycles inside one chain of clearly
// periodic cycles are compared, and pairs whose ratio exceeds 1.3 (periods)
// or 1.6 (amplitudes) are skipped as tracking slips.
type Perturbation struct {
	// Local is the mean absolute difference between adjacent cycles divided by
	// the mean. It includes smooth glides (intonation, loudness ramps).
	Local float64 `json:"local"`
	// PQ5 is the five-point perturbation quotient (Praat ppq5 / apq5): the mean
	// absolute difference between a cycle and the average of it and its four
	// neighbours, divided by the mean. A linear glide contributes nothing, so
	// PQ5 isolates the irregular part of the variation.
	PQ5 float64 `json:"pq5"`
	// Cycles is the number of glottal cycles measured.
	Cycles int `json:"cycles"`
	// Pairs is the number of adjacent cycle pairs behind Local.
	Pairs int `json:"pairs"`
	// Windows is the number of five-cycle windows behind PQ5.
	Windows int `json:"windows"`
	// Frames is the number of voiced frames in which cycles were measured.
	Frames int `json:"frames"`
}

// Periodicity is the periodic-artefact measure: whether the fine energy
// envelope of the speech is modulated at one fixed rate throughout the session.
// The envelope is the log energy of 1 ms blocks; in every 256 ms window inside
// a run of speech frames its modulation spectrum (3.9 Hz resolution) is
// normalised over 20–480 Hz and the windows are averaged. Natural speech
// modulates the envelope at the pitch, which wanders, so the average is
// smooth; a vocoder or frame-based synthesiser that works in fixed hops
// (e.g. 80–100 Hz for 10–12.5 ms hops) or a very steady synthetic pitch leaves
// a sharp line.
type Periodicity struct {
	// Prominence is the height of the highest line of the averaged modulation
	// spectrum over its median in 20–480 Hz (1 = flat), capped at 1000 (pure tones).
	Prominence float64 `json:"prominence"`
	// Hz is the modulation frequency of that line.
	Hz float64 `json:"hz"`
	// Windows is the number of 256 ms windows averaged.
	Windows int `json:"windows"`
	// Frames is the number of speech frames those windows cover.
	Frames int `json:"frames"`
}

// Features are the session-level voice features, computed over the speech
// (VAD) frames for the spectral measures and over the voiced (pitched) frames
// for the pitch-domain measures. Every feature carries the number of frames it
// used; a feature with zero frames was not measured and its values are zero.
type Features struct {
	// Frames is the number of 20 ms frames analysed.
	Frames int `json:"frames"`
	// SpeechFrames is the number of VAD speech frames.
	SpeechFrames int `json:"speech_frames"`
	// VoicedFrames is the number of speech frames with a pitch.
	VoicedFrames int `json:"voiced_frames"`
	// Speech is SpeechFrames × 20 ms.
	Speech time.Duration `json:"speech_ns"`

	// Band is the band-limit measure (speech frames).
	Band BandLimit `json:"band"`
	// Flatness is the spectral flatness (geometric / arithmetic mean of the
	// power spectrum, 0..1) between 150 Hz and 4 kHz, a band every codec keeps.
	Flatness Stat `json:"flatness"`
	// Rolloff is the frequency in Hz below which 95 % of the frame's energy lies.
	Rolloff Stat `json:"rolloff_hz"`
	// Pitch is the fundamental frequency in Hz (YIN on a 3 kHz low-passed,
	// 16 kHz copy; 50–500 Hz), over voiced frames.
	Pitch Stat `json:"pitch_hz"`
	// Jitter is the cycle-to-cycle period perturbation.
	Jitter Perturbation `json:"jitter"`
	// Shimmer is the cycle-to-cycle peak-to-peak amplitude perturbation.
	Shimmer Perturbation `json:"shimmer"`
	// HNR is the harmonics-to-noise ratio in dB over voiced frames.
	HNR Stat `json:"hnr_db"`
	// Periodic is the periodic-artefact measure (speech frames).
	Periodic Periodicity `json:"periodic"`
}

// Modulation-spectrum parameters of the periodic-artefact measure.
const (
	envBlock  = 48  // 1 ms blocks
	modSize   = 256 // 256 ms windows
	modHop    = 128
	modLoBin  = 6   // 23 Hz
	modHiBin  = 122 // 477 Hz
	envPerFrm = FrameSize / envBlock

	maxProminence = 1000
)

// accumulator gathers the per-frame measurements of one session.
type accumulator struct {
	frames, speechFrames, voicedFrames int

	ltas     []float64
	nSpec    int
	flatness []float32
	rolloff  []float32
	f0, hnr  []float32

	jit         pertSums
	cycleFrames int

	env        []float64 // fine log-energy envelope of the current speech run
	modFFT     *dsp.FFT
	modWin     []float64
	modRe      []float64
	modIm      []float64
	mod        [modSize/2 + 1]float64 // sum of normalised modulation spectra
	modWindows int
}

func (c *accumulator) init() {
	c.ltas = make([]float64, spectrumSize/2+1)
	c.modFFT = dsp.NewFFT(modSize)
	c.modWin = make([]float64, modSize)
	for i := range c.modWin {
		c.modWin[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/modSize)
	}
	c.modRe = make([]float64, modSize)
	c.modIm = make([]float64, modSize)
}

func binHz(k int) float64 { return float64(k) * SampleRate / spectrumSize }

func (c *accumulator) addSpectrum(p []float64) {
	c.nSpec++
	var total float64
	for k, v := range p {
		c.ltas[k] += v
		if k > 0 {
			total += v
		}
	}
	// flatness 150 Hz – 4 kHz
	lo, hi := int(math.Ceil(150/binHz(1))), int(4000/binHz(1))
	var logSum, linSum float64
	for k := lo; k <= hi; k++ {
		v := p[k] + 1e-20
		logSum += math.Log(v)
		linSum += v
	}
	n := float64(hi - lo + 1)
	c.flatness = append(c.flatness, float32(math.Exp(logSum/n)/(linSum/n)))
	// 95 % roll-off
	if total > 0 {
		cum, target := 0.0, 0.95*total
		for k := 1; k < len(p); k++ {
			cum += p[k]
			if cum >= target {
				c.rolloff = append(c.rolloff, float32(binHz(k)))
				break
			}
		}
	}
}

func (c *accumulator) addVoiced(hz float64) {
	c.voicedFrames++
	c.f0 = append(c.f0, float32(hz))
}

// addHNR records the frame HNR from the mean cycle correlation r (Boersma 1993:
// HNR = 10·log10(r/(1−r)), clipped to [−10, 40] dB).
func (c *accumulator) addHNR(r float64) {
	c.cycleFrames++
	r = math.Min(math.Max(r, 1e-9), 1-1e-9)
	c.hnr = append(c.hnr, float32(math.Min(40, math.Max(-10, 10*math.Log10(r/(1-r))))))
}

// addEnvelope appends the 1 ms log energies of a speech frame to the current
// run and folds every complete 256 ms window into the modulation average.
func (c *accumulator) addEnvelope(x []float32) {
	for b := 0; b+envBlock <= len(x); b += envBlock {
		var e float64
		for _, v := range x[b : b+envBlock] {
			e += float64(v) * float64(v)
		}
		c.env = append(c.env, 10*math.Log10(e/envBlock+1e-12))
	}
	for len(c.env) >= modSize {
		c.modWindow(c.env[:modSize])
		c.env = append(c.env[:0], c.env[modHop:]...)
	}
}

// endRun drops the partial envelope window at the end of a speech run.
func (c *accumulator) endRun() { c.env = c.env[:0] }

func (c *accumulator) modWindow(e []float64) {
	var mean float64
	for _, v := range e {
		mean += v
	}
	mean /= float64(len(e))
	for i, v := range e {
		c.modRe[i] = (v - mean) * c.modWin[i]
		c.modIm[i] = 0
	}
	c.modFFT.Transform(c.modRe, c.modIm)
	var band float64
	for k := modLoBin; k <= modHiBin; k++ {
		band += c.modRe[k]*c.modRe[k] + c.modIm[k]*c.modIm[k]
	}
	if band == 0 {
		return
	}
	for k := modLoBin; k <= modHiBin; k++ {
		c.mod[k] += (c.modRe[k]*c.modRe[k] + c.modIm[k]*c.modIm[k]) / band
	}
	c.modWindows++
}

// pertSums pools jitter and shimmer over chains of adjacent cycles.
type pertSums struct {
	cycles, pairs, windows int
	sumT, sumA             float64
	dT, dA                 float64 // Σ|ΔT|, Σ|ΔA| over valid pairs
	qT, qA                 float64 // Σ|x − mean5| over valid windows
}

func (s *pertSums) add(chain []cycle) {
	okPair := func(i int) bool { // cycles i and i+1
		t0, t1, a0, a1 := chain[i].t, chain[i+1].t, chain[i].a, chain[i+1].a
		return t1 < 1.3*t0 && t0 < 1.3*t1 && a1 < 1.6*a0 && a0 < 1.6*a1
	}
	for i, c := range chain {
		s.cycles++
		s.sumT += c.t
		s.sumA += c.a
		if i+1 < len(chain) && okPair(i) {
			s.pairs++
			s.dT += math.Abs(chain[i+1].t - c.t)
			s.dA += math.Abs(chain[i+1].a - c.a)
		}
		if i >= 2 && i+2 < len(chain) && okPair(i-2) && okPair(i-1) && okPair(i) && okPair(i+1) {
			var mt, ma float64
			for _, w := range chain[i-2 : i+3] {
				mt += w.t / 5
				ma += w.a / 5
			}
			s.windows++
			s.qT += math.Abs(c.t - mt)
			s.qA += math.Abs(c.a - ma)
		}
	}
}

func (s pertSums) result(frames int) (jitter, shimmer Perturbation) {
	jitter = Perturbation{Cycles: s.cycles, Pairs: s.pairs, Windows: s.windows, Frames: frames}
	shimmer = jitter
	if s.cycles == 0 || s.sumT == 0 || s.sumA == 0 {
		return jitter, shimmer
	}
	mt, ma := s.sumT/float64(s.cycles), s.sumA/float64(s.cycles)
	if s.pairs > 0 {
		jitter.Local = s.dT / float64(s.pairs) / mt
		shimmer.Local = s.dA / float64(s.pairs) / ma
	}
	if s.windows > 0 {
		jitter.PQ5 = s.qT / float64(s.windows) / mt
		shimmer.PQ5 = s.qA / float64(s.windows) / ma
	}
	return jitter, shimmer
}

// Features returns the session features accumulated so far. It may be called
// at any time; the analyser keeps running. The cycle chain in progress is
// included.
func (a *Analyzer) Features() Features {
	c := &a.acc
	f := Features{
		Frames:       c.frames,
		SpeechFrames: c.speechFrames,
		VoicedFrames: c.voicedFrames,
		Speech:       time.Duration(c.speechFrames) * FrameDuration,
		Band:         c.bandLimit(),
		Flatness:     stat(c.flatness),
		Rolloff:      stat(c.rolloff),
		Pitch:        stat(c.f0),
		HNR:          stat(c.hnr),
	}
	sums := c.jit
	sums.add(a.cyc.chain)
	f.Jitter, f.Shimmer = sums.result(c.cycleFrames)
	if c.modWindows > 0 {
		p := &f.Periodic
		p.Windows = c.modWindows
		p.Frames = (modSize + (c.modWindows-1)*modHop) / envPerFrm
		band := make([]float64, 0, modHiBin-modLoBin+1)
		best := modLoBin
		for k := modLoBin; k <= modHiBin; k++ {
			band = append(band, c.mod[k])
			if c.mod[k] > c.mod[best] {
				best = k
			}
		}
		slices.Sort(band)
		p.Prominence = maxProminence
		if med := band[len(band)/2]; med > 0 {
			p.Prominence = math.Min(maxProminence, c.mod[best]/med)
		}
		p.Hz = float64(best) * 1000 / modSize
	}
	return f
}

func (c *accumulator) bandLimit() BandLimit {
	b := BandLimit{Frames: c.nSpec}
	if c.nSpec == 0 {
		return b
	}
	var total, a8, a11, a12 float64
	for k, v := range c.ltas {
		hz := binHz(k)
		if hz < 50 {
			continue
		}
		total += v
		if hz >= 8000 {
			a8 += v
		}
		if hz >= 11000 {
			a11 += v
		}
		if hz >= 12000 {
			a12 += v
		}
	}
	if total > 0 {
		b.Above8k, b.Above11k, b.Above12k = a8/total, a11/total, a12/total
	}
	// cut-off: smooth ±3 bins, highest frequency within 60 dB of the maximum
	sm := make([]float64, len(c.ltas))
	for k := range c.ltas {
		var s float64
		n := 0
		for j := k - 3; j <= k+3; j++ {
			if j >= 1 && j < len(c.ltas) {
				s += c.ltas[j]
				n++
			}
		}
		sm[k] = s / float64(n)
	}
	peak := slices.Max(sm[1:])
	b.CutoffHz = 0
	if peak > 0 {
		for k := len(sm) - 1; k >= 1; k-- {
			if sm[k] >= peak*1e-6 {
				b.CutoffHz = binHz(k)
				break
			}
		}
	}
	return b
}

func stat(v []float32) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) float64 {
		pos := p * float64(len(s)-1)
		i := int(pos)
		if i+1 >= len(s) {
			return float64(s[len(s)-1])
		}
		fr := pos - float64(i)
		return float64(s[i])*(1-fr) + float64(s[i+1])*fr
	}
	return Stat{Median: q(0.5), P10: q(0.1), P90: q(0.9), Frames: len(s)}
}
