package eval

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/livecheck/livecheck/internal/dsp"
)

// Curve is one ROC curve to plot.
type Curve struct {
	// Name labels the curve in the legend.
	Name string
	// Points are operating points as returned by ROC.
	Points []ROCPoint
	// AUC is shown in the legend when it is not NaN.
	AUC float64
}

// Curves returns one curve per modality of the report, named after it.
func (r Report) Curves() []Curve {
	var out []Curve
	for _, m := range r.Modalities {
		out = append(out, Curve{Name: r.Detector + " " + string(m.Modality), Points: m.ROC, AUC: float64(m.AUC)})
	}
	return out
}

var curveColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"}

// WriteROCSVG writes a standalone SVG 1.1 document plotting the curves with
// x = BPCER (bona fide rejected) and y = 1 − APCER (attacks detected), both
// 0..1, a chance diagonal, a 0.1 grid and a legend. Text is XML-escaped.
func WriteROCSVG(w io.Writer, title string, curves []Curve) error {
	const (
		width, height = 560, 520
		left, top     = 70, 50
		plot          = 400
	)
	bw := bufio.NewWriter(w)
	x := func(v float64) float64 { return left + v*plot }
	y := func(v float64) float64 { return top + (1-v)*plot }
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(bw, `<title>%s</title>`+"\n", esc(title))
	fmt.Fprintf(bw, `<rect x="0" y="0" width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(bw, `<text x="%d" y="28" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(title))
	for i := 0; i <= 10; i++ {
		v := float64(i) / 10
		stroke := "#e5e5e5"
		if i == 0 || i == 10 {
			stroke = "#333333"
		}
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(v), y(0), x(v), y(1), stroke)
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(0), y(v), x(1), y(v), stroke)
		if i%2 == 0 {
			fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">%.1f</text>`+"\n", x(v), y(0)+18, v)
			fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="end">%.1f</text>`+"\n", x(0)-6, y(v)+4, v)
		}
	}
	fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999999" stroke-dasharray="4 4"/>`+"\n", x(0), y(0), x(1), y(1))
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">BPCER (bona fide classified as attack)</text>`+"\n", x(0.5), y(0)+40)
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle" transform="rotate(-90 %.1f %.1f)">1 − APCER (attacks detected)</text>`+"\n",
		float64(left-45), y(0.5), float64(left-45), y(0.5))
	for i, c := range curves {
		color := curveColors[i%len(curveColors)]
		var pts strings.Builder
		for j, p := range c.Points {
			if j > 0 {
				pts.WriteByte(' ')
			}
			fmt.Fprintf(&pts, "%.2f,%.2f", x(dsp.Clamp01(p.BPCER)), y(dsp.Clamp01(1-p.APCER)))
		}
		fmt.Fprintf(bw, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, pts.String())
		label := c.Name
		if !math.IsNaN(c.AUC) {
			label += fmt.Sprintf(" (AUC %.3f)", c.AUC)
		}
		ly := y(0) - 20 - float64(len(curves)-1-i)*18
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n", x(0.45), ly-4, x(0.52), ly-4, color)
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x(0.54), ly, esc(label))
	}
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder never fail
	return b.String()
}
