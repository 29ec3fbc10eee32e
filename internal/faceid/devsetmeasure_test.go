package faceid

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/eval"
)

var genuineName = regexp.MustCompile(`^(?:gd_lowres_)?(g\d\d)_`)
var derivedSource = regexp.MustCompile(`^derived:(g\d\d)_`)

// personOf is the identity key of a devset clip for verification pairs:
// a genuine clip and its degraded copy, and the photo and replay attacks
// derived from it, show one person; t01 is a lip-sync of g10's clip (its
// manifest note). "" excludes the clip: face swaps and the other talking
// heads show a synthetic identity whose relation to other clips the
// manifest does not state, and g09 (film footage) shows several people.
func personOf(c devClip) string {
	if m := genuineName.FindStringSubmatch(c.Name); m != nil && c.Label == "genuine" {
		if m[1] == "g09" {
			return ""
		}
		return m[1]
	}
	if m := derivedSource.FindStringSubmatch(c.Source); m != nil {
		return m[1]
	}
	if strings.HasPrefix(c.Name, "t01_") {
		return "g10"
	}
	return ""
}

// tarAt is the TAR at the largest threshold whose FAR is at most far.
func tarAt(same, diff []float64, far float64) (tar, thr float64) {
	d := append([]float64(nil), diff...)
	sort.Float64s(d)
	k := int(math.Floor(far * float64(len(d)))) // impostor pairs allowed below thr
	thr = d[k]                                  // accept dist < thr: k impostors accepted
	n := 0
	for _, s := range same {
		if s < thr {
			n++
		}
	}
	return float64(n) / float64(len(same)), thr
}

func quantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// live picks samples at a live sampling interval (every seconds apart).
func live(samples []devSample, every float64) []devSample {
	var out []devSample
	last := -1e9
	for _, s := range samples {
		if s.T-last >= every-1e-6 {
			out = append(out, s)
			last = s.T
		}
	}
	return out
}

func toSample(s devSample, offset float64) Sample {
	return Sample{At: time.Unix(0, 0).Add(time.Duration((s.T + offset) * float64(time.Second))), D: s.D, Yaw: s.Yaw, Pitch: s.Pitch, Sharpness: s.Sharp}
}

func gated(samples []devSample, g Gate) []devSample {
	g = g.withDefaults()
	var out []devSample
	for _, s := range samples {
		if g.SharpEnough(s.Sharp) {
			out = append(out, s)
		}
	}
	return out
}

func TestDevsetIdentityMeasures(t *testing.T) {
	dir := envDevset(t)
	clips := devsetDump(t, dir, devsetCache())
	for i := range clips {
		clips[i].Samples = gated(clips[i].Samples, DefaultGate)
	}
	// Sharpness of the chips: genuine vs their degraded copies.
	var sg, sd []float64
	for _, c := range clips {
		for _, s := range c.Samples {
			if strings.HasPrefix(c.Name, "gd_") {
				sd = append(sd, s.Sharp)
			} else if c.Label == "genuine" {
				sg = append(sg, s.Sharp)
			}
		}
	}
	t.Logf("chip sharpness genuine p5 %.0f p50 %.0f; degraded p5 %.0f p50 %.0f", quantile(sg, .05), quantile(sg, .5), quantile(sd, .05), quantile(sd, .5))

	// 1. Verification pairs, frame against frame and clip template against clip template.
	type item = personClip
	var its []item
	for i := range clips {
		if p := personOf(clips[i]); p != "" && len(clips[i].Samples) > 0 {
			its = append(its, item{p, &clips[i]})
		}
	}
	var same, diff, tsame, tdiff []float64
	for i := range its {
		for j := i; j < len(its); j++ {
			a, b := its[i], its[j]
			for x, sa := range a.c.Samples {
				for y, sb := range b.c.Samples {
					if i == j && y <= x {
						continue
					}
					d := Distance(sa.D, sb.D)
					if a.person == b.person {
						same = append(same, d)
					} else {
						diff = append(diff, d)
					}
				}
			}
			if i == j {
				continue
			}
			d := Distance(clipMean(a.c), clipMean(b.c))
			if a.person == b.person {
				tsame = append(tsame, d)
			} else {
				tdiff = append(tdiff, d)
			}
		}
	}
	persons := map[string]bool{}
	frames := 0
	for _, it := range its {
		persons[it.person] = true
		frames += len(it.c.Samples)
	}
	t.Logf("verification: %d clips of %d people, %d frames; frame pairs: %d same, %d different; template pairs: %d same, %d different",
		len(its), len(persons), frames, len(same), len(diff), len(tsame), len(tdiff))
	for _, far := range []float64{0.01, 0.001} {
		tar, thr := tarAt(same, diff, far)
		t.Logf("frames:    FAR %.1f%%: TAR %.1f%% at distance < %.3f", far*100, tar*100, thr)
	}
	tar, thr := tarAt(tsame, tdiff, 0.01)
	t.Logf("templates: FAR %.1f%% (of %d): TAR %.1f%% at distance < %.3f; same max %.3f, different min %.3f",
		1.0, len(tdiff), tar*100, thr, quantile(tsame, 1), quantile(tdiff, 0))
	t.Logf("frame distances: same p50 %.3f p99 %.3f max %.3f; different min %.3f p1 %.3f p50 %.3f",
		quantile(same, .5), quantile(same, .99), quantile(same, 1), quantile(diff, 0), quantile(diff, .01), quantile(diff, .5))

	// 2. Person switches: clip A then clip B of another person, sampled as live.
	for _, every := range []float64{1, 2} {
		switches(t, its, every)
	}

	// 3. Changes within single clips (no switch), sampling every 2 s, 1 s
	// and 1/8 s, each started at 8 phases (the first sample at 0, 1/8, …
	// of the interval): clips with a change at any phase.
	for _, every := range []float64{2, 1, 0.12} {
		flagged := map[string]int{}
		for ph := 0; ph < 8; ph++ {
			for _, c := range clips {
				var in []devSample
				for _, x := range c.Samples {
					if x.T >= every*float64(ph)/8 {
						in = append(in, x)
					}
				}
				tr := NewTracker(TrackerConfig{})
				for _, x := range live(in, every) {
					tr.Add(toSample(x, 0))
				}
				if len(tr.Changes()) > 0 {
					flagged[c.Name+"("+c.Label+")"]++
				}
			}
		}
		t.Logf("single clips with an identity change, sampling every %.2f s (phases with a change of 8): %v", every, flagged)
	}

	// 4. Identity dynamics as a deepfake signal.
	feats := map[string]func(c *devClip) (float64, bool){
		"spread_p50": func(c *devClip) (float64, bool) { return spread(c, .5) },
		"spread_p90": func(c *devClip) (float64, bool) { return spread(c, .9) },
		"step_p50":   func(c *devClip) (float64, bool) { return steps(c, .5) },
		"step_p90":   func(c *devClip) (float64, bool) { return steps(c, .9) },
		"yaw_corr":   yawCorr,
	}
	names := make([]string, 0, len(feats))
	for n := range feats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var gen, deg, swp, th []float64
		for i := range clips {
			c := &clips[i]
			v, ok := feats[n](c)
			if !ok || strings.Contains(c.Name, "g09") {
				continue
			}
			switch {
			case strings.HasPrefix(c.Name, "gd_"):
				deg = append(deg, v)
				gen = append(gen, v)
			case c.Label == "genuine":
				gen = append(gen, v)
			case c.Label == "faceswap":
				swp = append(swp, v)
			case c.Label == "talkinghead":
				th = append(th, v)
			}
		}
		gmax := quantile(gen, 1)
		above := func(v []float64) int {
			k := 0
			for _, x := range v {
				if x > gmax {
					k++
				}
			}
			return k
		}
		t.Logf("%-10s AUC swap %.3f, talking head %.3f (higher = attack); genuine p50 %.3f max %.3f (degraded max %.3f); attacks above every genuine: swaps %d/%d, talking heads %d/%d",
			n, eval.AUC(gen, swp), eval.AUC(gen, th), quantile(gen, .5), gmax, quantile(deg, 1), above(swp), len(swp), above(th), len(th))
	}
}

func clipMean(c *devClip) Descriptor {
	s := make([]Sample, len(c.Samples))
	for i, x := range c.Samples {
		s[i] = Sample{D: x.D}
	}
	return mean(s)
}

// spread is a quantile of the distances of a clip's samples to its mean.
func spread(c *devClip, q float64) (float64, bool) {
	if len(c.Samples) < 5 {
		return 0, false
	}
	m := clipMean(c)
	var d []float64
	for _, s := range c.Samples {
		d = append(d, Distance(s.D, m))
	}
	return quantile(d, q), true
}

// steps is a quantile of the distances between consecutive samples.
func steps(c *devClip, q float64) (float64, bool) {
	if len(c.Samples) < 5 {
		return 0, false
	}
	var d []float64
	for i := 1; i < len(c.Samples); i++ {
		d = append(d, Distance(c.Samples[i].D, c.Samples[i-1].D))
	}
	return quantile(d, q), true
}

// yawCorr is the correlation between |yaw| and the distance to the clip's
// mean: a swap's identity might leak the source face at turns.
func yawCorr(c *devClip) (float64, bool) {
	if len(c.Samples) < 5 {
		return 0, false
	}
	m := clipMean(c)
	var xs, ys []float64
	for _, s := range c.Samples {
		xs = append(xs, math.Abs(s.Yaw))
		ys = append(ys, Distance(s.D, m))
	}
	return corr(xs, ys), true
}

func corr(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i] / n
		my += y[i] / n
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

type personClip struct {
	person string
	c      *devClip
}

// switches joins every genuine clip with every genuine or degraded clip of
// another person (samples of the second shifted to follow the first by one
// second), samples them every `every` seconds and counts the changes the
// tracker finds at the join and before it.
func switches(t *testing.T, its []personClip, every float64) {
	var sw, hit, early int
	var lat []float64
	for _, a := range its {
		for _, b := range its {
			if a.person == b.person || !strings.HasPrefix(a.c.Name, "g") || !strings.HasPrefix(b.c.Name, "g") {
				continue
			}
			sa, sb := live(a.c.Samples, every), live(b.c.Samples, every)
			if len(sa) < 2 || len(sb) < 2 {
				continue
			}
			tr := NewTracker(TrackerConfig{})
			switchAt := sa[len(sa)-1].T + every
			off := switchAt - sb[0].T
			for _, s := range sa {
				tr.Add(toSample(s, 0))
			}
			for _, s := range sb {
				tr.Add(toSample(s, off))
			}
			sw++
			found := false
			for _, c := range tr.Changes() {
				at := c.After.At.Sub(time.Unix(0, 0)).Seconds()
				if at < switchAt-1e-6 {
					early++
				} else if !found {
					found = true
					hit++
					lat = append(lat, at-switchAt)
				}
			}
		}
	}
	t.Logf("switches sampled every %.0f s (genuine clip + genuine/degraded clip of another person): %d of %d flagged, %d changes before the switch; new person's first sample at +%.2f s median",
		every, hit, sw, early, quantile(lat, .5))
}
