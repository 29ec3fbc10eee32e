package redteam

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// Frame size of every rendered scene (a browser camera's default).
const (
	W = 640
	H = 480
)

// planes is one I420 picture of W x H.
type planes struct {
	y, u, v []byte
}

func newPlanes() planes {
	return planes{make([]byte, W*H), make([]byte, W*H/4), make([]byte, W*H/4)}
}

func (p planes) clone() planes {
	return planes{append([]byte(nil), p.y...), append([]byte(nil), p.u...), append([]byte(nil), p.v...)}
}

// Face is a face still placed in the frame with its 68 landmarks, as the project's own vision
// pipeline found them (dlib), which every warp is aligned to.
type Face struct {
	img planes
	lm  [68][2]float64
	// derived geometry
	cx, cy   float64 // centre of the landmarks
	yawAxis  float64 // x of the head's vertical axis: the nose bridge
	fw       float64 // face width (jaw points 0 to 16)
	eyeL     [2]float64
	eyeR     [2]float64
	mouthC   [2]float64
	mouthW   float64
	chinY    float64
	skinU    byte // typical skin chroma (median of the cheeks)
	skinV    byte
	skinY    byte
	headRect [4]int  // x0, y0, x1, y1 of the region warps touch
	albedo   float64 // the skin's reflectance relative to the still's (0: as the still)
}

// LoadFace reads a face still (any format OpenCV reads), fits it into the frame (scaled to the
// frame height, centred, a grey wall on the sides) and finds its landmarks with the project's
// vision analyser. It fails when the analyser finds no face with landmarks.
func LoadFace(path string) (*Face, error) {
	src, err := vision.FrameFromFile(path)
	if err != nil {
		return nil, err
	}
	f := &Face{img: newPlanes()}
	fillPlanes(f.img, 112, 128, 128)
	// Fill the frame's width (no flat bars on the sides, which would look like a screen's
	// border); a portrait still loses its bottom.
	s := float64(W) / float64(src.Width)
	y0 := -int(0.04 * float64(src.Height) * s)
	blitScaled(f.img, src, 0, y0, s, false)
	lm, err := landmarksOf(f.frame())
	if err != nil {
		return nil, fmt.Errorf("redteam: %s: %w", path, err)
	}
	if fw := math.Hypot(lm[16][0]-lm[0][0], lm[16][1]-lm[0][1]); fw > 1.1*faceFrac*W {
		// A still framed closer than a webcam at arm's length: fitted to the frame's width,
		// obama.jpg's face is 171 px wide and biden.jpg's 190 (the astronaut's 116), and the
		// dim look's 1.25x head then fills the frame's top and a 1.38x lean-in pushes the
		// forehead out of it: the cascades lose the face (move_closer "insufficient
		// response" live). Shrink the still about the face's centre to the astronaut's face
		// width, so that Look.Size means the same head for every still; the frame's edges
		// the smaller still leaves continue its edge pixels (a flat band would be a screen's
		// border to the replay detector; a mirrored still would be a second face).
		k := faceFrac * W / fw
		c := mean(lm[:])
		fillPlanes(f.img, 112, 128, 128)
		blitScaled(f.img, src, int(c[0]*(1-k)), int(c[1]-(c[1]-float64(y0))*k), s*k, true)
		if lm, err = landmarksOf(f.frame()); err != nil {
			return nil, fmt.Errorf("redteam: %s (shrunk to a webcam's framing): %w", path, err)
		}
	}
	f.lm = lm
	f.derive()
	return f, nil
}

// landmarksOf runs the project's analyser on a still frame and returns the face's landmarks.
func landmarksOf(fr *models.Frame) ([68][2]float64, error) {
	var lm [68][2]float64
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		return lm, err
	}
	defer an.Close()
	var o models.Observation
	for i := 0; i < 3; i++ {
		if o, err = an.Measure(fr); err != nil {
			return lm, err
		}
	}
	if !o.FacePresent || !o.LandmarksOK {
		return lm, errors.New("no face with landmarks found")
	}
	for i, p := range o.Landmarks {
		lm[i] = [2]float64{float64(p[0]), float64(p[1])}
	}
	return lm, nil
}

func (f *Face) frame() *models.Frame {
	return &models.Frame{Width: W, Height: H, Y: f.img.y, U: f.img.u, V: f.img.v}
}

func mean(pts [][2]float64) [2]float64 {
	var x, y float64
	for _, p := range pts {
		x += p[0]
		y += p[1]
	}
	return [2]float64{x / float64(len(pts)), y / float64(len(pts))}
}

func (f *Face) pts(from, to int) [][2]float64 { return f.lm[from : to+1] }

func (f *Face) derive() {
	c := mean(f.lm[:])
	f.cx, f.cy = c[0], c[1]
	f.fw = math.Hypot(f.lm[16][0]-f.lm[0][0], f.lm[16][1]-f.lm[0][1])
	f.yawAxis = (f.lm[27][0] + f.lm[30][0]) / 2
	f.eyeL, f.eyeR = mean(f.pts(36, 41)), mean(f.pts(42, 47))
	f.mouthC = mean(f.pts(60, 67))
	f.mouthW = math.Hypot(f.lm[54][0]-f.lm[48][0], f.lm[54][1]-f.lm[48][1])
	f.chinY = f.lm[8][1]
	// Skin: the cheeks below the eyes.
	var us, vs, ys []int
	for _, e := range [][2]float64{f.eyeL, f.eyeR} {
		for dy := 0.15; dy <= 0.3; dy += 0.05 {
			for dx := -0.06; dx <= 0.06; dx += 0.03 {
				x, y := int(e[0]+dx*f.fw), int(e[1]+dy*f.fw)
				us = append(us, int(f.img.u[(y/2)*W/2+x/2]))
				vs = append(vs, int(f.img.v[(y/2)*W/2+x/2]))
				ys = append(ys, int(f.img.y[y*W+x]))
			}
		}
	}
	f.skinU, f.skinV, f.skinY = byte(medianInt(us)), byte(medianInt(vs)), byte(medianInt(ys))
	r := 0.95 * f.fw
	f.headRect = [4]int{clampI(int(f.cx-r), 0, W), clampI(int(f.cy-1.25*r), 0, H), clampI(int(f.cx+r), 0, W), clampI(int(f.chinY+0.45*f.fw), 0, H)}
}

func medianInt(a []int) int {
	if len(a) == 0 {
		return 0
	}
	b := append([]int(nil), a...)
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	return b[len(b)/2]
}

func clampI(v, lo, hi int) int { return max(lo, min(hi, v)) }
func clampF(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}
func clampB(v float64) byte { return byte(clampF(math.Round(v), 0, 255)) }

func fillPlanes(p planes, y, u, v byte) {
	for i := range p.y {
		p.y[i] = y
	}
	for i := range p.u {
		p.u[i], p.v[i] = u, v
	}
}

// faceFrac is the face width (jaw to jaw) a still is fitted to at most, as a fraction of the
// frame's width: the astronaut's (116 of 640 px), a webcam's framing at arm's length.
const faceFrac = 0.182

// blitScaled draws src scaled by s with its top-left corner at (x0, y0) (bilinear). Pixels
// outside the scaled still are left alone, or with extend continue the still's edge pixels.
func blitScaled(dst planes, src *models.Frame, x0, y0 int, s float64, extend bool) {
	sw, sh := src.Width, src.Height
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			sx, sy := float64(x-x0)/s, float64(y-y0)/s
			if extend {
				sx, sy = clampF(sx, 0, float64(sw-1)), clampF(sy, 0, float64(sh-1))
			}
			if sx < 0 || sy < 0 || sx > float64(sw-1) || sy > float64(sh-1) {
				continue
			}
			dst.y[y*W+x] = bilinear(src.Y, sw, sh, sx, sy)
		}
	}
	cw, ch := sw/2, sh/2
	for y := 0; y < H/2; y++ {
		for x := 0; x < W/2; x++ {
			sx, sy := (float64(x*2-x0)/s)/2, (float64(y*2-y0)/s)/2
			if extend {
				sx, sy = clampF(sx, 0, float64(cw-1)), clampF(sy, 0, float64(ch-1))
			}
			if sx < 0 || sy < 0 || sx > float64(cw-1) || sy > float64(ch-1) {
				continue
			}
			dst.u[y*W/2+x] = bilinear(src.U, cw, ch, sx, sy)
			dst.v[y*W/2+x] = bilinear(src.V, cw, ch, sx, sy)
		}
	}
}

// bilinear samples plane p (w x h) at (x, y), clamped to the edges.
func bilinear(p []byte, w, h int, x, y float64) byte {
	x = clampF(x, 0, float64(w-1))
	y = clampF(y, 0, float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	a := float64(p[y0*w+x0])*(1-fx) + float64(p[y0*w+x1])*fx
	b := float64(p[y1*w+x0])*(1-fx) + float64(p[y1*w+x1])*fx
	return byte(a*(1-fy) + b*fy + 0.5)
}

// State is what the synthetic person does on one frame.
type State struct {
	Yaw, Pitch float64 // degrees; yaw > 0 turns to the person's left (image right), pitch > 0 looks up
	Scale      float64 // 1 = at rest; move_closer leans in to ~1.35
	EyesClosed float64 // 0 open .. 1 closed (blink)
	Mouth      float64 // 0 closed .. 1 wide open (speech)
	Hand       float64 // 0 no hand .. 1 hand over half the face (cover_face)
	// Flash is the screen colour lighting the face and Gain how much of it the skin reflects
	// (0: none); the reflection is added to the face as a chroma and luma shift.
	Flash [3]byte // RGB
	Gain  float64
	// HandOnTop draws the face over the hand (a face swap painting over the occluder).
	HandOnTop bool
	GazeX     float64 // -1..1: pupils shift left/right
	// RealYaw is the operator's own head yaw before Behaviour.YawLimit (what a swap that
	// breaks beyond the limit shows).
	RealYaw float64
}

// Look is how the picture is taken: lighting, noise and the fixed head placement.
type Look struct {
	Light  float64 // luma gain (1 = as the still)
	Offset float64 // luma offset
	Noise  float64 // std-dev of sensor noise in luma levels
	Size   float64 // head size factor of the still (1 = as fitted)
	// Albedo is the skin's reflectance relative to the still's (1 or 0 = as the still): the
	// skin (the pixels of the head region whose chroma is near the cheeks') is drawn that
	// fraction as bright, its RGB scaled (luma and chroma offsets alike), and it reflects that
	// fraction of the screen's light (State.Gain is the still's skin's). A darker skin than the
	// astronaut's: about 0.35–0.5 for the darkest skins (finding 21).
	Albedo float64
	Seed   uint64
}

// Renderer draws frames of one synthetic person. It is not safe for concurrent use.
type Renderer struct {
	face  *Face
	swap  *Face // another identity pasted over the face (nil: none)
	look  Look
	canon planes // scratch: the face with eyelids, mouth and reflection, before the warps
	base  planes // scratch: the canonical face with the pasted identity, before the mouth moves
	out   planes
	rng   uint64
	noise []int8
	// ditherRng dithers the reflection (dither)
	ditherRng uint64

	// mouthSrc is what the opening mouth samples: the still, or base when an identity is pasted
	mouthSrc planes
}

// NewRenderer makes a renderer of face.
func NewRenderer(face *Face, look Look) *Renderer {
	if look.Light == 0 {
		look.Light = 1
	}
	if look.Size == 0 {
		look.Size = 1
	}
	if look.Albedo > 0 && look.Albedo != 1 {
		face = face.withAlbedo(look.Albedo)
	}
	r := &Renderer{face: face, look: look, canon: face.img.clone(), base: face.img.clone(), out: newPlanes(), rng: look.Seed*2654435761 + 1}
	return r
}

// withAlbedo returns a copy of the face whose skin reflects a of the light it reflects in the
// still: the skin's RGB scaled by a, which in YCbCr scales luma and the chroma offsets from
// neutral alike. Skin is the head region's pixels whose chroma lies near the cheeks' (full
// weight within 6 levels, none beyond 14: the astronaut's suit, hair and the wall stay), so
// the neck and ears darken with the face.
func (f *Face) withAlbedo(a float64) *Face {
	g := *f
	g.img = f.img.clone()
	hr := f.headRect
	su, sv := float64(f.skinU), float64(f.skinV)
	for y := hr[1] &^ 1; y < hr[3]; y += 2 {
		for x := hr[0] &^ 1; x < hr[2]; x += 2 {
			j := (y/2)*W/2 + x/2
			u, v := float64(g.img.u[j]), float64(g.img.v[j])
			w := clampF((14-math.Hypot(u-su, v-sv))/8, 0, 1)
			if w == 0 {
				continue
			}
			k := 1 - w*(1-a)
			g.img.u[j] = clampB(128 + (u-128)*k)
			g.img.v[j] = clampB(128 + (v-128)*k)
			for dy := 0; dy < 2; dy++ {
				for dx := 0; dx < 2; dx++ {
					i := (y+dy)*W + x + dx
					g.img.y[i] = clampB(float64(g.img.y[i]) * k)
				}
			}
		}
	}
	g.derive() // the cheeks' skin colour, as the swap's colour transfer and the hand use it
	g.albedo = a
	return &g
}

// SetSwap pastes identity s over the face (landmark-aligned; nil removes it).
func (r *Renderer) SetSwap(s *Face) { r.swap = s }

// Render draws one frame of st into a new frame.
func (r *Renderer) Render(st State) *models.Frame {
	r.RenderInto(st, r.swap != nil)
	f := &models.Frame{Width: W, Height: H, Y: append([]byte(nil), r.out.y...), U: append([]byte(nil), r.out.u...), V: append([]byte(nil), r.out.v...)}
	return f
}

// RenderInto draws st into the renderer's own buffer; swapped selects the pasted identity.
func (r *Renderer) RenderInto(st State, swapped bool) {
	f := r.face
	if st.Scale == 0 {
		st.Scale = 1
	}
	if r.look.Noise > 0 && r.noise == nil {
		r.camera() // builds the noise table
	}
	// 1. The canonical (frontal) face: the still, the pasted identity, eyelids, mouth, reflection.
	hr := f.headRect
	copyRect(r.canon, f.img, hr)
	r.mouthSrc = f.img
	if swapped && r.swap != nil {
		r.pasteSwap(hr)
		// the jaw moves the pasted face, not the one under it
		copyRect(r.base, r.canon, hr)
		r.mouthSrc = r.base
	}
	r.drawMouth(st.Mouth)
	r.drawEyes(st.EyesClosed, st.GazeX)
	if st.Gain > 0 {
		gain := st.Gain
		if f.albedo > 0 {
			gain *= f.albedo // a darker skin reflects less of the screen too
		}
		r.reflect(st.Flash, gain)
	}
	// 2. The warps: head rotation in the head region, then the whole picture's scale.
	r.warp(st)
	// 3. The hand, in picture space.
	if st.Hand > 0 {
		r.drawHand(st)
	}
	// 4. The camera: lighting and noise.
	r.camera()
}

func copyRect(dst, src planes, rc [4]int) {
	for y := rc[1]; y < rc[3]; y++ {
		copy(dst.y[y*W+rc[0]:y*W+rc[2]], src.y[y*W+rc[0]:y*W+rc[2]])
	}
	for y := rc[1] / 2; y < rc[3]/2; y++ {
		copy(dst.u[y*W/2+rc[0]/2:y*W/2+rc[2]/2], src.u[y*W/2+rc[0]/2:y*W/2+rc[2]/2])
		copy(dst.v[y*W/2+rc[0]/2:y*W/2+rc[2]/2], src.v[y*W/2+rc[0]/2:y*W/2+rc[2]/2])
	}
}

// innerFace is the weight (0..1) of the inner face (brows to chin, cheek to cheek) at (x, y),
// feathered at its edge: where a face swap blends its face in.
func (f *Face) innerFace(x, y float64) float64 {
	rx, ry := 0.46*f.fw, 0.62*f.fw
	cy := f.cy - 0.05*f.fw
	d := math.Hypot((x-f.cx)/rx, (y-cy)/ry)
	return clampF((1.05-d)/0.2, 0, 1)
}

// pasteSwap blends the other identity's face, aligned by a similarity transform of the eyes
// and mouth onto this face's, into the canonical face.
func (r *Renderer) pasteSwap(hr [4]int) {
	f, s := r.face, r.swap
	// similarity from f-space to s-space using the eye line
	dfx, dfy := f.eyeR[0]-f.eyeL[0], f.eyeR[1]-f.eyeL[1]
	dsx, dsy := s.eyeR[0]-s.eyeL[0], s.eyeR[1]-s.eyeL[1]
	sc := math.Hypot(dsx, dsy) / math.Hypot(dfx, dfy)
	rot := math.Atan2(dsy, dsx) - math.Atan2(dfy, dfx)
	cs, sn := sc*math.Cos(rot), sc*math.Sin(rot)
	fm := [2]float64{(f.eyeL[0] + f.eyeR[0]) / 2, (f.eyeL[1] + f.eyeR[1]) / 2}
	sm := [2]float64{(s.eyeL[0] + s.eyeR[0]) / 2, (s.eyeL[1] + s.eyeR[1]) / 2}
	// colour transfer: shift the pasted skin to this face's skin (as swap tools do)
	dY := float64(f.skinY) - float64(s.skinY)
	dU := float64(f.skinU) - float64(s.skinU)
	dV := float64(f.skinV) - float64(s.skinV)
	for y := hr[1]; y < hr[3]; y++ {
		for x := hr[0]; x < hr[2]; x++ {
			w := f.innerFace(float64(x), float64(y))
			if w <= 0 {
				continue
			}
			px, py := float64(x)-fm[0], float64(y)-fm[1]
			sx, sy := sm[0]+cs*px-sn*py, sm[1]+sn*px+cs*py
			v := float64(bilinear(s.img.y, W, H, sx, sy)) + dY
			i := y*W + x
			r.canon.y[i] = clampB(float64(r.canon.y[i])*(1-w) + v*w)
			if x%2 == 0 && y%2 == 0 {
				j := (y/2)*W/2 + x/2
				u := float64(bilinear(s.img.u, W/2, H/2, sx/2, sy/2)) + dU
				vv := float64(bilinear(s.img.v, W/2, H/2, sx/2, sy/2)) + dV
				r.canon.u[j] = clampB(float64(r.canon.u[j])*(1-w) + u*w)
				r.canon.v[j] = clampB(float64(r.canon.v[j])*(1-w) + vv*w)
			}
		}
	}
}

// drawMouth opens the mouth by m: the lower lip and the jaw move down, the gap is the dark
// inside of the mouth.
func (r *Renderer) drawMouth(m float64) {
	if m <= 0.01 {
		return
	}
	f := r.face
	gap := m * 0.16 * f.fw
	mx, my := f.mouthC[0], f.mouthC[1]
	hw := 0.62 * f.mouthW
	bottom := f.chinY + 0.25*f.fw
	x0, x1 := int(mx-0.55*f.fw), int(mx+0.55*f.fw)
	for y := int(my); y < int(bottom)+1 && y < H; y++ {
		t := 1.0
		if float64(y) > f.chinY {
			t = clampF((bottom-float64(y))/(bottom-f.chinY), 0, 1)
		}
		for x := max(0, x0); x < min(W, x1); x++ {
			hx := clampF((0.55*f.fw-math.Abs(float64(x)-mx))/(0.2*f.fw), 0, 1)
			sh := gap * t * hx
			sy := math.Max(my, float64(y)-sh)
			r.canon.y[y*W+x] = bilinear(r.mouthSrc.y, W, H, float64(x), sy)
			if x%2 == 0 && y%2 == 0 {
				r.canon.u[(y/2)*W/2+x/2] = bilinear(r.mouthSrc.u, W/2, H/2, float64(x)/2, sy/2)
				r.canon.v[(y/2)*W/2+x/2] = bilinear(r.mouthSrc.v, W/2, H/2, float64(x)/2, sy/2)
			}
		}
	}
	// the inside of the mouth
	cy := my + gap/2
	ry := gap / 2
	for y := int(cy - ry - 1); y <= int(cy+ry+1); y++ {
		for x := int(mx - hw); x <= int(mx+hw); x++ {
			d := math.Hypot((float64(x)-mx)/hw, (float64(y)-cy)/math.Max(ry, 0.5))
			if d > 1 || x < 0 || y < 0 || x >= W || y >= H {
				continue
			}
			r.canon.y[y*W+x] = clampB(30 + 25*d)
			if x%2 == 0 && y%2 == 0 {
				r.canon.u[(y/2)*W/2+x/2] = 124
				r.canon.v[(y/2)*W/2+x/2] = 150
			}
		}
	}
}

// drawEyes closes the eyelids by c (skin drawn over the eye from the top, a dark lash line at
// the lid's edge) and moves the pupils by gaze.
func (r *Renderer) drawEyes(c, gaze float64) {
	f := r.face
	for e := 0; e < 2; e++ {
		p := f.pts(36+6*e, 41+6*e)
		ctr := mean(p)
		ew := math.Hypot(p[3][0]-p[0][0], p[3][1]-p[0][1])
		if gaze != 0 { // shift the iris: sample the eye from the other side
			hw, hh := 0.45*ew, 0.22*ew
			src := r.canon.clone()
			for y := int(ctr[1] - hh); y <= int(ctr[1]+hh); y++ {
				for x := int(ctr[0] - hw); x <= int(ctr[0]+hw); x++ {
					d := math.Hypot((float64(x)-ctr[0])/hw, (float64(y)-ctr[1])/hh)
					if d > 1 {
						continue
					}
					r.canon.y[y*W+x] = bilinear(src.y, W, H, float64(x)-gaze*0.18*ew*(1-d), float64(y))
				}
			}
		}
		if c <= 0.02 {
			continue
		}
		top := math.Min(p[1][1], p[2][1]) - 0.12*ew
		bot := math.Max(p[4][1], p[5][1]) + 0.1*ew
		hw := 0.62 * ew
		skinY := float64(bilinear(f.img.y, W, H, ctr[0], ctr[1]-0.55*ew))
		for y := int(top); y <= int(bot)+1; y++ {
			for x := int(ctr[0] - hw); x <= int(ctr[0]+hw); x++ {
				dx := (float64(x) - ctr[0]) / hw
				if math.Abs(dx) > 1 {
					continue
				}
				// the eye's outline is an ellipse-ish lens: taller in the middle
				ytop := ctr[1] - (ctr[1]-top)*math.Sqrt(1-dx*dx)
				ylid := ytop + c*(bot-top)*math.Sqrt(1-dx*dx)
				if float64(y) < ytop || float64(y) > ylid+1.5 {
					continue
				}
				v := skinY * (0.92 + 0.08*(float64(y)-ytop)/math.Max(1, ylid-ytop))
				if float64(y) > ylid-1.5 && c > 0.5 { // lashes
					v = 0.45 * skinY
				}
				r.canon.y[y*W+x] = clampB(v)
				if x%2 == 0 && y%2 == 0 {
					r.canon.u[(y/2)*W/2+x/2] = f.skinU
					r.canon.v[(y/2)*W/2+x/2] = f.skinV
				}
			}
		}
	}
}

// reflect adds the screen's light to the skin: gain times the colour's luma and chroma offsets.
func (r *Renderer) reflect(rgb [3]byte, gain float64) {
	f := r.face
	fr, fg, fb := float64(rgb[0]), float64(rgb[1]), float64(rgb[2])
	yy := 0.299*fr + 0.587*fg + 0.114*fb
	cb := -0.169*fr - 0.331*fg + 0.5*fb
	cr := 0.5*fr - 0.419*fg - 0.081*fb
	hr := f.headRect
	for y := hr[1]; y < hr[3]; y += 2 {
		for x := hr[0]; x < hr[2]; x += 2 {
			w := f.innerFace(float64(x), float64(y)) * gain
			if w <= 0 {
				continue
			}
			j := (y/2)*W/2 + x/2
			// Dithered: a reflection of less than a level per pixel (a weak or dark skin's)
			// would round to nothing on every pixel, where a camera's sensor noise keeps it
			// in the face's mean (finding 21: gain 0.01 read 0.0007 without it).
			r.canon.u[j] = clampB(float64(r.canon.u[j]) + w*cb + r.dither())
			r.canon.v[j] = clampB(float64(r.canon.v[j]) + w*cr + r.dither())
			for dy := 0; dy < 2; dy++ {
				for dx := 0; dx < 2; dx++ {
					i := (y+dy)*W + x + dx
					r.canon.y[i] = clampB(float64(r.canon.y[i]) + w*(yy-128)*0.5)
				}
			}
		}
	}
}

// warpSrc maps an output point to the canonical picture: the inverse of lean-in scale about
// the face centre and of a head rotation (a sphere through the face) inside the head region.
func (r *Renderer) warpSrc(st State, x, y float64) (float64, float64) {
	f := r.face
	s := st.Scale * r.look.Size
	x = f.cx + (x-f.cx)/s
	y = f.cy + (y-f.cy)/s
	// head region weight
	hy := f.cy - 0.1*f.fw
	d := math.Hypot((x-f.cx)/(0.72*f.fw), (y-hy)/(0.95*f.fw))
	w := clampF((1.25-d)/0.4, 0, 1)
	if w == 0 {
		return x, y
	}
	sx, sy := x, y
	if st.Yaw != 0 {
		R, ax := 0.62*f.fw, f.yawAxis
		u := clampF((x-ax)/R, -1, 1)
		a := math.Asin(u) - st.Yaw*math.Pi/180
		a = clampF(a, -math.Pi/2, math.Pi/2)
		sx = ax + R*math.Sin(a)
	}
	if st.Pitch != 0 {
		R := 0.8 * f.fw
		c := f.cy
		v := clampF((y-c)/R, -1, 1)
		a := math.Asin(v) + st.Pitch*math.Pi/180
		a = clampF(a, -math.Pi/2, math.Pi/2)
		sy = c + R*math.Sin(a)
	}
	return x + w*(sx-x), y + w*(sy-y)
}

func (r *Renderer) warp(st State) {
	f := r.face
	s := st.Scale * r.look.Size
	if st.Yaw == 0 && st.Pitch == 0 && s == 1 {
		copy(r.out.y, r.canon.y)
		copy(r.out.u, r.canon.u)
		copy(r.out.v, r.canon.v)
		return
	}
	// Only the head region moves with the rotation; the rest is scaled (or copied).
	hy := f.cy - 0.1*f.fw
	bx0, bx1 := f.cx-1.3*0.72*f.fw, f.cx+1.3*0.72*f.fw
	by0, by1 := hy-1.3*0.95*f.fw, hy+1.3*0.95*f.fw
	// the head box in output coordinates
	ox0, ox1 := clampI(int(f.cx+(bx0-f.cx)*s)-2, 0, W), clampI(int(f.cx+(bx1-f.cx)*s)+2, 0, W)
	oy0, oy1 := clampI(int(f.cy+(by0-f.cy)*s)-2, 0, H), clampI(int(f.cy+(by1-f.cy)*s)+2, 0, H)
	if s == 1 {
		copy(r.out.y, r.canon.y)
		copy(r.out.u, r.canon.u)
		copy(r.out.v, r.canon.v)
	}
	for y := 0; y < H; y++ {
		inRows := y >= oy0 && y < oy1
		if s == 1 && !inRows {
			continue
		}
		for x := 0; x < W; x++ {
			var sx, sy float64
			if inRows && x >= ox0 && x < ox1 {
				sx, sy = r.warpSrc(st, float64(x), float64(y))
			} else if s == 1 {
				continue
			} else {
				sx, sy = f.cx+(float64(x)-f.cx)/s, f.cy+(float64(y)-f.cy)/s
			}
			r.out.y[y*W+x] = bilinear(r.canon.y, W, H, sx, sy)
			if x&1 == 0 && y&1 == 0 {
				r.out.u[(y/2)*W/2+x/2] = bilinear(r.canon.u, W/2, H/2, sx/2, sy/2)
				r.out.v[(y/2)*W/2+x/2] = bilinear(r.canon.v, W/2, H/2, sx/2, sy/2)
			}
		}
	}
}

// drawHand draws a hand (palm and four fingers, skin a little redder than the face) coming in
// from the person's right over half the face; h is how far it came (1: covering).
func (r *Renderer) drawHand(st State) {
	f := r.face
	s := st.Scale * r.look.Size
	cx := f.cx + math.Sin(st.Yaw*math.Pi/180)*0.62*f.fw*s
	cy := f.cy
	fw := f.fw * s
	// palm centre moves from outside the frame edge to over the left half of the image's face
	off := (1 - st.Hand) * 1.6 * fw
	pcx, pcy := cx-0.22*fw-off, cy+0.05*fw
	hu, hv := clampB(float64(f.skinU)-3), clampB(float64(f.skinV)+9)
	hy := float64(f.skinY) * 0.97
	inHand := func(x, y float64) bool {
		// palm: ellipse
		if math.Hypot((x-pcx)/(0.36*fw), (y-pcy)/(0.42*fw)) <= 1 {
			return true
		}
		// fingers: four capsules pointing up, slightly fanned
		for k := 0; k < 4; k++ {
			bx := pcx - 0.24*fw + float64(k)*0.16*fw
			by := pcy - 0.25*fw
			ang := (float64(k) - 1.5) * 0.08
			tx, ty := bx+math.Sin(ang)*0.55*fw, by-math.Cos(ang)*0.55*fw
			if segDist(x, y, bx, by, tx, ty) < 0.075*fw {
				return true
			}
		}
		// thumb, to the side
		return segDist(x, y, pcx+0.3*fw, pcy+0.1*fw, pcx+0.5*fw, pcy-0.15*fw) < 0.08*fw
	}
	var faceMask func(x, y float64) bool
	if st.HandOnTop {
		// the swap paints the face over the hand: the inner face stays visible
		faceMask = func(x, y float64) bool {
			sx, sy := r.warpSrc(st, x, y)
			return f.innerFace(sx, sy) > 0.5
		}
	}
	y0, y1 := clampI(int(pcy-1.0*fw), 0, H), clampI(int(pcy+0.5*fw), 0, H)
	x0, x1 := clampI(int(pcx-0.5*fw), 0, W), clampI(int(pcx+0.6*fw), 0, W)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			fx, fy := float64(x), float64(y)
			if !inHand(fx, fy) || (faceMask != nil && faceMask(fx, fy)) {
				continue
			}
			shade := 1 - 0.15*clampF((fx-pcx)/(0.5*fw), -1, 1) // a little light from one side
			r.out.y[y*W+x] = clampB(hy * shade)
			if x%2 == 0 && y%2 == 0 {
				r.out.u[(y/2)*W/2+x/2] = hu
				r.out.v[(y/2)*W/2+x/2] = hv
			}
		}
	}
}

func segDist(px, py, ax, ay, bx, by float64) float64 {
	vx, vy := bx-ax, by-ay
	t := clampF(((px-ax)*vx+(py-ay)*vy)/(vx*vx+vy*vy), 0, 1)
	return math.Hypot(px-ax-t*vx, py-ay-t*vy)
}

// camera applies lighting and sensor noise (from a table of Gaussian-ish values read at a
// random offset each frame).
func (r *Renderer) camera() {
	l := r.look
	if l.Light == 1 && l.Offset == 0 && l.Noise == 0 {
		return
	}
	if l.Noise > 0 && r.noise == nil {
		r.noise = make([]int8, 1<<20)
		for i := range r.noise {
			r.noise[i] = int8(clampF((r.rnd()+r.rnd()+r.rnd()-1.5)*2*l.Noise, -127, 127))
		}
	}
	off := int(r.rnd() * float64(len(r.noise)-len(r.out.y)-1))
	for i, v := range r.out.y {
		n := 0.0
		if r.noise != nil {
			n = float64(r.noise[off+i])
		}
		r.out.y[i] = clampB(float64(v)*l.Light + l.Offset + n)
	}
}

// dither is uniform in [-0.5, 0.5), from its own generator (the camera's noise stays as it was).
func (r *Renderer) dither() float64 {
	if r.ditherRng == 0 {
		r.ditherRng = r.look.Seed*0x9E3779B97F4A7C15 + 7
	}
	r.ditherRng ^= r.ditherRng << 13
	r.ditherRng ^= r.ditherRng >> 7
	r.ditherRng ^= r.ditherRng << 17
	return float64(r.ditherRng>>11)/(1<<53) - 0.5
}

func (r *Renderer) rnd() float64 {
	r.rng ^= r.rng << 13
	r.rng ^= r.rng >> 7
	r.rng ^= r.rng << 17
	return float64(r.rng>>11) / (1 << 53)
}

// ParseColor reads "#rrggbb".
func ParseColor(s string) ([3]byte, error) {
	if len(s) != 7 || s[0] != '#' {
		return [3]byte{}, errors.New("redteam: colour " + s + " is not #rrggbb")
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return [3]byte{}, err
	}
	return [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}, nil
}
