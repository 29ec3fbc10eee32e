package voice

import (
	"testing"
	"time"
)

var timeZero time.Time

// humanLike and synthLike are hand-made feature sets with plenty of data.
func humanLike(cutoff float64) Features {
	return Features{
		Frames: 1000, SpeechFrames: 600, VoicedFrames: 400,
		Band:     BandLimit{CutoffHz: cutoff, Frames: 600},
		Flatness: Stat{Median: 0.03, Frames: 600},
		Jitter:   Perturbation{PQ5: 0.0065, Windows: 800, Frames: 400},
		HNR:      Stat{Median: 15, Frames: 400},
		Periodic: Periodicity{Prominence: 9, Windows: 40, Frames: 600},
	}
}

func TestBandLimitAloneGivesLittleScore(t *testing.T) {
	var d Detector
	full, narrow := d.Assess(humanLike(20000)), d.Assess(humanLike(8000))
	if narrow.Score > full.Score*1.1+1e-12 {
		t.Errorf("band limit raised the score from %.3f to %.3f (more than 10 %%)", full.Score, narrow.Score)
	}
	if narrow.Score > 0.15 {
		t.Errorf("human-like band-limited voice scores %.2f", narrow.Score)
	}
	// With no other cue usable, the band limit gives no score at all.
	f := humanLike(8000)
	f.Jitter.Windows, f.Periodic.Windows, f.HNR.Frames = 0, 0, 0
	if as := d.Assess(f); as.Score != 0 || as.Confidence != 0 {
		t.Errorf("band limit alone: score %.2f confidence %.2f, want 0, 0", as.Score, as.Confidence)
	}
}

func TestDetectorCombinesCues(t *testing.T) {
	var d Detector
	f := humanLike(20000)
	base := d.Assess(f).Score
	f.Jitter.PQ5 = 0.0015 // machine-regular period
	one := d.Assess(f).Score
	f.Periodic.Prominence = 60
	two := d.Assess(f).Score
	if !(base < 0.15 && one > 0.45 && two > one && two > 0.8) {
		t.Errorf("scores base %.2f, one cue %.2f, two cues %.2f", base, one, two)
	}
}

func TestConfidenceFollowsAmountOfSpeech(t *testing.T) {
	var d Detector
	little, much := humanLike(20000), humanLike(20000)
	little.Jitter.Windows, little.Periodic.Windows, little.HNR.Frames = 25, 3, 25
	cl, cm := d.Assess(little).Confidence, d.Assess(much).Confidence
	if !(cl < 0.3 && cm > 0.6 && cm <= 0.8) {
		t.Errorf("confidence little %.2f, much %.2f", cl, cm)
	}
	// Half a second of real speech: the detector may speak but must not be sure.
	x := load48(t, ljPath)[:SampleRate/2]
	_, f := analyse(x)
	if as := d.Assess(f); as.Confidence > 0.2 {
		t.Errorf("0.5 s of speech gave confidence %.2f: %s", as.Confidence, as.Reason)
	}
}

func TestDetectorAbstainsOnNonSpeech(t *testing.T) {
	var d Detector
	for name, f := range map[string]Features{
		"empty":    {},
		"tonal":    {Frames: 500, SpeechFrames: 500, VoicedFrames: 500, Flatness: Stat{Median: 1e-5, Frames: 500}},
		"noise":    {Frames: 500, SpeechFrames: 500, VoicedFrames: 10, Flatness: Stat{Median: 0.6, Frames: 500}},
		"unvoiced": {Frames: 500, SpeechFrames: 500, Flatness: Stat{Median: 0.1, Frames: 500}},
	} {
		as := d.Assess(f)
		if as.Score != 0 || as.Confidence != 0 || as.Reason == "" {
			t.Errorf("%s: %+v", name, as)
		}
	}
}
