package vision

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// cadenceRun is what one analyser measured on a sequence of frames.
type cadenceRun struct {
	obs      []models.Observation
	cascades int // frames on which a cascade ran (re-detection or full)
	tracked  int // frames measured by landmark tracking alone
}

// runCadence measures frames (captured step apart) with a fresh analyser
// whose cascade re-detects a tracked face at least every cascadeEvery.
func runCadence(t testing.TB, lm *Landmarker, frames []*models.Frame, step, cascadeEvery time.Duration) cadenceRun {
	t.Helper()
	a, err := NewAnalyzer(Config{Landmarker: lm, CascadeEvery: cascadeEvery})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var r cadenceRun
	for i, fr := range frames {
		f := *fr
		f.Capture = testEpoch.Add(time.Duration(i) * step)
		lc, lf := a.lastCasc, a.lastFull
		o, err := a.Measure(&f)
		if err != nil {
			t.Fatal(err)
		}
		if a.lastCasc != lc || a.lastFull != lf {
			r.cascades++
		}
		r.obs = append(r.obs, o)
	}
	r.tracked = a.tracked
	return r
}

// cadenceDiff compares two runs over the same frames frame by frame.
type cadenceDiff struct {
	frames, presence, coasting int       // frames; frames whose presence / coasting differ
	occOld, occNew             int       // frames reading occlusion ≥ 0.15
	pts, yaw, ear              []float64 // on frames with landmarks in both: worst point distance / eye distance, |Δyaw| (°), |ΔEAR|
	occ                        []float64 // |Δocclusion| on frames with a face in both
}

func compareCadence(old, cur cadenceRun) cadenceDiff {
	var d cadenceDiff
	for i := range old.obs {
		o, n := &old.obs[i], &cur.obs[i]
		d.frames++
		if o.FacePresent != n.FacePresent {
			d.presence++
		}
		if o.Coasting != n.Coasting {
			d.coasting++
		}
		if o.FacePresent && o.Occlusion >= 0.15 {
			d.occOld++
		}
		if n.FacePresent && n.Occlusion >= 0.15 {
			d.occNew++
		}
		if o.FacePresent && n.FacePresent {
			d.occ = append(d.occ, math.Abs(o.Occlusion-n.Occlusion))
		}
		if !o.LandmarksOK || !n.LandmarksOK {
			continue
		}
		eye := math.Hypot(float64(o.Landmarks[36][0]-o.Landmarks[45][0]), float64(o.Landmarks[36][1]-o.Landmarks[45][1]))
		worst := 0.0
		for k := range o.Landmarks {
			worst = math.Max(worst, math.Hypot(float64(o.Landmarks[k][0]-n.Landmarks[k][0]), float64(o.Landmarks[k][1]-n.Landmarks[k][1])))
		}
		d.pts = append(d.pts, worst/math.Max(eye, 1))
		if o.PoseOK && n.PoseOK {
			d.yaw = append(d.yaw, math.Abs(o.Yaw-n.Yaw))
		}
		d.ear = append(d.ear, math.Abs(o.EAR-n.EAR))
	}
	return d
}

func (d *cadenceDiff) add(o cadenceDiff) {
	d.frames += o.frames
	d.presence += o.presence
	d.coasting += o.coasting
	d.occOld += o.occOld
	d.occNew += o.occNew
	d.pts = append(d.pts, o.pts...)
	d.yaw = append(d.yaw, o.yaw...)
	d.ear = append(d.ear, o.ear...)
	d.occ = append(d.occ, o.occ...)
}

// quantile of v (sorted in place); 0 for none.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[int(math.Round(q*float64(len(v)-1)))]
}

// candidateCascadeEvery is the sparser cascade cadence measured against the
// default (docs/BENCH.md, 2026-12-04: measured, not adopted).
const candidateCascadeEvery = 450 * time.Millisecond

// movingFaceFrames is a still fitted in 640x480 with a slow zoom about the
// face and a sway (like the load generator's stream) at 15 fps, and a
// hand-coloured block over the face for six frames in the middle (coverFrom,
// coverTo).
const coverLen = 6

func movingFaceFrames(t testing.TB, name string, n int) []*models.Frame {
	t.Helper()
	img := loadBGR(t, name, 640, 480)
	defer img.Close()
	base := measureImg(t, newTestAnalyzer(t), img, 1)
	if !base.FacePresent {
		t.Fatalf("%s: no face", name)
	}
	var out []*models.Frame
	for i := 0; i < n; i++ {
		z := 1 + 0.001*float64(i)
		dx := 12 * math.Sin(float64(i)/10)
		m := gocv.GetRotationMatrix2D(image.Pt(base.Face.X+base.Face.W/2, base.Face.Y+base.Face.H/2), 0, z)
		m.SetDoubleAt(0, 2, m.GetDoubleAt(0, 2)+dx)
		w := gocv.NewMat()
		gocv.WarpAffineWithParams(img, &w, m, image.Pt(640, 480), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
		m.Close()
		if i >= n/2 && i < n/2+coverLen {
			fillRect(&w, growRect(fromRect(base.Face), 0.1).Add(image.Pt(int(dx), 0)), color.RGBA{R: 225, G: 170, B: 140})
		}
		out = append(out, frameOf(t, w))
		w.Close()
	}
	return out
}

// within reports whether the new cadence's deviations from the cascade on
// every frame (dCur) stay within 1.3 times the old cadence's (dOld) plus a
// small slack, at the 95th percentile: the landmark fit depends on the box it
// starts from, so both cadences already move the points by a few per cent of
// the eye distance against a cascade box on every frame.
func within(dOld, dCur cadenceDiff) (string, bool) {
	ok := true
	var b strings.Builder
	for _, c := range []struct {
		name     string
		old, cur []float64
		slack    float64
	}{{"landmarks (eye distances)", dOld.pts, dCur.pts, 0.01}, {"yaw (°)", dOld.yaw, dCur.yaw, 0.3},
		{"EAR", dOld.ear, dCur.ear, 0.01}, {"occlusion", dOld.occ, dCur.occ, 0.03}} {
		o, n := quantile(append([]float64(nil), c.old...), 0.95), quantile(append([]float64(nil), c.cur...), 0.95)
		fmt.Fprintf(&b, "%s p95 %.3f → %.3f; ", c.name, o, n)
		if n > 1.3*o+c.slack {
			ok = false
		}
	}
	return b.String(), ok
}

// TestCascadeCadence: re-detecting a steady face by the cascade every 450 ms
// (candidateCascadeEvery) instead of every 250 ms measures the same on stills
// in motion, at the passive 5 fps and at 15 fps: the same frames with a face
// and coasting, the covered frames read as covered, the same number of frames
// reading occlusion (±1), and landmarks, yaw, EAR and occlusion as close to
// the cascade-on-every-frame measurement as before (see within), with fewer
// cascade runs.
func TestCascadeCadence(t *testing.T) {
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{astro, "obama.jpg"} {
		all := movingFaceFrames(t, name, 150)
		for _, stride := range []int{1, 3} {
			var frames []*models.Frame
			for i := 0; i < len(all); i += stride {
				frames = append(frames, all[i])
			}
			step := time.Duration(stride) * timeStep
			every := runCadence(t, lm, frames, step, -1)
			old := runCadence(t, lm, frames, step, DefaultCascadeEvery)
			cur := runCadence(t, lm, frames, step, candidateCascadeEvery)
			d := compareCadence(old, cur)
			msg, ok := within(compareCadence(every, old), compareCadence(every, cur))
			t.Logf("%s at %d fps: cascades %d → %d, tracked %d → %d of %d frames; against the cascade on every frame: %sframes reading occlusion %d → %d",
				name, 15/stride, old.cascades, cur.cascades, old.tracked, cur.tracked, d.frames, msg, d.occOld, d.occNew)
			if !ok {
				t.Errorf("%s at %d fps: further from the cascade on every frame than the old cadence", name, 15/stride)
			}
			for i := len(all) / 2; i < len(all)/2+coverLen; i++ {
				if i%stride != 0 {
					continue
				}
				for _, r := range []cadenceRun{old, cur} {
					if o := r.obs[i/stride]; !o.Coasting && o.Occlusion < 0.4 {
						t.Errorf("%s at %d fps: covered frame %d reads coasting %v occlusion %.2f", name, 15/stride, i, o.Coasting, o.Occlusion)
					}
				}
			}
			if d.presence != 0 || d.coasting != 0 {
				t.Errorf("%s at %d fps: presence differs on %d frames, coasting on %d", name, 15/stride, d.presence, d.coasting)
			}
			if d.occNew < d.occOld-1 || d.occNew > d.occOld+1 {
				t.Errorf("%s at %d fps: %d frames read occlusion, %d before", name, 15/stride, d.occNew, d.occOld)
			}
			if cur.cascades >= old.cascades {
				t.Errorf("%s at %d fps: %d cascade runs, %d before", name, 15/stride, cur.cascades, old.cascades)
			}
		}
	}
}

// TestDevsetCascadeCadence (LIVECHECK_DEVSET=path of the dev set) compares the
// two cadences on every video of the dev set, every frame (15 fps, as in a
// challenge) and every third (the passive 5 fps); it logs the differences and
// fails beyond the tolerances of within or when presence differs on more
// than 0.5 % of the frames.
func TestDevsetCascadeCadence(t *testing.T) {
	dir := os.Getenv("LIVECHECK_DEVSET")
	if dir == "" {
		t.Skip("LIVECHECK_DEVSET not set")
	}
	fh, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var files []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) > 1 && cols[1] == "video" && strings.HasSuffix(cols[0], ".ivf") {
			files = append(files, filepath.Join(dir, cols[0]))
		}
	}
	lm, err := LoadLandmarker("")
	if err != nil {
		t.Fatal(err)
	}
	for _, stride := range []int{1, 3} {
		var tot, totOld, totCur cadenceDiff
		var oldC, curC, oldT, curT int
		for _, path := range files {
			all := decodeIVF(t, path)
			var frames []*models.Frame
			for i := 0; i < len(all); i += stride {
				frames = append(frames, all[i])
			}
			step := time.Duration(stride) * timeStep
			every := runCadence(t, lm, frames, step, -1)
			old := runCadence(t, lm, frames, step, DefaultCascadeEvery)
			cur := runCadence(t, lm, frames, step, candidateCascadeEvery)
			tot.add(compareCadence(old, cur))
			totOld.add(compareCadence(every, old))
			totCur.add(compareCadence(every, cur))
			oldC, curC, oldT, curT = oldC+old.cascades, curC+cur.cascades, oldT+old.tracked, curT+cur.tracked
		}
		q := func(v []float64, p float64) float64 { return quantile(append([]float64(nil), v...), p) }
		msg, ok := within(totOld, totCur)
		t.Logf("%d videos at %d fps, %d frames: cascades %d → %d, tracked %d → %d; presence differs on %d, coasting on %d; "+
			"old against new: landmarks median %.4f p95 %.4f eye distances, yaw median %.2f p95 %.2f°, EAR median %.4f p95 %.4f, occlusion median %.3f p95 %.3f; "+
			"frames reading occlusion %d → %d; against the cascade on every frame: %s",
			len(files), 15/stride, tot.frames, oldC, curC, oldT, curT, tot.presence, tot.coasting,
			q(tot.pts, 0.5), q(tot.pts, 0.95), q(tot.yaw, 0.5), q(tot.yaw, 0.95), q(tot.ear, 0.5), q(tot.ear, 0.95), q(tot.occ, 0.5), q(tot.occ, 0.95),
			tot.occOld, tot.occNew, msg)
		if !ok || float64(tot.presence) > 0.005*float64(tot.frames) {
			t.Errorf("at %d fps: beyond the tolerances", 15/stride)
		}
	}
}

// decodeIVF decodes every frame of a VP8 IVF file into owned frames.
func decodeIVF(t testing.TB, path string) []*models.Frame {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := media.NewIVFReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := media.NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []*models.Frame
	for {
		b, _, err := r.NextFrame()
		if err != nil {
			break
		}
		f, err := dec.Decode(b, time.Time{})
		if err != nil {
			continue // a corrupt frame: the live decoder skips it too
		}
		c := *f
		c.Y, c.U, c.V = append([]byte(nil), f.Y...), append([]byte(nil), f.U...), append([]byte(nil), f.V...)
		dec.Release(f)
		out = append(out, &c)
	}
	return out
}
