package redteam_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/faceid"
)

// idTrace collects the faces the identity stage folds in, per interview (REDTEAM_IDTRACE,
// finding 32). The descriptors stay in memory: print shows distances only.
type idTrace struct {
	mu    sync.Mutex
	faces map[int64][]analysis.IdentityFace
}

func (tr *idTrace) add(f analysis.IdentityFace) {
	tr.mu.Lock()
	tr.faces[f.Interview] = append(tr.faces[f.Interview], f)
	tr.mu.Unlock()
}

// print shows every face of the interview: seconds since the session started, decode number,
// in a challenge or not, how it was found, the detector's confidence, box width, the frame's
// VP8 quantiser, the distance to the identity current when it came and to the reference (the
// mean of the steady faces from the third on: not in a challenge, |yaw| ≤ 20°); and a summary
// line, "IDTRACE-SUM", of the first two faces' distances to the reference against the later
// steady faces'.
func (tr *idTrace) print(t *testing.T, interview int64) {
	tr.mu.Lock()
	fs := append([]analysis.IdentityFace(nil), tr.faces[interview]...)
	tr.mu.Unlock()
	var steady []faceid.Sample
	for i, f := range fs {
		if i >= 2 && !f.Challenge && math.Abs(f.Sample.Yaw) <= 20 {
			steady = append(steady, f.Sample)
		}
	}
	if len(fs) == 0 || len(steady) == 0 {
		t.Logf("   IDTRACE interview %d: %d faces, too few", interview, len(fs))
		return
	}
	ref := meanOf(steady)
	var b strings.Builder
	var later []float64
	for i, f := range fs {
		cur := "  -  "
		if f.HasDistance {
			cur = fmt.Sprintf("%.3f", f.Distance)
		}
		dr := faceid.Distance(f.Sample.D, ref)
		fmt.Fprintf(&b, "\n     %5.2fs seq %4d chal %-5v %-7s conf %.2f box %3d q %3d key %-5v sharp %5.0f yaw %4.0f eye %3.0f cur %s ref %.3f",
			f.Sample.At.Sub(f.Started).Seconds(), f.Seq, f.Challenge, f.Found, f.Conf, f.BoxW, f.Quant-1, f.Keyframe,
			f.Sample.Sharpness, f.Sample.Yaw, f.Sample.EyeDistance, cur, dr)
		if i >= 2 && !f.Challenge && math.Abs(f.Sample.Yaw) <= 20 {
			later = append(later, dr)
		}
	}
	t.Logf("   IDTRACE interview %d: %d faces%s", interview, len(fs), b.String())
	first := func(i int) string {
		if i >= len(fs) {
			return "-"
		}
		f := fs[i]
		return fmt.Sprintf("%.3f(%.2fs seq %d %s conf %.2f box %d q %d)", faceid.Distance(f.Sample.D, ref),
			f.Sample.At.Sub(f.Started).Seconds(), f.Seq, f.Found, f.Conf, f.BoxW, f.Quant-1)
	}
	med, mx := 0.0, 0.0
	if len(later) > 0 {
		s := append([]float64(nil), later...)
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[j] < s[i] {
					s[i], s[j] = s[j], s[i]
				}
			}
		}
		med, mx = s[len(s)/2], s[len(s)-1]
	}
	t.Logf("   IDTRACE-SUM interview %d: first %s second %s; later steady n %d median %.3f max %.3f",
		interview, first(0), first(1), len(later), med, mx)
}

func meanOf(ss []faceid.Sample) faceid.Descriptor {
	var sum [faceid.Dims]float64
	for _, s := range ss {
		for i, v := range s.D {
			sum[i] += float64(v)
		}
	}
	var d faceid.Descriptor
	for i := range d {
		d[i] = float32(sum[i] / float64(len(ss)))
	}
	return d
}
