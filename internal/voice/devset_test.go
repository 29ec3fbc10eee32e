package voice_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/eval"
	"github.com/livecheck/livecheck/internal/voice"
)

// TestDevsetReport scores the audio items of the development set with the
// Detector and with each raw cue, and logs the ISO/IEC 30107-3 report. It is
// a tuning aid, not a unit test: it runs only when LIVECHECK_DEVSET names the
// devset directory (internal-use media, never copied into the repository).
// The ROC plot goes to LIVECHECK_REPORT_DIR when set.
//
//	LIVECHECK_DEVSET=/work/shared/devset go test -run Devset -v ./internal/voice
func TestDevsetReport(t *testing.T) {
	dir := os.Getenv("LIVECHECK_DEVSET")
	if dir == "" {
		t.Skip("set LIVECHECK_DEVSET to the devset directory to run the devset report")
	}
	items, err := eval.ReadManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var audio []eval.Item
	for _, it := range items {
		if it.Kind == eval.Audio {
			audio = append(audio, it)
		}
	}
	res, err := eval.Run(context.Background(), audio, 0, func(_ context.Context, it eval.Item) (eval.Scores, error) {
		f, err := os.Open(it.Path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		x, rate, err := voice.ReadWAV(f)
		if err != nil {
			return nil, err
		}
		a := voice.NewAnalyzer(time.Time{})
		a.Write(voice.Resample(x, rate, voice.SampleRate))
		feat := a.Features()
		as := voice.Detector{}.Assess(feat)
		t.Logf("%-32s %-9s score %.2f conf %.2f | cutoff %5.0f jitter pq5 %.2f%% shimmer apq5 %.2f%% hnr %4.1f line %5.1f@%3.0f",
			filepath.Base(it.File), it.Label, as.Score, as.Confidence, feat.Band.CutoffHz, 100*feat.Jitter.PQ5,
			100*feat.Shimmer.PQ5, feat.HNR.Median, feat.Periodic.Prominence, feat.Periodic.Hz)
		return eval.Scores{
			"detector": as.Score,
			"jitter":   -feat.Jitter.PQ5,
			"env_line": feat.Periodic.Prominence,
			"hnr":      feat.HNR.Median,
			"shimmer":  -feat.Shimmer.PQ5,
			"band":     -feat.Band.CutoffHz,
			"flatness": feat.Flatness.Median,
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Item.File, r.Err)
		}
	}
	rep, err := eval.Evaluate(res, "detector", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	if out := os.Getenv("LIVECHECK_REPORT_DIR"); out != "" {
		buf.Reset()
		if err := eval.WriteROCSVG(&buf, "synthetic voice, devset audio", rep.Curves()); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "voice_roc.svg"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Band-limited genuine copies (gd_sr16_*: resampled to 16 kHz) must not be
	// pushed over the threshold by their band limit.
	for _, r := range res {
		if strings.HasPrefix(filepath.Base(r.Item.File), "gd_sr16_") && r.Scores["detector"] >= 0.5 {
			t.Errorf("%s: band-limited genuine scored %.2f", r.Item.File, r.Scores["detector"])
		}
	}
}
