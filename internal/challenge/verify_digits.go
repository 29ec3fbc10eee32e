package challenge

import (
	"math"
	"sort"
	"time"
)

// read_digits verification, from the audio loudness envelope and the mouth opening.
//
// Noise floor: the 20th percentile of RMS over the baseline window (interviews are full of
// speech; the quietest fifth is the pauses), or over the whole window without baseline audio.
// Speech: RMS ≥ max(floor·10^(SpeechAboveFloorDB/20), SpeechMinRMS); voiced chunks closer than
// QuietGap join into one utterance, utterances shorter than SpeechMinRun are clicks. The onset
// is the start of the first utterance starting at or after the ack (minus AckSlack); if the
// only speech after display is an utterance already running at display — no pause to read
// the digits — the result is "response before prompt".
//
// Lip sync: over [onset−300 ms, end of speech+300 ms] the mouth opening of each frame is
// correlated with the smoothed dB envelope (60 ms moving mean, floored at the noise floor)
// at the frame time + d, for d in ±LipSearch in 10 ms steps; d > 0 means the audio lags the
// video. It passes when the best correlation with |d| ≤ LipMaxOffset reaches LipMinCorr. A
// better correlation only at a larger offset is "audio out of sync"; none is "mouth does not
// follow audio" (a replayed or swapped face over live speech, or dubbed audio).
//
// The digits themselves are not recognised: this checks live, synchronised speech started
// after display, not that the right digits were read.

const (
	envSmooth   = 60 * time.Millisecond
	lipStep     = 10 * time.Millisecond
	lipPad      = 300 * time.Millisecond
	maxSpeech   = 8 * time.Second // longest span of speech correlated
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
	t  []time.Time
	db []float64
}

func (c *vctx) envelope(floor float64) envelope {
	var e envelope
	lo := 20 * math.Log10(math.Max(floor, 1e-6))
	j := 0
	var sum float64
	dbs := make([]float64, len(c.audio))
	for i, a := range c.audio {
		dbs[i] = math.Max(lo, 20*math.Log10(math.Max(a.RMS, 1e-6)))
	}
	for i, a := range c.audio {
		sum += dbs[i]
		for a.At.Sub(c.audio[j].At) >= envSmooth {
			sum -= dbs[j]
			j++
		}
		e.t = append(e.t, a.At)
		e.db = append(e.db, sum/float64(i-j+1))
	}
	return e
}

// at returns the envelope at t by linear interpolation; ok is false outside its span.
func (e envelope) at(t time.Time) (float64, bool) {
	n := len(e.t)
	if n == 0 || t.Before(e.t[0]) || t.After(e.t[n-1]) {
		return 0, false
	}
	i := sort.Search(n, func(i int) bool { return !e.t[i].Before(t) })
	if e.t[i].Equal(t) || i == 0 {
		return e.db[i], true
	}
	a, b := e.t[i-1], e.t[i]
	f := float64(t.Sub(a)) / float64(b.Sub(a))
	return e.db[i-1] + (e.db[i]-e.db[i-1])*f, true
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
	floor := percentile(base, 20)
	level := math.Max(floor*math.Pow(10, c.th.SpeechAboveFloorDB/20), c.th.SpeechMinRMS)
	metrics := map[string]float64{"noise_floor": floor, "speech_level": level}

	var first *utterance
	var pre bool
	nb := c.notBefore()
	us := c.utterances(level)
	for i := range us {
		if us[i].start.Before(nb) {
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
	var mouth []sample
	for _, o := range c.obs {
		if o.FacePresent && o.LandmarksOK && !o.At.Before(first.start.Add(-lipPad)) && !o.At.After(end.Add(lipPad)) {
			mouth = append(mouth, sample{o.At, o.Mouth})
		}
	}
	bestIn, bestAll := lipScore{corr: math.Inf(-1)}, lipScore{corr: math.Inf(-1)}
	for d := -c.th.LipSearch; d <= c.th.LipSearch; d += lipStep {
		ls, ok := lipCorr(mouth, env, d)
		if !ok {
			continue
		}
		if ls.corr > bestAll.corr {
			bestAll = ls
		}
		if absDur(d) <= c.th.LipMaxOffset && ls.corr > bestIn.corr {
			bestIn = ls
		}
	}
	if math.IsInf(bestAll.corr, -1) {
		return inconclusive(ReasonFaceLost)
	}
	best := bestIn
	switch {
	case !math.IsInf(bestIn.corr, -1) && bestIn.corr >= c.th.LipMinCorr:
		vd.outcome = OutcomePassed
	case bestAll.corr >= c.th.LipMinCorr:
		vd.outcome, vd.reason, best = OutcomeFailed, ReasonOutOfSync, bestAll
	default:
		vd.outcome, vd.reason, best = OutcomeFailed, ReasonNotSynced, bestAll
	}
	vd.peak, vd.peakAt = best.corr, best.peakAt
	metrics["corr"], metrics["offset_ms"], metrics["lip_frames"] = best.corr, ms(best.offset), float64(best.n)
	return vd
}

// lipScore is the mouth/envelope correlation at one offset.
type lipScore struct {
	corr   float64
	offset time.Duration
	n      int
	peakAt time.Time // widest mouth opening (evidence frame)
}

func lipCorr(mouth []sample, env envelope, d time.Duration) (lipScore, bool) {
	var x, y []float64
	ls := lipScore{offset: d}
	widest := math.Inf(-1)
	for _, m := range mouth {
		v, ok := env.at(m.t.Add(d))
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
	r, ok := pearson(x, y)
	ls.corr = r
	return ls, ok
}
