package challenge

import (
	"slices"
	"time"
)

// MaxFlashChangesPerSecond bounds how often the screen may change colour during a flash
// prompt, in any window of one second, at every setting (fast flashes, slow fades, reissues,
// extra and alternative challenges). WCAG 2.3.1 ("Three Flashes or Below Threshold") allows
// three flashes a second, a flash being a pair of opposing changes; we count every single
// change, so this is twice as strict.
const MaxFlashChangesPerSecond = 3

// FlashChanges returns the moments, counted from the display of the first colour, at which
// the screen changes colour during the flash prompt with params p: the first colour appearing
// (0), each following colour (i·step) and the page coming back (len·step). A fade's
// cross-fades are gradual; they are counted anyway, as if abrupt.
func FlashChanges(p Params) []time.Duration {
	if len(p.Colors) == 0 {
		return nil
	}
	step := time.Duration(p.StepMS) * time.Millisecond
	out := make([]time.Duration, 0, len(p.Colors)+1)
	for i := 0; i <= len(p.Colors); i++ {
		out = append(out, time.Duration(i)*step)
	}
	return out
}

// MaxChangesPerSecond returns the largest number of the given moments that fall within any
// one-second window [t, t+1 s).
func MaxChangesPerSecond(at []time.Duration) int {
	ts := slices.Clone(at)
	slices.Sort(ts)
	best, j := 0, 0
	for i := range ts {
		for ts[i]-ts[j] >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
