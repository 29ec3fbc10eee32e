package faceid

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDevsetPosePairs measures, on the devset's real faces, the distance
// between two faces of the same clip at nearly the same yaw and close in
// time: the evidence for the same-pose check of a challenge's turned faces
// (PairConfig, docs/REDTEAM.md finding 9). Every analysed frame (8 fps, as
// the devset dump of TestDevsetYawDistances, whose cache it shares) that
// passes DefaultGate but for yaw is paired with every later face of its
// clip within dyaw degrees of yaw and dt seconds, by the |yaw| of the
// pair's more turned face. g09 (film footage) pairs only faces of the same
// actor and shot; its two actors at the same pose are the contrast of two
// real people. Internal-use media: set LIVECHECK_DEVSET and
// IDENTITY_YAW_MEASURE=1.
//
//	LIVECHECK_DEVSET=/work/shared/devset IDENTITY_YAW_MEASURE=1 go test -run DevsetPosePairs -v ./internal/faceid
func TestDevsetPosePairs(t *testing.T) {
	if os.Getenv("IDENTITY_YAW_MEASURE") == "" {
		t.Skip("IDENTITY_YAW_MEASURE=1 (and LIVECHECK_DEVSET) to measure")
	}
	dir := envDevset(t)
	cache := filepath.Join(os.TempDir(), "livecheck-faceid-devset-yaw.json")
	clips := devsetDumpGate(t, dir, cache, Gate{MaxYaw: 90, MinSharpness: 1e-9})
	def := DefaultGate.withDefaults()
	bins := []struct {
		name   string
		lo, hi float64
	}{{"0-20", 0, 20}, {"20-35", 20, 35}, {"35-50", 35, 50}, {"50+", 50, 91}}
	type key struct{ group, bin string }
	for _, lim := range []struct{ dyaw, dt float64 }{{10, 1.5}, {15, 1.5}, {15, 3}} {
		dist := map[key][]float64{}
		clipsOf := map[key]map[string]bool{}
		worst := map[key]string{}
		top := map[key]float64{}
		// g09's two actors against each other at the same pose (different people).
		var cross []float64
		for _, c := range clips {
			g := yawGroup(c)
			var s []devSample
			for _, x := range c.Samples {
				if def.SharpEnough(x.Sharp) {
					s = append(s, x)
				}
			}
			g09 := strings.Contains(c.Name, "g09") || strings.Contains(c.Name, "f11")
			for i := range s {
				for j := i + 1; j < len(s); j++ {
					a, b := s[i], s[j]
					if math.Abs(a.Yaw-b.Yaw) > lim.dyaw || math.Signbit(a.Yaw) != math.Signbit(b.Yaw) && math.Min(math.Abs(a.Yaw), math.Abs(b.Yaw)) > 5 {
						continue
					}
					d := Distance(a.D, b.D)
					if g09 && strings.Contains(c.Name, "g09") && g09Person(a.T) != g09Person(b.T) {
						if math.Max(math.Abs(a.Yaw), math.Abs(b.Yaw)) >= 20 {
							cross = append(cross, d)
						}
						continue
					}
					if b.T-a.T > lim.dt {
						continue
					}
					if g09 && g09Shot(a.T) != g09Shot(b.T) {
						continue // a cut: the film's shots are apart in time
					}
					y := math.Max(math.Abs(a.Yaw), math.Abs(b.Yaw))
					for _, bn := range bins {
						if y >= bn.lo && y < bn.hi {
							k := key{g, bn.name}
							dist[k] = append(dist[k], d)
							if clipsOf[k] == nil {
								clipsOf[k] = map[string]bool{}
							}
							clipsOf[k][c.Name] = true
							if d >= top[k] {
								top[k] = d
								worst[k] = fmt.Sprintf("%s@%.1f–%.1fs yaw %.0f/%.0f", c.Name, a.T, b.T, a.Yaw, b.Yaw)
							}
						}
					}
				}
			}
		}
		groups := map[string]bool{}
		for k := range dist {
			groups[k.group] = true
		}
		var gs []string
		for g := range groups {
			gs = append(gs, g)
		}
		sort.Strings(gs)
		t.Logf("same-pose pairs: |Δyaw| ≤ %.0f°, Δt ≤ %.1f s, by the larger |yaw| of the pair", lim.dyaw, lim.dt)
		t.Logf("| group | |yaw| | pairs | clips | median | p99 | max | > 0.55 | > 0.60 | worst |")
		for _, g := range gs {
			for _, bn := range bins {
				k := key{g, bn.name}
				x := dist[k]
				if len(x) == 0 {
					continue
				}
				over := func(v float64) int {
					n := 0
					for _, d := range x {
						if d > v {
							n++
						}
					}
					return n
				}
				t.Logf("| %s | %s | %d | %d | %.3f | %.3f | %.3f | %d | %d | %s |", g, bn.name, len(x), len(clipsOf[k]),
					quantile(x, .5), quantile(x, .99), quantile(x, 1), over(0.55), over(0.60), worst[k])
			}
		}
		if len(cross) > 0 {
			t.Logf("g09's two actors against each other, |Δyaw| ≤ %.0f°, one of the pair ≥ 20°: %d pairs, min %.3f, median %.3f, max %.3f", lim.dyaw, len(cross), quantile(cross, 0), quantile(cross, .5), quantile(cross, 1))
		}
	}
	devsetPairWindows(t, clips, 0.75)
	devsetPairWindows(t, clips, 0.70)
}

// devsetPairWindows applies the product's rule (PairConfig's defaults, two pairs beyond far)
// to 8 s windows starting every second of each clip, every analysed face (8 fps) as if a
// turn_head ran throughout: per group, the windows that would fail. g09's cuts from one actor
// to the other at the same pose are two real people: there the rule should fire.
func devsetPairWindows(t *testing.T, clips []devClip, far float64) {
	c := PairConfig{}.withDefaults()
	def := DefaultGate.withDefaults()
	type count struct{ windows, failed, clips int }
	byGroup := map[string]*count{}
	var failedAt []string
	for _, cl := range clips {
		var s []devSample
		for _, x := range cl.Samples {
			if def.SharpEnough(x.Sharp) && math.Abs(x.Yaw) >= c.MinYaw && math.Abs(x.Yaw) <= c.MaxYaw {
				s = append(s, x)
			}
		}
		g := yawGroup(cl)
		if byGroup[g] == nil {
			byGroup[g] = &count{}
		}
		byGroup[g].clips++
		if len(s) == 0 {
			continue
		}
		for start := 0.0; start <= s[len(s)-1].T; start++ {
			n := 0
			for i := range s {
				for j := i + 1; j < len(s); j++ {
					a, b := s[i], s[j]
					if a.T < start || b.T >= start+8 || b.T-a.T > c.Gap.Seconds() || math.Abs(a.Yaw-b.Yaw) > c.Yaw || (a.Yaw < 0) != (b.Yaw < 0) {
						continue
					}
					if Distance(a.D, b.D) > far {
						n++
					}
				}
			}
			byGroup[g].windows++
			if n >= 2 {
				byGroup[g].failed++
				failedAt = append(failedAt, fmt.Sprintf("%s@%.0fs (%d pairs)", cl.Name, start, n))
			}
		}
	}
	var gs []string
	for g := range byGroup {
		gs = append(gs, g)
	}
	sort.Strings(gs)
	t.Logf("8 s windows with 2+ same-pose pairs beyond %.2f (|yaw| %.0f–%.0f°, Δyaw ≤ %.0f°, Δt ≤ %v):", far, c.MinYaw, c.MaxYaw, c.Yaw, c.Gap)
	for _, g := range gs {
		t.Logf("  %-34s (%d clips) %d of %d", g, byGroup[g].clips, byGroup[g].failed, byGroup[g].windows)
	}
	if len(failedAt) > 0 {
		t.Logf("  failing windows: %s", strings.Join(failedAt[:min(len(failedAt), 20)], "; "))
	}
}

// g09Shot numbers the shots of g09 (cuts at 4.5, 7.0 and 8.6 s, as
// g09Person).
func g09Shot(ts float64) int {
	switch {
	case ts < 4.5:
		return 0
	case ts < 7.0:
		return 1
	case ts < 8.6:
		return 2
	}
	return 3
}
