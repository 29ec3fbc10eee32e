package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// analyzeReportVersion is the version of the JSON shape documented in
// docs/ANALYZE.md. Bump it when a field changes meaning or disappears.
const analyzeReportVersion = 1

// analyzeReport is the JSON output of `livecheck analyze --json`. The shape
// is documented field by field in docs/ANALYZE.md; times are seconds from
// the start of the recording.
type analyzeReport struct {
	Version  int                           `json:"version"`
	Video    *analyzeVideo                 `json:"video"`
	Audio    *analyzeAudio                 `json:"audio"`
	Verdict  risk.Verdict                  `json:"verdict"`
	Signals  []analyzeSignal               `json:"signals"`
	Windows  []analyzeWindow               `json:"windows"`
	Features map[string]map[string]float64 `json:"features"`
	Timing   analyzeTiming                 `json:"timing"`
	// Identity is the face-identity stage's summary (null without video or
	// with --identity=false).
	Identity *analyzeIdentity `json:"identity"`
}

// analyzeIdentity summarises who was on camera: faces embedded, identities,
// changes (times in seconds) and the reference photo's comparison.
type analyzeIdentity struct {
	Embedded   int                       `json:"faces_embedded"`
	Rejected   map[string]int            `json:"faces_rejected"`
	Identities int                       `json:"identities"`
	Changes    []analyzeIdentityChange   `json:"changes"`
	Reference  *analyzeIdentityReference `json:"reference"`
}

type analyzeIdentityChange struct {
	Before   float64 `json:"before_s"` // the last face of the earlier identity
	After    float64 `json:"after_s"`  // the first face of the new one
	Distance float64 `json:"distance"`
}

type analyzeIdentityReference struct {
	Path     string  `json:"path"`
	Distance float64 `json:"distance"`
	Result   string  `json:"result"` // match, mismatch or inconclusive
}

type analyzeVideo struct {
	Path     string  `json:"path"`
	Format   string  `json:"format"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	FPS      float64 `json:"fps"`
	Decoded  int     `json:"frames_decoded"`
	Analysed int     `json:"frames_analysed"`
	Faces    int     `json:"frames_with_face"`
	Seconds  float64 `json:"seconds"`
	Damaged  string  `json:"damaged,omitempty"` // why decoding stopped early
}

type analyzeAudio struct {
	Path    string  `json:"path"`
	Seconds float64 `json:"seconds"`
}

type analyzeSignal struct {
	Kind       string   `json:"kind"`
	Score      float64  `json:"score"`
	Confidence float64  `json:"confidence"`
	Value      float64  `json:"value"`
	Reason     string   `json:"reason"`
	At         *float64 `json:"at_s"`
}

type analyzeWindow struct {
	Kind       string  `json:"kind"`
	From       float64 `json:"from_s"`
	To         float64 `json:"to_s"`
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	Value      float64 `json:"value"`
}

type analyzeTiming struct {
	ElapsedS   float64            `json:"elapsed_s"`
	PerFrameMS map[string]float64 `json:"detector_ms_per_frame"`
}

// analysisFlags are the options analyze and eval share.
type analysisFlags struct {
	fps        float64
	landmarks  string
	cascade    string
	faceModel  string
	identity   bool
	idEvery    time.Duration
	reviewAt   float64
	failAt     float64
	noProgress bool
}

func (a *analysisFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&a.fps, "fps", analysis.DefaultFileFPS, "frames analysed per second, as in the live room (negative: every frame)")
	fs.StringVar(&a.landmarks, "landmarks", vision.DefaultLandmarkModel, "dlib 68-point landmark model")
	fs.StringVar(&a.cascade, "cascade", vision.DefaultFrontalCascade, "OpenCV frontal face cascade")
	fs.StringVar(&a.faceModel, "face-model", "", "face recogniser converted by scripts/setup.sh (default: $LIVECHECK_FACE_MODEL, else "+faceid.DefaultModelPath()+")")
	fs.BoolVar(&a.identity, "identity", true, "run the face-identity stage (who is on camera; needs the face model)")
	fs.DurationVar(&a.idEvery, "identity-every", analysis.DefaultIdentityEvery, "one face embedded per this interval outside challenges, as LIVECHECK_IDENTITY_EVERY live")
	fs.Float64Var(&a.reviewAt, "review-at", risk.DefaultReviewAt, "risk score from which a session goes to review")
	fs.Float64Var(&a.failAt, "fail-at", risk.DefaultFailAt, "risk score from which a session fails")
	fs.BoolVar(&a.noProgress, "quiet", false, "no progress bar on stderr")
}

func (a *analysisFlags) settings() (risk.Settings, error) {
	st := risk.Settings{ReviewAt: a.reviewAt, FailAt: a.failAt, MinCoverage: risk.DefaultMinCoverage}
	return st, st.Validate()
}

// loadFaceModel loads the face recogniser with nets networks (one per
// concurrent analysis; nil with --identity=false).
func (a *analysisFlags) loadFaceModel(nets int) (*faceid.Model, error) {
	if !a.identity {
		return nil, nil
	}
	path := a.faceModel
	if path == "" {
		path = os.Getenv("LIVECHECK_FACE_MODEL")
	}
	if path == "" {
		path = faceid.DefaultModelPath()
	}
	m, err := faceid.LoadModel(path, nets)
	if err != nil {
		return nil, fmt.Errorf("%w (or run with --identity=false)", err)
	}
	return m, nil
}

// identityConfig is the identity stage's configuration with model m
// (none when m is nil).
func (a *analysisFlags) identityConfig(m *faceid.Model) analysis.IdentityConfig {
	if m == nil {
		return analysis.IdentityConfig{}
	}
	return analysis.IdentityConfig{Model: m, Session: faceid.SessionConfig{Every: a.idEvery}}
}

func (a *analysisFlags) visionConfig() (vision.Config, error) {
	lm, err := vision.LoadLandmarker(a.landmarks)
	if err != nil {
		return vision.Config{}, err
	}
	return vision.Config{Landmarker: lm, Detector: vision.DetectorConfig{FrontalCascade: a.cascade}}, nil
}

// cmdAnalyze runs the live detection chain on a recording and prints the
// per-detector scores, the reasons and the verdict.
func cmdAnalyze(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	video := fs.String("video", "", "recording: .ivf (VP8), .y4m, or .mp4/.webm/.gif/.mkv/.mov/.avi via OpenCV's FFmpeg backend")
	audio := fs.String("audio", "", "optional sound of the session: a .wav file")
	asJSON := fs.Bool("json", false, "print the report as JSON (shape: docs/ANALYZE.md)")
	reference := fs.String("reference", "", "the candidate's reference photo (JPEG or PNG): the face on camera is compared with it")
	var af analysisFlags
	af.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: livecheck analyze [--reference PHOTO] [--audio FILE.wav] [--json] --video FILE | FILE\n\n"+
			"Runs the live analysis (passive detectors, face identity) and the risk engine on a recording\n"+
			"and prints the verdict; with --reference, the face on camera is compared with the photo.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 1 && *video == "" {
		*video = fs.Arg(0) // analyze [flags] FILE
	} else if fs.NArg() > 0 {
		return fmt.Errorf("analyze: unexpected argument %q (use --video FILE)", fs.Arg(0))
	}
	if *reference != "" && (*video == "" || !af.identity) {
		return errors.New("analyze: --reference needs a video and the identity stage")
	}
	if *video == "" && *audio == "" {
		fs.Usage()
		return errors.New("analyze: --video FILE is required")
	}
	for _, p := range []string{*video, *audio} {
		if p == "" {
			continue
		}
		if err := checkReadable(p); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	if *audio != "" && !strings.EqualFold(filepath.Ext(*audio), ".wav") {
		return fmt.Errorf("analyze: %s: unsupported audio file (only .wav is read)", *audio)
	}
	st, err := af.settings()
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if *video != "" {
		// Refuse what cannot be read (oversized frames, unknown codecs) before
		// the models are loaded.
		src, err := analysis.OpenVideo(*video, analysis.FileEpoch)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		src.Close()
	}
	var vcfg vision.Config
	if *video != "" {
		if vcfg, err = af.visionConfig(); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	var ref *faceid.Descriptor
	opt := analysis.FileOptions{Video: *video, Audio: *audio, FPS: af.fps, Vision: vcfg}
	if *video != "" {
		m, err := af.loadFaceModel(1)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		if m != nil {
			defer m.Close()
			opt.Identity = af.identityConfig(m)
			if *reference != "" {
				if ref, err = describeReference(m, *reference, vcfg); err != nil {
					return fmt.Errorf("analyze: %w", err)
				}
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var bar *progressBar
	if !af.noProgress && *video != "" {
		bar = newProgressBar(stderr, "analyzing "+filepath.Base(*video))
		opt.Progress = bar.update
	}
	t0 := time.Now()
	res, err := analysis.AnalyzeFile(ctx, opt)
	bar.done()
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	sigs, v := verdict.OfRecording(res.Result, ref, st)
	rep := buildAnalyzeReport(res, *video, *audio, sigs, v, time.Since(t0))
	rep.Identity = identityReport(res.Result, sigs, *reference)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeAnalyzeText(stdout, rep)
}

// describeReference reads and describes a reference photo (the limits and
// decoding of the upload path).
func describeReference(m *faceid.Model, path string, vcfg vision.Config) (*faceid.Descriptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reference photo: %w", err)
	}
	p, err := faceid.DecodePhoto(data)
	if err != nil {
		return nil, fmt.Errorf("reference photo %s: %w", path, err)
	}
	s, err := m.DescribePhoto(p, vcfg)
	if err != nil {
		return nil, fmt.Errorf("reference photo %s: %w", path, err)
	}
	return &s.D, nil
}

// identityReport summarises the identity stage for the report.
func identityReport(r *analysis.Result, sigs []models.Signal, reference string) *analyzeIdentity {
	rep := r.Identity
	if rep == nil {
		return nil
	}
	rel := func(t time.Time) float64 { return math.Round(t.Sub(analysis.FileEpoch).Seconds()*1000) / 1000 }
	out := &analyzeIdentity{Embedded: rep.Embedded, Rejected: rep.Rejected, Identities: len(rep.Identities), Changes: []analyzeIdentityChange{}}
	for _, c := range rep.Changes {
		out.Changes = append(out.Changes, analyzeIdentityChange{Before: rel(c.Before.At), After: rel(c.After.At), Distance: math.Round(c.Distance*1000) / 1000})
	}
	for _, sg := range sigs {
		if sg.Kind == verdict.KindIdentityReference {
			res := "inconclusive"
			switch {
			case sg.Value <= faceid.ReferenceMatch:
				res = "match"
			case sg.Value >= faceid.ReferenceMismatch:
				res = "mismatch"
			}
			out.Reference = &analyzeIdentityReference{Path: reference, Distance: sg.Value, Result: res}
		}
	}
	return out
}

// checkReadable turns a missing or unreadable input into a clear error.
func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory, not a recording", path)
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s is empty", path)
	}
	return nil
}

func buildAnalyzeReport(res *analysis.FileResult, video, audio string, sigs []models.Signal, v risk.Verdict, elapsed time.Duration) analyzeReport {
	origin := analysis.FileEpoch
	rel := func(t time.Time) float64 { return math.Round(t.Sub(origin).Seconds()*1000) / 1000 }
	rep := analyzeReport{Version: analyzeReportVersion, Verdict: v, Features: res.Features,
		Signals: []analyzeSignal{}, Windows: []analyzeWindow{},
		Timing: analyzeTiming{ElapsedS: math.Round(elapsed.Seconds()*1000) / 1000, PerFrameMS: map[string]float64{}}}
	for i := range rep.Verdict.Reasons {
		rep.Verdict.Reasons[i].At = time.Time{} // file times are not wall-clock times
	}
	if video != "" {
		rep.Video = &analyzeVideo{Path: video, Format: res.Source.Format, Width: res.Source.Width, Height: res.Source.Height,
			FPS: math.Round(res.Source.FPS*1000) / 1000, Decoded: res.Decoded, Analysed: res.Analysed, Faces: res.Faces,
			Seconds: math.Round(res.Duration.Seconds()*1000) / 1000, Damaged: res.Damaged}
	}
	if audio != "" {
		rep.Audio = &analyzeAudio{Path: audio, Seconds: math.Round(res.AudioSeconds*1000) / 1000}
	}
	for _, sg := range sigs {
		as := analyzeSignal{Kind: sg.Kind, Score: sg.Score, Confidence: sg.Confidence, Value: sg.Value, Reason: sg.Reason}
		if !sg.At.IsZero() {
			at := rel(sg.At)
			as.At = &at
		}
		rep.Signals = append(rep.Signals, as)
	}
	for _, w := range res.Windows {
		rep.Windows = append(rep.Windows, analyzeWindow{Kind: w.Kind, From: rel(w.From), To: rel(w.To), Score: w.Score,
			Confidence: w.Confidence, Value: w.Value})
	}
	for k, d := range res.Stats.PerFrame {
		rep.Timing.PerFrameMS[k] = math.Round(float64(d.Microseconds())) / 1000
	}
	if rep.Features == nil {
		rep.Features = map[string]map[string]float64{}
	}
	for _, fs := range rep.Features {
		for k, x := range fs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				fs[k] = 0 // JSON has no NaN
			}
		}
	}
	return rep
}

func writeAnalyzeText(w io.Writer, rep analyzeReport) error {
	bw := &errWriter{w: w}
	if v := rep.Video; v != nil {
		fmt.Fprintf(bw, "video  %s: %s %dx%d, %.1f fps, %.1f s; %d frames decoded, %d analysed, face in %d\n",
			v.Path, v.Format, v.Width, v.Height, v.FPS, v.Seconds, v.Decoded, v.Analysed, v.Faces)
		if v.Damaged != "" {
			fmt.Fprintf(bw, "       warning: %s\n", v.Damaged)
		}
	}
	if a := rep.Audio; a != nil {
		fmt.Fprintf(bw, "audio  %s: %.1f s\n", a.Path, a.Seconds)
	}
	v := rep.Verdict
	fmt.Fprintf(bw, "\nVERDICT  %s  score %.1f / 100  (verified < %g <= review < %g <= failed; scoring %s)\n\n",
		strings.ToUpper(string(v.Decision)), v.Score, v.ReviewAt, v.FailAt, v.ScoringVersion)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DETECTOR\tSCORE\tCONF\tVALUE\tREASON")
	for _, s := range rep.Signals {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.3g\t%s\n", s.Kind, s.Score, s.Confidence, s.Value, s.Reason)
	}
	tw.Flush()
	fmt.Fprintln(bw, "\nREASONS (points of the score, most first)")
	for _, r := range v.Reasons {
		if r.Points < 0.05 && r.Kind != "coverage" {
			continue
		}
		fmt.Fprintf(bw, "  %5.1f  %-16s %s\n", r.Points, r.Kind, r.Text)
	}
	if id := rep.Identity; id != nil {
		fmt.Fprintf(bw, "\nIDENTITY  %d faces compared, %d identities, %d changes\n", id.Embedded, id.Identities, len(id.Changes))
		for _, c := range id.Changes {
			fmt.Fprintf(bw, "  change: last face before at %.1f s, new face from %.1f s (distance %.2f)\n", c.Before, c.After, c.Distance)
		}
		if r := id.Reference; r != nil {
			fmt.Fprintf(bw, "  reference %s: %s (distance %.2f)\n", r.Path, strings.ToUpper(r.Result), r.Distance)
		}
	}
	if len(rep.Windows) > 0 {
		fmt.Fprintln(bw, "\nWINDOWS (score per window, oldest first)")
		var order []string
		byKind := map[string][]analyzeWindow{}
		for _, w := range rep.Windows {
			if _, ok := byKind[w.Kind]; !ok {
				order = append(order, w.Kind)
			}
			byKind[w.Kind] = append(byKind[w.Kind], w)
		}
		for _, k := range order {
			fmt.Fprintf(bw, "  %-15s", k)
			for _, w := range byKind[k] {
				fmt.Fprintf(bw, " %.2f", w.Score)
			}
			fmt.Fprintln(bw)
		}
	}
	return bw.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// progressBar draws "label [=====>    ]  45 %" on stderr, redrawn when the
// percentage changes (or every 25 frames when the total is unknown).
type progressBar struct {
	w     io.Writer
	label string
	last  int
	at    time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	return &progressBar{w: w, label: label, last: -1}
}

func (p *progressBar) update(done, total int) {
	const width = 30
	if total <= 0 {
		if done%25 == 0 {
			fmt.Fprintf(p.w, "\r%s: %d frames", p.label, done)
			p.drawn = true
		}
		return
	}
	pct := min(100, done*100/total)
	// Redraw at most every 100 ms, and always at the end.
	if pct == p.last || (pct < 100 && time.Since(p.at) < 100*time.Millisecond) {
		return
	}
	p.at = time.Now()
	p.last = pct
	fill := pct * width / 100
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	fmt.Fprintf(p.w, "\r%s [%s] %3d %% (%d/%d frames)", p.label, bar, pct, done, total)
	p.drawn = true
}

// done ends the bar's line. It is safe on a nil bar.
func (p *progressBar) done() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
	}
}
