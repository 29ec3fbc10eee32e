package detect

import (
	"image"
	"math"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// frameCtx is one analysed frame as the detectors see it: the frame, its
// observation and the per-frame measurements several detectors share, computed
// once by the Suite.
type frameCtx struct {
	f   *models.Frame
	o   *models.Observation
	t   time.Time
	idx int // analysed-frame index, from 0

	face   image.Rectangle // usable face box (clipped); empty when none
	lm     *[68][2]float32 // landmarks, nil when not fitted on this frame
	iod    float64         // inter-ocular distance in pixels (0 without landmarks)
	eyeMid [2]float64      // midpoint of the eye centres
	eyeAng float64         // angle of the eye line, radians
	chroma bool            // the frame has U and V planes

	// Shared block statistics (see blockStats): flat-skin face blocks, a ring
	// around the face and the far background.
	faceBlocks, ringBlocks, farBlocks []block
}

// block is one square patch of the Y plane.
type block struct {
	x, y int     // top-left corner
	mean float64 // mean luma
	lap  float64 // mean absolute 4-neighbour Laplacian: detail plus noise
}

// usable reports whether the face box is fit for appearance measures.
func (fc *frameCtx) usable() bool { return !fc.face.Empty() }

// newFrameCtx validates the frame and derives the face geometry.
func newFrameCtx(f *models.Frame, o *models.Observation, idx int) (*frameCtx, bool) {
	if f == nil || f.Width < 16 || f.Height < 16 || len(f.Y) < f.Width*f.Height {
		return nil, false
	}
	fc := &frameCtx{f: f, o: o, t: o.At, idx: idx}
	if fc.t.IsZero() {
		fc.t = f.Capture
	}
	cw, ch := f.Width/2, f.Height/2
	fc.chroma = len(f.U) >= cw*ch && len(f.V) >= cw*ch
	if o.FacePresent && !o.Coasting && !o.Face.Empty() {
		r := image.Rect(o.Face.X, o.Face.Y, o.Face.X+o.Face.W, o.Face.Y+o.Face.H)
		c := r.Intersect(image.Rect(0, 0, f.Width, f.Height))
		// A face mostly outside the picture is not measured.
		if c.Dx()*c.Dy()*2 >= r.Dx()*r.Dy() && c.Dx() >= 24 && c.Dy() >= 24 {
			fc.face = c
		}
	}
	if o.LandmarksOK && !fc.face.Empty() {
		fc.lm = &o.Landmarks
		l, r := centroid(fc.lm, 36, 42), centroid(fc.lm, 42, 48)
		fc.iod = math.Hypot(r[0]-l[0], r[1]-l[1])
		fc.eyeMid = [2]float64{(l[0] + r[0]) / 2, (l[1] + r[1]) / 2}
		fc.eyeAng = math.Atan2(r[1]-l[1], r[0]-l[0])
		if fc.iod < 8 {
			fc.lm, fc.iod = nil, 0
		}
	}
	return fc, true
}

// centroid is the mean of landmarks [from, to).
func centroid(p *[68][2]float32, from, to int) [2]float64 {
	var x, y float64
	for i := from; i < to; i++ {
		x += float64(p[i][0])
		y += float64(p[i][1])
	}
	n := float64(to - from)
	return [2]float64{x / n, y / n}
}

// scale grows r about its centre by k.
func scaleRect(r image.Rectangle, k float64) image.Rectangle {
	cx, cy := float64(r.Min.X+r.Max.X)/2, float64(r.Min.Y+r.Max.Y)/2
	hw, hh := float64(r.Dx())*k/2, float64(r.Dy())*k/2
	return image.Rect(int(cx-hw), int(cy-hh), int(cx+hw), int(cy+hh))
}

// innerFace is the part of the face box that is nearly all skin and
// features: landmark-based when landmarks exist, else the central part of
// the box.
func (fc *frameCtx) innerFace() image.Rectangle {
	if fc.lm != nil {
		p := fc.lm
		x0 := float64(min(p[1][0], p[2][0]))
		x1 := float64(max(p[15][0], p[14][0]))
		w := x1 - x0
		top := fc.eyeMid[1] - 0.45*fc.iod
		bot := float64(p[57][1])
		return image.Rect(int(x0+0.12*w), int(top), int(x1-0.12*w), int(bot)).Intersect(fc.bounds(1))
	}
	b := fc.face
	w, h := float64(b.Dx()), float64(b.Dy())
	return image.Rect(b.Min.X+int(0.2*w), b.Min.Y+int(0.25*h), b.Min.X+int(0.8*w), b.Min.Y+int(0.85*h)).Intersect(fc.bounds(1))
}

// bounds is the frame rectangle shrunk by m pixels.
func (fc *frameCtx) bounds(m int) image.Rectangle {
	return image.Rect(m, m, fc.f.Width-m, fc.f.Height-m)
}

// skinPatches returns the forehead and the two cheek patches (landmarks
// needed), the classic rPPG regions, each about a third of the inter-ocular
// distance across.
func (fc *frameCtx) skinPatches() [3]image.Rectangle {
	var out [3]image.Rectangle
	if fc.lm == nil {
		return out
	}
	p := fc.lm
	at := func(idx ...int) [2]float64 {
		var x, y float64
		for _, i := range idx {
			x += float64(p[i][0])
			y += float64(p[i][1])
		}
		return [2]float64{x / float64(len(idx)), y / float64(len(idx))}
	}
	box := func(c [2]float64, hw, hh float64) image.Rectangle {
		return image.Rect(int(c[0]-hw), int(c[1]-hh), int(c[0]+hw), int(c[1]+hh)).Intersect(fc.bounds(1))
	}
	d := fc.iod
	brow := at(19, 24)
	// Forehead: above the brows by a third of the inter-ocular distance.
	up := [2]float64{brow[0] + 0.35*d*math.Sin(fc.eyeAng), brow[1] - 0.35*d*math.Cos(fc.eyeAng)}
	out[0] = box(up, 0.45*d, 0.15*d)
	out[1] = box(at(2, 31, 41, 3), 0.17*d, 0.17*d)
	out[2] = box(at(14, 35, 46, 13), 0.17*d, 0.17*d)
	return out
}

// meanYUV averages Y and, when present, U and V over r, sampling every step
// pixels. ok is false for an empty region.
func meanYUV(f *models.Frame, r image.Rectangle, step int) (y, u, v float64, ok bool) {
	r = r.Intersect(image.Rect(0, 0, f.Width, f.Height))
	if r.Empty() {
		return 0, 0, 0, false
	}
	step = max(1, step)
	w, cw := f.Width, f.Width/2
	chroma := len(f.U) >= cw*(f.Height/2) && len(f.V) >= cw*(f.Height/2)
	var sy, su, sv, n int
	for yy := r.Min.Y; yy < r.Max.Y; yy += step {
		row := f.Y[yy*w : yy*w+w]
		crow := (yy / 2) * cw
		for xx := r.Min.X; xx < r.Max.X; xx += step {
			sy += int(row[xx])
			if chroma {
				su += int(f.U[crow+xx/2])
				sv += int(f.V[crow+xx/2])
			}
			n++
		}
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	y = float64(sy) / float64(n)
	if chroma {
		u, v = float64(su)/float64(n), float64(sv)/float64(n)
	} else {
		u, v = 128, 128
	}
	return y, u, v, true
}

// yuvToRGB converts BT.601 limited-range means to RGB 0..255.
func yuvToRGB(y, u, v float64) (r, g, b float64) {
	c, d, e := y-16, u-128, v-128
	r = 1.164*c + 1.596*e
	g = 1.164*c - 0.392*d - 0.813*e
	b = 1.164*c + 2.017*d
	return
}

// blockSize is the side of the shared statistics blocks.
const blockSize = 8

// blockStats appends the statistics of blockSize blocks whose top-left
// corners lie on a grid of the given stride inside r (clipped to keep one
// pixel of margin), skipping blocks for which skip returns true.
func blockStats(f *models.Frame, r image.Rectangle, stride int, skip func(x, y int) bool, dst []block) []block {
	r = r.Intersect(image.Rect(1, 1, f.Width-1-blockSize, f.Height-1-blockSize))
	w := f.Width
	// Align the grid to the stride so that blocks do not drift with the box.
	x0 := (r.Min.X + stride - 1) / stride * stride
	y0 := (r.Min.Y + stride - 1) / stride * stride
	for by := y0; by < r.Max.Y; by += stride {
		for bx := x0; bx < r.Max.X; bx += stride {
			if skip != nil && skip(bx, by) {
				continue
			}
			var sum, lap int
			for y := by; y < by+blockSize; y++ {
				// Exact-length rows let the compiler drop the bounds checks.
				o := y*w + bx
				row := f.Y[o-1 : o+blockSize+1]
				up := f.Y[o-w : o-w+blockSize]
				dn := f.Y[o+w : o+w+blockSize]
				for i := range blockSize {
					c := int(row[i+1])
					sum += c
					l := int(up[i]) + int(dn[i]) + int(row[i]) + int(row[i+2]) - 4*c
					if l < 0 {
						l = -l
					}
					lap += l
				}
			}
			const n = blockSize * blockSize
			dst = append(dst, block{x: bx, y: by, mean: float64(sum) / n, lap: float64(lap) / n})
		}
	}
	return dst
}

// computeBlocks fills the shared block statistics: face blocks over the inner
// face (every block), a ring from 1.15 to 1.8 face boxes (every other block
// each way) and the far background beyond (every third block each way).
func (fc *frameCtx) computeBlocks(buf *blockBuffers) {
	f := fc.f
	buf.face, buf.ring, buf.far = buf.face[:0], buf.ring[:0], buf.far[:0]
	full := image.Rect(0, 0, f.Width, f.Height)
	if fc.usable() {
		buf.face = blockStats(f, fc.innerFace(), blockSize, nil, buf.face)
		near := scaleRect(fc.face, 1.15)
		outer := scaleRect(fc.face, 1.8)
		inside := func(r image.Rectangle) func(x, y int) bool {
			return func(x, y int) bool {
				return image.Rect(x, y, x+blockSize, y+blockSize).Overlaps(r)
			}
		}
		buf.ring = blockStats(f, outer, 2*blockSize, inside(near), buf.ring)
		buf.far = blockStats(f, full, 3*blockSize, inside(outer), buf.far)
	} else {
		buf.far = blockStats(f, full, 3*blockSize, nil, buf.far)
	}
	fc.faceBlocks, fc.ringBlocks, fc.farBlocks = buf.face, buf.ring, buf.far
}

// blockBuffers are reused across frames.
type blockBuffers struct{ face, ring, far []block }

// measurable reports whether a block can show texture and noise: not clipped
// to black (padding, shadows) or white.
func (b block) measurable() bool { return b.mean >= 24 && b.mean <= 232 }

// lapQuantile is the q-quantile of the Laplacian energy of the measurable
// blocks, and how many there were.
func lapQuantile(bs []block, q float64, scratch []float64) (float64, int, []float64) {
	scratch = scratch[:0]
	for _, b := range bs {
		if b.measurable() {
			scratch = append(scratch, b.lap)
		}
	}
	if len(scratch) == 0 {
		return 0, 0, scratch
	}
	return dsp.Quantile(scratch, q), len(scratch), scratch
}
