package detect

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// swapFixture builds a face swap at test time: the astronaut's face is
// replaced, with OpenCV's seamlessClone (Poisson blending), by the face of a
// mirrored, re-tinted astronaut as a generator renders it (softer), inside a
// mask that follows the face hull as swap tools do. It returns the two
// original faces (target and source) and the swap; the caller closes them.
func swapFixture(t *testing.T) (target, source, swap gocv.Mat) {
	t.Helper()
	target = loadBGR(t, "astronaut.png", 640, 480)
	an := newAnalyzer(t)
	o, err := an.Measure(frameOf(t, target))
	if err != nil || !o.LandmarksOK {
		t.Fatalf("no landmarks on the target: %v", err)
	}
	// The source person: the same picture mirrored and tinted (another
	// person's skin). The swap model renders that face the way generators
	// do, softer than a camera records it.
	flipped := gocv.NewMat()
	defer flipped.Close()
	gocv.Flip(target, &flipped, 1)
	tint := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 6, 18, 0), flipped.Rows(), flipped.Cols(), gocv.MatTypeCV8UC3)
	defer tint.Close()
	source = gocv.NewMat()
	gocv.Add(flipped, tint, &source) // BGR: more green and red
	rendered := gocv.NewMat()
	defer rendered.Close()
	gocv.GaussianBlur(source, &rendered, image.Pt(0, 0), 1.5, 1.5, gocv.BorderReflect101)

	// Mask: the face hull (jaw and a forehead arc above the brows) shrunk
	// towards the nose by 0.15 inter-ocular distances, as swap tools erode
	// their masks to keep the target's jaw line and hairline, in the
	// mirrored source's coordinates.
	w := rendered.Cols()
	var hull []image.Point
	var iod float64
	{
		l, r := o.Landmarks[36], o.Landmarks[45]
		iod = math.Hypot(float64(r[0]-l[0]), float64(r[1]-l[1]))
	}
	var raw [][2]float64
	for i := 0; i <= 16; i++ {
		raw = append(raw, [2]float64{float64(o.Landmarks[i][0]), float64(o.Landmarks[i][1])})
	}
	for i := 26; i >= 17; i-- {
		raw = append(raw, [2]float64{float64(o.Landmarks[i][0]), float64(o.Landmarks[i][1]) - 0.3*iod})
	}
	nose := o.Landmarks[30]
	for _, p := range raw {
		dx, dy := float64(nose[0])-p[0], float64(nose[1])-p[1]
		l := math.Hypot(dx, dy)
		x, y := p[0]+0.15*iod*dx/l, p[1]+0.15*iod*dy/l
		hull = append(hull, image.Pt(w-1-int(x), int(y)))
	}
	mask := gocv.NewMatWithSize(rendered.Rows(), rendered.Cols(), gocv.MatTypeCV8UC1)
	defer mask.Close()
	mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{hull})
	defer pv.Close()
	gocv.FillPoly(&mask, pv, color.RGBA{255, 255, 255, 255})
	// Centre of the mask's bounding box, mirrored back onto the target.
	bb := image.Rectangle{Min: hull[0], Max: hull[0]}
	for _, p := range hull {
		bb = bb.Union(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	}
	centre := image.Pt(w-1-(bb.Min.X+bb.Max.X)/2, (bb.Min.Y+bb.Max.Y)/2)
	swap = gocv.NewMat()
	// Poisson blending (OpenCV's NORMAL_CLONE = 1). gocv v0.31 numbers its
	// flags from 0 (NormalClone = 0, MixedClone = 1) while OpenCV numbers
	// them from 1, so gocv.NormalClone reaches OpenCV as no valid mode (the
	// face comes out white) and the value 1 is OpenCV's NORMAL_CLONE.
	gocv.SeamlessClone(rendered, target, mask, centre, &swap, openCVNormalClone)
	return target, source, swap
}

// openCVNormalClone is cv::NORMAL_CLONE (see swapFixture).
const openCVNormalClone = gocv.SeamlessCloneFlags(1)

func TestSeamFaceSwapScoresHigher(t *testing.T) {
	target, source, swap := swapFixture(t)
	defer target.Close()
	defer source.Close()
	defer swap.Close()
	names := []string{"target", "source", "swap"}
	if dir := os.Getenv("LIVECHECK_DUMP"); dir != "" {
		for i, img := range []gocv.Mat{target, source, swap} {
			gocv.IMWrite(filepath.Join(dir, names[i]+".png"), img)
		}
	}
	var vals, scores [3]float64
	for i, img := range []gocv.Mat{target, source, swap} {
		s := run(t, Config{}, repeat(frameOf(t, img), 16), 125*time.Millisecond)
		sg := signalOf(t, s, KindSeam)
		if sg.Confidence <= 0 {
			t.Fatalf("%s: seam not measured: %+v", names[i], sg)
		}
		vals[i], scores[i] = sg.Value, sg.Score
		t.Logf("%-6s seam value %.2f score %.3f conf %.2f", names[i], sg.Value, sg.Score, sg.Confidence)
	}
	if !(vals[2] > vals[0] && vals[2] > vals[1]) {
		t.Errorf("swap's seam measure %.2f not above target %.2f and source %.2f", vals[2], vals[0], vals[1])
	}
	if !(scores[2] >= scores[0] && scores[2] >= scores[1]) {
		t.Errorf("swap's seam score %.3f below an original's (%.3f, %.3f)", scores[2], scores[0], scores[1])
	}
}
