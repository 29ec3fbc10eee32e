package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/livecheck/livecheck/internal/media/mediatest"
)

// fixtureDir holds recordings made once per test binary with ffmpeg from the
// public-domain astronaut still (slow zoom and pan, 2 s at 15 fps, 640x480).
var (
	fixtureOnce sync.Once
	fixtureErr  string
	fixtureDir  string
)

func fixtures(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			fixtureErr = "ffmpeg not installed (apt-get install ffmpeg)"
			return
		}
		dir, err := os.MkdirTemp("", "livecheck-analyze-")
		if err != nil {
			fixtureErr = err.Error()
			return
		}
		fixtureDir = dir
		src := filepath.Join("..", "testdata", "faces", "astronaut.png")
		vf := "scale=800:800,zoompan=z='1.0+0.002*on':x='iw/2-(iw/zoom/2)+20*sin(on/10)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15,format=yuv420p"
		for _, out := range []struct{ name, codec []string }{
			{[]string{"face.ivf"}, []string{"-c:v", "libvpx", "-b:v", "600k", "-deadline", "good", "-cpu-used", "5", "-threads", "1"}},
			{[]string{"face.y4m"}, []string{"-f", "yuv4mpegpipe"}},
			{[]string{"face.avi"}, []string{"-c:v", "mpeg4", "-q:v", "4"}},
		} {
			args := append([]string{"-loglevel", "error", "-y", "-loop", "1", "-i", src, "-t", "2", "-vf", vf}, out.codec...)
			args = append(args, filepath.Join(dir, out.name[0]))
			if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
				fixtureErr = fmt.Sprintf("ffmpeg %s: %v: %s", out.name[0], err, b)
				return
			}
		}
	})
	if fixtureErr != "" {
		if strings.Contains(fixtureErr, "not installed") {
			t.Skip(fixtureErr)
		}
		t.Fatal(fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	// The test binary doubles as the command line when a test runs it as a
	// child process (to measure its memory): LIVECHECK_TEST_CLI holds the
	// arguments, one per line.
	if args := os.Getenv("LIVECHECK_TEST_CLI"); args != "" {
		code := run(strings.Split(args, "\n"), os.Stdout, os.Stderr, func(string) string { return "" })
		// The child's own peak memory: its rusage also counts the parent's
		// memory at the fork (Linux charges the pre-exec address space), and
		// a parent that ran earlier tests in-process is large.
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					fmt.Fprintf(os.Stderr, "\n%s %s\n", peakRSSPrefix, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				}
			}
		}
		os.Exit(code)
	}
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// peakRSSPrefix starts the line on which a child process run by TestMain
// reports its peak resident memory (VmHWM, kB).
const peakRSSPrefix = "livecheck-test-peak-rss-kb"

// cli runs the livecheck command line and returns its exit code and output.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestAnalyzeTextReport(t *testing.T) {
	dir := fixtures(t)
	for _, name := range []string{"face.ivf", "face.y4m", "face.avi"} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli("analyze", "--video", filepath.Join(dir, name))
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, want := range []string{"VERDICT", "score", "DETECTOR", "photo", "replay", "seam", "face_presence", "REASONS", "WINDOWS"} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, "30 frames decoded") {
				t.Errorf("want 30 decoded frames (2 s at 15 fps):\n%s", out)
			}
			if !strings.Contains(errOut, "analyzing "+name) || !strings.Contains(errOut, "100 %") {
				t.Errorf("no progress bar on stderr: %q", errOut)
			}
		})
	}
}

// field kinds of the documented JSON shape (docs/ANALYZE.md).
const (
	tNumber = "number"
	tString = "string"
)

type (
	obj      map[string]any // field -> kind, or nested obj/arr/mapOf/nullable
	arr      struct{ of any }
	mapOf    struct{ of any }
	nullable struct{ of any }
	optional struct{ of any }
)

// analyzeShape is docs/ANALYZE.md's table, written down independently of the
// Go types that produce the output.
var analyzeShape = obj{
	"version": tNumber,
	"video": nullable{obj{"path": tString, "format": tString, "width": tNumber, "height": tNumber, "fps": tNumber,
		"frames_decoded": tNumber, "frames_analysed": tNumber, "frames_with_face": tNumber, "seconds": tNumber}},
	"audio": nullable{obj{"path": tString, "seconds": tNumber}},
	"verdict": obj{"score": tNumber, "decision": tString, "scoring_version": tString, "review_at": tNumber, "fail_at": tNumber,
		"coverage": tNumber,
		"reasons": arr{obj{"kind": tString, "text": tString, "points": tNumber, "weight": tNumber, "evidence": tNumber,
			"at": optional{tString}}}},
	"signals": arr{obj{"kind": tString, "score": tNumber, "confidence": tNumber, "value": tNumber, "reason": tString,
		"at_s": nullable{tNumber}}},
	"windows":  arr{obj{"kind": tString, "from_s": tNumber, "to_s": tNumber, "score": tNumber, "confidence": tNumber, "value": tNumber}},
	"features": mapOf{mapOf{tNumber}},
	"timing":   obj{"elapsed_s": tNumber, "detector_ms_per_frame": mapOf{tNumber}},
	"identity": nullable{obj{"faces_embedded": tNumber, "faces_rejected": mapOf{tNumber}, "identities": tNumber,
		"changes":   arr{obj{"before_s": tNumber, "after_s": tNumber, "distance": tNumber}},
		"reference": nullable{obj{"path": tString, "distance": tNumber, "result": tString}}}},
}

// checkShape reports every place where v does not follow shape.
func checkShape(path string, v any, shape any) []string {
	switch s := shape.(type) {
	case string:
		ok := false
		switch s {
		case tNumber:
			_, ok = v.(float64)
		case tString:
			_, ok = v.(string)
		}
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, got %T", path, s, v)}
		}
		return nil
	case nullable:
		if v == nil {
			return nil
		}
		return checkShape(path, v, s.of)
	case arr:
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want array, got %T", path, v)}
		}
		var errs []string
		for i, e := range a {
			errs = append(errs, checkShape(fmt.Sprintf("%s[%d]", path, i), e, s.of)...)
		}
		return errs
	case mapOf:
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want object, got %T", path, v)}
		}
		var errs []string
		for k, e := range m {
			errs = append(errs, checkShape(path+"."+k, e, s.of)...)
		}
		return errs
	case obj:
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want object, got %T", path, v)}
		}
		var errs []string
		for k, fs := range s {
			e, present := m[k]
			if o, isOpt := fs.(optional); isOpt {
				if present {
					errs = append(errs, checkShape(path+"."+k, e, o.of)...)
				}
				continue
			}
			if !present {
				errs = append(errs, path+"."+k+": missing")
				continue
			}
			errs = append(errs, checkShape(path+"."+k, e, fs)...)
		}
		for k := range m {
			if _, known := s[k]; !known {
				errs = append(errs, path+"."+k+": not in the documented shape")
			}
		}
		return errs
	}
	return []string{fmt.Sprintf("%s: bad shape %T", path, shape)}
}

func TestAnalyzeJSONShape(t *testing.T) {
	dir := fixtures(t)
	wav := filepath.Join("..", "testdata", "voice", "LJ001-0011.wav")
	code, out, errOut := cli("analyze", "--video", filepath.Join(dir, "face.ivf"), "--audio", wav, "--json", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("--quiet still wrote to stderr: %q", errOut)
	}
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, e := range checkShape("$", v, analyzeShape) {
		t.Error(e)
	}
	// Values that the shape alone does not pin down.
	var rep analyzeReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if d := rep.Verdict.Decision; d != "verified" && d != "review" && d != "failed" {
		t.Errorf("decision %q", d)
	}
	kinds := map[string]bool{}
	for _, s := range rep.Signals {
		kinds[s.Kind] = true
		if s.Score < 0 || s.Score > 1 || s.Confidence < 0 || s.Confidence > 1 {
			t.Errorf("%s: score %v confidence %v outside 0..1", s.Kind, s.Score, s.Confidence)
		}
	}
	for _, k := range []string{"photo", "replay", "synthetic_voice", "av_sync", "face_presence"} {
		if !kinds[k] {
			t.Errorf("no %s signal", k)
		}
	}
	if rep.Video == nil || rep.Video.Decoded != 30 || rep.Audio == nil || rep.Audio.Seconds < 4 {
		t.Errorf("inputs: %+v %+v", rep.Video, rep.Audio)
	}
	var pts float64
	for _, r := range rep.Verdict.Reasons {
		pts += r.Points
	}
	if d := pts - rep.Verdict.Score; d > 0.5 || d < -0.5 {
		t.Errorf("reason points sum to %.2f, score %.1f", pts, rep.Verdict.Score)
	}

	// Audio only: video is null.
	code, out, _ = cli("analyze", "--audio", wav, "--json")
	if code != 0 {
		t.Fatalf("audio only: exit %d", code)
	}
	v = nil
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, e := range checkShape("$", v, analyzeShape) {
		t.Error("audio only: " + e)
	}
	if v.(map[string]any)["video"] != nil {
		t.Error("audio only: video is not null")
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.ivf")
	os.WriteFile(junk, []byte("this is not an IVF file at all, just text"), 0o644)
	empty := filepath.Join(dir, "empty.y4m")
	os.WriteFile(empty, nil, 0o644)
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("hello"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"analyze"}, 1, "--video FILE is required"},
		{[]string{"analyze", "--video", filepath.Join(dir, "missing.ivf")}, 1, "cannot read"},
		{[]string{"analyze", "--video", dir}, 1, "is a directory"},
		{[]string{"analyze", "--video", empty}, 1, "is empty"},
		{[]string{"analyze", "--video", txt}, 1, `unsupported recording: extension ".txt"`},
		{[]string{"analyze", "--video", junk}, 1, "not a readable IVF file"},
		{[]string{"analyze", "--video", junk, "--audio", txt}, 1, "only .wav is read"},
		{[]string{"analyze", "--video", junk, "--review-at", "90", "--fail-at", "50"}, 1, "thresholds"},
		{[]string{"analyze", "--bogus"}, 1, "flag provided but not defined"},
	} {
		code, _, errOut := cli(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestAnalyzeRefusesDecompressionBomb: finding 6 of the security probe. A GIF
// of a few bytes claiming 16000x16000 made FFmpeg allocate gigabytes (1.19 GB
// peak RSS measured for this file before the fix). The command is run as a
// child process so that its peak memory can be read: it must refuse the file
// with a clear error well under 512 MB.
func TestAnalyzeRefusesDecompressionBomb(t *testing.T) {
	bomb := filepath.Join(t.TempDir(), "bomb.gif")
	if err := os.WriteFile(bomb, mediatest.GIFBomb(16000), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LIVECHECK_TEST_CLI=analyze\n--video\n"+bomb)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "frames of 16000x16000 exceed the limit") {
		t.Fatalf("stderr %q: want a clear refusal", stderr.String())
	}
	var peakKB int64
	if _, rest, ok := strings.Cut(stderr.String(), peakRSSPrefix+" "); ok {
		peakKB, _ = strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
	}
	if peakKB == 0 {
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Fatal("no resource usage of the child process")
		}
		peakKB = ru.Maxrss
	}
	t.Logf("child peak RSS %d MB", peakKB/1024)
	if peak := peakKB / 1024; peak > 512 {
		t.Fatalf("peak RSS %d MB refusing a %d-byte file, want under 512 MB", peak, len(mediatest.GIFBomb(16000)))
	}
}

// TestAnalyzeTruncatedIVF: a file cut inside a frame is analysed up to there
// and the report says it was truncated (it used to stop silently).
func TestAnalyzeTruncatedIVF(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(fixtures(t), "face.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.ivf")
	if err := os.WriteFile(cut, full[:len(full)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli("analyze", "--video", cut, "--quiet")
	if code != 0 || !strings.Contains(out, "warning: the file is truncated after frame") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	code, out, _ = cli("analyze", "--video", cut, "--quiet", "--json")
	if code != 0 || !strings.Contains(out, `"damaged": "the file is truncated after frame`) {
		t.Fatalf("JSON report of a truncated file: exit %d\n%s", code, out)
	}
}

// TestAnalyzeReference: a recording that switches from the astronaut (2 s)
// to Barack Obama (3 s), analysed with a reference photo: the change is
// reported at the switch (identity_change in --json's signals and
// reasons), and the main face (Obama's, seen longest) matches his photo
// and does not match Joe Biden's.
func TestAnalyzeReference(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	faces := filepath.Join("..", "testdata", "faces")
	clip := filepath.Join(t.TempDir(), "switch.ivf")
	sway := "fps=15,scale=680:500:force_original_aspect_ratio=decrease,pad=680:500:(ow-iw)/2:(oh-ih)/2,crop=640:480:x='20+20*sin(n/10)':y=10,format=yuv420p"
	if b, err := exec.Command("ffmpeg", "-loglevel", "error", "-y",
		"-loop", "1", "-t", "2", "-i", filepath.Join(faces, "astronaut.png"), "-loop", "1", "-t", "3", "-i", filepath.Join(faces, "obama.jpg"),
		"-filter_complex", "[0:v]"+sway+"[a];[1:v]"+sway+"[b];[a][b]concat=n=2:v=1[v]", "-map", "[v]",
		"-c:v", "libvpx", "-b:v", "600k", "-deadline", "good", "-cpu-used", "5", "-threads", "1", clip).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	for _, tc := range []struct{ photo, result string }{{"obama.jpg", "match"}, {"biden.jpg", "mismatch"}} {
		code, out, errOut := cli("analyze", "--json", "--quiet", "--reference", filepath.Join(faces, tc.photo), clip)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.photo, code, errOut)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		for _, e := range checkShape("$", v, analyzeShape) {
			t.Error(e)
		}
		var rep analyzeReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		id := rep.Identity
		if id == nil || id.Reference == nil || id.Reference.Result != tc.result || len(id.Changes) != 1 {
			t.Fatalf("%s: identity %+v", tc.photo, id)
		}
		if c := id.Changes[0]; c.Before > 2 || c.After < 2 || c.After > 3.2 {
			t.Errorf("%s: change %+v, the switch is at 2 s", tc.photo, c)
		}
		reasons := map[string]float64{}
		for _, r := range rep.Verdict.Reasons {
			reasons[r.Kind] = r.Points
		}
		if reasons["identity_change"] < 20 {
			t.Errorf("%s: identity_change reason with %.1f points", tc.photo, reasons["identity_change"])
		}
		if pts, ok := reasons["identity_reference"]; !ok || (tc.result == "match") != (pts == 0) {
			t.Errorf("%s: identity_reference reason %v with %.1f points", tc.photo, ok, pts)
		}
		t.Logf("%s: %s at distance %.2f; change at %.1f s", tc.photo, id.Reference.Result, id.Reference.Distance, id.Changes[0].After)
	}
	// No reference: no identity_reference signal (never a penalty).
	code, out, _ := cli("analyze", "--json", "--quiet", clip)
	if code != 0 || strings.Contains(out, "identity_reference") || !strings.Contains(out, "identity_change") {
		t.Errorf("without --reference: exit %d, identity_reference present %v", code, strings.Contains(out, "identity_reference"))
	}
}
