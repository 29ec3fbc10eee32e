package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/models"
)

// Config configures an Analyzer. The zero value uses the defaults.
type Config struct {
	// Detector configures face detection (cascade paths, detection size).
	Detector DetectorConfig
	// LandmarkModel is the dlib 68-point model file (default
	// DefaultLandmarkModel); ignored when Landmarker is set.
	LandmarkModel string
	// Landmarker is an already loaded, shared landmark model.
	Landmarker *Landmarker
	// NoLandmarks skips landmarks (and so pose, EAR and mouth).
	NoLandmarks bool
	// RecheckEvery is how often a full-frame detection re-checks a tracked
	// face (default 5 s, measured on Frame.Capture; frames without capture
	// times count 15 fps) for a larger face elsewhere. Between re-checks the
	// face is re-detected around its last box, which finds the same face:
	// a full detection costs ten to fifteen re-detections and, while the
	// tracked face stays, only re-aligns the box. A face large in the frame
	// is re-checked at a lower resolution (see detectRecheck).
	RecheckEvery time.Duration
	// CascadeEvery is the longest a tracked face goes without a cascade
	// re-detection (default DefaultCascadeEvery). In between, a frame whose
	// face is unchanged is tracked by its landmarks alone (see Measure); any
	// change runs the cascade on that frame. Negative: the cascade runs on
	// every frame.
	CascadeEvery time.Duration
	// MaxCoast is how long the last face box is kept when the detector misses
	// the face (a hand over it, a turn beyond the cascades, or the candidate
	// leaving); the frames report Coasting. Default 3 s, measured on
	// Frame.Capture; frames without capture times count 15 fps.
	MaxCoast time.Duration
}

// DefaultCascadeEvery is Config.CascadeEvery's default: 250 ms of capture
// time (every second frame at the passive 5 analysed fps, three in four
// tracked at 15 fps). 450 ms was measured (TestCascadeCadence,
// TestDevsetCascadeCadence, docs/BENCH.md 2026-12-04): the same faces and
// landmarks within small tolerances and 12 % fewer instructions per passive
// frame, but it moved one dev-set replay (r04) from risk 0.303 to 0.286,
// under the 0.30 threshold, for about 8 % of a frame's CPU with identity on:
// not adopted.
const DefaultCascadeEvery = 250 * time.Millisecond

func (c *Config) setDefaults() {
	if c.LandmarkModel == "" {
		c.LandmarkModel = DefaultLandmarkModel
	}
	if c.RecheckEvery <= 0 {
		c.RecheckEvery = 5 * time.Second
	}
	if c.CascadeEvery == 0 {
		c.CascadeEvery = DefaultCascadeEvery
	}
	if c.MaxCoast <= 0 {
		c.MaxCoast = 3 * time.Second
	}
}

// Analyzer measures faces on the frames of one video stream and tracks the
// face from frame to frame. It is not safe for concurrent use.
type Analyzer struct {
	stretch []byte // scratch: a dark face's exposed region (fitIn)
	cfg     Config
	dets    *detectorPool // loaded cascades shared by the process's analysers (face.go)
	det     *FaceDetector // borrowed from dets while track runs
	lm      *Landmarker
	closed  bool

	// tracking state
	have      bool
	box       image.Rectangle // smoothed cascade-style face box
	kind      int             // Kind of the last detection
	frameW    int
	frameH    int
	sinceFull int       // frames since the last full-frame detection
	lastFull  time.Time // capture time of the last full-frame detection
	lastCasc  time.Time // capture time of the last cascade detection
	sinceCasc int       // frames since the last cascade detection
	lastConf  float64   // confidence of the last cascade detection
	foundBy   string    // how the last track call found the face (models.Found*)
	lastSeen  time.Time // capture time of the last detection
	coastN    int       // frames coasted so far
	frames    int
	tracked   int     // frames measured by landmark tracking alone (measureTracked)
	roll      float64 // last measured roll (degrees)
	rollOK    bool    // roll is from a recent frame

	prevPose   [3]float64 // upper-face yaw, pitch, roll of the previous frame
	prevPoseOK bool
	prevPts    [NumLandmarks][2]float32 // landmarks of the previous frame
	prevPtsOK  bool                     // the previous frame had a face with landmarks

	// occlusion model
	ref      faceGrid      // appearance of the clear face (EMA)
	refN     int           // clear frames folded into ref
	typConf  float64       // typical detector confidence on clear frames
	refSkin  float64       // typical skin fraction of the inner face
	refShape float64       // typical landmark shape residual on clear frames
	refPose  [3]float64    // upper-face pose the reference was learnt at
	stale    int           // clear frames at a pose away from the reference
	cues     occlusionCues // last frame's occlusion cues
	pend     pendingLearn  // last frame's reference update, applied by commit
}

// NewAnalyzer loads the (shared) landmark model and checks that the cascades
// load. The loaded cascades are shared with the process's other analysers
// of the same DetectorConfig (each borrows one while it detects), so an
// analyser costs no XML parsing once one of its configuration has run. It
// fails with a clear error when a model or cascade file is missing.
func NewAnalyzer(cfg Config) (*Analyzer, error) {
	cfg.setDefaults()
	a := &Analyzer{cfg: cfg, typConf: 0.8}
	if !cfg.NoLandmarks {
		a.lm = cfg.Landmarker
		if a.lm == nil {
			lm, err := LoadLandmarker(cfg.LandmarkModel)
			if err != nil {
				return nil, err
			}
			a.lm = lm
		}
	}
	a.dets = poolFor(cfg.Detector)
	det, err := a.dets.get() // loads the cascades if none of this configuration is idle
	if err != nil {
		return nil, err
	}
	a.dets.put(det)
	return a, nil
}

// Close ends the analyser. The shared landmark model and cascades stay
// loaded. Close is idempotent.
func (a *Analyzer) Close() error {
	a.closed = true
	return nil
}

// Reset forgets the tracked face and the occlusion reference (for example
// after a scene cut or a camera switch).
func (a *Analyzer) Reset() {
	a.have = false
	a.coastN = 0
	a.sinceFull = 0
	a.frames = 0
	a.rollOK = false
	a.prevPoseOK = false
	a.prevPtsOK = false
	a.pend.ok = false
	a.refN = 0
	a.stale = 0
	a.typConf = 0.8
	a.refSkin = 0
	a.refShape = 0
}

// Measure analyses one frame. It fills every field of the observation it
// can; At is f.Capture. Without a face only At and FacePresent=false are
// set. Errors are returned for malformed frames or a closed analyser; a frame
// without a face is not an error.
//
// Detect rarely, track often: a tracked face that was found by the cascade
// less than CascadeEvery ago, upright, clear and at the pose the occlusion
// reference was learnt at, is first followed by its landmarks alone (fitted
// from the last box; the box moves with the eyes, brows and nose). The frame
// keeps that result only when it shows nothing the cascade could add: a
// plausible landmark shape, a steady pose near the reference, the face's
// appearance grid and skin unchanged against the clear-face reference, and
// no occlusion. Anything else (a hand coming up, a turn, a jump) discards it
// and runs the cascade on the same frame, so every changing frame is measured
// exactly as before.
func (a *Analyzer) Measure(f *models.Frame) (models.Observation, error) {
	if err := checkFrame(f); err != nil {
		return models.Observation{}, err
	}
	obs := models.Observation{At: f.Capture}
	if a.closed {
		return obs, fmt.Errorf("vision: analyzer is closed")
	}
	a.frames++
	if a.frameW != f.Width || a.frameH != f.Height {
		a.resize(f.Width, f.Height)
	}
	if o, ok := a.measureTracked(f); ok {
		return o, nil
	}
	gray, err := grayView(f)
	if err != nil {
		return obs, fmt.Errorf("vision: wrap Y plane: %w", err)
	}
	defer gray.Close()

	d, found, err := a.track(gray, f.Capture)
	if err != nil {
		return obs, err
	}
	if !a.have {
		a.prevPtsOK = false
		return obs, nil
	}
	var r faceResult
	if a.lm != nil && found {
		angle := d.Angle
		if a.rollOK && math.Abs(a.roll) >= 10 {
			angle = a.roll
		}
		if fits, err := a.fitLandmarks(f, gray, a.box, angle); err == nil {
			r.pts, r.posePts, r.ptsOK = fits[0], fits[1], true
		}
	}
	a.measureFace(f, a.box, found, d.Conf, &r)
	if found {
		r.obs.Found = a.foundBy
	}
	a.commit(&r)
	return r.obs, nil
}

// faceResult is one frame's measurement of the tracked face before it is
// committed to the tracking state.
type faceResult struct {
	obs      models.Observation
	pts      [NumLandmarks][2]float32
	posePts  [NumLandmarks][2]float32 // the head pose's fit (fitIn: exposed when the face is dark)
	ptsOK    bool
	roll     float64 // full-face roll, when rollOK
	rollOK   bool
	upper    [3]float64 // upper-face pose (occlusion cue), when upperOK
	upperOK  bool
	shapeRes float64 // landmark shape residual, -1 without landmarks
}

// measureFace fills r.obs for the face at box from r's landmarks (when
// r.ptsOK), the face region and the occlusion measure. The tracking state and
// the occlusion reference change only in commit.
func (a *Analyzer) measureFace(f *models.Frame, box image.Rectangle, found bool, conf float64, r *faceResult) {
	a.pend.ok = false
	obs := &r.obs
	*obs = models.Observation{At: f.Capture, FacePresent: true, Face: toRect(box), Scale: float64(box.Dx()) / float64(f.Width)}
	if found {
		obs.FaceConf = conf
	} else {
		obs.Coasting = true
	}
	r.shapeRes = -1
	if r.ptsOK {
		pts := &r.pts
		obs.LandmarksOK = true
		obs.Landmarks = *pts
		obs.EAR = EyeAspectRatio(pts)
		obs.Mouth = MouthOpening(pts)
		if hp, ok := EstimatePose(pts, f.Width, f.Height); ok {
			obs.PoseOK = true
			obs.Yaw, obs.Pitch, obs.Roll = hp.Yaw, hp.Pitch, hp.Roll
			r.roll, r.rollOK = hp.Roll, true
			if r.posePts != *pts { // a dark face: yaw and pitch from its exposed fit
				if ep, ok := EstimatePose(&r.posePts, f.Width, f.Height); ok {
					obs.Yaw, obs.Pitch = ep.Yaw, ep.Pitch
				}
			}
		}
		r.shapeRes = a.lm.shapeResidual(pts)
		if up, ok := solvePose(pts, f.Width, f.Height, upperPoseModel); ok {
			r.upper, r.upperOK = [3]float64{up.Yaw, up.Pitch, up.Roll}, true
		}
	}
	if st, ok := measureRegion(f, innerFace(box)); ok {
		obs.FaceY, obs.Sharpness = st.Y, st.Sharpness
		if st.chroma {
			obs.FaceCb, obs.FaceCr = st.Cb, st.Cr
		}
		obs.Occlusion = a.occlusion(f, box, found, conf, st, r.shapeRes, r.upper, r.upperOK)
	}
}

// commit makes a measured frame the previous one for the next and folds it
// into the occlusion reference when it was clear.
func (a *Analyzer) commit(r *faceResult) {
	a.learnPending()
	if r.rollOK {
		a.roll, a.rollOK = r.roll, true
	}
	a.prevPose, a.prevPoseOK = r.upper, r.upperOK
	a.prevPts, a.prevPtsOK = r.pts, r.ptsOK && !r.obs.Coasting
}

// Limits within which a frame tracked by its landmarks alone is kept (see
// Measure): head pose within trackPose degrees of the occlusion reference's
// and of the previous frame's, the box moved by less than trackShift of its
// width and scaled by less than trackScale, at most trackCells of the
// appearance grid changed, and the skin fraction at least trackSkin of the
// reference's.
const (
	trackPose  = 6.0
	trackShift = 0.15
	trackScale = 0.1
	trackCells = 0.1
	trackSkin  = 0.9
)

// measureTracked measures a frame by following the tracked face with its
// landmarks, without a cascade (see Measure). ok is false when the frame
// needs the cascade; then nothing has changed.
func (a *Analyzer) measureTracked(f *models.Frame) (models.Observation, bool) {
	if a.cfg.CascadeEvery < 0 || a.lm == nil || !a.have || a.coastN > 0 || a.kind != Frontal || !a.prevPtsOK ||
		a.refN < 3 || !a.rollOK || math.Abs(a.roll) >= 10 || !a.prevPoseOK ||
		due(a.lastCasc, a.sinceCasc+1, a.cfg.CascadeEvery, f.Capture) || due(a.lastFull, a.sinceFull+1, a.cfg.RecheckEvery, f.Capture) {
		return models.Observation{}, false
	}
	var r faceResult
	// Fitted from the last box, like a cascade frame (a fit started from the
	// last points' own box carries their shape over: the photo and jitter
	// detectors lost separation on the devset with it).
	fits, err := a.fitIn(f.Y, f.Width, f.Height, a.box)
	if err != nil {
		return models.Observation{}, false
	}
	r.pts, r.posePts, r.ptsOK = fits[0], fits[1], true
	box, ok := followBox(a.box, &a.prevPts, &r.pts)
	if !ok {
		return models.Observation{}, false
	}
	a.measureFace(f, box, true, a.lastConf, &r)
	o := &r.obs
	o.Found = models.FoundTracked
	c := a.cues
	steady := o.PoseOK && r.upperOK && math.Abs(r.roll) < 10
	for i := 0; steady && i < 2; i++ {
		steady = math.Abs(r.upper[i]-a.refPose[i]) < trackPose && math.Abs(r.upper[i]-a.prevPose[i]) < trackPose
	}
	base := math.Max(0.12, 1.3*a.refShape)
	if !steady || r.shapeRes < 0 || r.shapeRes > base || c.Change < 0 || c.Change > (trackCells-0.06)/0.44 ||
		c.Skin > (1-trackSkin)*1.5 || o.Occlusion >= 0.15 {
		return models.Observation{}, false
	}
	a.box = box
	a.lastSeen = f.Capture
	a.sinceFull++
	a.sinceCasc++
	a.tracked++
	a.commit(&r)
	return r.obs, true
}

// followBox moves box with the face: by the mean displacement of the brow,
// nose and eye points (which expressions move least) from prev to cur, and
// scales it by the change of their spread. ok is false for a jump that the
// cascade should confirm.
func followBox(box image.Rectangle, prev, cur *[NumLandmarks][2]float32) (image.Rectangle, bool) {
	const from, to = 17, 48
	var pcx, pcy, ccx, ccy float64
	for i := from; i < to; i++ {
		pcx += float64(prev[i][0])
		pcy += float64(prev[i][1])
		ccx += float64(cur[i][0])
		ccy += float64(cur[i][1])
	}
	n := float64(to - from)
	pcx, pcy, ccx, ccy = pcx/n, pcy/n, ccx/n, ccy/n
	var ps, cs float64
	for i := from; i < to; i++ {
		ps += math.Hypot(float64(prev[i][0])-pcx, float64(prev[i][1])-pcy)
		cs += math.Hypot(float64(cur[i][0])-ccx, float64(cur[i][1])-ccy)
	}
	if ps <= 0 {
		return box, false
	}
	k := cs / ps
	dx, dy := ccx-pcx, ccy-pcy
	w := float64(box.Dx())
	if math.Hypot(dx, dy) > trackShift*w || math.Abs(k-1) > trackScale {
		return box, false
	}
	// The box keeps its offset from the points: scale about their centre.
	x0 := ccx + k*(float64(box.Min.X)-pcx)
	y0 := ccy + k*(float64(box.Min.Y)-pcy)
	x1 := ccx + k*(float64(box.Max.X)-pcx)
	y1 := ccy + k*(float64(box.Max.Y)-pcy)
	return image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1))), true
}

// due reports whether every has passed since last (capture times; without
// them, frames analysed frames count 15 fps).
func due(last time.Time, frames int, every time.Duration, at time.Time) bool {
	if !at.IsZero() && !last.IsZero() {
		return at.Sub(last) >= every-5*time.Millisecond
	}
	return time.Duration(frames)*time.Second/15 >= every-5*time.Millisecond
}

// resize adapts the tracking state to a new frame size (WebRTC senders
// change resolution under load): the box is rescaled, the reference dropped.
func (a *Analyzer) resize(w, h int) {
	if a.have && a.frameW > 0 && a.frameH > 0 {
		sx, sy := float64(w)/float64(a.frameW), float64(h)/float64(a.frameH)
		b := a.box
		a.box = image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy), int(float64(b.Max.X)*sx), int(float64(b.Max.Y)*sy))
		a.lastFull, a.sinceFull = time.Time{}, 1<<20 // re-detect now
	}
	a.frameW, a.frameH = w, h
	a.refN = 0
}

// track updates the face box: full-frame detection when there is no track
// or every RecheckEvery, re-detection around the last box otherwise
// (de-rotated by the last measured roll, since cascades only tolerate about
// ±15° of roll), and coasting on the last box for up to MaxCoast when both
// miss.
func (a *Analyzer) track(gray gocv.Mat, at time.Time) (Detection, bool, error) {
	det, err := a.dets.get()
	if err != nil {
		return Detection{}, false, err
	}
	a.det = det
	defer func() {
		a.det = nil
		a.dets.put(det)
	}()
	var d Detection
	found := false
	a.sinceFull++
	a.sinceCasc++
	full := !a.have || due(a.lastFull, a.sinceFull, a.cfg.RecheckEvery, at) || (a.coastN > 0 && a.coastN%3 == 0)
	if full {
		var dets []Detection
		var err error
		if !a.have && a.frames%2 == 0 {
			// No face: every other frame swaps the profile cascades for a
			// search for a rolled face (±25° alternately; the cascades
			// tolerate about ±15°).
			ang := 25.0
			if a.frames%4 == 0 {
				ang = -25
			}
			if dets, err = a.det.DetectRotated(gray, 0); err == nil && len(dets) == 0 {
				dets, err = a.det.DetectRotated(gray, ang)
			}
		} else {
			if a.have && a.coastN == 0 {
				dets, err = a.det.detectRecheck(gray, a.box.Dx())
			} else {
				dets, err = a.det.Detect(gray)
			}
		}
		if err != nil {
			return d, false, err
		}
		a.sinceFull, a.lastFull = 0, at
		d, found = a.pick(dets)
		a.foundBy = models.FoundFull
		if found && !a.have && d.Kind != Frontal && d.Neighbors <= a.det.cfg.MinNeighbors {
			// No track yet, and the frontal cascade found nothing: a profile hit with the
			// fewest raw hits the detector accepts does not start one. On a dark frontal face
			// (the frontal cascade misses whole frames, docs/REDTEAM.md finding 26) the
			// profile cascade now and then fires on a part of it: a box of 60 % of the face's
			// width, whose landmarks put the eyes 24 px apart instead of 54. The re-detection
			// around that box cannot grow to the face (at most 1.6× the box), so the track
			// stayed on it until the full re-check 5 s later, and the identity stage enrolled
			// its faces (0.73 from the person: finding 32). A face that is really turned gives
			// the profile cascade more hits, and a frontal face is found by the frontal
			// cascade on one of the next frames.
			found = false
		}
	}
	if !found && a.have {
		for _, ang := range a.nearAngles() {
			near, ok, err := a.det.DetectNear(gray, a.box, ang)
			if err != nil {
				return d, false, err
			}
			if ok {
				d, found = near, true
				a.foundBy = models.FoundNear
				break
			}
		}
	}
	if found && a.coastN > 0 && d.Conf < 0.5*a.typConf && d.Box.Dx()*100 < a.box.Dx()*88 {
		// Coming back from a miss (a hand over the face), a weak hit that
		// is smaller than the face is often its uncovered part: keep
		// coasting until the detector sees the whole face.
		found = false
	}
	if found {
		a.update(d, at)
		a.lastConf, a.lastCasc, a.sinceCasc = d.Conf, at, 0
		return d, true, nil
	}
	if !a.have {
		return d, false, nil
	}
	a.coastN++
	var coasted time.Duration
	if !at.IsZero() && !a.lastSeen.IsZero() {
		coasted = at.Sub(a.lastSeen)
	} else {
		coasted = time.Duration(a.coastN) * time.Second / 15
	}
	if coasted > a.cfg.MaxCoast {
		a.have = false
		a.coastN = 0
		a.rollOK = false
	}
	return d, false, nil
}

// nearAngles lists the in-plane angles to search around the last box, most
// likely first: the last measured roll, upright, and a 25° roll further in
// the direction the head was tilting (alternating sides when upright).
func (a *Analyzer) nearAngles() []float64 {
	hint := 0.0
	if a.rollOK && math.Abs(a.roll) >= 10 {
		hint = math.Max(-50, math.Min(50, 5*math.Round(a.roll/5)))
	}
	out := []float64{hint}
	if hint != 0 {
		out = append(out, 0)
	}
	side := 1.0
	switch {
	case a.rollOK && a.roll <= -5:
		side = -1
	case a.rollOK && a.roll >= 5:
	case a.frames%2 == 0:
		side = -1
	}
	if alt := hint + side*25; math.Abs(alt) <= 60 {
		out = append(out, alt)
	}
	return out
}

// pick chooses among full-frame detections: the one overlapping the tracked
// face, else (no track) the one with the most raw hits, else (tracking) the
// largest if it is at least 70 % of the tracked size, so that an unrelated
// smaller face (a photo on the wall, a picture-in-picture) does not take
// over the track.
func (a *Analyzer) pick(dets []Detection) (Detection, bool) {
	if len(dets) == 0 {
		return Detection{}, false
	}
	if !a.have {
		// The strongest hit: false positives gather few raw hits.
		best := 0
		for i := range dets {
			if dets[i].Neighbors > dets[best].Neighbors {
				best = i
			}
		}
		return dets[best], true
	}
	best, bestOv := -1, 0.0
	for i := range dets {
		if ov := overlap(dets[i].Box, a.box); ov > bestOv {
			best, bestOv = i, ov
		}
	}
	if best >= 0 && bestOv > 0.2 {
		return dets[best], true
	}
	if dets[0].Box.Dx()*10 >= a.box.Dx()*7 {
		return dets[0], true
	}
	return Detection{}, false
}

// update folds a detection into the track. Boxes of the same face are
// smoothed (the cascade jitters by a few per cent from frame to frame).
func (a *Analyzer) update(d Detection, at time.Time) {
	b := d.Box
	if a.have && a.coastN == 0 && d.Kind == a.kind && overlap(b, a.box) > 0.5 {
		const k = 0.6 // weight of the new box
		mix := func(p, q int) int { return int(math.Round(k*float64(q) + (1-k)*float64(p))) }
		b = image.Rect(mix(a.box.Min.X, b.Min.X), mix(a.box.Min.Y, b.Min.Y), mix(a.box.Max.X, b.Max.X), mix(a.box.Max.Y, b.Max.Y))
	}
	a.box = b
	a.kind = d.Kind
	a.have = true
	a.coastN = 0
	a.lastSeen = at
}

// fitLandmarks runs the shape predictor on the face. The cascade box is
// mapped to a dlib-style box; when the fitted points imply a clearly
// different box (profile detections, drift), the fit is repeated once on
// the box the points imply. A face rolled by 10° or more (by the last
// measured roll, or the angle the detector found it at) is fitted on an
// upright copy of the region around it: dlib's model was trained on upright
// faces in axis-aligned boxes.
func (a *Analyzer) fitLandmarks(f *models.Frame, gray gocv.Mat, box image.Rectangle, angle float64) ([2][NumLandmarks][2]float32, error) {
	if math.Abs(angle) < 10 {
		return a.fitIn(f.Y, f.Width, f.Height, box)
	}
	c := image.Pt((box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2)
	half := box.Dx()
	crop := image.Rect(c.X-half, c.Y-half, c.X+half, c.Y+half).Intersect(image.Rect(0, 0, f.Width, f.Height))
	if crop.Dx() < 16 || crop.Dy() < 16 {
		return a.fitIn(f.Y, f.Width, f.Height, box)
	}
	region := gray.Region(crop)
	defer region.Close()
	cc := c.Sub(crop.Min)
	m := gocv.GetRotationMatrix2D(cc, angle, 1)
	defer m.Close()
	up := gocv.NewMat()
	defer up.Close()
	gocv.WarpAffineWithParams(region, &up, m, image.Pt(crop.Dx(), crop.Dy()), gocv.InterpolationLinear, gocv.BorderReplicate, color.RGBA{})
	buf, err := up.DataPtrUint8()
	if err != nil {
		return [2][NumLandmarks][2]float32{}, err
	}
	ubox := image.Rect(cc.X-box.Dx()/2, cc.Y-box.Dy()/2, cc.X-box.Dx()/2+box.Dx(), cc.Y-box.Dy()/2+box.Dy())
	fits, err := a.fitIn(buf, up.Cols(), up.Rows(), ubox)
	if err != nil {
		return fits, err
	}
	// Back to frame coordinates: inverse rotation about cc, then offset.
	r := angle * math.Pi / 180
	ca, sa := math.Cos(r), math.Sin(r)
	for k := range fits {
		pts := &fits[k]
		for i := range pts {
			x, y := float64(pts[i][0])-float64(cc.X), float64(pts[i][1])-float64(cc.Y)
			pts[i][0] = float32(ca*x - sa*y + float64(c.X))
			pts[i][1] = float32(sa*x + ca*y + float64(c.Y))
		}
	}
	return fits, nil
}

// fitIn fits the landmarks on a grey image for a cascade-style box, with
// one refinement pass (see fitOne): fits[0] on the image as it is, for
// everything but the head pose; fits[1] for the head pose. A dark face (a
// darker skin, a dim room) has its pose fitted on a copy of the region around
// it exposed to LandmarkMinMean (contrast.go); otherwise fits[1] is fits[0].
// Points are in img's coordinates either way.
func (a *Analyzer) fitIn(img []byte, w, h int, box image.Rectangle) (fits [2][NumLandmarks][2]float32, err error) {
	lb := LandmarkBox(box)
	if fits[0], err = a.fitOne(img, w, h, lb); err != nil {
		return fits, err
	}
	fits[1] = fits[0]
	mean, _ := FaceContrast(img, w, h, lb)
	g := landmarkGain(mean)
	if g <= 1 {
		return fits, nil
	}
	// the box and half its size around it (the refinement's box stays inside)
	cr := lb.Inset(-lb.Dx() / 2).Intersect(image.Rect(0, 0, w, h))
	if cr.Empty() {
		return fits, nil
	}
	a.stretch = exposeCrop(a.stretch, img, w, cr, g)
	pts, err := a.fitOne(a.stretch, cr.Dx(), cr.Dy(), lb.Sub(cr.Min))
	if err != nil {
		return fits, nil // the pose from the plain fit
	}
	for i := range pts {
		pts[i][0] += float32(cr.Min.X)
		pts[i][1] += float32(cr.Min.Y)
	}
	fits[1] = pts
	return fits, nil
}

// fitOne fits the landmarks for a dlib-style box lb, repeated once on the box
// the points imply when it clearly differs.
func (a *Analyzer) fitOne(img []byte, w, h int, lb image.Rectangle) ([NumLandmarks][2]float32, error) {
	pts, err := a.lm.Fit(img, w, h, w, lb)
	if err != nil {
		return pts, err
	}
	rb := boxFromLandmarks(&pts)
	if overlap(rb, lb) < 0.8 && rb.Dx() >= 16 {
		if p2, err := a.lm.Fit(img, w, h, w, rb); err == nil {
			pts = p2
		}
	}
	return pts, nil
}
