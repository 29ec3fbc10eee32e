package eval

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// IdentityKey is the person an item shows, for identity verification pairs
// ("" leaves the item out):
//
//   - the manifest's person column, when it has one (an empty cell leaves
//     the item out);
//   - else a derived item (source "derived:<stem>": a degraded copy, a
//     photo or replay made from a clip) shows the person of <stem>;
//   - else a genuine item shows its own person, named by its file stem;
//   - other attacks (face swaps, talking heads) show a synthetic identity
//     whose relation to other items the manifest does not state: left out.
//
// So the same clip and its copies are the same person, different clips
// different people, unless the manifest says otherwise.
func IdentityKey(it Item) string {
	if p, ok := it.Extra["person"]; ok {
		return strings.TrimSpace(p)
	}
	if src, ok := strings.CutPrefix(it.Extra["source"], "derived:"); ok {
		return strings.TrimSuffix(filepath.Base(strings.TrimSpace(src)), filepath.Ext(src))
	}
	if it.Label == Genuine {
		return strings.TrimSuffix(filepath.Base(it.File), filepath.Ext(it.File))
	}
	return ""
}

// IdentityTemplate is one item's session template (the main identity's
// mean descriptor) and its person key.
type IdentityTemplate struct {
	Key string
	D   []float32
}

// IdentityReport is face-identity verification quality on a manifest:
// template against template of every pair of items with a person key
// (same key: a genuine pair, else an impostor pair), and person switches
// made by joining two people's clips.
type IdentityReport struct {
	Templates int `json:"templates"`
	SamePairs int `json:"same_pairs"`
	DiffPairs int `json:"impostor_pairs"`
	// TAR is the share of genuine pairs accepted at the largest distance
	// threshold whose FAR (share of impostor pairs accepted) is at most 1 %
	// and 0.1 %; Threshold the distance (accept below it).
	TAR1       Number `json:"tar_far_1"`
	Threshold1 Number `json:"threshold_far_1"`
	TAR01      Number `json:"tar_far_0_1"`
	Thresh01   Number `json:"threshold_far_0_1"`
	// SameMax is the largest genuine-pair distance, DiffMin the smallest
	// impostor-pair distance.
	SameMax Number `json:"same_max"`
	DiffMin Number `json:"impostor_min"`
	// Switches is the number of joined items (one person's clip, then
	// another's), Flagged how many got an identity change within 4 s after
	// the join, Early how many had a change before it (a false change).
	Switches int    `json:"switches"`
	Flagged  int    `json:"switches_flagged"`
	Early    int    `json:"switches_early_change"`
	Share    Number `json:"switch_share_flagged"`
	// SwitchItems are the joined items' outcomes.
	SwitchItems []SwitchOutcome `json:"switch_items"`
}

// SwitchOutcome is one joined item's result.
type SwitchOutcome struct {
	Item    string `json:"item"` // the two files, joined by "+"
	Flagged bool   `json:"flagged"`
	Early   bool   `json:"early_change"`
}

// EvaluateIdentity computes the identity report from the items' templates
// and the switch outcomes.
func EvaluateIdentity(ts []IdentityTemplate, switches []SwitchOutcome) IdentityReport {
	var same, diff []float64
	r := IdentityReport{}
	for i := range ts {
		if ts[i].Key == "" || len(ts[i].D) == 0 {
			continue
		}
		r.Templates++
		for j := i + 1; j < len(ts); j++ {
			if ts[j].Key == "" || len(ts[j].D) != len(ts[i].D) {
				continue
			}
			d := euclidean(ts[i].D, ts[j].D)
			if ts[i].Key == ts[j].Key {
				same = append(same, d)
			} else {
				diff = append(diff, d)
			}
		}
	}
	r.SamePairs, r.DiffPairs = len(same), len(diff)
	nan := Number(math.NaN())
	r.TAR1, r.Threshold1, r.TAR01, r.Thresh01, r.SameMax, r.DiffMin, r.Share = nan, nan, nan, nan, nan, nan, nan
	if len(same) > 0 && len(diff) > 0 {
		t, th := TARAtFAR(same, diff, 0.01)
		r.TAR1, r.Threshold1 = Number(t), Number(th)
		t, th = TARAtFAR(same, diff, 0.001)
		r.TAR01, r.Thresh01 = Number(t), Number(th)
		sort.Float64s(same)
		sort.Float64s(diff)
		r.SameMax, r.DiffMin = Number(same[len(same)-1]), Number(diff[0])
	}
	r.SwitchItems = append([]SwitchOutcome{}, switches...)
	for _, s := range switches {
		r.Switches++
		if s.Flagged {
			r.Flagged++
		}
		if s.Early {
			r.Early++
		}
	}
	if r.Switches > 0 {
		r.Share = Number(float64(r.Flagged) / float64(r.Switches))
	}
	return r
}

// TARAtFAR is the share of genuine distances below the largest threshold
// that accepts at most far of the impostor distances (accept: distance <
// threshold), and that threshold.
func TARAtFAR(same, diff []float64, far float64) (tar, threshold float64) {
	d := append([]float64(nil), diff...)
	sort.Float64s(d)
	k := int(math.Floor(far * float64(len(d)))) // impostor pairs that may be accepted
	threshold = d[min(k, len(d)-1)]
	n := 0
	for _, s := range same {
		if s < threshold {
			n++
		}
	}
	return float64(n) / float64(len(same)), threshold
}

func euclidean(a, b []float32) float64 {
	var s float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		s += x * x
	}
	return math.Sqrt(s)
}

// WriteText writes the identity section of the eval report.
func (r IdentityReport) WriteText(w io.Writer) error {
	f := func(n Number, pct bool) string {
		if math.IsNaN(float64(n)) {
			return "n/a"
		}
		if pct {
			return fmt.Sprintf("%.1f %%", 100*float64(n))
		}
		return fmt.Sprintf("%.3f", float64(n))
	}
	_, err := fmt.Fprintf(w, "\nIDENTITY (session templates, Euclidean distance; %d templates, %d same-person and %d impostor pairs)\n"+
		"  TAR at FAR 1 %%:   %s (accept below %s)\n  TAR at FAR 0.1 %%: %s (accept below %s)\n"+
		"  same-person max %s, impostor min %s\n"+
		"  person switches (two people's clips joined): %d of %d flagged within 4 s of the join (%s); %d with a change before the join\n",
		r.Templates, r.SamePairs, r.DiffPairs, f(r.TAR1, true), f(r.Threshold1, false), f(r.TAR01, true), f(r.Thresh01, false),
		f(r.SameMax, false), f(r.DiffMin, false), r.Flagged, r.Switches, f(r.Share, true), r.Early)
	return err
}
