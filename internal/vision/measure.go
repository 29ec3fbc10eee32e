package vision

import (
	"image"
	"math"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/models"
)

// Per-frame measures computed from landmarks and from the face region of the
// I420 planes. Everything here is plain Go over the frame's bytes: no Mats.

func dist(a, b [2]float32) float64 {
	return math.Hypot(float64(a[0]-b[0]), float64(a[1]-b[1]))
}

// EyeAspectRatio is the mean eye aspect ratio of both eyes (Soukupová and
// Čech 2016): (|p2-p6| + |p3-p5|) / (2 |p1-p4|) on points 36-41 and 42-47.
// Open eyes read about 0.25-0.35, closed eyes below about 0.15.
func EyeAspectRatio(p *[NumLandmarks][2]float32) float64 {
	ear := func(i int) float64 {
		w := dist(p[i], p[i+3])
		if w == 0 {
			return 0
		}
		return (dist(p[i+1], p[i+5]) + dist(p[i+2], p[i+4])) / (2 * w)
	}
	return (ear(36) + ear(42)) / 2
}

// MouthOpening is the inner-lip gap (mean of 61-67, 62-66, 63-65) divided
// by the mouth width (outer corners 48-54). A closed mouth reads below about
// 0.05, a wide-open one 0.3-0.6.
func MouthOpening(p *[NumLandmarks][2]float32) float64 {
	w := dist(p[48], p[54])
	if w == 0 {
		return 0
	}
	gap := (dist(p[61], p[67]) + dist(p[62], p[66]) + dist(p[63], p[65])) / 3
	return gap / w
}

// innerFace is the part of a cascade face box that is nearly all skin and
// features (no hair or background): the central 60 % of the width and the
// band from 25 % to 85 % of the height.
func innerFace(box image.Rectangle) image.Rectangle {
	w, h := float64(box.Dx()), float64(box.Dy())
	return image.Rect(box.Min.X+int(0.2*w), box.Min.Y+int(0.25*h), box.Min.X+int(0.8*w), box.Min.Y+int(0.85*h))
}

// regionStats holds colour and sharpness of a face region.
type regionStats struct {
	Y, Cb, Cr float64 // means
	Sharpness float64 // variance of the 3x3 Laplacian of Y
	Skin      float64 // fraction of chroma samples in the skin range
	chroma    bool
}

// isSkin is the Cb/Cr skin box of Chai and Ngan (1999).
func isSkin(cb, cr byte) bool {
	return cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173
}

// measureRegion computes means of Y/Cb/Cr, the skin fraction and the
// Laplacian variance over r (clipped to the frame).
func measureRegion(f *models.Frame, r image.Rectangle) (regionStats, bool) {
	var st regionStats
	r = r.Intersect(image.Rect(1, 1, f.Width-1, f.Height-1))
	if r.Dx() < 4 || r.Dy() < 4 {
		return st, false
	}
	w := f.Width
	var sumY, sumL, sumL2 float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.Y[y*w : (y+1)*w]
		up := f.Y[(y-1)*w : y*w]
		dn := f.Y[(y+1)*w : (y+2)*w]
		var ry, rl, rl2 int
		for x := r.Min.X; x < r.Max.X; x++ {
			c := int(row[x])
			ry += c
			l := int(up[x]) + int(dn[x]) + int(row[x-1]) + int(row[x+1]) - 4*c
			rl += l
			rl2 += l * l
		}
		sumY += float64(ry)
		sumL += float64(rl)
		sumL2 += float64(rl2)
	}
	n := float64(r.Dx() * r.Dy())
	st.Y = sumY / n
	ml := sumL / n
	st.Sharpness = sumL2/n - ml*ml
	if hasChroma(f) {
		cw := f.Width / 2
		cr := image.Rect(r.Min.X/2, r.Min.Y/2, (r.Max.X+1)/2, (r.Max.Y+1)/2).Intersect(image.Rect(0, 0, cw, f.Height/2))
		var su, sv, skin, cn int
		for y := cr.Min.Y; y < cr.Max.Y; y++ {
			u := f.U[y*cw : (y+1)*cw]
			v := f.V[y*cw : (y+1)*cw]
			for x := cr.Min.X; x < cr.Max.X; x++ {
				su += int(u[x])
				sv += int(v[x])
				if isSkin(u[x], v[x]) {
					skin++
				}
				cn++
			}
		}
		if cn > 0 {
			st.Cb = float64(su) / float64(cn)
			st.Cr = float64(sv) / float64(cn)
			st.Skin = float64(skin) / float64(cn)
			st.chroma = true
		}
	}
	return st, true
}

// gridN is the number of cells per side of the appearance grid.
const gridN = 6

// faceGrid is a coarse appearance descriptor of a face box: per cell of a
// 6x6 grid the mean Y, the mean gradient magnitude (edge density) and the
// mean Cb/Cr.
type faceGrid struct {
	Y, Grad, Cb, Cr [gridN * gridN]float64
	chroma          bool
}

// gridSamples is the number of samples per side of the appearance grid.
const gridSamples = 48

// measureGrid samples the face box on a 48x48 lattice, rotated by roll
// degrees (clockwise in the image) about the box centre so that the grid
// follows a tilted head: the descriptor does not change with in-plane
// rotation. Samples outside the frame make it fail.
func measureGrid(f *models.Frame, box image.Rectangle, roll float64) (faceGrid, bool) {
	var g faceGrid
	bw, bh := float64(box.Dx()), float64(box.Dy())
	if bw < 2*gridN || bh < 2*gridN {
		return g, false
	}
	cx := float64(box.Min.X+box.Max.X) / 2
	cy := float64(box.Min.Y+box.Max.Y) / 2
	r := roll * math.Pi / 180
	ca, sa := math.Cos(r), math.Sin(r)
	// Gradient step: about one sample apart.
	step := max(1, int(bw/gridSamples))
	var cnt [gridN * gridN]float64
	w, h := f.Width, f.Height
	chroma := hasChroma(f)
	cw := f.Width / 2
	outside := 0
	for j := 0; j < gridSamples; j++ {
		v := (float64(j)+0.5)/gridSamples*bh - bh/2
		for i := 0; i < gridSamples; i++ {
			u := (float64(i)+0.5)/gridSamples*bw - bw/2
			x := int(cx + ca*u - sa*v)
			y := int(cy + sa*u + ca*v)
			if x < 0 || y < 0 || x >= w || y >= h {
				outside++
				continue
			}
			k := (j*gridN/gridSamples)*gridN + i*gridN/gridSamples
			c := float64(f.Y[y*w+x])
			gx := math.Abs(float64(f.Y[y*w+min(x+step, w-1)]) - c)
			gy := math.Abs(float64(f.Y[min(y+step, h-1)*w+x]) - c)
			g.Y[k] += c
			g.Grad[k] += gx + gy
			if chroma {
				q := (y/2)*cw + x/2
				g.Cb[k] += float64(f.U[q])
				g.Cr[k] += float64(f.V[q])
			}
			cnt[k]++
		}
	}
	if outside > gridSamples*gridSamples/4 {
		return g, false
	}
	for k := range cnt {
		if cnt[k] == 0 {
			return g, false
		}
		g.Y[k] /= cnt[k]
		g.Grad[k] /= cnt[k]
		g.Cb[k] /= cnt[k]
		g.Cr[k] /= cnt[k]
	}
	g.chroma = chroma
	return g, true
}

// changedCells compares g against a reference grid and returns the fraction
// of cells whose appearance changed. A change common to the whole face (a
// screen flash, exposure) is removed first by subtracting the median
// difference (Y, Cb, Cr) and dividing by the median gradient ratio, so only
// local changes (a hand, an object) count. A cell counts as unchanged when it
// matches the reference at its own place or one cell away, which absorbs
// box jitter and small head motion.
func changedCells(g, ref *faceGrid) float64 {
	const n = gridN * gridN
	var dY, dCb, dCr, rG [n]float64
	for k := 0; k < n; k++ {
		dY[k] = g.Y[k] - ref.Y[k]
		dCb[k] = g.Cb[k] - ref.Cb[k]
		dCr[k] = g.Cr[k] - ref.Cr[k]
		rG[k] = (g.Grad[k] + 2) / (ref.Grad[k] + 2)
	}
	mY, mCb, mCr, mG := dsp.Median(dY[:]), dsp.Median(dCb[:]), dsp.Median(dCr[:]), dsp.Median(rG[:])
	// Typical local contrast of the reference, for a scale-free Y threshold.
	refMean := dsp.Mean(ref.Y[:])
	var spread float64
	for k := 0; k < n; k++ {
		spread += math.Abs(ref.Y[k] - refMean)
	}
	spread /= n
	thrY := math.Max(14, 0.6*spread)
	chroma := g.chroma && ref.chroma
	score := func(k, r int) float64 {
		sc := math.Abs(g.Y[k]-ref.Y[r]-mY) / thrY
		gr := (g.Grad[k] + 2) / (ref.Grad[r] + 2) / mG
		if gr < 1 {
			gr = 1 / gr
		}
		sc += math.Max(0, math.Log(gr)/math.Log(2.2))
		if chroma {
			sc += (math.Abs(g.Cb[k]-ref.Cb[r]-mCb) + math.Abs(g.Cr[k]-ref.Cr[r]-mCr)) / 14
		}
		return sc
	}
	changed := 0
	for y := 0; y < gridN; y++ {
		for x := 0; x < gridN; x++ {
			k := y*gridN + x
			best := math.Inf(1)
			for dy := -1; dy <= 1 && best >= 1; dy++ {
				for dx := -1; dx <= 1 && best >= 1; dx++ {
					ry, rx := y+dy, x+dx
					if ry < 0 || rx < 0 || ry >= gridN || rx >= gridN {
						continue
					}
					best = math.Min(best, score(k, ry*gridN+rx))
				}
			}
			if best >= 1 {
				changed++
			}
		}
	}
	return float64(changed) / n
}
