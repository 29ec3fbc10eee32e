package challenge

import (
	"math"
	"sort"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
)

// read_digits verification, from the audio loudness envelope and the mouth opening.
//
// Noise floor: the 20th percentile of RMS over the baseline window (interviews are full of
// speech; the quietest fifth is the pauses), or over the whole window without baseline audio.
// Speech: RMS ≥ max(floor·10^(SpeechAboveFloorDB/20), SpeechMinRMS); voiced chunks no more than
// QuietGap apart join into one utterance; utterances shorter than SpeechMinRun are clicks.
// The onset is the start of the first utterance starting SpeechReaction or more after the
// ack. An utterance running at display or starting sooner is the candidate still talking:
// if nothing follows it after a pause, the result is "response before prompt".
//
// Lip sync: from display (the candidate first reads silently) to 300 ms after the speech, the
// mouth opening of each frame (the outer lips' gap, lipOpening: finding 29) is compared with the smoothed dB envelope (60 ms centred mean,
// floored at the noise floor) at the frame time + d, for d in ±LipSearch in 10 ms steps;
// d > 0 means the audio lags the video (the same convention as internal/voice AVOffset).
// Two correlations are computed and the score is the smaller: level (mouth open while loud,
// closed while silent) and diff (changes over lipDiffSpan, 200 ms, 3 frames at 15 fps: syllables,
// not just "talking now"; frame-to-frame changes of a noisy face's mouth were mostly noise).
// The best d wins; a score ≥ LipMinCorr passes if |d| ≤ LipMaxOffset, else it is "audio out
// of sync"; a lower score is "mouth does not follow audio" (a replayed or swapped face over
// live speech, or dubbed audio).
//
// Limits: the digits themselves are not recognised (no ASR here), so any speech started after
// display with a synchronised mouth passes; and 3 s of speech is few samples, so an unrelated
// talking mouth correlates by chance now and then (rates in DefaultThresholds).

const (
	// lipDiffSpan is the span of the diff statistic's changes: about one opening or closing
	// of the mouth on a spoken syllable. A jaw does not follow the loudness envelope's 60 ms
	// detail, and the landmarks' frame noise enters a change in full whatever its span; one-
	// frame changes (67 ms at 15 fps) compared mostly those, and the red team's dim, noisy,
	// 400 kbit/s honest face scored 0.49–0.73 on them, 0.81–0.89 over 200 ms (REDTEAM.md
	// finding 14).
	lipDiffSpan = 200 * time.Millisecond
	envSmooth   = 60 * time.Millisecond
	lipStep     = 10 * time.Millisecond
	lipPad      = 300 * time.Millisecond // correlated past the end of speech
	maxSpeech   = 8 * time.Second        // longest span of speech correlated
	minLipPairs = 10
)

// utterance is a run of voiced audio.
type utterance struct{ start, end time.Time }

func (c *vctx) utterances(level float64) []utterance {
	var out []utterance
	var cur *utterance
	for _, a := range c.audio {
		if a.RMS < level {
			continue
		}
		if cur != nil && a.At.Sub(cur.end) <= c.th.QuietGap {
			cur.end = a.At
			continue
		}
		if cur != nil {
			out = append(out, *cur)
		}
		cur = &utterance{start: a.At, end: a.At}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	kept := out[:0]
	for _, u := range out {
		if u.end.Sub(u.start) >= c.th.SpeechMinRun {
			kept = append(kept, u)
		}
	}
	return kept
}

// envelope is the smoothed dB loudness over time.
type envelope struct {
	base time.Time
	t    []float64 // seconds since base, increasing
	db   []float64
}

// envelope is a centred moving mean of the dB loudness over envSmooth. A value is placed at
// the mean time of the chunks it averages plus half a chunk (At is a chunk's start), so the
// smoothing adds no delay to the measured A/V offset.
func (c *vctx) envelope(floor float64) envelope {
	e := envelope{base: c.audio[0].At}
	lo := 20 * math.Log10(math.Max(floor, 1e-6))
	var gaps []float64
	for i := 1; i < len(c.audio); i++ {
		gaps = append(gaps, float64(c.audio[i].At.Sub(c.audio[i-1].At)))
	}
	halfChunk := time.Duration(dsp.Median(gaps) / 2)
	j := 0
	var sum float64
	var tsum time.Duration
	dbs := make([]float64, len(c.audio))
	for i, a := range c.audio {
		dbs[i] = math.Max(lo, 20*math.Log10(math.Max(a.RMS, 1e-6)))
	}
	base := e.base
	for i, a := range c.audio {
		sum += dbs[i]
		tsum += a.At.Sub(base)
		for a.At.Sub(c.audio[j].At) >= envSmooth {
			sum -= dbs[j]
			tsum -= c.audio[j].At.Sub(base)
			j++
		}
		n := i - j + 1
		e.t = append(e.t, seconds(tsum/time.Duration(n)+halfChunk))
		e.db = append(e.db, sum/float64(n))
	}
	return e
}

// at returns the envelope at t seconds since base by linear interpolation; ok is false
// outside its span.
func (e envelope) at(t float64) (float64, bool) {
	n := len(e.t)
	if n == 0 || t < e.t[0] || t > e.t[n-1] {
		return 0, false
	}
	i := sort.SearchFloat64s(e.t, t)
	if e.t[i] == t || i == 0 {
		return e.db[i], true
	}
	a, b := e.t[i-1], e.t[i]
	return e.db[i-1] + (e.db[i]-e.db[i-1])*(t-a)/(b-a), true
}

func (c *vctx) digits() verdict {
	var inWindow int
	for _, a := range c.audio {
		if !a.At.Before(c.ref) && !a.At.After(c.deadline) {
			inWindow++
		}
	}
	if inWindow == 0 {
		return inconclusive(ReasonNoAudio)
	}
	var base []float64
	for _, a := range c.audio {
		if a.At.Before(c.issued) {
			base = append(base, a.RMS)
		}
	}
	if len(base) < 5 {
		base = base[:0]
		for _, a := range c.audio {
			base = append(base, a.RMS)
		}
	}
	floor := dsp.Quantile(base, 0.2)
	level := math.Max(floor*math.Pow(10, c.th.SpeechAboveFloorDB/20), c.th.SpeechMinRMS)
	metrics := map[string]float64{"noise_floor": floor, "speech_level": level}

	var first *utterance
	var pre bool
	earliest := c.ref.Add(c.th.SpeechReaction)
	us := c.utterances(level)
	for i := range us {
		if us[i].start.Before(earliest) {
			pre = pre || !us[i].end.Before(c.ref)
			continue
		}
		first = &us[i]
		break
	}
	vd := verdict{unit: "corr", metrics: metrics}
	if first == nil {
		vd.outcome, vd.reason = OutcomeFailed, ReasonNoResponse
		if pre {
			vd.reason = ReasonBeforePrompt
		}
		return vd
	}
	end := first.end
	for _, u := range us {
		if u.start.After(first.start) && u.start.Before(first.start.Add(maxSpeech)) {
			end = u.end
		}
	}
	vd.onset, vd.respEnd = first.start, end
	metrics["speech_ms"] = ms(end.Sub(first.start))
	if first.start.After(c.deadline) {
		vd.outcome, vd.reason = OutcomeFailed, ReasonLate
		return vd
	}

	env := c.envelope(floor)
	// From display (the candidate reads silently first) to just after the speech: a mouth
	// that moves regardless of the audio (a replayed talking face) shows up in the silence.
	from := c.ref
	if lead := first.start.Add(-lipPad); lead.Before(from) {
		from = lead
	}
	var mouth []sample
	for _, o := range c.obs {
		if seen(o) && o.LandmarksOK && !o.At.Before(from) && !o.At.After(end.Add(lipPad)) {
			mouth = append(mouth, sample{o.At, lipOpening(&o.Landmarks)})
		}
	}
	best := lipScore{corr: math.Inf(-1)}
	scratch := lipScratch{secs: make([]float64, len(mouth)), k: lipDiffFrames(mouth)}
	for i, m := range mouth {
		scratch.secs[i] = seconds(m.t.Sub(env.base))
	}
	for d := -c.th.LipSearch; d <= c.th.LipSearch; d += lipStep {
		if ls, ok := lipCorr(mouth, env, d, &scratch); ok && ls.corr > best.corr {
			best = ls
		}
	}
	if math.IsInf(best.corr, -1) {
		return inconclusive(ReasonFaceLost)
	}
	switch {
	case best.corr < c.th.LipMinCorr:
		vd.outcome, vd.reason = OutcomeFailed, ReasonNotSynced
	case absDur(best.offset) > c.th.LipMaxOffset:
		vd.outcome, vd.reason = OutcomeFailed, ReasonOutOfSync
	default:
		vd.outcome = OutcomePassed
	}
	vd.peak, vd.peakAt = best.corr, best.peakAt
	metrics["corr"], metrics["offset_ms"], metrics["lip_frames"] = best.corr, ms(best.offset), float64(best.n)
	metrics["corr_level"], metrics["corr_diff"] = best.level, best.diff
	return vd
}

// lipOpening is the mouth opening lip sync compares with the loudness (finding 29): the outer
// lips' gap (upper lip's top to lower lip's bottom, dlib points 50–58, 51–57, 52–56) over the
// mouth's width (48–54), not the inner gap the analyser's Observation.Mouth measures. The inner
// contour is found on the edge between the lips and the dark inside of the mouth; on a darker
// skin (dark lips) that edge has little contrast and the predictor's inner points stay near
// their mean shape: through VP8 the inner gap followed the rendered opening with r 0.57–0.69 at
// albedo 0.4 against 0.88–0.89 at 1, and lip-sync scores fell from 0.87–0.90 to 0.63–0.76. The
// outer gap grows by the same drop of the lower lip and is placed with the lower face's outline:
// on the same renders it scored 0.92–0.94 at albedo 1 and 0.87–0.91 at 0.4. It carries the
// lips' thickness as an offset, which the correlations ignore.
func lipOpening(p *[68][2]float32) float64 {
	d := func(a, b int) float64 {
		return math.Hypot(float64(p[a][0]-p[b][0]), float64(p[a][1]-p[b][1]))
	}
	w := d(48, 54)
	if w == 0 {
		return 0
	}
	return (d(50, 58) + d(51, 57) + d(52, 56)) / 3 / w
}

// lipDiffFrames is how many frames span lipDiffSpan at the mouth samples' frame rate
// (their median interval), at least 1: 3 at 15 fps.
func lipDiffFrames(mouth []sample) int {
	var gaps []float64
	for i := 1; i < len(mouth); i++ {
		gaps = append(gaps, float64(mouth[i].t.Sub(mouth[i-1].t)))
	}
	iv := dsp.Median(gaps)
	if iv <= 0 {
		return 1
	}
	return max(1, int(math.Round(float64(lipDiffSpan)/iv)))
}

// lipScore is the mouth/envelope agreement at one offset.
type lipScore struct {
	corr   float64 // min(level, diff)
	level  float64 // correlation of mouth opening and loudness
	diff   float64 // correlation of their frame-to-frame changes (syllable level)
	offset time.Duration
	n      int
	peakAt time.Time // widest mouth opening (evidence frame)
}

// lipScratch holds lipCorr's buffers across offsets; secs are the mouth sample times in
// seconds since the envelope's base, k the frames the diff statistic's changes span.
type lipScratch struct {
	secs, x, y, dx, dy []float64
	k                  int
}

func lipCorr(mouth []sample, env envelope, d time.Duration, sc *lipScratch) (lipScore, bool) {
	x, y := sc.x[:0], sc.y[:0]
	defer func() { sc.x, sc.y = x, y }()
	ls := lipScore{offset: d}
	widest := math.Inf(-1)
	ds := seconds(d)
	for i, m := range mouth {
		v, ok := env.at(sc.secs[i] + ds)
		if !ok {
			continue
		}
		x, y = append(x, m.v), append(y, v)
		if m.v > widest {
			widest, ls.peakAt = m.v, m.t
		}
	}
	ls.n = len(x)
	if len(x) < minLipPairs {
		return ls, false
	}
	level, ok1 := dsp.Pearson(x, y)
	sc.dx, sc.dy = appendDiffsK(sc.dx[:0], x, sc.k), appendDiffsK(sc.dy[:0], y, sc.k)
	diff, ok2 := dsp.Pearson(sc.dx, sc.dy)
	if !ok1 || !ok2 {
		return ls, false
	}
	ls.level, ls.diff, ls.corr = level, diff, math.Min(level, diff)
	return ls, true
}
