package vision

import (
	"image"
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// Occlusion: how much of the face is covered (a hand, an object), 0..1.
//
// Four cues, each 0..1, are averaged with weights over those available:
//
//	detector (0.4): 1 when the cascade missed the face and the tracker is
//	    coasting on the last box; otherwise at most 0.6, from the drop of the
//	    cascade's confidence below its typical level in this session.
//	change (0.4): the fraction of a 6x6 grid over the face box whose
//	    brightness, edge density or chroma differs from the session's clear-
//	    face reference, after removing changes common to the whole face (a
//	    screen flash, exposure). Needs a few clear frames first.
//	skin (0.1): the loss of skin-coloured (Cb/Cr) pixels in the inner face,
//	    relative to the reference (absolute without one); skipped when the
//	    whole face changed colour (a flash).
//	shape (0.1): an implausible landmark fit (Procrustes distance from the
//	    model's mean shape above the session's clear level).
//
// A clear, detected face reads below about 0.15; a hand over the face
// (detector lost, most cells changed) reads about 0.6-0.9.
//
// The grid is sampled along the tilted face (rotated by the measured roll),
// so head tilt does not change it. The detector and change cues are
// discounted when the head's yaw or pitch (from the eyes and nose ridge)
// differs from the pose the reference was learnt at (from 5°, fully at 20°;
// only when the pose moved smoothly from the previous frame), because a
// turn also lowers the cascade's confidence and changes the grid. The
// reference is updated only on frames that look clear (frontal detection at
// typical confidence, occlusion below 0.15 with few changed cells, head
// within ±25° yaw and pitch, at the reference's pose).

const (
	wDetector = 0.4
	wChange   = 0.4
	wSkin     = 0.1
	wShape    = 0.1
)

func (a *Analyzer) occlusion(f *models.Frame, box image.Rectangle, found bool, conf float64, st regionStats, shapeRes float64, pose [3]float64, poseOK bool) float64 {
	var sum, wsum float64
	a.cues = occlusionCues{Detector: -1, Change: -1, Skin: -1, Shape: -1}
	add := func(w, v float64, cue *float64) {
		*cue = dsp.Clamp01(v)
		sum += w * dsp.Clamp01(v)
		wsum += w
	}

	// A head turned or tilted away from the pose the reference was learnt at
	// also lowers the cascade's confidence and changes the grid: discount
	// both cues by the pose difference (from 5°, fully at 20°). The pose
	// for this comes from the eyes and nose ridge only, which a hand over
	// the mouth does not move, and only a pose that moved smoothly from the
	// previous frame is trusted (landmarks fitted to half a face jump).
	// Roll does not count: the grid is sampled along the tilted face.
	poseDiscount, poseDiff := 1.0, 0.0
	if poseOK && a.refN > 0 {
		poseDiff = math.Max(math.Abs(pose[0]-a.refPose[0]), math.Abs(pose[1]-a.refPose[1]))
		smooth := a.prevPoseOK
		for i := range pose {
			smooth = smooth && math.Abs(pose[i]-a.prevPose[i]) < 12
		}
		if smooth {
			poseDiscount = 1 - dsp.Clamp01((poseDiff-5)/15)
		}
	}

	// Detector: losing the face is strong evidence; a lower confidence on a
	// detected face is weak evidence (it also drops with pose and light).
	switch {
	case !found:
		add(wDetector, 1, &a.cues.Detector)
	case a.kind != Frontal:
		add(wDetector, 0.4*(1-conf/0.6)*poseDiscount, &a.cues.Detector)
	default:
		add(wDetector, 0.6*(1-conf/a.typConf)*poseDiscount, &a.cues.Detector)
	}

	// Appearance change against the reference.
	roll := 0.0
	if poseOK {
		roll = pose[2]
	} else if a.rollOK {
		roll = a.roll
	}
	grid, gridOK := measureGrid(f, box, roll)
	hasRef := a.refN >= 3
	chromaShift := 0.0
	if gridOK && hasRef {
		if poseDiscount > 0 {
			add(wChange*poseDiscount, (changedCells(&grid, &a.ref)-0.06)/0.44, &a.cues.Change)
		}
		if grid.chroma && a.ref.chroma {
			chromaShift = math.Abs(dsp.Mean(grid.Cb[:])-dsp.Mean(a.ref.Cb[:])) + math.Abs(dsp.Mean(grid.Cr[:])-dsp.Mean(a.ref.Cr[:]))
		}
	}

	// Skin fraction.
	if st.chroma && chromaShift < 12 {
		if hasRef && a.refSkin > 0.2 {
			add(wSkin, (a.refSkin-st.Skin)/a.refSkin*1.5, &a.cues.Skin)
		} else if !hasRef {
			add(wSkin, (0.5-st.Skin)/0.5, &a.cues.Skin)
		}
	}

	// Landmark fit plausibility.
	if shapeRes >= 0 {
		base := 0.12
		if a.refShape > 0 {
			base = math.Max(base, 1.3*a.refShape)
		}
		add(wShape, (shapeRes-base)/0.15, &a.cues.Shape)
	}

	a.cues.PoseDiscount = poseDiscount
	occ := 0.0
	if wsum > 0 {
		occ = sum / wsum
	}

	// Learn the clear face, at the pose the reference holds (a permanent
	// change of the neutral pose restarts the reference after 150 clear
	// frames). The frame is folded in by learnPending once the analyser
	// keeps its measurement.
	clear := found && a.kind == Frontal && conf >= 0.7*a.typConf && occ < 0.15 && a.cues.Change < 0.15 &&
		(!poseOK || math.Abs(pose[0]) < 25 && math.Abs(pose[1]) < 25)
	a.pend = pendingLearn{ok: clear && gridOK, grid: grid, conf: conf, st: st, shapeRes: shapeRes, pose: pose, poseOK: poseOK, poseDiff: poseDiff}
	return occ
}

// pendingLearn is a clear frame waiting to be folded into the reference.
type pendingLearn struct {
	ok       bool
	grid     faceGrid
	conf     float64
	st       regionStats
	shapeRes float64
	pose     [3]float64
	poseOK   bool
	poseDiff float64
}

// learnPending folds the last frame measured by occlusion into the
// reference when it was clear.
func (a *Analyzer) learnPending() {
	p := &a.pend
	if !p.ok {
		return
	}
	p.ok = false
	if a.refN < 3 || p.poseDiff < 6 {
		a.learn(&p.grid, p.conf, p.st, p.shapeRes, p.pose, p.poseOK)
		a.stale = 0
	} else if a.stale++; a.stale > 150 {
		a.refN, a.stale = 0, 0
	}
}

// learn folds a clear frame into the occlusion reference.
func (a *Analyzer) learn(g *faceGrid, conf float64, st regionStats, shapeRes float64, pose [3]float64, poseOK bool) {
	a.refN++
	k := 1 / float64(a.refN)
	if k < 0.1 {
		k = 0.1
	}
	if poseOK {
		if a.refN == 1 {
			a.refPose = pose
		}
		for i := range pose {
			a.refPose[i] += k * (pose[i] - a.refPose[i])
		}
	}
	if a.refN == 1 {
		a.ref = *g
		a.typConf = conf
		a.refSkin = st.Skin
		if shapeRes >= 0 {
			a.refShape = shapeRes
		}
		return
	}
	for i := range a.ref.Y {
		a.ref.Y[i] += k * (g.Y[i] - a.ref.Y[i])
		a.ref.Grad[i] += k * (g.Grad[i] - a.ref.Grad[i])
		a.ref.Cb[i] += k * (g.Cb[i] - a.ref.Cb[i])
		a.ref.Cr[i] += k * (g.Cr[i] - a.ref.Cr[i])
	}
	a.ref.chroma = g.chroma
	a.typConf += k * (conf - a.typConf)
	a.refSkin += k * (st.Skin - a.refSkin)
	if shapeRes >= 0 {
		if a.refShape == 0 {
			a.refShape = shapeRes
		}
		a.refShape += k * (shapeRes - a.refShape)
	}
}

// occlusionCues are the cue values of the last frame (-1: not available),
// kept for tests and tuning.
type occlusionCues struct {
	Detector, Change, Skin, Shape, PoseDiscount float64
}
