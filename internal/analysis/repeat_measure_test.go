package analysis

// A measurement, not a detector (docs/REDTEAM.md finding 16): can the server see a virtual
// camera that repeats a late swap's last frame, from the decoded frames? Nothing here runs in
// the product; the measurements below (gated by environment variables) are what was tried.

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// Repeats is how often a decoded frame's face region changed much less from the previous frame
// than the stream's usual change. The idea: a camera cannot repeat a frame (its sensor's noise
// differs in every exposure, and a live face moves), while a virtual camera (OBS, v4l2loopback,
// a swap tool's output device) runs at a fixed rate and, when the swap behind it is late, sends
// its last frame again: the browser then encodes every frame on time (frame_cadence sees a
// perfect cadence). Frames that do not change because nothing does (a frozen picture) are not
// counted: a window whose frames mostly do not change is not judged.
type Repeats struct {
	Compared int // consecutive decoded frames compared in judged windows
	Repeated int // of which the face region did not change
	// Windows judged, and the sum and sum of squares of their repeated shares (Excess).
	Windows          int
	ShareSum, Share2 float64
}

// Share is the share of compared frames that repeated the previous one.
func (r Repeats) Share() float64 {
	if r.Compared == 0 {
		return 0
	}
	return float64(r.Repeated) / float64(r.Compared)
}

// Excess is how far, in standard errors, the repeated share lies above p0, as Cadence.Excess.
func (r Repeats) Excess(p0 float64) float64 {
	if r.Windows < 2 {
		return 0
	}
	n := float64(r.Windows)
	mean := r.ShareSum / n
	sd := math.Sqrt(math.Max(0, (r.Share2-n*mean*mean)/(n-1)))
	sd = math.Max(sd, math.Sqrt(p0*(1-p0)/repeatWindow))
	return (mean - p0) / (sd / math.Sqrt(n))
}

func (r *Repeats) add(o Repeats) {
	r.Compared += o.Compared
	r.Repeated += o.Repeated
	r.Windows += o.Windows
	r.ShareSum += o.ShareSum
	r.Share2 += o.Share2
}

// Repeat measure. What a repeated source frame looks like after a browser's encoder: not an
// identical picture (through libvpx at 400 and 800 kbit/s, a rate controller with bits to spend
// refines the last frame's coding: 0.45 of the sampled pixels still change, by a level or two),
// but a change below the stream's usual one (mean absolute change 0.5-0.6 against 0.9-1.3 for
// a noisy camera's frames, still or swaying). So a frame counts as a repeat when its region's
// mean absolute change from the previous decoded frame is below repeatRatio of its window's
// median change. Windows of repeatWindow compared frames; a window whose median change is under
// repeatFrozen levels or whose frames mostly sit below the ratio is not judged. It separates
// the synthetic camera from the synthetic virtual camera, and fails on real faces: the dev
// set's genuine recordings read 22-42 % (a face's change from frame to frame varies far more
// than a rendered sway's).
const (
	repeatRatio    = 0.75
	repeatFrozen   = 0.1
	repeatWindow   = 32
	repeatSamples  = 1500 // sampled pixels of the region, about
	repeatMaxShare = 0.5
)

// repeatTracker compares each decoded frame's face region with the previous frame's; not safe
// for concurrent use.
type repeatTracker struct {
	prev, cur []uint8
	pw, ph    int // the previous frame's size (a change restarts the comparison)
	region    models.Rect
	rw, rh    int       // the size of the frame the region was found on
	changes   []float64 // the current window's mean absolute changes
	scratch   []float64
}

// setFace sets the region to compare: the last face box found on a w×h frame.
func (t *repeatTracker) setFace(r models.Rect, w, h int) { t.region, t.rw, t.rh = r, w, h }

// frame compares f with the previous frame; it returns a window's judgement when one is complete.
func (t *repeatTracker) frame(f *models.Frame) (Repeats, bool) {
	reg := t.regionOf(f.Width, f.Height)
	step := int(math.Max(1, math.Sqrt(float64(reg.W*reg.H)/repeatSamples)))
	t.cur = t.cur[:0]
	for y := reg.Y; y < reg.Y+reg.H; y += step {
		row := f.Y[y*f.Width:]
		for x := reg.X; x < reg.X+reg.W; x += step {
			t.cur = append(t.cur, row[x])
		}
	}
	same := f.Width == t.pw && f.Height == t.ph && len(t.cur) == len(t.prev) && len(t.cur) > 0
	t.pw, t.ph = f.Width, f.Height
	defer func() { t.prev, t.cur = t.cur, t.prev }()
	if !same {
		return Repeats{}, false
	}
	sad := 0
	for i, v := range t.cur {
		if d := int(v) - int(t.prev[i]); d < 0 {
			sad -= d
		} else {
			sad += d
		}
	}
	t.changes = append(t.changes, float64(sad)/float64(len(t.cur)))
	if len(t.changes) < repeatWindow {
		return Repeats{}, false
	}
	return t.flush(), true
}

// flush judges the current window (nothing when it is short or frozen) and starts the next.
func (t *repeatTracker) flush() Repeats {
	defer func() { t.changes = t.changes[:0] }()
	n := len(t.changes)
	if n < repeatWindow/2 {
		return Repeats{}
	}
	t.scratch = append(t.scratch[:0], t.changes...)
	slices.Sort(t.scratch)
	med := t.scratch[n/2]
	if med < repeatFrozen {
		return Repeats{}
	}
	rep := 0
	for i, c := range t.changes {
		t.scratch[i] = c / med
		if c < repeatRatio*med {
			rep++
		}
	}
	if float64(rep) > repeatMaxShare*float64(n) {
		return Repeats{}
	}
	share := float64(rep) / float64(n)
	return Repeats{Compared: n, Repeated: rep, Windows: 1, ShareSum: share, Share2: share * share}
}

// regionOf is the comparison region within a w×h frame: the face box widened by a fifth on
// each side, clipped; the central half of the frame without a box or when the box is from a
// frame of another size.
func (t *repeatTracker) regionOf(w, h int) models.Rect {
	r := t.region
	if t.rw != w || t.rh != h {
		r = models.Rect{}
	}
	if !r.Empty() {
		dx, dy := r.W/5, r.H/5
		r = models.Rect{X: r.X - dx, Y: r.Y - dy, W: r.W + 2*dx, H: r.H + 2*dy}
		if r.X < 0 {
			r.W += r.X
			r.X = 0
		}
		if r.Y < 0 {
			r.H += r.Y
			r.Y = 0
		}
		r.W = min(r.W, w-r.X)
		r.H = min(r.H, h-r.Y)
	}
	if r.W < 16 || r.H < 16 {
		r = models.Rect{X: w / 4, Y: h / 4, W: w / 2, H: h / 2}
	}
	return r
}

// repeatSource renders 640×480 frames of a textured picture that sways (sway pixels at most;
// 0: perfectly still) under a sensor's Gaussian noise of sd levels; repeat is the share of
// frames on which a virtual camera sends the previous frame again instead.
type repeatSource struct {
	rng        *rand.Rand
	sway       float64
	repeat     float64
	i          int
	prev, base []byte
	noise      []float64 // Gaussian, sd levels, read at a random offset each frame
}

func newRepeatSource(seed uint64, sway, sd, repeat float64) *repeatSource {
	s := &repeatSource{rng: rand.New(rand.NewPCG(seed, 1)), sway: sway, repeat: repeat, noise: make([]float64, 1<<20)}
	for i := range s.noise {
		s.noise[i] = s.rng.NormFloat64() * sd
	}
	s.base = make([]byte, 700*480)
	for y := 0; y < 480; y++ {
		for x := 0; x < 700; x++ { // skin-like shading with features: smooth, some edges
			v := 128 + 40*math.Sin(float64(x)/37)*math.Cos(float64(y)/29) + 20*math.Sin(float64(x*y)/5000)
			if (x/60+y/45)%7 == 0 {
				v -= 50
			}
			s.base[y*700+x] = byte(v)
		}
	}
	return s
}

// next returns the next frame (the source's own buffers: encode it before asking again).
func (s *repeatSource) next() *models.Frame {
	f := &models.Frame{Width: 640, Height: 480, U: make([]byte, 320*240), V: make([]byte, 320*240)}
	for i := range f.U {
		f.U[i], f.V[i] = 118, 140
	}
	if s.prev != nil && s.rng.Float64() < s.repeat {
		f.Y = s.prev
		return f
	}
	dx := int(math.Round(s.sway * (1 + math.Sin(float64(s.i)/9))))
	s.i++
	y := make([]byte, 640*480)
	noise := s.noise[s.rng.IntN(len(s.noise)-len(y)):]
	for r := 0; r < 480; r++ {
		for c := 0; c < 640; c++ {
			v := float64(s.base[r*700+c+dx]) + noise[r*640+c]
			y[r*640+c] = byte(max(0, min(255, math.Round(v))))
		}
	}
	s.prev, f.Y = y, y
	return f
}

// runRepeats sends n frames of src through VP8 at kbps (libvpx realtime, as a browser) and the
// decoder, and the tracker over the decoded frames.
func runRepeats(t *testing.T, src *repeatSource, n, kbps int) Repeats {
	t.Helper()
	enc, err := media.NewVP8Encoder(media.VP8EncoderConfig{Width: 640, Height: 480, FPS: 15, BitrateKbps: kbps})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := media.NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var tr repeatTracker
	var r Repeats
	at := time.Unix(0, 0)
	for i := 0; i < n; i++ {
		data, _, err := enc.Encode(src.next(), i == 0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dec.Decode(data, at.Add(time.Duration(i)*time.Second/15))
		if err != nil || f == nil {
			continue
		}
		if w, ok := tr.frame(f); ok {
			r.add(w)
		}
		dec.Release(f)
	}
	r.add(tr.flush())
	return r
}

// TestRepeatMeasure: through libvpx at a call's bitrates, a synthetic camera's frames (swaying,
// or perfectly still so that only the sensor's noise changes) read 3-4 % repeats, a virtual
// camera repeating 20 % of its frames about 20 %. A measurement (it takes half a minute):
//
//	LIVECHECK_MEASURE_REPEATS=1 go test -run TestRepeatMeasure -v ./internal/analysis
func TestRepeatMeasure(t *testing.T) {
	measuring(t, "LIVECHECK_MEASURE_REPEATS", "a measurement: set LIVECHECK_MEASURE_REPEATS=1")
	for _, c := range []struct {
		name                 string
		sway, sd, repeat     float64
		kbps                 int
		minShare, maxShare   float64
		minExcess, maxExcess float64
	}{
		{"camera, swaying, 400 kbit/s", 3, 2.5, 0, 400, 0, 0.05, math.Inf(-1), 0},
		{"camera, still (noise only), 400 kbit/s", 0, 2.5, 0, 400, 0, 0.05, math.Inf(-1), 0},
		{"camera, still, faint noise (σ 1), 400 kbit/s", 0, 1, 0, 400, 0, 0.05, math.Inf(-1), 0},
		{"virtual camera repeating 20 %, 400 kbit/s", 3, 2.5, 0.2, 400, 0.12, 0.3, 3.5, math.Inf(1)},
		{"virtual camera repeating 20 %, 800 kbit/s", 3, 2.5, 0.2, 800, 0.12, 0.3, 3.5, math.Inf(1)},
	} {
		r := runRepeats(t, newRepeatSource(7, c.sway, c.sd, c.repeat), 330, c.kbps)
		z := r.Excess(0.05)
		t.Logf("%s: %d of %d repeated (%.1f %%) in %d windows, %.1f standard errors above 5 %%", c.name, r.Repeated, r.Compared, 100*r.Share(), r.Windows, z)
		if r.Windows < 10 || r.Share() < c.minShare || r.Share() > c.maxShare || z < c.minExcess || z > c.maxExcess {
			t.Errorf("%s: share %.3f (want %.2f..%.2f), excess %.1f (want %.1f..%.1f), %d windows", c.name, r.Share(), c.minShare, c.maxShare, z, c.minExcess, c.maxExcess, r.Windows)
		}
	}
}

// TestDevsetRepeatMeasure runs the repeat measure (the frame's central half: no face tracker
// here) over the development set's videos: the genuine recordings are what it fails on.
//
//	LIVECHECK_DEVSET=/work/shared/devset go test -run TestDevsetRepeatMeasure -v ./internal/analysis
func TestDevsetRepeatMeasure(t *testing.T) {
	dir, rows := devsetVideos(t)
	for _, f := range rows {
		src, err := OpenVideo(filepath.Join(dir, f[0]), FileEpoch)
		if err != nil {
			t.Errorf("%s: %v", f[0], err)
			continue
		}
		var tr repeatTracker
		var r Repeats
		for {
			fr, err := src.Next()
			if err != nil {
				break
			}
			if w, ok := tr.frame(fr); ok {
				r.add(w)
			}
		}
		src.Close()
		r.add(tr.flush())
		t.Logf("%-34s %-11s %3d of %3d frames repeated (%4.1f %%) in %d windows, %5.1f standard errors above 5 %%",
			filepath.Base(f[0]), f[2], r.Repeated, r.Compared, 100*r.Share(), r.Windows, r.Excess(0.05))
	}
}

// TestDevsetStallMeasure (LIVECHECK_DEVSET=…) counts challenge.CountStalls over every frame of
// the dev set's recordings (their moving stretches: the measure only judges frames whose
// neighbours move), and the frames whose luma is identical to the previous one (a transcoding
// duplicate, a file artefact): docs/REDTEAM.md finding 16's stall measure on real faces.
func TestDevsetStallMeasure(t *testing.T) {
	dir, rows := devsetVideos(t)
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	labels := os.Getenv("LIVECHECK_DEVSET_LABELS") // e.g. genuine,faceswap; default genuine
	if labels == "" {
		labels = "genuine"
	}
	for _, f := range rows {
		if !strings.Contains(labels, f[2]) {
			continue
		}
		src, err := OpenVideo(filepath.Join(dir, f[0]), FileEpoch)
		if err != nil {
			t.Errorf("%s: %v", f[0], err)
			continue
		}
		var obs []models.Observation
		var prev []byte
		var cm challenge.ChangeMeter
		dup, n := 0, 0
		var ivs []float64
		for {
			fr, err := src.Next()
			if err != nil {
				break
			}
			if prev != nil && slices.Equal(prev, fr.Y) {
				dup++
			}
			prev = append(prev[:0], fr.Y...)
			ob, err := an.Measure(fr)
			if err != nil {
				t.Fatal(err)
			}
			ob.At = fr.Capture
			ob.Change, ob.ChangeOK = cm.Measure(fr, ob.Face) // as Session.observe
			if n > 0 {
				ivs = append(ivs, fr.Capture.Sub(obs[n-1].At).Seconds())
			}
			obs = append(obs, ob)
			n++
		}
		src.Close()
		iv := time.Second / 15
		if len(ivs) > 0 {
			slices.Sort(ivs)
			iv = time.Duration(ivs[len(ivs)/2] * float64(time.Second))
		}
		if os.Getenv("LIVECHECK_STALL_SERIES") != "" && strings.Contains(f[0], os.Getenv("LIVECHECK_STALL_SERIES")) {
			line := ""
			for k := 1; k < len(obs); k++ {
				sh := -1.0
				if obs[k].LandmarksOK && obs[k-1].LandmarksOK {
					sh = challenge.LandmarkShift(&obs[k-1], &obs[k])
				}
				line += fmt.Sprintf(" %.1f/%.1f", sh, obs[k].Change)
			}
			t.Logf("%s landmark step/picture change:%s", f[0], line)
		}
		s := challenge.CountStalls(obs, iv)
		lm := slices.Clone(obs) // finding 16's measure: the landmarks alone
		for k := range lm {
			lm[k].ChangeOK = false
		}
		l := challenge.CountStalls(lm, iv)
		t.Logf("%-34s %-11s %3d frames (interval %v): %2d of %3d moving frames stalled (%4.1f %%; landmarks alone %d of %d); %d identical to the previous",
			filepath.Base(f[0]), f[2], n, iv.Round(time.Millisecond), s.Stalls, s.Moving, 100*s.Share(), l.Stalls, l.Moving, dup)
	}
}

// devsetVideos returns the development set's directory (LIVECHECK_DEVSET; the test is skipped
// without it) and its manifest's video rows (path, "video", label, ...).
func devsetVideos(t *testing.T) (string, [][]string) {
	t.Helper()
	dir := measuring(t, "LIVECHECK_DEVSET", "set LIVECHECK_DEVSET to the devset directory")
	fh, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if f := strings.Split(sc.Text(), "\t"); len(f) >= 3 && f[1] == "video" {
			rows = append(rows, f)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return dir, rows
}
