package faceid

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/livecheck/livecheck/internal/faceid/convert"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// ChipSize is the side of the aligned face chip the recogniser takes.
const ChipSize = convert.InputSize

// ChipPadding is dlib's face-chip padding for its recogniser: the template
// face fills 1/(1+2·0.25) of the chip.
const ChipPadding = 0.25

// ErrNoFace reports an image or frame without a usable face.
var ErrNoFace = errors.New("faceid: no usable face")

// meanFace is dlib's mean 68-point face shape (points 17..67, unit square),
// from dlib/image_transforms/interpolation.h (get_face_chip_details), Boost
// Software License.
var meanFace = [2][51]float64{{
	0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
	0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
	0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
	0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
	0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
	0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
	0.553364, 0.490127, 0.42689,
}, {
	0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
	0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
	0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
	0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
	0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
	0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
	0.784792, 0.824182, 0.831803, 0.824182,
}}

// alignPoint reports whether landmark i takes part in the alignment: like
// dlib, the nose, eyes and upper lip (not the jaw, eyebrows or lower lip,
// which move with expression).
func alignPoint(i int) bool {
	return i >= 27 && !(i >= 55 && i <= 59) && !(i >= 65 && i <= 67)
}

// Similarity is a similarity transform x' = A·x + t with A = [[a, −b], [b, a]].
type Similarity struct{ A, B, TX, TY float64 }

// Apply maps a point.
func (s Similarity) Apply(x, y float64) (float64, float64) {
	return s.A*x - s.B*y + s.TX, s.B*x + s.A*y + s.TY
}

// Scale is the transform's scale factor.
func (s Similarity) Scale() float64 { return math.Hypot(s.A, s.B) }

// ChipTransform is the least-squares similarity transform from chip
// coordinates to image coordinates that puts dlib's template (with
// ChipPadding, on a size x size chip) on the landmarks, as dlib's
// get_face_chip_details does. ok is false for degenerate landmarks.
func ChipTransform(pts *[68][2]float32, size int) (Similarity, bool) {
	var from, to [][2]float64
	for i := 17; i < 68; i++ {
		if !alignPoint(i) {
			continue
		}
		fx := (ChipPadding + meanFace[0][i-17]) / (2*ChipPadding + 1) * float64(size)
		fy := (ChipPadding + meanFace[1][i-17]) / (2*ChipPadding + 1) * float64(size)
		from = append(from, [2]float64{fx, fy})
		to = append(to, [2]float64{float64(pts[i][0]), float64(pts[i][1])})
	}
	return fitSimilarity(from, to)
}

// fitSimilarity is the least-squares similarity transform mapping from onto
// to (Umeyama without reflection).
func fitSimilarity(from, to [][2]float64) (Similarity, bool) {
	n := float64(len(from))
	if n < 2 {
		return Similarity{}, false
	}
	var mfx, mfy, mtx, mty float64
	for i := range from {
		mfx += from[i][0]
		mfy += from[i][1]
		mtx += to[i][0]
		mty += to[i][1]
	}
	mfx, mfy, mtx, mty = mfx/n, mfy/n, mtx/n, mty/n
	var sxx, sab, sba float64
	for i := range from {
		px, py := from[i][0]-mfx, from[i][1]-mfy
		qx, qy := to[i][0]-mtx, to[i][1]-mty
		sxx += px*px + py*py
		sab += px*qx + py*qy
		sba += px*qy - py*qx
	}
	if sxx == 0 {
		return Similarity{}, false
	}
	a, b := sab/sxx, sba/sxx
	if math.IsNaN(a) || math.IsNaN(b) || math.Hypot(a, b) < 1e-6 {
		return Similarity{}, false
	}
	return Similarity{A: a, B: b, TX: mtx - (a*mfx - b*mfy), TY: mty - (b*mfx + a*mfy)}, true
}

// Align cuts the ChipSize x ChipSize BGR face chip the recogniser takes out
// of an I420 frame, from the face's 68 landmarks (dlib's alignment). Only
// the chip's region of the frame is converted to colour; when the face is
// much larger than the chip the region is first shrunk with area averaging
// (as dlib's chip extraction does with its image pyramid). The caller closes
// the Mat.
func Align(f *models.Frame, pts *[68][2]float32) (gocv.Mat, error) {
	tr, ok := ChipTransform(pts, ChipSize)
	if !ok {
		return gocv.NewMat(), fmt.Errorf("%w: degenerate landmarks", ErrNoFace)
	}
	// The chip's footprint in the frame.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]float64{{0, 0}, {ChipSize, 0}, {0, ChipSize}, {ChipSize, ChipSize}} {
		x, y := tr.Apply(c[0], c[1])
		minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
	}
	r := image.Rect(int(math.Floor(minX))-4, int(math.Floor(minY))-4, int(math.Ceil(maxX))+4, int(math.Ceil(maxY))+4)
	if r.Dx() > 8*f.Width || r.Dy() > 8*f.Height {
		return gocv.NewMat(), fmt.Errorf("%w: landmarks span %v", ErrNoFace, r)
	}
	src, got, err := vision.FrameRegionToBGR(f, r)
	if err != nil {
		return gocv.NewMat(), fmt.Errorf("faceid: %w", err)
	}
	defer src.Close()
	if got.Dx() < 8 || got.Dy() < 8 {
		return gocv.NewMat(), fmt.Errorf("%w: face outside the frame", ErrNoFace)
	}
	// Chip → region coordinates.
	tr.TX -= float64(got.Min.X)
	tr.TY -= float64(got.Min.Y)
	if s := tr.Scale(); s > 1.5 {
		k := 1 / s
		small := gocv.NewMat()
		defer small.Close()
		sz := image.Pt(max(1, int(math.Round(float64(got.Dx())*k))), max(1, int(math.Round(float64(got.Dy())*k))))
		gocv.Resize(src, &small, sz, 0, 0, gocv.InterpolationArea)
		kx, ky := float64(sz.X)/float64(got.Dx()), float64(sz.Y)/float64(got.Dy())
		tr = Similarity{A: tr.A * kx, B: tr.B * kx, TX: tr.TX * kx, TY: tr.TY * ky}
		return warpChip(small, tr), nil
	}
	return warpChip(src, tr), nil
}

// warpChip samples the chip from src through the chip→src transform.
func warpChip(src gocv.Mat, tr Similarity) gocv.Mat {
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	m.SetDoubleAt(0, 0, tr.A)
	m.SetDoubleAt(0, 1, -tr.B)
	m.SetDoubleAt(0, 2, tr.TX)
	m.SetDoubleAt(1, 0, tr.B)
	m.SetDoubleAt(1, 1, tr.A)
	m.SetDoubleAt(1, 2, tr.TY)
	dst := gocv.NewMat()
	gocv.WarpAffineWithParams(src, &dst, m, image.Pt(ChipSize, ChipSize),
		gocv.InterpolationLinear|gocv.WarpInverseMap, gocv.BorderConstant, color.RGBA{})
	return dst
}
