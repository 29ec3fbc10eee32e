package analysis_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/eval"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
)

// TestDevsetReport runs the detectors on the video items of the development
// set and logs every detector's raw features and scores, then the ISO/IEC
// 30107-3 summary per detector. It is a tuning aid, not a unit test: it runs
// only when LIVECHECK_DEVSET names the devset directory (internal-use media,
// never copied into the repository).
//
//	LIVECHECK_DEVSET=/work/shared/devset go test -run Devset -v ./internal/analysis
func TestDevsetReport(t *testing.T) {
	dir := os.Getenv("LIVECHECK_DEVSET")
	if dir == "" {
		t.Skip("set LIVECHECK_DEVSET to the devset directory to run the devset report")
	}
	items, err := eval.ReadManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var video []eval.Item
	for _, it := range items {
		if it.Kind == eval.Video {
			video = append(video, it)
		}
	}
	lm, err := vision.LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	res, err := eval.Run(context.Background(), video, 0, func(ctx context.Context, it eval.Item) (eval.Scores, error) {
		r, err := analysis.AnalyzeFile(ctx, analysis.FileOptions{Video: it.Path, Vision: vision.Config{Landmarker: lm}})
		if err != nil {
			return nil, err
		}
		sc := eval.Scores{}
		var b strings.Builder
		fmt.Fprintf(&b, "%-34s %-11s faces %3d/%3d |", filepath.Base(it.File), it.Label, r.Faces, r.Analysed)
		for _, sg := range verdict.Signals(r.Result) {
			sc[sg.Kind] = sg.Score
			fmt.Fprintf(&b, " %s %.2f/%.2f", short(sg.Kind), sg.Score, sg.Confidence)
		}
		b.WriteString("\n      ")
		kinds := make([]string, 0, len(r.Features))
		for k := range r.Features {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fs := r.Features[k]
			names := make([]string, 0, len(fs))
			for n := range fs {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(&b, " [%s", short(k))
			for _, n := range names {
				fmt.Fprintf(&b, " %s=%.3g", n, fs[n])
				sc[short(k)+"."+n] = fs[n]
			}
			b.WriteString("]")
		}
		lines[it.File] = b.String()
		return sc, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Item.File, r.Err)
			continue
		}
		t.Log(lines[r.Item.File])
	}
	names := eval.DetectorNames(res)
	var b strings.Builder
	for _, n := range names {
		rep, err := eval.Evaluate(res, n, 0.5)
		if err != nil {
			continue
		}
		for _, m := range rep.Modalities {
			fmt.Fprintf(&b, "%-28s AUC %.2f |", n, m.AUC)
			for _, a := range m.Attacks {
				fmt.Fprintf(&b, " %s %.2f", a.Label, a.AUC)
			}
			b.WriteString("\n")
		}
	}
	t.Log("\n" + b.String())
}

func short(kind string) string {
	switch kind {
	case detect.KindVirtualCamera:
		return "vcam"
	case detect.KindJitter:
		return "jitter"
	case "face_presence":
		return "face"
	}
	return kind
}
