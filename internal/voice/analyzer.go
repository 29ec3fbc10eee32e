package voice

import (
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// Frame is the streaming result for one 20 ms frame.
type Frame struct {
	// Index counts frames from 0 since the analyser started.
	Index int
	// At is the time of the frame's first sample: Start + Index×20 ms.
	At time.Time
	// RMSdB is the RMS level in dBFS, where a full-scale square wave (RMS 1.0)
	// is 0 dBFS and a full-scale sine is −3 dBFS. Digital silence reads −120.
	RMSdB float64
	// ZCR is the zero-crossing rate: sign changes per sample (0..1).
	ZCR float64
	// NoiseFloordB is the adaptive noise-floor estimate (dBFS) used for this frame.
	NoiseFloordB float64
	// Speech is the VAD decision: the frame is clearly above the noise floor.
	Speech bool
	// Voiced means Speech and a periodic (pitched) signal was found.
	Voiced bool
	// PitchHz is the fundamental frequency when Voiced, else 0.
	PitchHz float64
}

// VAD and analysis parameters.
const (
	silenceDB      = -120.0 // level reported for digital silence
	absSpeechMinDB = -60.0  // speech must be at least this loud
	vadMarginDB    = 10.0   // … and this far above the noise floor
	noisyZCR       = 0.30   // broadband frames (ZCR above this) need a larger margin …
	noisyMarginDB  = 20.0   // … namely this one
	floorWindow    = 150    // noise floor = minimum level over the last 3 s (150 frames)
	spectrumSize   = 1024   // FFT size for the 20 ms spectra (46.875 Hz bins)
	pitchRate      = 16000  // the pitch/cycle analysis runs on a 16 kHz copy
	pitchDecim     = SampleRate / pitchRate
	pitchFrame     = FrameSize / pitchDecim // 320 samples per frame at 16 kHz
	pitchMinLag    = pitchRate / 500        // 500 Hz
	pitchMaxLag    = pitchRate / 50         // 50 Hz
	yinThreshold   = 0.20                   // YIN absolute threshold on the normalised difference
	decimTaps      = 97                     // FIR taps of the 3 kHz low-pass before decimation
	decimCutoffHz  = 3000.0
)

// Analyzer is the streaming 20 ms analyser for one mono 48 kHz audio track. It
// runs the VAD on every frame and, on speech frames, the spectral and pitch
// analysis whose results accumulate into session Features. It is not safe for
// concurrent use; give each track its own Analyzer.
type Analyzer struct {
	start   time.Time
	pending []float32 // < FrameSize samples waiting for the rest of their frame
	i16     []float32 // WriteInt16 conversion buffer
	clean   []float32 // frame copy with non-finite samples zeroed
	index   int
	out     []Frame

	// VAD
	levels    [floorWindow]float64
	nLevels   int
	levelHead int

	// spectra
	fft    *dsp.FFT
	window []float64
	re, im []float64
	power  []float64

	// pitch: 16 kHz decimated history with absolute sample positions
	decimH  []float64 // FIR coefficients
	hist    []float64 // last decimTaps-1 input samples for the FIR
	decBuf  []float64 // scratch: hist followed by the current frame
	dec     []float64 // decimated signal
	decBase int       // absolute 16 kHz index of dec[0]
	// Decimation is deferred on frames that are not speech (nothing reads
	// their 16 kHz copy unless the next frame is speech): the last such
	// frame and the FIR history before it wait in raw and rawHist.
	raw        []float32
	rawHist    []float64
	rawPending bool
	yinD       []float64
	// YIN FFT scratch (spectrumSize points)
	yinRe1, yinIm1, yinRe2, yinIm2 []float64

	cyc cycleTracker
	acc accumulator
}

// NewAnalyzer returns an Analyzer whose first sample is taken at start
// (the server clock time of the first PCM sample).
func NewAnalyzer(start time.Time) *Analyzer {
	a := &Analyzer{
		start:   start,
		fft:     dsp.NewFFT(spectrumSize),
		window:  make([]float64, FrameSize),
		re:      make([]float64, spectrumSize),
		im:      make([]float64, spectrumSize),
		power:   make([]float64, spectrumSize/2+1),
		decimH:  lowpassFIR(decimTaps, decimCutoffHz/SampleRate),
		hist:    make([]float64, decimTaps-1),
		rawHist: make([]float64, decimTaps-1),
		yinD:    make([]float64, pitchMaxLag+2),
		yinRe1:  make([]float64, spectrumSize),
		yinIm1:  make([]float64, spectrumSize),
		yinRe2:  make([]float64, spectrumSize),
		yinIm2:  make([]float64, spectrumSize),
	}
	for i := range a.window {
		a.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/FrameSize)
	}
	a.cyc.pos = -1
	a.acc.init()
	return a
}

// WriteInt16 is Write for 16-bit PCM.
func (a *Analyzer) WriteInt16(pcm []int16) []Frame {
	a.i16 = Int16ToFloat32(a.i16[:0], pcm)
	return a.Write(a.i16)
}

// Write feeds 48 kHz mono samples in [-1, 1] of any length and returns the
// frames completed by them (possibly none). NaN and infinite samples are
// treated as 0. The returned slice is reused by the next call to Write; copy
// what you keep.
func (a *Analyzer) Write(pcm []float32) []Frame {
	a.out = a.out[:0]
	if len(a.pending) > 0 {
		need := FrameSize - len(a.pending)
		if len(pcm) < need {
			a.pending = append(a.pending, pcm...)
			return a.out
		}
		a.pending = append(a.pending, pcm[:need]...)
		pcm = pcm[need:]
		a.out = append(a.out, a.frame(a.pending))
		a.pending = a.pending[:0]
	}
	for len(pcm) >= FrameSize {
		a.out = append(a.out, a.frame(pcm[:FrameSize]))
		pcm = pcm[FrameSize:]
	}
	a.pending = append(a.pending, pcm...)
	return a.out
}

// frame analyses exactly FrameSize samples.
func (a *Analyzer) frame(x []float32) Frame {
	f := Frame{Index: a.index, At: a.start.Add(time.Duration(a.index) * FrameDuration)}
	a.index++

	var sum float64
	crossings := 0
	for i, v := range x {
		sum += float64(v) * float64(v)
		if i > 0 && (x[i-1] < 0) != (v < 0) && x[i-1] != v {
			crossings++
		}
	}
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		a.clean = append(a.clean[:0], x...)
		for i, v := range a.clean {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				a.clean[i] = 0
			}
		}
		a.index--
		return a.frame(a.clean)
	}
	rms := math.Sqrt(sum / float64(len(x)))
	f.RMSdB = silenceDB
	if rms > 1e-6 {
		f.RMSdB = math.Max(silenceDB, 20*math.Log10(rms))
	}
	f.ZCR = float64(crossings) / float64(len(x)-1)

	f.NoiseFloordB = a.noiseFloor(f.RMSdB)
	margin := vadMarginDB
	if f.ZCR > noisyZCR {
		margin = noisyMarginDB
	}
	f.Speech = f.RMSdB >= absSpeechMinDB && f.RMSdB >= f.NoiseFloordB+margin

	a.acc.frames++
	if !eagerDecimate && !f.Speech {
		a.deferDecimate(x)
		a.cyc.reset(&a.acc)
		a.acc.endRun()
		return f
	}
	if a.rawPending {
		a.catchUp()
	}
	a.decimate(x)
	if !f.Speech { // eagerDecimate
		a.cyc.reset(&a.acc)
		a.acc.endRun()
		return f
	}
	a.acc.speechFrames++
	a.spectrum(x)
	a.acc.addEnvelope(x)
	if hz, ok := a.pitch(); ok {
		f.Voiced, f.PitchHz = true, hz
		a.acc.addVoiced(hz)
		if r, n := a.cyc.track(a, pitchRate/hz); n > 0 {
			a.acc.addHNR(r)
		}
	} else {
		a.cyc.reset(&a.acc)
	}
	return f
}

// noiseFloor records the level and returns the floor: the minimum level over
// the last 3 s (minimum statistics), including the current frame. A digitally
// silent frame (DTX, muted source) pulls the floor to −120 dBFS for 3 s, during
// which the absolute minimum of −60 dBFS is what separates speech from noise.
func (a *Analyzer) noiseFloor(db float64) float64 {
	a.levels[a.levelHead] = db
	a.levelHead = (a.levelHead + 1) % floorWindow
	if a.nLevels < floorWindow {
		a.nLevels++
	}
	m := math.Inf(1)
	for _, v := range a.levels[:a.nLevels] {
		m = math.Min(m, v)
	}
	return m
}

// spectrum computes the Hann-windowed power spectrum of a speech frame and
// feeds the spectral accumulators.
func (a *Analyzer) spectrum(x []float32) {
	for i := range a.re {
		a.im[i] = 0
		if i < FrameSize {
			a.re[i] = float64(x[i]) * a.window[i]
		} else {
			a.re[i] = 0
		}
	}
	a.fft.Transform(a.re, a.im)
	for k := range a.power {
		a.power[k] = a.re[k]*a.re[k] + a.im[k]*a.im[k]
	}
	a.acc.addSpectrum(a.power)
}

// lowpassFIR returns a Blackman-windowed sinc low-pass with cut-off fc in
// cycles per sample and unit DC gain.
func lowpassFIR(taps int, fc float64) []float64 {
	h := make([]float64, taps)
	mid := float64(taps-1) / 2
	var sum float64
	for i := range h {
		d := float64(i) - mid
		s := 2 * fc
		if d != 0 {
			s = math.Sin(2*math.Pi*fc*d) / (math.Pi * d)
		}
		u := float64(i) / float64(taps-1)
		w := 0.42 - 0.5*math.Cos(2*math.Pi*u) + 0.08*math.Cos(4*math.Pi*u)
		h[i] = s * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}

// eagerDecimate decimates every frame as before deferDecimate (only the test
// that compares both sets it).
var eagerDecimate = false

// deferDecimate stands for decimate on a frame that is not speech. The
// 16 kHz copy is read only by the pitch (the last two frames) and by the cycle
// tracker, which restarts after a non-speech frame at the start of the
// previous frame; so the copy of this frame is needed only if the next frame
// is speech, and then catchUp makes it. Until then the copy is empty and ends
// where the eager one would.
func (a *Analyzer) deferDecimate(x []float32) {
	copy(a.rawHist, a.hist)
	a.raw = append(a.raw[:0], x...)
	nh := len(a.hist)
	for i := range a.hist {
		a.hist[i] = float64(x[len(x)-nh+i])
	}
	a.decBase += len(a.dec) + pitchFrame
	a.dec = a.dec[:0]
	a.rawPending = true
}

// catchUp decimates the deferred frame (with the FIR history it had), so
// that the 16 kHz copy ends with it as after decimate.
func (a *Analyzer) catchUp() {
	a.decBase -= pitchFrame
	copy(a.hist, a.rawHist)
	a.decimate(a.raw)
	a.rawPending = false
}

// decimate low-passes the frame at 3 kHz and appends every third sample to the
// 16 kHz history, which keeps the last 4 frames (80 ms).
func (a *Analyzer) decimate(x []float32) {
	nh := len(a.hist)
	// work buffer: history followed by the new frame
	if cap(a.decBuf) < nh+len(x) {
		a.decBuf = make([]float64, nh+len(x))
	}
	buf := a.decBuf[:nh+len(x)]
	copy(buf, a.hist)
	for i, v := range x {
		buf[nh+i] = float64(v)
	}
	taps := len(a.decimH)
	half := taps / 2 // the filter is symmetric with odd length
	for i := 0; i < len(x); i += pitchDecim {
		seg := buf[i : i+taps]
		acc := a.decimH[half] * seg[half]
		for j, h := range a.decimH[:half] {
			acc += h * (seg[j] + seg[taps-1-j])
		}
		a.dec = append(a.dec, acc)
	}
	copy(a.hist, buf[len(buf)-nh:])
	const keep = 4 * pitchFrame
	if len(a.dec) > keep {
		drop := len(a.dec) - keep
		a.dec = append(a.dec[:0], a.dec[drop:]...)
		a.decBase += drop
	}
}
