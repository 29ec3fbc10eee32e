package challenge

import (
	"math"
	"testing"
	"time"
)

// TestAlignFlash: alignFlash (the frame matching flashAt and fittedGain share) keeps exactly
// the frames whose time less the lag falls in [0, len·step), in order, each with its own
// observation and the screen colour over its exposure. Hand-worked on three 100 ms colours at a
// 50 ms lag with a 20 ms exposure (sampled at −10, −3.3, +3.3 and +10 ms about the frame).
func TestAlignFlash(t *testing.T) {
	hex := []string{"#ff0000", "#00ff00", "#0000ff"}
	cols := make([]ycc, len(hex))
	for i, h := range hex {
		cols[i], _ = parseColor(h)
	}
	red, green, blue := cols[0], cols[1], cols[2]
	half := func(a, b ycc) ycc { return ycc{(a.y + b.y) / 2, (a.cb + b.cb) / 2, (a.cr + b.cr) / 2} }
	const step, lag, expo = 100 * time.Millisecond, 50 * time.Millisecond, 20 * time.Millisecond
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// Frame i is at ms(us[i]) since the ack and observed (i, 100+i, 200+i).
	us := []int{0, 49, 50, 100, 150, 300, 345, 350, 400}
	var frames []flashFrame
	for i, u := range us {
		frames = append(frames, flashFrame{at: t0.Add(ms(u)), u: ms(u), y: float64(i), cb: 100 + float64(i), cr: 200 + float64(i)})
	}
	type row struct {
		frame int     // index into frames
		ts    float64 // seconds on the sequence's clock
		e     ycc
	}
	want := []row{
		// frames 0 (−50 ms) and 1 (−1 ms) are before the first colour: left out
		{2, 0.000, red},              // the first colour's first instant (the exposure's early half clamps to it)
		{3, 0.050, red},              // mid red
		{4, 0.100, half(red, green)}, // after a 50 ms gap, on the red→green edge: two samples each
		// nothing saw 0.100–0.250: the gap leaves no row
		{5, 0.250, blue}, // mid blue, the last colour
		{6, 0.295, blue}, // the last colour's end: the exposure past it holds blue
		// frames 7 (300 ms: the end) and 8 are after the last colour: left out
	}
	w := alignFlash(frames, cols, step, false, lag, expo)
	if n := len(w.ts); n != len(want) || len(w.at) != n || len(w.oy) != n || len(w.ocb) != n || len(w.ocr) != n ||
		len(w.ey) != n || len(w.ecb) != n || len(w.ecr) != n {
		t.Fatalf("aligned %d frames (at %d, o %d/%d/%d, e %d/%d/%d), want %d",
			n, len(w.at), len(w.oy), len(w.ocb), len(w.ocr), len(w.ey), len(w.ecb), len(w.ecr), len(want))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for j, r := range want {
		f := frames[r.frame]
		if !w.at[j].Equal(f.at) || !near(w.ts[j], r.ts) {
			t.Errorf("row %d: at %v ts %.4f, want frame %d (at %v) ts %.4f", j, w.at[j].Sub(t0), w.ts[j], r.frame, f.at.Sub(t0), r.ts)
		}
		if w.oy[j] != f.y || w.ocb[j] != f.cb || w.ocr[j] != f.cr {
			t.Errorf("row %d: observed (%.0f, %.0f, %.0f), want frame %d's (%.0f, %.0f, %.0f)",
				j, w.oy[j], w.ocb[j], w.ocr[j], r.frame, f.y, f.cb, f.cr)
		}
		if !near(w.ey[j], r.e.y) || !near(w.ecb[j], r.e.cb) || !near(w.ecr[j], r.e.cr) {
			t.Errorf("row %d: exposed (%.3f, %.3f, %.3f), want (%.3f, %.3f, %.3f)",
				j, w.ey[j], w.ecb[j], w.ecr[j], r.e.y, r.e.cb, r.e.cr)
		}
	}
	// Fades: mid-step is halfway between the colour and the next (the exposure is symmetric
	// about it, to the nanosecond its thirds round to, and the fade linear); the last colour is
	// held, not faded.
	w = alignFlash(frames, cols, step, true, lag, expo)
	if len(w.ts) != len(want) {
		t.Fatalf("fade: aligned %d frames, want %d (the same frames)", len(w.ts), len(want))
	}
	for _, c := range []struct {
		row int
		e   ycc
	}{{1, half(red, green)}, {3, blue}} {
		if math.Abs(w.ecb[c.row]-c.e.cb) > 1e-6 || math.Abs(w.ecr[c.row]-c.e.cr) > 1e-6 {
			t.Errorf("fade row %d: exposed Cb/Cr (%.3f, %.3f), want (%.3f, %.3f)", c.row, w.ecb[c.row], w.ecr[c.row], c.e.cb, c.e.cr)
		}
	}
	// No lag: the window starts at the ack, so the frames at 0 and 49 ms are in, and 300 ms is out.
	if w := alignFlash(frames, cols, step, false, 0, expo); len(w.ts) != 5 || w.ts[0] != 0 || !near(w.ts[4], 0.150) {
		t.Errorf("lag 0: ts %v, want [0 0.049 0.05 0.1 0.15]", w.ts)
	}
}
