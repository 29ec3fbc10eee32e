package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// APCER is the attack presentation classification error rate at threshold:
// the fraction of attack scores below it (attacks accepted as bona fide).
// It is NaN when there are no attack scores.
func APCER(attack []float64, threshold float64) float64 {
	if len(attack) == 0 {
		return math.NaN()
	}
	n := 0
	for _, s := range attack {
		if s < threshold {
			n++
		}
	}
	return float64(n) / float64(len(attack))
}

// BPCER is the bona fide presentation classification error rate at threshold:
// the fraction of bona fide scores at or above it (genuine users rejected as
// attacks). It is NaN when there are no bona fide scores.
func BPCER(bonaFide []float64, threshold float64) float64 {
	if len(bonaFide) == 0 {
		return math.NaN()
	}
	n := 0
	for _, s := range bonaFide {
		if s >= threshold {
			n++
		}
	}
	return float64(n) / float64(len(bonaFide))
}

// ROCPoint is one operating point: classify as attack when score >= Threshold.
type ROCPoint struct {
	// Threshold is the operating threshold.
	Threshold float64 `json:"threshold"`
	// APCER is the fraction of attacks scoring below Threshold.
	APCER float64 `json:"apcer"`
	// BPCER is the fraction of bona fide items scoring at or above Threshold.
	BPCER float64 `json:"bpcer"`
}

// ROC returns every distinct operating point, by increasing threshold: one
// point at each distinct score, and a last one just above the highest score
// (math.Nextafter) where nothing is classified as an attack. The first point
// therefore has APCER 0, BPCER 1 and the last APCER 1, BPCER 0. In the usual
// ROC picture x = BPCER (false alarms) and y = 1 − APCER (attacks detected).
// It returns nil when either set is empty.
func ROC(bonaFide, attack []float64) []ROCPoint {
	c := rocCounts(bonaFide, attack)
	if c == nil {
		return nil
	}
	pts := make([]ROCPoint, len(c.th))
	for i, t := range c.th {
		pts[i] = ROCPoint{Threshold: t, APCER: float64(c.na[i]) / float64(c.nA), BPCER: float64(c.nb[i]) / float64(c.nB)}
	}
	return pts
}

// counts holds the operating points as integer error counts, so that EER can
// be computed with one rounding.
type counts struct {
	th     []float64
	na, nb []int // attacks below th[i]; bona fide at or above th[i]
	nA, nB int
}

func rocCounts(bonaFide, attack []float64) *counts {
	if len(bonaFide) == 0 || len(attack) == 0 {
		return nil
	}
	b, a := sortedCopy(bonaFide), sortedCopy(attack)
	th := slices.Compact(sortedCopy(append(slices.Clone(bonaFide), attack...)))
	th = append(th, math.Nextafter(th[len(th)-1], math.Inf(1)))
	c := &counts{th: th, na: make([]int, len(th)), nb: make([]int, len(th)), nA: len(a), nB: len(b)}
	for i, t := range th {
		c.na[i] = sort.SearchFloat64s(a, t)
		c.nb[i] = len(b) - sort.SearchFloat64s(b, t)
	}
	return c
}

// AUC is the area under the ROC curve, computed exactly as the Mann–Whitney
// statistic: the probability that a random attack scores higher than a random
// bona fide item, counting ties as one half. It equals the trapezoidal area
// under ROC. It is NaN when either set is empty.
func AUC(bonaFide, attack []float64) float64 {
	if len(bonaFide) == 0 || len(attack) == 0 {
		return math.NaN()
	}
	b := sortedCopy(bonaFide)
	// For each attack score s: #bona fide below s plus half of #equal. Counted in
	// half-units so the sum stays an exact integer.
	var halves int64
	for _, s := range attack {
		lo := sort.SearchFloat64s(b, s)
		hi := sort.Search(len(b), func(i int) bool { return b[i] > s })
		halves += int64(2*lo + (hi - lo))
	}
	return float64(halves) / (2 * float64(len(bonaFide)) * float64(len(attack)))
}

// EER is the equal error rate and the threshold where it occurs. Walking the
// ROC operating points by increasing threshold, APCER rises and BPCER falls.
// If an operating point has APCER = BPCER exactly, the first such point gives
// the EER and its threshold. Otherwise the EER lies between the last point
// with APCER < BPCER (index 0) and the next one (index 1): both rates are
// interpolated linearly between the two points and the EER is where they meet,
//
//	λ = (BPCER₀ − APCER₀) / ((BPCER₀ − APCER₀) − (BPCER₁ − APCER₁)),
//	EER = APCER₀ + λ·(APCER₁ − APCER₀),
//
// i.e. where the straight ROC segment between the two points crosses the line
// APCER = BPCER. The computation runs on the integer error counts and divides
// once, so the EER is the correctly rounded value of that rational number. The
// threshold is interpolated with the same λ; it is indicative only, since no
// threshold strictly between two adjacent scores changes either rate. Both are
// NaN when either set is empty.
func EER(bonaFide, attack []float64) (eer, threshold float64) {
	c := rocCounts(bonaFide, attack)
	if c == nil {
		return math.NaN(), math.NaN()
	}
	// D = (APCER − BPCER)·nA·nB as an exact integer.
	diff := func(i int) int64 { return int64(c.na[i])*int64(c.nB) - int64(c.nb[i])*int64(c.nA) }
	for k := range c.th {
		d := diff(k)
		if d == 0 {
			return float64(c.na[k]) / float64(c.nA), c.th[k]
		}
		if d > 0 { // k ≥ 1: the first point has APCER 0, BPCER 1
			dq := diff(k - 1)
			den := d - dq // > 0; λ = −dq/den
			num := int64(c.na[k-1])*den + (-dq)*int64(c.na[k]-c.na[k-1])
			lam := float64(-dq) / float64(den)
			return float64(num) / (float64(c.nA) * float64(den)), c.th[k-1] + lam*(c.th[k]-c.th[k-1])
		}
	}
	return math.NaN(), math.NaN() // unreachable: the last point has APCER 1, BPCER 0
}

func sortedCopy(v []float64) []float64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c
}

// Report holds the ISO/IEC 30107-3 metrics of one detector on one run. Metrics
// that are undefined (no items of a class) are NaN and encode as JSON null.
type Report struct {
	// Detector is the score name evaluated.
	Detector string `json:"detector"`
	// Threshold is the operating threshold: attack when score >= Threshold.
	Threshold float64 `json:"threshold"`
	// Items counts all results.
	Items int `json:"items"`
	// Scored counts the results with a usable score.
	Scored int `json:"scored"`
	// Skipped counts the rest: scoring error, missing or non-finite score,
	// unknown modality.
	Skipped int `json:"skipped"`
	// Modalities has one entry per modality present, video first.
	Modalities []ModalityReport `json:"modalities"`
	// Detectors gives AUC and EER of every score name found, per modality.
	Detectors []DetectorSummary `json:"detectors"`
}

// ModalityReport holds the metrics of one modality: attacks of that modality
// against the genuine items of the same modality.
type ModalityReport struct {
	// Modality is the modality reported on.
	Modality Modality `json:"modality"`
	// BonaFide is the number of genuine items.
	BonaFide int `json:"bona_fide"`
	// BPCERErrors is the number of genuine items at or above the threshold.
	BPCERErrors int `json:"bpcer_errors"`
	// BPCER is BPCERErrors / BonaFide.
	BPCER Number `json:"bpcer"`
	// Attacks has one entry per attack type present, in Labels order.
	Attacks []AttackReport `json:"attacks"`
	// MaxAPCER is the worst APCER over the attack types (APCER_AP in ISO/IEC 30107-3).
	MaxAPCER Number `json:"max_apcer"`
	// AUC pools all attack types of the modality against its genuine items.
	AUC Number `json:"auc"`
	// EER is the pooled equal error rate (see EER).
	EER Number `json:"eer"`
	// EERThreshold is the (interpolated, indicative) threshold of the EER.
	EERThreshold Number `json:"eer_threshold"`
	// ROC is the pooled curve (see ROC).
	ROC []ROCPoint `json:"roc"`
}

// AttackReport holds the metrics of one attack type.
type AttackReport struct {
	// Label is the attack type.
	Label Label `json:"label"`
	// Count is the number of attack items of this type.
	Count int `json:"count"`
	// Errors is the number of them scoring below the threshold.
	Errors int `json:"errors"`
	// APCER is Errors / Count.
	APCER Number `json:"apcer"`
	// AUC is this attack type against the modality's genuine items.
	AUC Number `json:"auc"`
}

// DetectorSummary is the threshold-free quality of one score name on one modality.
type DetectorSummary struct {
	// Detector is the score name.
	Detector string `json:"detector"`
	// Modality is the modality evaluated.
	Modality Modality `json:"modality"`
	// BonaFide is the number of genuine items with this score.
	BonaFide int `json:"bona_fide"`
	// Attacks is the number of attack items with this score.
	Attacks int `json:"attacks"`
	// AUC is the Mann–Whitney AUC of all attacks against the genuine items.
	AUC Number `json:"auc"`
	// EER is the interpolated equal error rate.
	EER Number `json:"eer"`
}

// DetectorNames returns the sorted score names found in results.
func DetectorNames(results []Result) []string {
	seen := map[string]bool{}
	for _, r := range results {
		for k := range r.Scores {
			seen[k] = true
		}
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Evaluate computes the Report of the score named detector at threshold. With
// detector "" the results must carry exactly one score name, which is used.
// Results with an error, or without a finite score under that name, are
// counted as skipped, not as errors of the detector.
func Evaluate(results []Result, detector string, threshold float64) (Report, error) {
	names := DetectorNames(results)
	if detector == "" {
		if len(names) != 1 {
			return Report{}, fmt.Errorf("eval: choose a detector: results carry %d score names %v", len(names), names)
		}
		detector = names[0]
	}
	if !slices.Contains(names, detector) {
		return Report{}, fmt.Errorf("eval: no result carries a score named %q (have %v)", detector, names)
	}
	if math.IsNaN(threshold) {
		return Report{}, errors.New("eval: threshold is NaN")
	}
	rep := Report{Detector: detector, Threshold: threshold, Items: len(results)}
	groups, used := group(results, detector)
	rep.Scored, rep.Skipped = used, len(results)-used
	for _, m := range []Modality{Video, Audio} {
		g := groups[m]
		if g == nil {
			continue
		}
		mr := ModalityReport{Modality: m, BonaFide: len(g.bona), MaxAPCER: Number(math.NaN())}
		mr.BPCER = Number(BPCER(g.bona, threshold))
		for _, s := range g.bona {
			if s >= threshold {
				mr.BPCERErrors++
			}
		}
		var all []float64
		for _, l := range Labels {
			sc, ok := g.attacks[l]
			if !ok {
				continue
			}
			ar := AttackReport{Label: l, Count: len(sc), APCER: Number(APCER(sc, threshold)), AUC: Number(AUC(g.bona, sc))}
			for _, s := range sc {
				if s < threshold {
					ar.Errors++
				}
			}
			if math.IsNaN(float64(mr.MaxAPCER)) || float64(ar.APCER) > float64(mr.MaxAPCER) {
				mr.MaxAPCER = ar.APCER
			}
			mr.Attacks = append(mr.Attacks, ar)
			all = append(all, sc...)
		}
		mr.AUC = Number(AUC(g.bona, all))
		e, t := EER(g.bona, all)
		mr.EER, mr.EERThreshold = Number(e), Number(t)
		mr.ROC = ROC(g.bona, all)
		rep.Modalities = append(rep.Modalities, mr)
	}
	for _, name := range names {
		gs, _ := group(results, name)
		for _, m := range []Modality{Video, Audio} {
			g := gs[m]
			if g == nil {
				continue
			}
			var all []float64
			for _, l := range Labels {
				all = append(all, g.attacks[l]...)
			}
			e, _ := EER(g.bona, all)
			rep.Detectors = append(rep.Detectors, DetectorSummary{
				Detector: name, Modality: m, BonaFide: len(g.bona), Attacks: len(all),
				AUC: Number(AUC(g.bona, all)), EER: Number(e),
			})
		}
	}
	return rep, nil
}

type scoreGroup struct {
	bona    []float64
	attacks map[Label][]float64
}

func score(r Result, name string) (float64, bool) {
	if r.Err != nil {
		return 0, false
	}
	s, ok := r.Scores[name]
	if !ok || math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, false
	}
	return s, true
}

// group splits the usable scores by modality and label and counts them. An
// item without a Kind takes its label's modality; genuine items without a Kind
// and items with an unknown label or kind are not usable.
func group(results []Result, name string) (map[Modality]*scoreGroup, int) {
	out := map[Modality]*scoreGroup{}
	used := 0
	for _, r := range results {
		s, ok := score(r, name)
		kind := r.Item.Kind
		if kind == "" {
			kind = r.Item.Label.Modality()
		}
		if !ok || (kind != Video && kind != Audio) || !r.Item.Label.Valid() {
			continue
		}
		used++
		g := out[kind]
		if g == nil {
			g = &scoreGroup{attacks: map[Label][]float64{}}
			out[kind] = g
		}
		if r.Item.Label == Genuine {
			g.bona = append(g.bona, s)
		} else {
			g.attacks[r.Item.Label] = append(g.attacks[r.Item.Label], s)
		}
	}
	return out, used
}
