package httpapi

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// ChartLane is one series of the session timeline.
type ChartLane struct {
	Label    string
	Unit     string
	Points   [][2]float64 // (ms since start, value)
	Min, Max float64      // value range of the lane; equal → derived from the data
	Step     bool         // draw as steps (presence) instead of a line
}

// ChartMark is an event on the timeline (a challenge).
type ChartMark struct {
	AtMs  float64
	Label string
	Class string // passed | failed | inconclusive
}

// timelineSVG draws the lanes one under another on a shared time axis, as an
// inline SVG. It carries neither script nor a <style> element nor style
// attributes (the Content-Security-Policy blocks inline styles): its classes
// (tl-*) are styled by static/app.css.
func timelineSVG(lanes []ChartLane, marks []ChartMark, durationMs float64) template.HTML {
	const (
		width  = 960.0
		left   = 150.0
		right  = 20.0
		laneH  = 56.0
		gap    = 14.0
		top    = 10.0
		bottom = 30.0
	)
	if durationMs <= 0 {
		durationMs = 1
	}
	plotW := width - left - right
	height := top + float64(len(lanes))*(laneH+gap) + bottom
	x := func(ms float64) float64 { return left + plotW*math.Max(0, math.Min(1, ms/durationMs)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" role="img" aria-label="Session timeline" viewBox="0 0 %.0f %.0f" width="100%%" xmlns="http://www.w3.org/2000/svg">`, width, height)
	for i, ln := range lanes {
		y0 := top + float64(i)*(laneH+gap)
		lo, hi := ln.Min, ln.Max
		if lo == hi {
			lo, hi = math.Inf(1), math.Inf(-1)
			for _, p := range ln.Points {
				lo, hi = math.Min(lo, p[1]), math.Max(hi, p[1])
			}
			if math.IsInf(lo, 0) || lo == hi {
				lo, hi = lo-1, lo+1
				if math.IsInf(lo, 0) {
					lo, hi = 0, 1
				}
			}
		}
		y := func(v float64) float64 {
			f := (v - lo) / (hi - lo)
			return y0 + laneH - laneH*math.Max(0, math.Min(1, f))
		}
		fmt.Fprintf(&b, `<text class="tl-lb" x="4" y="%.1f">%s</text>`, y0+laneH/2, template.HTMLEscapeString(ln.Label))
		fmt.Fprintf(&b, `<text class="tl-sm" x="4" y="%.1f">%s … %s %s</text>`, y0+laneH/2+14, fmtNum(lo), fmtNum(hi), template.HTMLEscapeString(ln.Unit))
		fmt.Fprintf(&b, `<line class="tl-ax" x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f"/>`, left, y0+laneH, width-right, y0+laneH)
		if len(ln.Points) == 0 {
			fmt.Fprintf(&b, `<text class="tl-sm" x="%.0f" y="%.1f">no data</text>`, left+8, y0+laneH/2)
			continue
		}
		b.WriteString(`<polyline class="tl-ln" fill="none" points="`)
		// At most ~2 points per pixel column keeps the SVG small for long sessions.
		stride := len(ln.Points)/int(plotW*2) + 1
		prev := 0.0
		for j := 0; j < len(ln.Points); j += stride {
			p := ln.Points[j]
			if ln.Step && j > 0 {
				fmt.Fprintf(&b, "%.1f,%.1f ", x(p[0]), y(prev))
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x(p[0]), y(p[1]))
			prev = p[1]
		}
		b.WriteString(`"/>`)
	}
	axisY := top + float64(len(lanes))*(laneH+gap)
	for _, m := range marks {
		fmt.Fprintf(&b, `<line class="tl-mk tl-%s" x1="%.1f" y1="%.0f" x2="%.1f" y2="%.1f"><title>%s</title></line>`,
			template.HTMLEscapeString(m.Class), x(m.AtMs), top, x(m.AtMs), axisY-gap, template.HTMLEscapeString(m.Label))
	}
	for i := 0; i <= 6; i++ {
		ms := durationMs * float64(i) / 6
		fmt.Fprintf(&b, `<text class="tl-sm" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(ms), axisY+12, fmtDur(ms))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func fmtNum(v float64) string {
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtDur(ms float64) string {
	s := int(ms / 1000)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
