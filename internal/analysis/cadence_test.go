package analysis

import (
	"math/rand/v2"
	"testing"
)

// feed sends n frames at the given steps (seconds) to a tracker from ts0 and sums its windows.
func feed(t *cadenceTracker, ts0 uint32, steps []float64, follows func(i int) bool) Cadence {
	var c Cadence
	ts := ts0
	t.frame(ts, false)
	for i, s := range steps {
		ts += uint32(s * videoClockHz)
		if w, ok := t.frame(ts, follows == nil || follows(i)); ok {
			c.add(w)
		}
	}
	c.add(t.flush())
	return c
}

func TestCadence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const base = 1.0 / 15
	jitter := func() float64 { return (rng.Float64() - 0.5) * 0.006 } // ±3 ms of capture jitter
	var steady, dropped, halved, busy, lossy []float64
	for i := 0; i < 900; i++ { // 60 s at 15 fps
		steady = append(steady, base+jitter())
	}
	// A source that skips 40 % of its frames at random (the red team's swap).
	gap := 0.0
	for i := 0; i < 900; i++ {
		gap += base
		if rng.Float64() < 0.4 {
			continue
		}
		dropped = append(dropped, gap+jitter())
		gap = 0
	}
	// A camera at 30 fps that halves its rate in low light, then returns to 30.
	for i := 0; i < 600; i++ {
		s := 1.0 / 30
		if i >= 200 && i < 400 {
			s = 2.0 / 30
		}
		halved = append(halved, s+jitter()/2)
	}
	// A busy sender: every fourth frame 40 ms late, the next one as early.
	for i := 0; i < 900; i++ {
		s := base
		switch i % 4 {
		case 1:
			s += 0.04
		case 2:
			s -= 0.04
		}
		busy = append(busy, s)
	}
	// Frames lost on the network: big steps, but not following on the wire.
	lost := map[int]bool{}
	for i := 0; i < 900; i++ {
		s := base + jitter()
		if rng.Float64() < 0.3 {
			s *= 3
			lost[i] = true
		}
		lossy = append(lossy, s)
	}
	for _, c := range []struct {
		name     string
		steps    []float64
		follows  func(int) bool
		min, max float64
	}{
		{"steady 15 fps", steady, nil, 0, 0.03},
		{"40 % skipped", dropped, nil, 0.33, 0.47},
		{"30 fps halved to 15 and back", halved, nil, 0, 0.06},
		{"busy sender, late and early", busy, nil, 0, 0.03},
		{"30 % lost on the network", lossy, func(i int) bool { return !lost[i] }, 0, 0.03},
	} {
		// A start near the top of the 32-bit clock: the timestamps wrap.
		got := feed(&cadenceTracker{}, 0xffffffff-5*90000, c.steps, c.follows)
		if share := got.MissingShare(); share < c.min || share > c.max || got.Intervals < 100 {
			t.Errorf("%s: missing share %.3f over %d intervals (%.1f s), want %.2f–%.2f", c.name, share, got.Intervals, got.Seconds, c.min, c.max)
		}
	}
	// Many sources dropping 40 % (and one dropping 60 %) at random: every one is seen. With the
	// median step as the base, windows where half the steps were doubles hid their drops (a
	// live red-team swap read 18 %).
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		drop := 0.4
		if seed == 30 {
			drop = 0.6
		}
		var st []float64
		gap := 0.0
		for i := 0; i < 600; i++ {
			gap += base
			if r.Float64() < drop {
				continue
			}
			st = append(st, gap+(r.Float64()-0.5)*0.006)
			gap = 0
		}
		got := feed(&cadenceTracker{}, 0, st, nil)
		if share := got.MissingShare(); share < drop-0.07 || share > drop+0.07 {
			t.Errorf("seed %d, %.0f %% dropped: missing share %.3f", seed, 100*drop, share)
		}
	}
	// A pause of a second or more is no cadence; neither are fewer than 8 steps.
	tr := &cadenceTracker{}
	if got := feed(tr, 0, []float64{base, 2, base, base}, nil); got.Intervals != 0 {
		t.Errorf("four steps and a pause judged: %+v", got)
	}
}

// dropSteps makes the steps of a 15 fps source that skips each frame with probability drop
// (the red team's compute-bound swap), until shown frames came; ±3 ms of capture jitter.
func dropSteps(r *rand.Rand, drop float64, shown int) []float64 {
	const base = 1.0 / 15
	var st []float64
	gap := 0.0
	for len(st) < shown {
		gap += base
		if r.Float64() < drop {
			continue
		}
		st = append(st, gap+(r.Float64()-0.5)*0.006)
		gap = 0
	}
	return st
}

// TestCadenceExcess: the evidence that a source keeps skipping more than 10 % of its frames
// grows with the footage. A swap dropping 20 % (a third of the share score's weight) is 3.5
// standard errors above 10 % in nearly every 50 s interview and in every 30 min one; honest
// sources — steady, with hiccups (2 % single skips and a 10-frame burst every 30 s), a camera
// halving its rate, a busy sender — stay below 2 however long they run.
func TestCadenceExcess(t *testing.T) {
	const p0, full = 0.10, 3.5
	var short []float64
	for seed := uint64(1); seed <= 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		c := feed(&cadenceTracker{}, 0, dropSteps(r, 0.2, 600), nil) // 50 s
		short = append(short, c.Excess(p0))
		if seed <= 3 {
			long := feed(&cadenceTracker{}, 0, dropSteps(r, 0.2, 21600), nil) // 30 min
			if z := long.Excess(p0); z < 10 {
				t.Errorf("seed %d: 30 min of a 20 %% drop only %.1f standard errors above 10 %% (share %.3f, %d windows)", seed, z, long.MissingShare(), long.Windows)
			}
		}
	}
	below := 0
	for _, z := range short {
		if z < full {
			below++
		}
	}
	if below > 2 {
		t.Errorf("50 s of a 20 %% drop: %d of %d interviews under %.1f standard errors: %.1f", below, len(short), full, short)
	}

	rng := rand.New(rand.NewPCG(3, 4))
	const base = 1.0 / 15
	jitter := func() float64 { return (rng.Float64() - 0.5) * 0.006 }
	hiccups := func(n int) []float64 {
		var st []float64
		for i := 0; i < n; i++ {
			s := base + jitter()
			switch {
			case i%450 == 449:
				s += 10 * base // a burst of 10 frames (0.67 s)
			case rng.Float64() < 0.02:
				s += base
			}
			st = append(st, s)
		}
		return st
	}
	var halved, busy []float64
	for i := 0; i < 27000; i++ {
		s := 1.0 / 30
		if (i/3000)%2 == 1 {
			s = 2.0 / 30
		}
		halved = append(halved, s+jitter()/2)
		b := base
		switch i % 4 {
		case 1:
			b += 0.04
		case 2:
			b -= 0.04
		}
		busy = append(busy, b)
	}
	for _, c := range []struct {
		name  string
		steps []float64
	}{
		{"hiccups, 60 s", hiccups(900)},
		{"hiccups, 30 min", hiccups(27000)},
		{"30 fps halved to 15 and back, 15 min", halved},
		{"busy sender, 30 min", busy},
	} {
		got := feed(&cadenceTracker{}, 0, c.steps, nil)
		if z := got.Excess(p0); z >= 2 || got.Windows < 20 {
			t.Errorf("%s: %.1f standard errors above 10 %% (share %.3f, %d windows)", c.name, z, got.MissingShare(), got.Windows)
		}
	}
}
