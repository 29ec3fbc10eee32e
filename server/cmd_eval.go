package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/eval"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/verdict"
	"github.com/livecheck/livecheck/internal/vision"
)

// evalDetector is the score name of the whole chain: the risk engine's
// score divided by 100. Per-detector scores are reported under their
// signal kinds.
const evalDetector = "risk"

// evalScorer scores one manifest item. It must be safe for concurrent use.
type evalScorer func(ctx context.Context, it eval.Item, st risk.Settings) (eval.Scores, error)

// cmdEval evaluates the detection chain on a labelled manifest.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	return runEval(args, stdout, stderr, nil)
}

// evalOutput is the JSON output of `livecheck eval --json`.
type evalOutput struct {
	Date          string        `json:"date"`
	Manifest      string        `json:"manifest"`
	ThresholdRule string        `json:"threshold_rule"`
	Workers       int           `json:"workers"`
	Report        eval.Report   `json:"report"`
	Items         []eval.Result `json:"items"`
	// Identity is the face-identity verification quality (null with
	// --identity=false or without video items).
	Identity *eval.IdentityReport `json:"identity"`
}

// runEval is cmdEval with the scorer injectable (nil means the real chain:
// analysis.AnalyzeFile and risk.Score), so tests can check the command's
// metrics path with known scores.
func runEval(args []string, stdout, stderr io.Writer, scorer evalScorer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	workers := fs.Int("workers", 0, "items scored in parallel (0: all cores)")
	rocPath := fs.String("roc", "", "write the ROC curves of the risk score as an SVG file")
	threshold := fs.Float64("threshold", -1, "operating threshold on the risk score (0..1); default: --review-at / 100")
	var af analysisFlags
	af.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: livecheck eval MANIFEST.tsv [--json] [--workers N] [--roc out.svg]\n\n"+
			"Scores every item of a labelled manifest (columns file and label; paths relative to the manifest)\n"+
			"with the live chain and prints ISO/IEC 30107-3 metrics: APCER per attack type and BPCER at one\n"+
			"operating threshold for the whole set, ROC AUC and EER, and the AUC/EER of every detector.\n\n")
		fs.PrintDefaults()
	}
	// Accept the manifest before or after the flags.
	var manifest string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		manifest, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if manifest == "" && fs.NArg() > 0 {
		manifest = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if manifest == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("eval: exactly one MANIFEST.tsv is required")
	}
	st, err := af.settings()
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	// The operating threshold is fixed once for the whole set: the risk
	// engine's review threshold, i.e. an item counts as flagged exactly when
	// the live system would not verify it on its score.
	thr := st.ReviewAt / 100
	rule := fmt.Sprintf("risk score >= review threshold %g/100", st.ReviewAt)
	if *threshold >= 0 {
		if *threshold > 1 {
			return fmt.Errorf("eval: --threshold %g outside 0..1", *threshold)
		}
		thr, rule = *threshold, fmt.Sprintf("risk score >= %g (set with --threshold)", *threshold)
	}
	items, err := eval.ReadManifest(manifest)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("eval: %s lists no items", manifest)
	}
	if *workers <= 0 {
		*workers = runtime.GOMAXPROCS(0)
	}
	var ids *identityEval
	if scorer == nil {
		needVideo := false
		for _, it := range items {
			needVideo = needVideo || it.Kind == eval.Video
		}
		var vcfg vision.Config
		var face *faceid.Model
		if needVideo {
			if vcfg, err = af.visionConfig(); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			if face, err = af.loadFaceModel(min(*workers, 4)); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
			if face != nil {
				defer face.Close()
				ids = &identityEval{templates: map[int]eval.IdentityTemplate{}}
			}
		}
		scorer = chainScorer(vcfg, af.fps, af.identityConfig(face), ids)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var bar *progressBar
	var opts []eval.Option
	if !af.noProgress {
		bar = newProgressBar(stderr, "evaluating "+filepath.Base(manifest))
		bar.update(0, len(items))
		opts = append(opts, eval.WithProgress(func(p eval.Progress) { bar.update(p.Done, p.Total) }))
	}
	results, err := eval.Run(ctx, items, *workers, func(ctx context.Context, it eval.Item) (eval.Scores, error) {
		return scorer(ctx, it, st)
	}, opts...)
	bar.done()
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stderr, "eval: %s (line %d): %v\n", r.Item.File, r.Item.Line, r.Err)
		}
	}
	rep, err := eval.Evaluate(results, evalDetector, thr)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var idRep *eval.IdentityReport
	if ids != nil {
		if idRep, err = ids.report(ctx, items, *workers, scorer, st); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if *rocPath != "" {
		if err := writeROC(*rocPath, manifest, rep); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	date := time.Now().UTC().Format("2006-01-02")
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(evalOutput{Date: date, Manifest: manifest, ThresholdRule: rule, Workers: *workers, Report: rep, Items: results, Identity: idRep})
	}
	fmt.Fprintf(stdout, "livecheck eval %s — %s, %d items, %d workers\n", manifest, date, len(items), *workers)
	fmt.Fprintf(stdout, "operating threshold %.2f (%s; one threshold for the whole set)\n", thr, rule)
	fmt.Fprintf(stdout, "scoring %s; per-detector rows use each signal's score (0..1)\n\n", st.Version())
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if idRep != nil {
		return idRep.WriteText(stdout)
	}
	return nil
}

// chainScorer scores an item with the live chain: video items through
// analysis.AnalyzeFile (vision, the passive detectors and, with a face
// model, the identity stage), audio items through the voice detectors, then
// the risk engine. With ids, each video item's session template is kept
// for the identity report; an item whose extra column "then" names another
// recording (a joined person switch, made by identityEval) records whether
// the switch was flagged.
func chainScorer(vcfg vision.Config, fps float64, id analysis.IdentityConfig, ids *identityEval) evalScorer {
	return func(ctx context.Context, it eval.Item, st risk.Settings) (eval.Scores, error) {
		opt := analysis.FileOptions{FPS: fps, Vision: vcfg}
		if id.Model != nil {
			opt.Identity = id
		}
		switch it.Kind {
		case eval.Video:
			opt.Video = it.Path
			if then := it.Extra[joinedColumn]; then != "" {
				opt.Then = []string{then}
			}
		case eval.Audio:
			opt.Audio = it.Path
		default:
			return nil, fmt.Errorf("unknown modality %q", it.Kind)
		}
		res, err := analysis.AnalyzeFile(ctx, opt)
		if err != nil {
			return nil, err
		}
		if ids != nil && it.Kind == eval.Video {
			ids.add(it, res)
		}
		sigs, v := verdict.Of(res.Result, st)
		sc := eval.Scores{evalDetector: v.Score / 100}
		for _, sg := range sigs {
			if sg.Confidence > 0 || sg.Score > 0 {
				sc[sg.Kind] = sg.Score
			}
		}
		return sc, nil
	}
}

func writeROC(path, manifest string, rep eval.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	title := "livecheck risk score on " + filepath.Base(manifest)
	if err := eval.WriteROCSVG(f, title, rep.Curves()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// joinedColumn marks the person-switch items identityEval makes: the path
// of the recording played after the item's own.
const joinedColumn = "then"

// identityEval collects what the identity report needs: every video
// item's session template and the outcome of the person-switch items.
type identityEval struct {
	mu        sync.Mutex
	templates map[int]eval.IdentityTemplate // by manifest line
	switches  []eval.SwitchOutcome
}

// switchWindow is how soon after a join a change must be confirmed to
// count as flagging the switch.
const switchWindow = 4 * time.Second

func (e *identityEval) add(it eval.Item, res *analysis.FileResult) {
	rep := res.Result.Identity
	e.mu.Lock()
	defer e.mu.Unlock()
	if it.Extra[joinedColumn] != "" {
		out := eval.SwitchOutcome{Item: it.File}
		if len(res.Joins) == 1 && rep != nil {
			join := res.Joins[0]
			for _, c := range rep.Changes {
				switch {
				case c.After.At.Before(join):
					out.Early = true
				case c.After.At.Sub(join) <= switchWindow:
					out.Flagged = true
				}
			}
		}
		e.switches = append(e.switches, out)
		return
	}
	t := eval.IdentityTemplate{Key: eval.IdentityKey(it)}
	if m, ok := rep.MainIdentity(); ok {
		t.D = m.Template.Slice()
	}
	e.templates[it.Line] = t
}

// report scores the person-switch items (each genuine clip with a person
// key joined with the next person's clip) and computes the report.
func (e *identityEval) report(ctx context.Context, items []eval.Item, workers int, scorer evalScorer, st risk.Settings) (*eval.IdentityReport, error) {
	var originals []eval.Item
	seen := map[string]bool{}
	for _, it := range items {
		k := eval.IdentityKey(it)
		if it.Kind != eval.Video || it.Label != eval.Genuine || k == "" || seen[k] {
			continue
		}
		seen[k] = true
		originals = append(originals, it)
	}
	var joined []eval.Item
	if len(originals) > 1 {
		for i, a := range originals {
			b := originals[(i+1)%len(originals)]
			j := a
			j.Extra = map[string]string{joinedColumn: b.Path}
			j.File = a.File + "+" + b.File
			joined = append(joined, j)
		}
	}
	results, err := eval.Run(ctx, joined, workers, func(ctx context.Context, it eval.Item) (eval.Scores, error) {
		return scorer(ctx, it, st)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.Err != nil {
			return nil, fmt.Errorf("person switch %s: %w", r.Item.File, r.Err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ts := make([]eval.IdentityTemplate, 0, len(e.templates))
	for _, it := range items {
		if t, ok := e.templates[it.Line]; ok {
			ts = append(ts, t)
		}
	}
	rep := eval.EvaluateIdentity(ts, e.switches)
	return &rep, nil
}
