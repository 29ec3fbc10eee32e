package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"sort"
	"sync"

	"gocv.io/x/gocv"
)

// Default cascade files from the Debian package opencv-data.
const (
	DefaultFrontalCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"
	DefaultProfileCascade = "/usr/share/opencv4/haarcascades/haarcascade_profileface.xml"
)

// NoCascade as DetectorConfig.ProfileCascade disables profile detection.
const NoCascade = "-"

// DetectorConfig configures a FaceDetector. Zero values take the defaults.
type DetectorConfig struct {
	// FrontalCascade is an OpenCV cascade XML for frontal faces
	// (default DefaultFrontalCascade; Haar alt2 had no false positives on the
	// test stills where frontalface_default and the LBP cascades had some).
	FrontalCascade string
	// ProfileCascade is a cascade for profile faces, run on the image and on
	// its mirror when no frontal face is found, so that deep head turns stay
	// tracked (default DefaultProfileCascade; NoCascade disables it).
	ProfileCascade string
	// DetectWidth is the width full-frame detection runs at (default 320).
	DetectWidth int
	// MinFace is the smallest face width searched, as a fraction of the
	// frame width (default 0.11, i.e. 35 px at 320 or 70 px at 640).
	MinFace float64
	// ScaleFactor is the cascade's pyramid step for full-frame detection
	// (default 1.2: about 25 % faster than 1.15 here, with the same face
	// presence on the dev-set clips).
	ScaleFactor float64
	// MinNeighbors is the number of raw hits a face needs (default 3).
	MinNeighbors int
}

func (c *DetectorConfig) setDefaults() {
	if c.FrontalCascade == "" {
		c.FrontalCascade = DefaultFrontalCascade
	}
	if c.ProfileCascade == "" {
		c.ProfileCascade = DefaultProfileCascade
	}
	if c.DetectWidth <= 0 {
		c.DetectWidth = 320
	}
	if c.MinFace <= 0 {
		c.MinFace = 0.11
	}
	if c.ScaleFactor <= 1 {
		c.ScaleFactor = 1.2
	}
	if c.MinNeighbors <= 0 {
		c.MinNeighbors = 3
	}
}

// Pose classes of a Detection.
const (
	Frontal      = 0
	ProfileLeft  = 1 // profile cascade hit on the image: the face looks toward image left
	ProfileRight = 2 // profile cascade hit on the mirrored image: the face looks toward image right
)

// Detection is one face found by a FaceDetector.
type Detection struct {
	Box       image.Rectangle // in pixels of the image passed to the detector
	Neighbors int             // raw cascade hits merged into Box
	Conf      float64         // 0..1, grows with Neighbors
	Kind      int             // Frontal, ProfileLeft or ProfileRight
	Angle     float64         // rotation the image was searched at (DetectRotated, DetectNear)
}

// FaceDetector finds faces on a grey (Y plane) image with OpenCV cascades.
//
// A FaceDetector is NOT safe for concurrent use (OpenCV cascades keep
// per-call buffers): use one per goroutine, or DetectFaces, which takes one
// from a process-wide pool per call (Analyzers borrow theirs the same way).
type FaceDetector struct {
	cfg     DetectorConfig
	frontal gocv.CascadeClassifier
	profile gocv.CascadeClassifier
	hasProf bool
	small   gocv.Mat // reused: downscaled image
	eq      gocv.Mat // reused: equalised image
	flip    gocv.Mat // reused: mirrored image for the profile cascade
	rot     gocv.Mat // reused: rotated image
	closed  bool
}

// NewFaceDetector loads the cascades named in cfg. It fails with a clear
// error when a cascade file is missing or unreadable.
func NewFaceDetector(cfg DetectorConfig) (*FaceDetector, error) {
	cfg.setDefaults()
	d := &FaceDetector{cfg: cfg}
	var err error
	if d.frontal, err = loadCascade(cfg.FrontalCascade); err != nil {
		return nil, err
	}
	if cfg.ProfileCascade != NoCascade {
		if d.profile, err = loadCascade(cfg.ProfileCascade); err != nil {
			d.frontal.Close()
			return nil, err
		}
		d.hasProf = true
	}
	d.small, d.eq, d.flip, d.rot = gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	return d, nil
}

// checkedCascades holds the cascade paths that loaded once without error.
var checkedCascades sync.Map

func loadCascade(path string) (gocv.CascadeClassifier, error) {
	if _, err := os.Stat(path); err != nil {
		return gocv.CascadeClassifier{}, fmt.Errorf("vision: face cascade %q: %w (install opencv-data or set the cascade path)", path, err)
	}
	if _, ok := checkedCascades.Load(path); !ok {
		if err := checkCascade(path); err != nil {
			return gocv.CascadeClassifier{}, fmt.Errorf("vision: face cascade %q: %w", path, err)
		}
		checkedCascades.Store(path, true)
	}
	c := gocv.NewCascadeClassifier()
	if !c.Load(path) {
		c.Close()
		return gocv.CascadeClassifier{}, fmt.Errorf("vision: face cascade %q: not a loadable OpenCV cascade", path)
	}
	return c, nil
}

// Close frees the cascades and buffers. It is idempotent.
func (d *FaceDetector) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	d.frontal.Close()
	if d.hasProf {
		d.profile.Close()
	}
	d.small.Close()
	d.eq.Close()
	d.flip.Close()
	d.rot.Close()
	return nil
}

// Detect finds faces on the whole grey image: it downscales to
// DetectWidth, equalises the histogram and runs the frontal cascade; when
// that finds nothing it runs the profile cascade on the image and its mirror.
// Boxes are in gray's pixels, largest first.
func (d *FaceDetector) Detect(gray gocv.Mat) ([]Detection, error) {
	return d.detectFull(gray, 0, true, d.cfg.DetectWidth)
}

// recheckFaceWidth is the width (px) a tracked face gets in the full-frame
// re-check (Analyzer): wide enough for the cascade's 20 px window to find
// faces of 70 % of its size, which is all the re-check may switch to.
const recheckFaceWidth = 48.0

// detectRecheck is Detect for the periodic re-check of a face tracked at
// width faceW: a face large in the frame is searched at a lower resolution
// (down to 160 px wide, never above DetectWidth), since the re-check only
// takes a face overlapping the tracked one or at least 70 % of its size.
func (d *FaceDetector) detectRecheck(gray gocv.Mat, faceW int) ([]Detection, error) {
	w := d.cfg.DetectWidth
	if faceW > 0 {
		w = min(w, max(160, int(recheckFaceWidth*float64(gray.Cols())/float64(faceW))))
	}
	return d.detectFull(gray, 0, true, w)
}

// DetectRotated runs the frontal cascade only (no profile fallback) on the
// image rotated by angle degrees counter-clockwise around its centre, which
// finds faces that appear rolled clockwise by about angle (cascades tolerate
// only about ±15° of roll). The returned boxes are axis-aligned boxes of the
// same size around the face centre in gray's (unrotated) pixels, largest
// first; Detection.Angle is angle.
func (d *FaceDetector) DetectRotated(gray gocv.Mat, angle float64) ([]Detection, error) {
	return d.detectFull(gray, angle, false, d.cfg.DetectWidth)
}

func (d *FaceDetector) detectFull(gray gocv.Mat, angle float64, profile bool, width int) ([]Detection, error) {
	if err := d.check(gray); err != nil {
		return nil, err
	}
	s := 1.0
	if gray.Cols() > width {
		s = float64(width) / float64(gray.Cols())
	}
	minW := int(math.Round(d.cfg.MinFace * float64(gray.Cols()) * s))
	if minW < 20 {
		minW = 20
	}
	dets := d.detectIn(gray, s, angle, minW, 0, d.cfg.ScaleFactor, profile)
	sort.Slice(dets, func(i, j int) bool { return area(dets[i].Box) > area(dets[j].Box) })
	return dets, nil
}

// DetectNear re-detects a face near prev (a box from an earlier frame) in an
// enlarged region of interest, at a resolution where the face is about 56 px
// wide: several times cheaper than Detect. angle (degrees) rotates the region
// counter-clockwise first, to undo a face roll measured on an earlier frame
// (see DetectRotated); the profile cascades run only at angle 0. It returns
// the hit that overlaps prev best.
func (d *FaceDetector) DetectNear(gray gocv.Mat, prev image.Rectangle, angle float64) (Detection, bool, error) {
	if err := d.check(gray); err != nil {
		return Detection{}, false, err
	}
	bounds := image.Rect(0, 0, gray.Cols(), gray.Rows())
	roi := growRect(prev, 0.6).Intersect(bounds)
	if roi.Dx() < 24 || roi.Dy() < 24 || prev.Dx() < 8 {
		return Detection{}, false, nil
	}
	region := gray.Region(roi)
	defer region.Close()
	s := 1.0
	if float64(prev.Dx()) > nearFaceWidth {
		s = nearFaceWidth / float64(prev.Dx())
	}
	if float64(roi.Dx())*s < 24 || float64(roi.Dy())*s < 24 {
		return Detection{}, false, nil // mostly outside the frame
	}
	pw := float64(prev.Dx()) * s
	minW := max(20, int(pw*0.65))
	maxW := int(pw*1.6) + 1
	dets := d.detectIn(region, s, angle, minW, maxW, nearScaleFactor, angle == 0)
	best, bestScore := -1, 0.0
	for i := range dets {
		dets[i].Box = dets[i].Box.Add(roi.Min)
		if sc := overlap(dets[i].Box, prev); sc > bestScore {
			best, bestScore = i, sc
		}
	}
	if best < 0 || bestScore < 0.2 {
		return Detection{}, false, nil
	}
	return dets[best], true, nil
}

// DetectNear searches at a scale where the face is about nearFaceWidth px
// wide, with pyramid step nearScaleFactor (measured: 1.7 ms, against 2.1 ms
// at 64 px / 1.12 and 1.0 ms at 48 px / 1.2 with lower confidence).
const (
	nearFaceWidth   = 56.0
	nearScaleFactor = 1.15
)

func (d *FaceDetector) check(gray gocv.Mat) error {
	if d.closed {
		return fmt.Errorf("vision: face detector is closed")
	}
	if gray.Empty() || gray.Channels() != 1 || gray.Type() != gocv.MatTypeCV8U {
		return fmt.Errorf("vision: face detection needs a non-empty 8-bit 1-channel image")
	}
	return nil
}

// detectIn scales src by s, rotates it by angle degrees (counter-clockwise,
// around the centre), equalises it and runs the cascades. Boxes come back in
// src's pixels.
func (d *FaceDetector) detectIn(src gocv.Mat, s, angle float64, minW, maxW int, sf float64, profile bool) []Detection {
	img := src
	if s != 1 {
		gocv.Resize(src, &d.small, image.Point{}, s, s, gocv.InterpolationArea)
		img = d.small
	}
	w, h := img.Cols(), img.Rows()
	c := image.Pt(w/2, h/2)
	if angle != 0 {
		m := gocv.GetRotationMatrix2D(c, angle, 1)
		gocv.WarpAffineWithParams(img, &d.rot, m, image.Pt(w, h), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
		m.Close()
		img = d.rot
	}
	gocv.EqualizeHist(img, &d.eq)
	dets := d.run(d.eq, minW, maxW, sf, d.cfg.MinNeighbors, profile)
	if angle != 0 {
		// Map each box centre back through the inverse rotation.
		a := angle * math.Pi / 180
		ca, sa := math.Cos(a), math.Sin(a)
		for i := range dets {
			b := dets[i].Box
			x := float64(b.Min.X+b.Max.X)/2 - float64(c.X)
			y := float64(b.Min.Y+b.Max.Y)/2 - float64(c.Y)
			ox := ca*x - sa*y + float64(c.X)
			oy := sa*x + ca*y + float64(c.Y)
			hw, hh := float64(b.Dx())/2, float64(b.Dy())/2
			dets[i].Box = image.Rect(int(math.Round(ox-hw)), int(math.Round(oy-hh)), int(math.Round(ox+hw)), int(math.Round(oy+hh)))
			dets[i].Angle = angle
		}
	}
	for i := range dets {
		dets[i].Box = scaleRect(dets[i].Box, 1/s)
	}
	return dets
}

// run applies the frontal cascade to img and, when it finds nothing and
// profile is set, the profile cascade on img and its mirror. Hits are grouped
// here (the cascade runs with minNeighbors 0) so that the neighbour count is
// available as a confidence.
func (d *FaceDetector) run(img gocv.Mat, minW, maxW int, sf float64, minN int, profile bool) []Detection {
	minSz := image.Pt(minW, minW)
	maxSz := image.Pt(maxW, maxW)
	raw := d.frontal.DetectMultiScaleWithParams(img, sf, 0, 0, minSz, maxSz)
	dets := groupHits(raw, minN, Frontal)
	if len(dets) > 0 || !d.hasProf || !profile {
		return dets
	}
	raw = d.profile.DetectMultiScaleWithParams(img, sf, 0, 0, minSz, maxSz)
	dets = groupHits(raw, minN, ProfileLeft)
	gocv.Flip(img, &d.flip, 1)
	raw = d.profile.DetectMultiScaleWithParams(d.flip, sf, 0, 0, minSz, maxSz)
	w := img.Cols()
	for i := range raw {
		r := raw[i]
		raw[i] = image.Rect(w-r.Max.X, r.Min.Y, w-r.Min.X, r.Max.Y)
	}
	return append(dets, groupHits(raw, minN, ProfileRight)...)
}

// confFromNeighbors maps a merged hit count to 0..1 (about 0.5 at 8 hits,
// 0.9 at 27).
func confFromNeighbors(n int) float64 {
	return 1 - math.Exp(-float64(n)/11.5)
}

// groupHits clusters raw cascade hits like cv::groupRectangles (eps 0.2):
// clusters with more than minN members are averaged; clusters inside a
// bigger, stronger one are dropped.
func groupHits(raw []image.Rectangle, minN, kind int) []Detection {
	n := len(raw)
	if n == 0 {
		return nil
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if similarRects(raw[i], raw[j], 0.2) {
				if a, b := find(i), find(j); a != b {
					parent[a] = b
				}
			}
		}
	}
	// The groups in the order of their first raw hit: a map's random iteration order made
	// the candidates' order, and with it the nested-candidate tie below and the callers'
	// first-of-equals picks, differ from process to process (the same frames gave other
	// boxes run to run).
	type acc struct{ x0, y0, x1, y1, n int }
	sums := make([]acc, n)
	var roots []int
	for i, r := range raw {
		root := find(i)
		a := &sums[root]
		if a.n == 0 {
			roots = append(roots, root)
		}
		a.x0 += r.Min.X
		a.y0 += r.Min.Y
		a.x1 += r.Max.X
		a.y1 += r.Max.Y
		a.n++
	}
	var cands []Detection
	for _, root := range roots {
		a := &sums[root]
		if a.n <= minN-1 {
			continue
		}
		f := float64(a.n)
		r := image.Rect(int(math.Round(float64(a.x0)/f)), int(math.Round(float64(a.y0)/f)),
			int(math.Round(float64(a.x1)/f)), int(math.Round(float64(a.y1)/f)))
		cands = append(cands, Detection{Box: r, Neighbors: a.n, Conf: confFromNeighbors(a.n), Kind: kind})
	}
	// Drop a candidate lying inside another one that is at least as strong
	// (cv::groupRectangles does the same for nested windows).
	var out []Detection
	for i, c := range cands {
		nested := false
		for j, o := range cands {
			if i == j || o.Neighbors < c.Neighbors || (o.Neighbors == c.Neighbors && j > i) {
				continue
			}
			dx, dy := int(float64(o.Box.Dx())*0.2), int(float64(o.Box.Dy())*0.2)
			if c.Box.Min.X >= o.Box.Min.X-dx && c.Box.Min.Y >= o.Box.Min.Y-dy &&
				c.Box.Max.X <= o.Box.Max.X+dx && c.Box.Max.Y <= o.Box.Max.Y+dy {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, c)
		}
	}
	return out
}

// similarRects is cv::SimilarRects.
func similarRects(a, b image.Rectangle, eps float64) bool {
	delta := eps * float64(min(a.Dx(), b.Dx())+min(a.Dy(), b.Dy())) * 0.5
	return math.Abs(float64(a.Min.X-b.Min.X)) <= delta &&
		math.Abs(float64(a.Min.Y-b.Min.Y)) <= delta &&
		math.Abs(float64(a.Max.X-b.Max.X)) <= delta &&
		math.Abs(float64(a.Max.Y-b.Max.Y)) <= delta
}

// DetectFaces runs a default FaceDetector (frontal Haar alt2 + profile
// fallback at 320 px width) from the process-wide pool on a grey image, for
// detectors that need an occasional face box. It is safe for concurrent use.
func DetectFaces(gray gocv.Mat) ([]Detection, error) {
	p := poolFor(DetectorConfig{})
	d, err := p.get()
	if err != nil {
		return nil, err
	}
	defer p.put(d)
	return d.Detect(gray)
}

// detectorPool holds loaded FaceDetectors of one configuration for the
// process. Loading a cascade parses its XML (about 45 ms of CPU for the
// frontal and profile cascades together, measured in
// BenchmarkNewAnalyzer), which every session paid when it opened; loaded
// cascades are read-only between calls but keep per-call buffers, so a
// detector serves one caller at a time: get takes an idle one (or loads a
// new one), put gives it back. The pool grows to the most detections that
// ran at once (the analysis Gate's slots in the server, the workers in
// eval) and never shrinks; each detector holds about 1 MB.
type detectorPool struct {
	cfg     DetectorConfig
	mu      sync.Mutex
	idle    []*FaceDetector
	created int // detectors loaded (for tests)
}

// detectorPools maps a DetectorConfig (defaults applied) to its pool.
var detectorPools sync.Map

// poolFor returns the process-wide pool of detectors for cfg.
func poolFor(cfg DetectorConfig) *detectorPool {
	cfg.setDefaults()
	if p, ok := detectorPools.Load(cfg); ok {
		return p.(*detectorPool)
	}
	p, _ := detectorPools.LoadOrStore(cfg, &detectorPool{cfg: cfg})
	return p.(*detectorPool)
}

// get returns an idle detector, or loads one; the caller owns it until put.
func (p *detectorPool) get() (*FaceDetector, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		d := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return d, nil
	}
	p.mu.Unlock()
	d, err := NewFaceDetector(p.cfg)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.created++
	p.mu.Unlock()
	return d, nil
}

// put gives d back for the next get.
func (p *detectorPool) put(d *FaceDetector) {
	p.mu.Lock()
	p.idle = append(p.idle, d)
	p.mu.Unlock()
}

// scaleRect multiplies every coordinate of r by s.
func scaleRect(r image.Rectangle, s float64) image.Rectangle {
	if s == 1 {
		return r
	}
	return image.Rect(int(math.Round(float64(r.Min.X)*s)), int(math.Round(float64(r.Min.Y)*s)),
		int(math.Round(float64(r.Max.X)*s)), int(math.Round(float64(r.Max.Y)*s)))
}

// growRect enlarges r by frac of its size on every side.
func growRect(r image.Rectangle, frac float64) image.Rectangle {
	dx, dy := int(float64(r.Dx())*frac), int(float64(r.Dy())*frac)
	return image.Rect(r.Min.X-dx, r.Min.Y-dy, r.Max.X+dx, r.Max.Y+dy)
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

// overlap is intersection over union.
func overlap(a, b image.Rectangle) float64 {
	in := area(a.Intersect(b))
	if in == 0 {
		return 0
	}
	return float64(in) / float64(area(a)+area(b)-in)
}
