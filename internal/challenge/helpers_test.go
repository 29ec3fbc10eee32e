package challenge

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Test timeline: observations from t0 for clipLen at 15 fps; the prompt is issued at
// t0+issueAt and its display ack arrives ackDelay later. Scripted curves take seconds since t0;
// sh(x) is x seconds after the ack.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	fps      = 15.0
	clipLen  = 20 * time.Second
	issueAt  = 4 * time.Second
	ackDelay = 150 * time.Millisecond
)

func issuedAt() time.Time { return t0.Add(issueAt) }
func shownAt() time.Time  { return t0.Add(issueAt + ackDelay) }

// sh returns the script time (seconds since t0) x seconds after the display ack.
func sh(x float64) float64 { return (issueAt + ackDelay).Seconds() + x }

// curve is a scripted value over time (seconds since t0).
type curve func(t float64) float64

func constant(v float64) curve { return func(float64) float64 { return v } }

// trapezoid is base until start, rises linearly to base+delta over rise seconds, holds for hold
// seconds, falls back over fall seconds (fall ≤ 0: never falls back).
func trapezoid(base, delta, start, rise, hold, fall float64) curve {
	return func(t float64) float64 {
		switch {
		case t < start:
			return base
		case t < start+rise:
			return base + delta*(t-start)/rise
		case t < start+rise+hold || fall <= 0:
			return base + delta
		case t < start+rise+hold+fall:
			return base + delta*(1-(t-start-rise-hold)/fall)
		}
		return base
	}
}

// blinks is an open-eye EAR of open with a 270 ms triangular closure down to ~0.05 at each time.
func blinks(open float64, at ...float64) curve {
	const half = 0.135
	return func(t float64) float64 {
		v := open
		for _, b := range at {
			if d := math.Abs(t - b); d < half {
				v = math.Min(v, open-(open-0.05)*(1-d/half))
			}
		}
		return v
	}
}

// subject is a synthetic candidate: every measured quantity follows a scripted curve plus
// Gaussian noise of a realistic size, sampled at 15 fps.
type subject struct {
	rng                               *rand.Rand
	yaw, pitch, roll, ear, occ, scale curve
	mouth                             curve
	y, cb, cr                         curve
	present, landmarks, coasting      func(t float64) bool
	identity                          func(t float64) int // landmark template in use
	noise                             float64             // multiplier on the default noise
	// boxMax > 0 clips the detector's box at this scale (a face at the picture's edge: the
	// cascade's window cannot grow beyond it) while the landmarks follow scale.
	boxMax float64
}

func newSubject(seed uint64) *subject {
	return &subject{
		rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		yaw: constant(2), pitch: constant(-3), roll: constant(0), ear: constant(0.3), occ: constant(0.05),
		scale: constant(0.25), mouth: constant(0.05),
		y: constant(120), cb: constant(110), cr: constant(150),
		present:   func(float64) bool { return true },
		landmarks: func(float64) bool { return true },
		coasting:  func(float64) bool { return false },
		identity:  func(float64) int { return 0 },
		noise:     1,
	}
}

func (s *subject) n(sd float64) float64 { return s.rng.NormFloat64() * sd * s.noise }

// observations samples the subject over the whole clip.
func (s *subject) observations() []models.Observation {
	var out []models.Observation
	for i := 0; float64(i) < clipLen.Seconds()*fps; i++ {
		t := float64(i) / fps
		o := models.Observation{At: t0.Add(time.Duration(t * float64(time.Second)))}
		if !s.present(t) {
			o.FaceY = 20 + s.n(1) // background; unused when no face
			out = append(out, o)
			continue
		}
		o.FacePresent, o.FaceConf = true, 0.9
		o.Coasting = s.coasting(t) // detector missed: last box kept, no landmarks
		if o.Coasting {
			o.FaceConf = 0
		}
		o.Scale = s.scale(t) + s.n(0.003)
		lw := o.Scale * 640 // the face's true width: the landmarks' scale
		if s.boxMax > 0 && o.Scale > s.boxMax {
			o.Scale = s.boxMax + s.n(0.003)
		}
		w := int(o.Scale * 640)
		o.Face = models.Rect{X: 320 - w/2, Y: 120, W: w, H: w}
		o.Yaw, o.Pitch, o.Roll = s.yaw(t)+s.n(1.5), s.pitch(t)+s.n(1.5), s.roll(t)+s.n(1)
		o.Occlusion = math.Max(0, s.occ(t)+s.n(0.02))
		o.FaceY, o.FaceCb, o.FaceCr = s.y(t)+s.n(1), s.cb(t)+s.n(0.7), s.cr(t)+s.n(0.7)
		o.Sharpness = 100
		if s.landmarks(t) && !o.Coasting {
			o.LandmarksOK, o.PoseOK = true, true
			o.EAR = math.Max(0.02, s.ear(t)+s.n(0.01))
			o.Mouth = math.Max(0, s.mouth(t)+s.n(0.015))
			o.Landmarks = s.shape(s.identity(t), o, lw)
		}
		out = append(out, o)
	}
	return out
}

// templates are the two synthetic identities' landmark layouts.
var templates = [2][68][2]float64{makeTemplate(0), makeTemplate(1)}

// makeTemplate returns a 68-point face in face-width units (dlib numbering, x right, y down).
// Identity 1 has a wider jaw and a longer nose than identity 0.
func makeTemplate(identity int) [68][2]float64 {
	jawW, noseL := 0.5, 0.25
	if identity == 1 {
		jawW, noseL = 0.58, 0.31
	}
	var p [68][2]float64
	for i := 0; i <= 16; i++ { // jaw: half ellipse below the eyes
		a := math.Pi * float64(i) / 16
		p[i] = [2]float64{-jawW * math.Cos(a), 0.05 + 0.45*math.Sin(a)}
	}
	for i := 17; i <= 26; i++ { // brows
		p[i] = [2]float64{-0.35 + 0.7*float64(i-17)/9, -0.12}
	}
	for i := 27; i <= 30; i++ { // nose bridge
		p[i] = [2]float64{0, noseL * float64(i-27) / 3}
	}
	for i := 31; i <= 35; i++ { // nostrils
		p[i] = [2]float64{-0.1 + 0.05*float64(i-31), noseL + 0.03}
	}
	eye := func(first int, cx float64) {
		for k := range 6 {
			a := 2 * math.Pi * float64(k) / 6
			p[first+k] = [2]float64{cx + 0.09*math.Cos(a+math.Pi), 0.03 * math.Sin(a)}
		}
	}
	eye(36, -0.2)
	eye(42, 0.2)
	// the mouth in dlib's order: the outer lips from the left corner (48) over the top (49–53)
	// to the right corner (54) and back along the bottom (55–59), then the inner contour (60–67)
	for k := range 12 {
		x := []float64{-0.18, -0.12, -0.06, 0, 0.06, 0.12, 0.18, 0.12, 0.06, 0, -0.06, -0.12}[k]
		y := []float64{0.38, 0.35, 0.34, 0.34, 0.34, 0.35, 0.38, 0.41, 0.42, 0.42, 0.42, 0.41}[k]
		p[48+k] = [2]float64{x, y}
	}
	for k := range 8 {
		x := []float64{-0.14, -0.06, 0, 0.06, 0.14, 0.06, 0, -0.06}[k]
		y := []float64{0.38, 0.375, 0.375, 0.375, 0.38, 0.385, 0.385, 0.385}[k]
		p[60+k] = [2]float64{x, y}
	}
	return p
}

// shape places the identity's template, w pixels wide, on the face box's centre with the
// observation's roll and ~0.5 px of landmark noise; the lower lip drops by the observation's
// mouth opening (o.Mouth, noise included) times the mouth's width, and the outer gaps' lower
// points (56–58) share their upper points' noise, so the outer lips' gap lip sync measures
// (lipOpening, finding 29) carries the same signal and noise as o.Mouth.
func (s *subject) shape(identity int, o models.Observation, w float64) [68][2]float32 {
	tp := &templates[identity]
	cx, cy := float64(o.Face.X)+float64(o.Face.W)/2, float64(o.Face.Y)+0.4*w
	sin, cos := math.Sincos(o.Roll * math.Pi / 180)
	var out [68][2]float32
	mw := (tp[54][0] - tp[48][0]) * w // the mouth's width
	var ns [68][2]float64
	for i, q := range tp {
		x, y := q[0]*w, q[1]*w
		ns[i] = [2]float64{s.n(0.5), s.n(0.5)}
		if i >= 56 && i <= 58 { // the outer gaps' lower ends move with their upper ends
			ns[i] = ns[108-i]
		}
		if (i >= 55 && i <= 59) || i >= 65 { // the lower lip drops by the opening
			y += o.Mouth * mw
		}
		out[i] = [2]float32{
			float32(cx + x*cos - y*sin + ns[i][0]),
			float32(cy + x*sin + y*cos + ns[i][1]),
		}
	}
	return out
}

// speech is a synthetic utterance: syllables of random length and loudness with short gaps.
type speech struct {
	start float64 // seconds since t0
	segs  [][3]float64
}

// newSpeech scripts about dur seconds of speech starting at start.
func newSpeech(rng *rand.Rand, start, dur float64) speech {
	sp := speech{start: start}
	for t := start; t < start+dur; {
		l := 0.12 + 0.13*rng.Float64()
		sp.segs = append(sp.segs, [3]float64{t, t + l, 0.03 + 0.07*rng.Float64()})
		t += l + 0.04 + 0.08*rng.Float64()
	}
	return sp
}

// rms is the speech loudness at t (a raised-cosine envelope per syllable); 0 outside speech.
func (sp speech) rms(t float64) float64 {
	for _, s := range sp.segs {
		if t >= s[0] && t < s[1] {
			return s[2] * 0.5 * (1 - math.Cos(2*math.Pi*(t-s[0])/(s[1]-s[0])))
		}
	}
	return 0
}

// audio samples loudness every 20 ms over the clip: a noise floor around 0.002 plus env.
func audio(rng *rand.Rand, env curve) []AudioSample {
	var out []AudioSample
	for t := 0.0; t < clipLen.Seconds(); t += 0.02 {
		v := 0.002*(1+0.3*rng.NormFloat64()) + env(t+0.01) // a chunk's loudness is its middle's
		out = append(out, AudioSample{At: t0.Add(time.Duration(t * float64(time.Second))), RMS: math.Abs(v)})
	}
	return out
}

// input builds a verifier input for ch with the standard timeline.
func input(ch Challenge, obs []models.Observation, au []AudioSample) Input {
	return Input{Challenge: ch, Issued: issuedAt(), Shown: shownAt(), Observations: obs, Audio: au}
}

// fixed returns a challenge of kind k with the given parameters and its catalog deadline.
func fixed(k Kind, p Params) Challenge {
	return Challenge{ID: "test-" + string(k), Kind: k, Params: p, Deadline: deadline(k, p), Attempt: 1}
}
