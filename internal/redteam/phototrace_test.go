package redteam_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/store"
)

// photoTrace collects the photo detector's windows per interview (REDTEAM_METRICS; counts and
// ratios only, nothing biometric): why the darker skin's photo score differs live (issue 16).
type photoTrace struct {
	mu sync.Mutex
	ws map[int64]photoSession
}

type photoSession struct {
	started         time.Time
	measured, short []detect.PhotoWindow
}

func (tr *photoTrace) add(id int64, started time.Time, m, sh []detect.PhotoWindow) {
	tr.mu.Lock()
	tr.ws[id] = photoSession{started, m, sh}
	tr.mu.Unlock()
}

// print shows every photo window of the interview (seconds since the session started, in a
// challenge or not, analysed fps, frame counts by kind, the measures and the blink's path)
// and a summary line, PHOTO-SUM, split into windows outside and inside challenges.
func (tr *photoTrace) print(t *testing.T, id int64, recs []store.ChallengeRecord) {
	tr.mu.Lock()
	ps, ok := tr.ws[id]
	tr.mu.Unlock()
	if !ok {
		t.Logf("   PHOTO interview %d: no trace", id)
		return
	}
	inChal := func(w detect.PhotoWindow) bool {
		a, b := w.From, w.From.Add(time.Duration(w.Span*float64(time.Second)))
		for _, c := range recs {
			if c.IssuedAt.Before(b) && c.Deadline.After(a) {
				return true
			}
		}
		return false
	}
	type agg struct {
		n, scored, blink, lid, dips, noNext, moved, coastMeas, frames, lm, coast, noface int
		fps, score, eardip                                                               []float64
	}
	var out, in agg
	var b strings.Builder
	all := append(append([]detect.PhotoWindow(nil), ps.measured...), ps.short...)
	sort.Slice(all, func(i, j int) bool { return all[i].From.Before(all[j].From) })
	for _, w := range all {
		ch := inChal(w)
		a := &out
		if ch {
			a = &in
		}
		a.n++
		fps := 0.0
		if w.Span > 0 {
			fps = float64(w.Frames-1) / w.Span
		}
		a.frames += w.Frames
		a.lm += w.Landmark
		a.coast += w.Coast
		a.noface += w.NoFace
		if w.Score >= 0 {
			a.scored++
			a.fps = append(a.fps, fps)
			a.score = append(a.score, w.Score)
			a.eardip = append(a.eardip, w.EARDip)
			if w.Blink {
				a.blink++
			}
			if w.LidBlink {
				a.lid++
			}
			a.dips += w.CoastDips
			a.noNext += w.DipNoNext
			a.moved += w.DipMoved
			if w.CoastMeasured > 0 {
				a.coastMeas += w.CoastMeasured
			}
		}
		fmt.Fprintf(&b, "\n     %6.1fs chal %-5v fps %4.1f frames %3d lm %3d coast %2d noface %2d nonrigid %5.1f motion %5.0f expr %4.2f eardip %4.2f eyecdip %4.2f coastmeas %3d coastdip %4.2f dips %d nonext %d moved %d blink %-5v lid %-5v score %5.2f",
			w.From.Sub(ps.started).Seconds(), ch, fps, w.Frames, w.Landmark, w.Coast, w.NoFace, w.NonRigid, w.Motion, w.Expr,
			w.EARDip, w.EyeCDip, w.CoastMeasured, w.CoastDip, w.CoastDips, w.DipNoNext, w.DipMoved, w.Blink, w.LidBlink, w.Score)
	}
	t.Logf("   PHOTO interview %d: %d windows (%d too short)%s", id, len(all), len(ps.short), b.String())
	sum := func(name string, a agg) string {
		med := func(v []float64) float64 {
			if len(v) == 0 {
				return 0
			}
			s := append([]float64(nil), v...)
			sort.Float64s(s)
			return s[len(s)/2]
		}
		return fmt.Sprintf("%s: windows %d scored %d blink %d (lid %d) fps med %.1f score med %.2f eardip med %.2f frames %d lm %d coast %d noface %d coastmeas %d dips %d nonext %d moved %d",
			name, a.n, a.scored, a.blink, a.lid, med(a.fps), med(a.score), med(a.eardip), a.frames, a.lm, a.coast, a.noface, a.coastMeas, a.dips, a.noNext, a.moved)
	}
	t.Logf("   PHOTO-SUM interview %d %s | %s", id, sum("out", out), sum("in", in))
}
