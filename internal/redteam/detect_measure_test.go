package redteam

import (
	"fmt"
	"image"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// TestMeasureDarkerDetection measures the face detector on the honest person (no prompts,
// REDTEAM_FRAMES frames, default 450 = 30 s) through VP8 and back, analysed at 5.5 fps
// (REDTEAM_FPS; the live rate outside challenges), for the default look at albedo 1, 0.7 and
// 0.4 and the dim look (honest/dim: light 0.8, noise 4, 1.25× size, 400 kbit/s) at 1 and 0.4
// (REDTEAM_MEASURE_DARKER=1; development, finding 26, issue 16). Per stream: the analyser's
// coasting rate on all analysed frames and on the closed-eye ones (actor's EyesClosed > 0.5),
// its confidence's quantiles. Then, on every analysed frame, the frontal cascade is run as
// DetectNear runs it (the region 2.2× the previous box, scaled to a 56 px face, pyramid step
// 1.15, faces 0.65–1.6×) after four preprocessings of that region, to test whether the
// equalisation over the region (wall, hair, clothes) is what weakens it on the darker face:
//
//	roi:   histogram equalisation of the whole region (what DetectNear does)
//	face:  equalisation with the histogram of the previous face box only, applied to the region
//	clahe: CLAHE (clip 2, 4×4 tiles) on the region
//	none:  no equalisation
//
// and the hit count of the face's cluster (raw hits centred in the previous box; a detection
// needs 3) is reported as the detector's confidence, 1-exp(-n/11.5). The row "near" is
// vision.FaceDetector.DetectNear itself at angle 0 on the same box (its hits grouped as the
// analyser groups them: fewer than the lenient count of "roi").
func TestMeasureDarkerDetection(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKER")
	f := testdataFace(t)
	n, fps := streamLength()
	type cfg struct {
		name string
		look Look
		kbps int
	}
	cfgs := []cfg{
		{"default", Look{Noise: 2.5}, 800},
		{"default", Look{Noise: 2.5, Albedo: 0.7}, 800},
		{"default", Look{Noise: 2.5, Albedo: 0.4}, 800},
		{"dim", Look{Light: 0.8, Noise: 4, Size: 1.25}, 400},
		{"dim", Look{Light: 0.8, Noise: 4, Size: 1.25, Albedo: 0.4}, 400},
	}
	if s := os.Getenv("REDTEAM_LOOKS"); s != "" { // e.g. "default,dim"
		var keep []cfg
		for _, c := range cfgs {
			if strings.Contains(s, c.name) {
				keep = append(keep, c)
			}
		}
		cfgs = keep
	}
	cas := gocv.NewCascadeClassifier()
	if !cas.Load(vision.DefaultFrontalCascade) {
		t.Skip("no frontal cascade")
	}
	defer cas.Close()
	clahe := gocv.NewCLAHEWithParams(2, image.Pt(4, 4))
	defer clahe.Close()
	fd, err := vision.NewFaceDetector(vision.DetectorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	variants := []string{"near", "roi", "face", "clahe", "none"}
	for _, c := range cfgs {
		alb := c.look.Albedo
		if alb == 0 {
			alb = 1
		}
		type agg struct {
			hit, n, closedHit, closedN int
			conf, closedConf           []float64
		}
		tot := map[string]*agg{"analyser": {}}
		for _, v := range variants {
			tot[v] = &agg{}
		}
		for _, seed := range measureSeeds() {
			look := c.look
			look.Seed = seed
			obs, truth, probe := detectStream(t, f, look, seed, n, c.kbps, fps, func(y []byte, prev models.Rect) map[string]int {
				return probeNear(fd, &cas, &clahe, y, prev)
			})
			for i, ob := range obs {
				closed := truth[i].EyesClosed > 0.5
				a := tot["analyser"]
				if ob.FacePresent || ob.Coasting {
					a.n++
					if !ob.Coasting {
						a.hit++
						a.conf = append(a.conf, ob.FaceConf)
					}
					if closed {
						a.closedN++
						if !ob.Coasting {
							a.closedHit++
							a.closedConf = append(a.closedConf, ob.FaceConf)
						}
					}
				}
				if probe[i] == nil {
					continue
				}
				for _, v := range variants {
					k := probe[i][v]
					g := tot[v]
					cf := 1 - math.Exp(-float64(k)/11.5)
					g.n++
					g.conf = append(g.conf, cf)
					if k >= 3 {
						g.hit++
					}
					if closed {
						g.closedN++
						g.closedConf = append(g.closedConf, cf)
						if k >= 3 {
							g.closedHit++
						}
					}
				}
			}
		}
		t.Logf("%s albedo %.1f (seeds %v, %.1f fps):", c.name, alb, measureSeeds(), fps)
		for _, k := range append([]string{"analyser"}, variants...) {
			g := tot[k]
			t.Logf("   %-8s found %3d/%3d (%.0f %%) conf q10/50/90 %s | closed eyes found %2d/%2d conf %s", k, g.hit, g.n,
				100*float64(g.hit)/math.Max(1, float64(g.n)), quants(g.conf), g.closedHit, g.closedN, quants(g.closedConf))
		}
	}
}

// detectStream renders, encodes, decodes and analyses as runPhotoStream does, and calls probe
// on every analysed frame's luma with the analyser's box from the frame before (skipped
// while there is none).
func detectStream(t *testing.T, f *Face, look Look, seed uint64, n, kbps int, fps float64,
	probe func(y []byte, prev models.Rect) map[string]int) ([]models.Observation, []State, []map[string]int) {
	t.Helper()
	a := NewActor(honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}), nil, seed)
	r := NewRenderer(f, look)
	enc, dec, an := vp8Chain(t, kbps)
	var obs []models.Observation
	var truth []State
	var probes []map[string]int
	var prev models.Rect
	pace := pacer{fps: fps}
	at := a.t0
	for i := 0; i < n; i, at = i+1, at.Add(time.Second/15) {
		st := a.State(at)
		r.RenderInto(st, false)
		fr := vp8RoundTrip(t, r, enc, dec, at)
		if !pace.due(at) {
			continue
		}
		var p map[string]int
		if prev.W > 0 {
			p = probe(fr.Y, prev)
		}
		ob, err := an.Measure(fr)
		if err != nil {
			t.Fatal(err)
		}
		ob.At = at
		if ob.FacePresent || ob.Coasting {
			prev = ob.Face
		}
		obs = append(obs, ob)
		truth = append(truth, st)
		probes = append(probes, p)
	}
	return obs, truth, probes
}

// probeNear runs the frontal cascade on the region around prev as DetectNear does, after each
// preprocessing, and returns the raw hits of the face's cluster per preprocessing.
func probeNear(fd *vision.FaceDetector, cas *gocv.CascadeClassifier, clahe *gocv.CLAHE, y []byte, prev models.Rect) map[string]int {
	pb := image.Rect(prev.X, prev.Y, prev.X+prev.W, prev.Y+prev.H)
	dx, dy := int(float64(pb.Dx())*0.6), int(float64(pb.Dy())*0.6)
	roi := image.Rect(pb.Min.X-dx, pb.Min.Y-dy, pb.Max.X+dx, pb.Max.Y+dy).Intersect(image.Rect(0, 0, W, H))
	full, err := gocv.NewMatFromBytes(H, W, gocv.MatTypeCV8U, append([]byte(nil), y...))
	if err != nil {
		panic(err)
	}
	defer full.Close()
	region := full.Region(roi)
	defer region.Close()
	s := math.Min(1, 56/float64(pb.Dx()))
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(region, &small, image.Point{}, s, s, gocv.InterpolationArea)
	pw := float64(pb.Dx()) * s
	minW, maxW := max(20, int(pw*0.65)), int(pw*1.6)+1
	// the previous face box in small's pixels
	fb := image.Rect(int(float64(pb.Min.X-roi.Min.X)*s), int(float64(pb.Min.Y-roi.Min.Y)*s),
		int(float64(pb.Max.X-roi.Min.X)*s), int(float64(pb.Max.Y-roi.Min.Y)*s)).Intersect(image.Rect(0, 0, small.Cols(), small.Rows()))
	count := func(img gocv.Mat) int {
		raw := cas.DetectMultiScaleWithParams(img, 1.15, 0, 0, image.Pt(minW, minW), image.Pt(maxW, maxW))
		k := 0
		for _, r := range raw {
			c := image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
			if c.In(fb) {
				k++
			}
		}
		return k
	}
	out := map[string]int{}
	if d, ok, err := fd.DetectNear(full, pb, 0); err == nil && ok {
		out["near"] = d.Neighbors
	}
	eq := gocv.NewMat()
	defer eq.Close()
	gocv.EqualizeHist(small, &eq)
	out["roi"] = count(eq)
	clahe.Apply(small, &eq)
	out["clahe"] = count(eq)
	out["none"] = count(small)
	// equalisation with the face box's own histogram
	b := small.ToBytes()
	var hist [256]float64
	cols := small.Cols()
	nf := 0.0
	for yy := fb.Min.Y; yy < fb.Max.Y; yy++ {
		for xx := fb.Min.X; xx < fb.Max.X; xx++ {
			hist[b[yy*cols+xx]]++
			nf++
		}
	}
	var lut [256]byte
	cum := 0.0
	for i := range hist {
		cum += hist[i]
		lut[i] = byte(math.Round(255 * cum / math.Max(1, nf)))
	}
	mapped := make([]byte, len(b))
	for i, v := range b {
		mapped[i] = lut[v]
	}
	fm, err := gocv.NewMatFromBytes(small.Rows(), cols, gocv.MatTypeCV8U, mapped)
	if err != nil {
		panic(err)
	}
	defer fm.Close()
	out["face"] = count(fm)
	return out
}

func quants(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1))] }
	return fmt.Sprintf("%.2f/%.2f/%.2f", q(0.1), q(0.5), q(0.9))
}
