package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// knownManifest has no kind column: attack modalities come from the labels,
// genuine modalities from the extensions. The score column is an extra column
// the test's score function reads back, and "alt" a second detector = −score.
const knownManifest = "file\tlabel\tscore\tnote\n" +
	"v/g1.ivf\tgenuine\t0.1\tx\n" +
	"v/g2.ivf\tgenuine\t0.2\tx\n" +
	"v/g3.ivf\tgenuine\t0.3\tx\n" +
	"v/g4.ivf\tgenuine\t0.6\tx\n" +
	"v/p1.ivf\tphoto\t0.7\tx\n" +
	"v/p2.ivf\tphoto\t0.4\tx\n" +
	"v/f1.ivf\tfaceswap\t0.9\tx\n" +
	"v/f2.ivf\tfaceswap\t0.6\tx\n" +
	"v/f3.ivf\tfaceswap\t0.2\tx\n" +
	"a/g1.wav\tgenuine\t0.2\tx\n" +
	"a/g2.wav\tgenuine\t0.4\tx\n" +
	"a/g3.wav\tgenuine\t0.4\tx\n" +
	"a/t1.wav\ttts\t0.4\tx\n" +
	"a/t2.wav\ttts\t0.8\tx\n" +
	"a/v1.wav\tvoiceconv\t0.1\tx\n" +
	"a/broken.wav\ttts\terr\tscoring fails: skipped\n"

func knownResults(t *testing.T) []Result {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.tsv")
	if err := os.WriteFile(path, []byte(knownManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), items, 3, func(_ context.Context, it Item) (Scores, error) {
		s, err := strconv.ParseFloat(it.Extra["score"], 64)
		if err != nil {
			return nil, err
		}
		return Scores{"main": s, "alt": -s}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestKnownScoresExactMetrics(t *testing.T) {
	rep, err := Evaluate(knownResults(t), "main", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 16 || rep.Scored != 15 || rep.Skipped != 1 || len(rep.Modalities) != 2 {
		t.Fatalf("counts: %+v", rep)
	}
	v, a := rep.Modalities[0], rep.Modalities[1]
	if v.Modality != Video || a.Modality != Audio {
		t.Fatalf("modalities %s %s", v.Modality, a.Modality)
	}
	eq := func(name string, got Number, want float64) {
		t.Helper()
		if float64(got) != want {
			t.Errorf("%s = %.17g, want exactly %.17g", name, float64(got), want)
		}
	}
	// VIDEO, threshold 0.5 (attack if score >= 0.5)
	// genuine 0.1 0.2 0.3 0.6 → BPCER: only 0.6 ≥ 0.5 → 1/4.
	eq("video BPCER", v.BPCER, 0.25)
	// photo 0.7 0.4 → APCER: 0.4 < 0.5 → 1/2. faceswap 0.9 0.6 0.2 → 0.2 → 1/3.
	eq("photo APCER", v.Attacks[0].APCER, 0.5)
	eq("faceswap APCER", v.Attacks[1].APCER, 1.0/3)
	eq("video max APCER", v.MaxAPCER, 0.5)
	if v.Attacks[0].Label != Photo || v.Attacks[1].Label != FaceSwap || v.BPCERErrors != 1 || v.Attacks[1].Errors != 1 {
		t.Errorf("video attack rows %+v", v.Attacks)
	}
	// AUC (Mann–Whitney, ties ½), attacks vs genuine {0.1 0.2 0.3 0.6}:
	//   0.7 beats 4 → 4; 0.4 beats 3 → 3; 0.9 → 4; 0.6 beats 3, ties 1 → 3.5;
	//   0.2 beats 1, ties 1 → 1.5. Sum 16 of 5×4 = 20 pairs → AUC 0.8.
	eq("video AUC", v.AUC, 0.8)
	// photo: 4 + 3 = 7 of 8 → 0.875; faceswap: 4 + 3.5 + 1.5 = 9 of 12 → 0.75.
	eq("photo AUC", v.Attacks[0].AUC, 0.875)
	eq("faceswap AUC", v.Attacks[1].AUC, 0.75)
	// EER: operating points (threshold: APCER, BPCER) with APCER = #attacks < t / 5,
	// BPCER = #genuine ≥ t / 4:
	//   0.1: 0, 1   0.2: 0, 0.75   0.3: 0.2, 0.5   0.4: 0.2, 0.25   0.6: 0.4, 0.25 ...
	// APCER − BPCER goes from −0.05 (t = 0.4) to +0.15 (t = 0.6): λ = 0.05/0.2 = 0.25,
	// EER = 0.2 + 0.25·(0.4 − 0.2) = 0.25 (BPCER is 0.25 on both points), at
	// threshold 0.4 + 0.25·0.2 = 0.45.
	eq("video EER", v.EER, 0.25)
	if math.Abs(float64(v.EERThreshold)-0.45) > 1e-12 {
		t.Errorf("video EER threshold %v, want 0.45", v.EERThreshold)
	}

	// AUDIO: genuine 0.2 0.4 0.4 → BPCER 0 (none ≥ 0.5).
	eq("audio BPCER", a.BPCER, 0)
	// tts 0.4 0.8 → 1/2 (the failing tts item is skipped, not counted); voiceconv 0.1 → 1.
	eq("tts APCER", a.Attacks[0].APCER, 0.5)
	eq("voiceconv APCER", a.Attacks[1].APCER, 1)
	eq("audio max APCER", a.MaxAPCER, 1)
	if a.Attacks[0].Count != 2 {
		t.Errorf("tts count %d, want 2", a.Attacks[0].Count)
	}
	// AUC: 0.4 beats 0.2, ties 0.4 twice → 2; 0.8 → 3; 0.1 → 0. 5 of 9.
	eq("audio AUC", a.AUC, 5.0/9)
	// EER: points 0.1: 0, 1   0.2: 1/3, 1   0.4: 1/3, 2/3   0.8: 2/3, 0.
	// Between 0.4 (d = −1/3) and 0.8 (d = +2/3): λ = 1/3,
	// EER = 1/3 + 1/3·(2/3 − 1/3) = 4/9 (BPCER: 2/3 − 1/3·2/3 = 4/9), threshold 0.4 + 0.4/3.
	eq("audio EER", a.EER, 4.0/9)
	if math.Abs(float64(a.EERThreshold)-(0.4+0.4/3)) > 1e-12 {
		t.Errorf("audio EER threshold %v", a.EERThreshold)
	}

	// Per-detector AUCs: alt = −main reverses every comparison, ties stay ties.
	want := map[string]float64{"alt video": 0.2, "alt audio": 4.0 / 9, "main video": 0.8, "main audio": 5.0 / 9}
	if len(rep.Detectors) != 4 {
		t.Fatalf("detectors %+v", rep.Detectors)
	}
	for _, d := range rep.Detectors {
		eq(d.Detector+" "+string(d.Modality)+" AUC", d.AUC, want[d.Detector+" "+string(d.Modality)])
	}
}

func TestROCAndAUCAgree(t *testing.T) {
	bona := []float64{0.1, 0.2, 0.3, 0.6, 0.6, 0.9}
	att := []float64{0.6, 0.7, 0.2, 0.95, 0.6, 0.3, 0.3}
	pts := ROC(bona, att)
	first, last := pts[0], pts[len(pts)-1]
	if first.APCER != 0 || first.BPCER != 1 || last.APCER != 1 || last.BPCER != 0 || last.Threshold <= 0.95 {
		t.Errorf("ends %+v %+v", first, last)
	}
	// trapezoid area under (x = BPCER, y = 1 − APCER), walking x from 1 to 0
	var area float64
	for i := 1; i < len(pts); i++ {
		p, q := pts[i-1], pts[i]
		area += (p.BPCER - q.BPCER) * ((1 - p.APCER) + (1 - q.APCER)) / 2
		if q.APCER < p.APCER || q.BPCER > p.BPCER || q.Threshold <= p.Threshold {
			t.Errorf("not monotone at %d: %+v %+v", i, p, q)
		}
	}
	if auc := AUC(bona, att); math.Abs(area-auc) > 1e-12 {
		t.Errorf("trapezoid %v != Mann–Whitney %v", area, auc)
	}
	// Perfect separation and complete overlap.
	if AUC([]float64{0, 0.1}, []float64{0.5, 0.9}) != 1 || AUC([]float64{0.5}, []float64{0.5}) != 0.5 {
		t.Error("AUC extremes")
	}
	if e, th := EER([]float64{0, 0.1}, []float64{0.5, 0.9}); e != 0 || th != 0.5 {
		t.Errorf("separable EER %v at %v, want 0 at 0.5", e, th)
	}
	if e, _ := EER([]float64{0.5}, []float64{0.5}); e != 0.5 {
		t.Errorf("tied EER %v, want 0.5", e)
	}
	if !math.IsNaN(AUC(nil, att)) || ROC(bona, nil) != nil || !math.IsNaN(APCER(nil, 0.5)) || !math.IsNaN(BPCER(nil, 0.5)) {
		t.Error("empty inputs should give NaN / nil")
	}
}

func TestEvaluateErrorsAndUndefined(t *testing.T) {
	res := knownResults(t)
	if _, err := Evaluate(res, "", 0.5); err == nil {
		t.Error("two score names and no detector chosen: no error")
	}
	if _, err := Evaluate(res, "nope", 0.5); err == nil {
		t.Error("unknown detector: no error")
	}
	// Only attacks: BPCER, AUC and EER are undefined and encode as null.
	var only []Result
	for _, r := range res {
		if r.Item.Label == TTS && r.Err == nil {
			only = append(only, Result{Item: r.Item, Scores: Scores{"x": r.Scores["main"]}})
		}
	}
	rep, err := Evaluate(only, "", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	m := back.Modalities[0]
	if !math.IsNaN(float64(m.BPCER)) || !math.IsNaN(float64(m.AUC)) || float64(m.Attacks[0].APCER) != 0.5 || back.Detector != "x" {
		t.Errorf("round trip %+v", m)
	}
	if !strings.Contains(buf.String(), `"bpcer": null`) {
		t.Errorf("undefined BPCER not null:\n%s", buf.String())
	}
}

func TestWriteText(t *testing.T) {
	rep, err := Evaluate(knownResults(t), "main", 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"16 items, 15 scored, 1 skipped",
		"video     genuine      4",
		"25.0%", "33.3%", "0.875", "max 50.0%", "25.0% @ 0.450",
		"audio     voiceconv    1",
		"alt       audio",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}

func TestRunOrderErrorsProgress(t *testing.T) {
	items := make([]Item, 40)
	for i := range items {
		items[i] = Item{File: strconv.Itoa(i), Label: Genuine, Kind: Video}
	}
	var calls, lastDone int
	var order []string
	var mu sync.Mutex
	var running, peak int
	res, err := Run(context.Background(), items, 4, func(ctx context.Context, it Item) (Scores, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		n, _ := strconv.Atoi(it.File)
		// uneven work so that completion order differs from input order
		time.Sleep(time.Duration((n*7)%5) * time.Millisecond)
		switch {
		case n%10 == 3:
			return nil, errors.New("decode failed")
		case n == 17:
			panic("boom")
		}
		return Scores{"s": float64(n)}, nil
	}, WithProgress(func(p Progress) {
		calls++
		if p.Done != lastDone+1 || p.Total != 40 {
			t.Errorf("progress %d/%d after %d", p.Done, p.Total, lastDone)
		}
		lastDone = p.Done
		order = append(order, p.Result.Item.File)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if calls != 40 {
		t.Errorf("%d progress calls", calls)
	}
	inOrder := true
	for i, f := range order {
		inOrder = inOrder && f == strconv.Itoa(i)
	}
	if inOrder {
		t.Error("completion order equals input order: the test did not exercise reordering")
	}
	if peak < 2 || peak > 4 {
		t.Errorf("peak concurrency %d, want 2..4", peak)
	}
	for i, r := range res {
		if r.Item.File != strconv.Itoa(i) {
			t.Fatalf("result %d is item %s", i, r.Item.File)
		}
		switch {
		case i%10 == 3:
			if r.Err == nil || !strings.Contains(r.Error, "decode failed") {
				t.Errorf("item %d: error %v", i, r.Err)
			}
		case i == 17:
			if r.Err == nil || !strings.Contains(r.Err.Error(), "panicked") {
				t.Errorf("item 17: panic not recovered: %v", r.Err)
			}
		default:
			if r.Err != nil || r.Scores["s"] != float64(i) {
				t.Errorf("item %d: %v %v", i, r.Scores, r.Err)
			}
		}
	}
}

func TestRunCancel(t *testing.T) {
	items := make([]Item, 20)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := Run(ctx, items, 1, func(ctx context.Context, it Item) (Scores, error) {
		n++
		if n == 3 {
			cancel()
		}
		return Scores{"s": 1}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if len(res) != 20 || res[19].Err == nil || res[0].Err != nil {
		t.Errorf("results after cancel: first %v last %v", res[0].Err, res[19].Err)
	}
	if n > 4 {
		t.Errorf("%d items scored after cancel at 3", n)
	}
}

func TestRunDefaultsToAllCores(t *testing.T) {
	items := make([]Item, 4*runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	running, peak := 0, 0
	_, err := Run(context.Background(), items, 0, func(context.Context, Item) (Scores, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return Scores{}, nil
	})
	if err != nil || peak != runtime.GOMAXPROCS(0) {
		t.Errorf("peak %d workers, want GOMAXPROCS %d (err %v)", peak, runtime.GOMAXPROCS(0), err)
	}
	if res, err := Run(context.Background(), nil, 0, nil); err != nil || len(res) != 0 {
		t.Errorf("empty run: %v %v", res, err)
	}
}
