package faceid

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/eval"
	"github.com/livecheck/livecheck/internal/vision"
)

// devSample is one embedded frame of a devset clip, as dumped for analysis.
type devSample struct {
	T         float64    `json:"t"`
	Yaw       float64    `json:"yaw"`
	Pitch     float64    `json:"pitch"`
	Eye       float64    `json:"eye"`
	Sharp     float64    `json:"sharp"`
	Occlusion float64    `json:"occ"`
	D         Descriptor `json:"d"`
}

type devClip struct {
	Name     string         `json:"name"`
	Label    string         `json:"label"`
	Source   string         `json:"source"`
	Analysed int            `json:"analysed"`
	Rejected map[string]int `json:"rejected"`
	Samples  []devSample    `json:"samples"`
}

// devsetDump embeds every analysed frame (8 fps, as live) of the devset's
// video clips that passes the pixel-free gate, with a permissive blur
// threshold, and caches the result (internal-use descriptors, written
// outside the repository) for the identity measurements.
func devsetDump(t *testing.T, dir, cache string) []devClip {
	return devsetDumpGate(t, dir, cache, Gate{MinSharpness: 1e-9})
}

// devsetDumpGate is devsetDump with the gate g (its blur criterion is
// applied by the measurements).
func devsetDumpGate(t *testing.T, dir, cache string, g Gate) []devClip {
	if b, err := os.ReadFile(cache); err == nil {
		var clips []devClip
		if json.Unmarshal(b, &clips) == nil {
			return clips
		}
	}
	items, err := eval.ReadManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := testModel(t)
	lm := testLandmarker(t)
	var video []eval.Item
	for _, it := range items {
		if it.Kind == eval.Video {
			video = append(video, it)
		}
	}
	clips := make([]devClip, len(video))
	_, err = eval.Run(context.Background(), video, 2, func(ctx context.Context, it eval.Item) (eval.Scores, error) {
		c := devClip{Name: strings.TrimSuffix(filepath.Base(it.File), ".ivf"), Label: string(it.Label), Source: it.Extra["source"], Rejected: map[string]int{}}
		src, err := openClip(it.Path, fileEpoch)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		an, err := vision.NewAnalyzer(vision.Config{Landmarker: lm})
		if err != nil {
			return nil, err
		}
		defer an.Close()
		var last float64 = -1
		for {
			f, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				break
			}
			ts := f.Capture.Sub(fileEpoch).Seconds()
			if last >= 0 && ts-last < 0.12 {
				continue
			}
			last = ts
			o, err := an.Measure(f)
			if err != nil {
				return nil, err
			}
			c.Analysed++
			s, why, err := m.Describe(f, &o, g)
			if err != nil {
				return nil, err
			}
			if why != "" {
				c.Rejected[why]++
				continue
			}
			c.Samples = append(c.Samples, devSample{T: ts, Yaw: s.Yaw, Pitch: s.Pitch, Eye: s.EyeDistance, Sharp: s.Sharpness, Occlusion: o.Occlusion, D: s.D})
		}
		for i := range video {
			if video[i].Line == it.Line {
				clips[i] = c
			}
		}
		return eval.Scores{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(clips)
	if err := os.WriteFile(cache, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return clips
}

// envDevset is LIVECHECK_DEVSET; the devset tests skip without it (the
// media are internal-use and never in the repository).
func envDevset(t *testing.T) string {
	dir := os.Getenv("LIVECHECK_DEVSET")
	if dir == "" {
		t.Skip("set LIVECHECK_DEVSET to the devset directory to measure identity on it")
	}
	return dir
}

// devsetCache is where the devset's descriptors are cached between runs
// (outside the repository; delete it after changing the model or alignment).
func devsetCache() string { return filepath.Join(os.TempDir(), "livecheck-faceid-devset.json") }

// TestDevsetIdentity lists how many frames of each clip were embedded.
//
//	LIVECHECK_DEVSET=/work/shared/devset go test -run Devset -v ./internal/faceid
func TestDevsetIdentity(t *testing.T) {
	clips := devsetDump(t, envDevset(t), devsetCache())
	for _, c := range clips {
		t.Logf("%-32s %-11s analysed %3d embedded %3d rejected %v", c.Name, c.Label, c.Analysed, len(c.Samples), c.Rejected)
	}
}

// TestDevsetSwitchVideos joins the decoded frames of each single-person
// genuine clip with those of the next person's degraded copy (capture times
// continuing), runs them through one vision.Analyzer at the live analysis
// rate and a default identity Session, and counts the switches flagged
// within 4 s after the join and the changes before it.
func TestDevsetSwitchVideos(t *testing.T) {
	dir := envDevset(t)
	items, err := eval.ReadManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var gen, deg []eval.Item
	for _, it := range items {
		name := filepath.Base(it.File)
		switch {
		case strings.Contains(name, "g09"):
		case strings.HasPrefix(name, "gd_lowres_"):
			deg = append(deg, it)
		case strings.HasPrefix(name, "g") && it.Label == eval.Genuine && it.Kind == eval.Video:
			gen = append(gen, it)
		}
	}
	if len(gen) != len(deg) || len(gen) < 5 {
		t.Fatalf("%d genuine and %d degraded clips", len(gen), len(deg))
	}
	m, lm := testModel(t), testLandmarker(t)
	hits, early := 0, 0
	for i, a := range gen {
		b := deg[(i+1)%len(deg)]
		an, err := vision.NewAnalyzer(vision.Config{Landmarker: lm})
		if err != nil {
			t.Fatal(err)
		}
		s := NewSession(m, SessionConfig{})
		var last, switchAt, lastAnalysed = fileEpoch, fileEpoch, fileEpoch
		for part, it := range []eval.Item{a, b} {
			src, err := openClip(it.Path, last)
			if err != nil {
				t.Fatal(err)
			}
			if part == 1 {
				switchAt = last
			}
			for {
				f, err := src.Next()
				if err != nil {
					break
				}
				last = f.Capture.Add(time.Second / 15)
				if f.Capture.Sub(lastAnalysed) < 120*time.Millisecond && !lastAnalysed.Equal(fileEpoch) {
					continue
				}
				lastAnalysed = f.Capture
				o, err := an.Measure(f)
				if err != nil {
					t.Fatal(err)
				}
				o.At = f.Capture
				if s.Due(o.At, false) {
					if _, _, err := s.Observe(f, &o); err != nil {
						t.Fatal(err)
					}
				}
			}
			src.Close()
		}
		an.Close()
		found := false
		for _, c := range s.Changes() {
			t.Logf("  change: before %.1f s (yaw %.0f) after %.1f s (yaw %.0f, pitch %.0f, sharpness %.0f, eyes %.0f px), distance %.2f",
				c.Before.At.Sub(fileEpoch).Seconds(), c.Before.Yaw, c.After.At.Sub(fileEpoch).Seconds(), c.After.Yaw, c.After.Pitch,
				c.After.Sharpness, c.After.EyeDistance, c.Distance)
			switch {
			case c.After.At.Before(switchAt):
				early++
			case !found && c.After.At.Sub(switchAt) <= 4*time.Second:
				found = true
				hits++
			}
		}
		t.Logf("%s → %s: switch at %.1f s, changes %d, flagged %v", filepath.Base(a.File), filepath.Base(b.File),
			switchAt.Sub(fileEpoch).Seconds(), len(s.Changes()), found)
	}
	t.Logf("video switches: %d of %d flagged within 4 s of the join; %d changes before a join", hits, len(gen), early)
}
