package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Number is a metric value. NaN (undefined, e.g. a BPCER without bona fide
// items) and ±Inf encode as JSON null, and null decodes back to NaN.
type Number float64

// MarshalJSON encodes n as a JSON number, or null when it is not finite.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON decodes a JSON number, or null as NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Number(f)
	return nil
}

// WriteJSON writes the report as indented JSON. The shape is
//
//	{
//	  "detector": "voice", "threshold": 0.5, "items": 51, "scored": 50, "skipped": 1,
//	  "modalities": [{
//	    "modality": "audio", "bona_fide": 8, "bpcer_errors": 1, "bpcer": 0.125,
//	    "attacks": [{"label": "tts", "count": 7, "errors": 4, "apcer": 0.571, "auc": 0.73}, ...],
//	    "max_apcer": 0.571, "auc": 0.70, "eer": 0.31, "eer_threshold": 0.22,
//	    "roc": [{"threshold": 0.01, "apcer": 0, "bpcer": 1}, ...]
//	  }],
//	  "detectors": [{"detector": "voice", "modality": "audio", "bona_fide": 8, "attacks": 10, "auc": 0.70, "eer": 0.31}]
//	}
//
// Rates are fractions in 0..1; undefined values are null.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as aligned text tables: per modality one row
// for the bona fide items (BPCER) and one per attack type (APCER, AUC), a
// pooled row (worst APCER, AUC, EER), then the per-detector AUC/EER table.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "detector %s, threshold %s (attack if score >= threshold); %d items, %d scored, %d skipped\n\n",
		r.Detector, num(Number(r.Threshold), false), r.Items, r.Scored, r.Skipped)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "modality\tclass\tn\terrors\tAPCER\tBPCER\tAUC\tEER\t")
	for _, m := range r.Modalities {
		fmt.Fprintf(tw, "%s\tgenuine\t%d\t%d\t\t%s\t\t\t\n", m.Modality, m.BonaFide, m.BPCERErrors, num(m.BPCER, true))
		n := 0
		for _, a := range m.Attacks {
			n += a.Count
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t\t%s\t\t\n", m.Modality, a.Label, a.Count, a.Errors, num(a.APCER, true), num(a.AUC, false))
		}
		fmt.Fprintf(tw, "%s\tall attacks\t%d\t\tmax %s\t\t%s\t%s @ %s\t\n", m.Modality, n, num(m.MaxAPCER, true), num(m.AUC, false),
			num(m.EER, true), num(m.EERThreshold, false))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Detectors) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "detector\tmodality\tbona fide\tattacks\tAUC\tEER\t")
		for _, d := range r.Detectors {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t\n", d.Detector, d.Modality, d.BonaFide, d.Attacks, num(d.AUC, false), num(d.EER, true))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// num formats a metric: percentages with one decimal, others with three; "-" when undefined.
func num(n Number, percent bool) string {
	f := float64(n)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "-"
	case percent:
		return strings.TrimSpace(fmt.Sprintf("%5.1f%%", 100*f))
	default:
		return fmt.Sprintf("%.3f", f)
	}
}
