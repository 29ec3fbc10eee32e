package redteam

import (
	crand "crypto/rand"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/vision"
	"github.com/livecheck/livecheck/models"
)

// offlineChallenge renders an actor's answer to one prompt at 15 fps, measures every frame
// with the project's vision analyser (as the live session does, coasting boxes included) and
// verifies it with the project's verifier: the red team's synthetic person checked on the
// analysis path before going live.
func offlineChallenge(t *testing.T, f *Face, b Behaviour, swap *Face, swapMode string, ch challenge.Challenge) (challenge.Result, []models.Observation) {
	t.Helper()
	res, obs, _ := offlineRun(t, f, b, offlineOpts{swap: swap, sc: Scenario{Swap: swapMode, Behaviour: b}}, ch)
	return res, obs
}

// offlineOpts: a face swap (the pasted identity and the scenario's failure mode) and the
// identity stage's session (nil: none).
type offlineOpts struct {
	swap *Face
	sc   Scenario
	ids  *faceid.Session
	look Look // default: a camera's noise
	// each, when set, sees every rendered frame with its observation and whether the swap's
	// pasted face shows on it (measurements).
	each func(fr *models.Frame, ob *models.Observation, pasted bool)
	// state, when set, sees every measured frame's observation with the actor's state it
	// rendered, before the verifier does (measurements: the true mouth opening, another
	// measure of it).
	state func(st State, ob *models.Observation)
	// kbps > 0: every frame goes through VP8 (libvpx, realtime CBR at this bitrate, as the
	// live sender) and back before it is measured.
	kbps int
	seed uint64 // the actor's (blinks); default 1
	// leave: instead of raising the hand the person leaves the picture for as long as the hand
	// would be over the face (the camera sees an empty grey wall).
	leave bool
	// delay: the whole stream (video and audio) arrives this much late (the delayed and
	// swap/latency scenarios): every frame and audio chunk shows the actor this much earlier.
	delay time.Duration
	// keyAt: the encoder is asked for a keyframe on these frame indexes (a keyframe request
	// after a loss, as the live receiver sends).
	keyAt map[int]bool
	// input, when set, sees the verifier's input (measurements: verify it again otherwise).
	input func(challenge.Input)
	// repeat: the share of frames on which a virtual camera sends the previous rendered frame
	// again, on time (swap/fps_repeat, as run.go's sender); repeated marks them.
	repeat   float64
	repeated map[int]bool
	// cpuUsed: the encoder's libvpx speed (media.VP8EncoderConfig.CPUUsed; 0: its default).
	cpuUsed int
	// good: libvpx's good deadline (media.VP8EncoderConfig.Good): the same bytes every run.
	good bool
	// skip: the share of decoded frames the analysis never sees (a loaded server thinning its
	// queue; finding 25): they are decoded, not measured, and break the ChangeMeter's chain.
	skip float64
}

// offlineRun is offlineChallenge with a swap's failure mode and, when o.ids is set, the
// identity stage as the analysis session runs it (analysis/identity.go: a face every 2 s, every
// 250 ms from the issue to the verification, the first frame of each always). It returns the
// identity samples' distances of the challenge's during and after windows.
func offlineRun(t *testing.T, f *Face, b Behaviour, o offlineOpts, ch challenge.Challenge) (challenge.Result, []models.Observation, []float64) {
	t.Helper()
	seed := o.seed
	if seed == 0 {
		seed = 1
	}
	var voice *Voice
	if ch.Kind == challenge.KindReadDigits { // read_digits: the actor speaks, audio is measured
		var err error
		if voice, err = NewVoice(); err != nil {
			t.Skip(err)
		}
	}
	a := NewActor(b, voice, seed)
	look := o.look
	if look == (Look{}) {
		look = Look{Noise: 2.5, Seed: 1}
	}
	r := NewRenderer(f, look)
	r.SetSwap(o.swap)
	sw := &swapper{sc: o.sc}
	an, err := vision.NewAnalyzer(vision.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	var enc *media.VP8Encoder
	var dec *media.VP8Decoder
	if o.kbps > 0 {
		if enc, err = media.NewVP8Encoder(media.VP8EncoderConfig{Width: W, Height: H, FPS: 15, BitrateKbps: o.kbps, CPUUsed: o.cpuUsed, Good: o.good}); err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		if dec, err = media.NewVP8Decoder(); err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
	}
	t0 := a.t0
	issued := t0.Add(4 * time.Second)
	msg, _ := json.Marshal(ch.Prompt())
	a.Prompt(msg, issued.Add(40*time.Millisecond))
	v := challenge.Verifier{}
	_, to := v.Window(ch, issued, issued.Add(40*time.Millisecond))
	var obs []models.Observation
	var before []keptFrame // cover_face: the last usable faces not embedded
	active := false
	rrng := rand.New(rand.NewPCG(seed, 16))
	swapped := false
	var change challenge.ChangeMeter
	srng := rand.New(rand.NewPCG(seed, 17))
	var st State
	for at := t0; !at.After(to); at = at.Add(time.Second / 15) {
		if o.repeat > 0 && len(obs) > 0 && rrng.Float64() < o.repeat {
			if o.repeated != nil {
				o.repeated[len(obs)] = true
			}
		} else {
			st = a.State(at.Add(-o.delay))
			swapped = sw.frame(&st)
			o.render(r, st, swapped)
		}
		fr := &models.Frame{Width: W, Height: H, Y: r.out.y, U: r.out.u, V: r.out.v, Capture: at}
		if enc != nil {
			pkt, _, err := enc.Encode(fr, o.keyAt[len(obs)])
			if err != nil {
				t.Fatal(err)
			}
			if fr, err = dec.Decode(pkt, at); err != nil {
				t.Fatal(err)
			}
		}
		if o.skip > 0 && len(obs) > 0 && srng.Float64() < o.skip {
			delete(o.repeated, len(obs))
			continue
		}
		ob, err := an.Measure(fr)
		if err != nil {
			t.Fatal(err)
		}
		ob.At = at
		ob.Change, ob.ChangeOK = change.Measure(fr, ob.Face) // as analysis.Session.observe
		if o.state != nil {
			o.state(st, &ob)
		}
		obs = append(obs, ob)
		if o.each != nil {
			o.each(fr, &ob, swapped && o.swap != nil)
		}
		if o.ids != nil {
			act := !at.Before(issued)
			if act != active {
				o.ids.ForceNext()
				o.ids.SetChallenge(act) // as analysis/identity.go: unsteady faces, the challenge's yaw limit
				active = act
			}
			due := o.ids.Due(at, act)
			if ch.Kind == challenge.KindCoverFace { // the faces around the hand's transitions, as analysis/identity.go
				o.ids.SetCover(act)
				if act {
					now, flush, keep := o.ids.CoverStep(&ob)
					if flush {
						for _, b := range before {
							if o.ids.CoverFlushDue(b.o.At, at) {
								if err := o.ids.ObserveCover(&b.f, &b.o); err != nil {
									t.Fatal(err)
								}
							}
						}
						before = before[:0]
					}
					switch {
					case due:
					case now:
						if err := o.ids.ObserveCover(fr, &ob); err != nil {
							t.Fatal(err)
						}
						continue
					case keep:
						if len(before) >= o.ids.CoverBefore() {
							before = before[1:]
						}
						before = append(before, keptFrame{copyFrame(fr), ob})
					}
				}
			}
			if due {
				if _, _, err := o.ids.Observe(fr, &ob); err != nil {
					t.Fatal(err)
				}
			} else if ch.Kind == challenge.KindTurnHead && o.ids.PairDue(&ob) { // a turned face for the same-pose comparison
				if err := o.ids.ObservePair(fr, &ob); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var au []challenge.AudioSample
	if voice != nil { // loudness every 20 ms as the session computes it
		buf := make([]int16, 960)
		for at := t0; !at.After(to); at = at.Add(20 * time.Millisecond) {
			a.Audio(at.Add(-o.delay), buf)
			var s float64
			for _, x := range buf {
				s += float64(x) * float64(x)
			}
			au = append(au, challenge.AudioSample{At: at, RMS: math.Sqrt(s/960) / 32768})
		}
	}
	in := challenge.Input{Challenge: ch, Issued: issued, Shown: issued.Add(40 * time.Millisecond), Observations: obs, Audio: au}
	if o.input != nil {
		o.input(in)
	}
	res := v.Verify(in)
	var ds []float64
	if o.ids != nil {
		for _, p := range o.ids.History() {
			if !p.At.Before(issued) {
				ds = append(ds, p.Distance)
			}
		}
	}
	return res, obs, ds
}

// render renders one frame of the actor's state (the person leaving, or the swap's face).
func (o *offlineOpts) render(r *Renderer, st State, swapped bool) {
	if o.leave {
		away := st.Hand > 0.3
		st.Hand = 0
		r.RenderInto(st, false)
		if away {
			fillPlanes(r.out, 112, 128, 128)
			r.camera()
		}
		return
	}
	r.RenderInto(st, swapped && o.swap != nil)
}

// keptFrame is a frame copy with its observation (offlineRun's cover_face faces before the hand).
type keptFrame struct {
	f models.Frame
	o models.Observation
}

func copyFrame(f *models.Frame) models.Frame {
	c := *f
	c.Y, c.U, c.V = append([]byte(nil), f.Y...), append([]byte(nil), f.U...), append([]byte(nil), f.V...)
	return c
}

func newChallenge(t *testing.T, k challenge.Kind, dir string) challenge.Challenge {
	t.Helper()
	for {
		ch, err := challenge.NewChallenge(k, false, crand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if dir == "" || ch.Params.Dir == dir {
			return ch
		}
	}
}

func describe(obs []models.Observation, from, to time.Time) string {
	s := ""
	for _, o := range obs {
		if o.At.Before(from) || o.At.After(to) {
			continue
		}
		c := "."
		switch {
		case !o.FacePresent:
			c = "_"
		case o.Coasting:
			c = "c"
		case !o.LandmarksOK:
			c = "n"
		case o.Occlusion >= 0.4:
			c = "X"
		case o.Occlusion >= 0.2:
			c = "x"
		}
		s += c
	}
	return s
}

// TestOfflineResponses: the honest synthetic person's answers to cover_face, turn_head (both
// ways), blink, move_closer and look up pass the project's own verifiers on the analysis path,
// offline (every frame measured); a face swap that paints over the hand fails cover_face and
// one whose rendering breaks beyond 25° fails turn_head.
func TestOfflineResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and measures ~1000 frames")
	}
	f := testdataFace(t)
	b := honestBehaviour([2]time.Duration{600 * time.Millisecond, 600 * time.Millisecond})
	for _, c := range []struct {
		kind challenge.Kind
		dir  string
		mut  func(*Behaviour)
		mode string
		want challenge.Outcome
	}{
		{challenge.KindCoverFace, "", nil, "", challenge.OutcomePassed},
		{challenge.KindTurnHead, challenge.DirLeft, nil, "", challenge.OutcomePassed},
		{challenge.KindTurnHead, challenge.DirRight, nil, "", challenge.OutcomePassed},
		{challenge.KindBlink, "", nil, "", challenge.OutcomePassed},
		{challenge.KindMoveCloser, "", nil, "", challenge.OutcomePassed},
		{challenge.KindLook, challenge.DirUp, nil, "", challenge.OutcomePassed},
		{challenge.KindCoverFace, "", nil, "paint_over", challenge.OutcomeFailed},
		{challenge.KindTurnHead, challenge.DirLeft, func(b *Behaviour) { b.YawLimit = 25 }, "", challenge.OutcomeFailed},
	} {
		bb := b
		if c.mut != nil {
			c.mut(&bb)
		}
		res, obs := offlineChallenge(t, f, bb, nil, c.mode, newChallenge(t, c.kind, c.dir))
		t.Logf("%s %s %s: %s %s peak %.2f %s; %s", c.kind, c.dir, c.mode, res.Outcome, res.Reason, res.Peak, res.Unit,
			describe(obs, res.Issued, res.Deadline))
		if res.Outcome != c.want {
			t.Errorf("%s %s %s: %s (%s), want %s", c.kind, c.dir, c.mode, res.Outcome, res.Reason, c.want)
		}
	}
}

// offlineDigits answers a read_digits prompt offline: frames through vision, audio loudness
// every 20 ms as the session computes it, both into the project's verifier.
func offlineDigits(t *testing.T, f *Face, b Behaviour) challenge.Result {
	t.Helper()
	res, _, _ := offlineRun(t, f, b, offlineOpts{look: Look{Noise: 2.5, Seed: 2}, seed: 2}, newChallenge(t, challenge.KindReadDigits, ""))
	return res
}

// TestOfflineDigits: the honest person reading digits (espeak-ng voice, mouth driven by its
// envelope) passes read_digits offline; TTS with no mouth and a voice 0.6 s after the mouth fail.
func TestOfflineDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and measures ~200 frames per case")
	}
	f := testdataFace(t)
	honest := honestBehaviour([2]time.Duration{600 * time.Millisecond, 600 * time.Millisecond})
	tts := honest
	tts.Mouth, tts.TTSLatency = "none", 1500*time.Millisecond
	vc := honest
	vc.Voice, vc.VoiceDelay = "pitch", 600*time.Millisecond
	for _, c := range []struct {
		name string
		b    Behaviour
		want challenge.Outcome
	}{{"honest", honest, challenge.OutcomePassed}, {"tts", tts, challenge.OutcomeFailed}, {"voiceconv", vc, challenge.OutcomeFailed}} {
		res := offlineDigits(t, f, c.b)
		t.Logf("%s: %s %s peak %.2f metrics %v", c.name, res.Outcome, res.Reason, res.Peak, res.Metrics)
		if res.Outcome != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, res.Outcome, res.Reason, c.want)
		}
	}
}

// TestOfflineCoverDim: the honest person with the table's dim, noisy look (Light 0.8, Noise 4,
// Size 1.25) covers half the face and passes cover_face; these three ended inconclusive "face
// vanished" (300 ms, 700 ms) or failed "cover too short" (1.2 s) before verify_cover stopped
// taking the tracker's box off the face (a weak hit on the shoulder it then coasted on) or on
// a part of it (the uncovered half, read clear) as evidence about the face (docs/REDTEAM.md,
// the dim cover finding). A person who leaves the picture instead (an empty grey wall for as
// long as the hand would be there) is still not a cover. Without VP8: raw frames keep the test
// deterministic (the dim look alone shows it: 5 of 15 passed before, 15 of 15 after).
func TestOfflineCoverDim(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and measures ~500 frames")
	}
	f := testdataFace(t)
	dim := Look{Light: 0.8, Noise: 4, Size: 1.25}
	for _, c := range []struct {
		lat   time.Duration
		seed  uint64
		leave bool
		want  challenge.Outcome
	}{
		{300 * time.Millisecond, 1, false, challenge.OutcomePassed},
		{700 * time.Millisecond, 2, false, challenge.OutcomePassed},
		{1200 * time.Millisecond, 3, false, challenge.OutcomePassed},
		{700 * time.Millisecond, 1, true, challenge.OutcomeInconclusive},
	} {
		look := dim
		look.Seed = c.seed + 10
		b := honestBehaviour([2]time.Duration{c.lat, c.lat})
		res, obs, _ := offlineRun(t, f, b, offlineOpts{look: look, seed: c.seed, leave: c.leave}, newChallenge(t, challenge.KindCoverFace, ""))
		t.Logf("latency %v seed %d leave %v: %s %q %v; %s", c.lat, c.seed, c.leave, res.Outcome, res.Reason, res.Metrics, describe(obs, res.Issued, res.Deadline))
		if res.Outcome != c.want {
			t.Errorf("latency %v seed %d leave %v: %s (%s), want %s", c.lat, c.seed, c.leave, res.Outcome, res.Reason, c.want)
		}
	}
}

// TestOfflineCloserDim: the honest person with the table's dim look (head 1.25×, face box from
// y ≈ 36 of 480) leans in 1.38× through VP8 at 400 kbit/s: the detector's box reaches the
// frame's top and stops growing (its smoothed peak stays under the 1.25× asked) while the eye
// spacing grows 1.38×; move_closer, measuring the eye spacing, passes (docs/REDTEAM.md finding
// 19: it read "insufficient response" on the box). A photo with 1° of sway in the same look
// still fails.
func TestOfflineCloserDim(t *testing.T) {
	if testing.Short() {
		t.Skip("renders, encodes and measures ~450 frames")
	}
	f := testdataFace(t)
	for _, c := range []struct {
		lat   time.Duration
		seed  uint64
		photo bool
		want  challenge.Outcome
	}{
		{400 * time.Millisecond, 1, false, challenge.OutcomePassed},
		{1100 * time.Millisecond, 2, false, challenge.OutcomePassed},
		{700 * time.Millisecond, 3, true, challenge.OutcomeFailed},
	} {
		look := Look{Light: 0.8, Noise: 4, Size: 1.25, Seed: c.seed + 10}
		b := honestBehaviour([2]time.Duration{c.lat, c.lat})
		if c.photo {
			b = Behaviour{Sway: 1}
		}
		res, obs, _ := offlineRun(t, f, b, offlineOpts{look: look, seed: c.seed, kbps: 400, cpuUsed: -8}, newChallenge(t, challenge.KindMoveCloser, ""))
		// the box's own peak after the prompt, 3-frame median as the verifier smooths
		var box []float64
		for _, o := range obs {
			if !o.At.Before(res.Issued) && !o.At.After(res.Deadline) && o.FacePresent && !o.Coasting {
				box = append(box, o.Scale)
			}
		}
		boxPeak := 0.0
		for i := 1; i+1 < len(box); i++ {
			boxPeak = max(boxPeak, max(min(box[i-1], box[i]), min(max(box[i-1], box[i]), box[i+1])))
		}
		boxPeak /= res.Metrics["neutral"]
		t.Logf("latency %v seed %d photo %v: %s %q peak %.3f, box alone %.3f; %v", c.lat, c.seed, c.photo, res.Outcome, res.Reason, res.Peak, boxPeak, res.Metrics)
		if res.Outcome != c.want {
			t.Errorf("latency %v seed %d photo %v: %s (%s), want %s", c.lat, c.seed, c.photo, res.Outcome, res.Reason, c.want)
		}
		if !c.photo && (res.Metrics["eye_frames"] == 0 || res.Peak < 1.3) {
			t.Errorf("latency %v seed %d: peak %.3f, eye spacing frames %v: the lean-in was not measured by the eyes", c.lat, c.seed, res.Peak, res.Metrics["eye_frames"])
		}
	}
}

// TestOfflineDarkerTurn: the live darker row's person (Look{Albedo: 0.4}, as `honest/darker`)
// turns left — the side that read short on the dark face (docs/REDTEAM.md findings 22 and 24:
// live peaks 34.2–37.7° without the exposed fit, 35.3–42.8° with it) — through VP8 at 800
// kbit/s: turn_head passes (peaks 37.3 and 37.4° against 35 asked; without finding 22's
// exposure, LandmarkMinMean 0, the same renders read 33.2 and 33.0°, "insufficient response").
func TestOfflineDarkerTurn(t *testing.T) {
	if testing.Short() {
		t.Skip("renders, encodes and measures ~150 frames a turn")
	}
	f := testdataFace(t)
	for _, seed := range []uint64{1, 2} {
		b := honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond})
		res, _, _ := offlineRun(t, f, b, offlineOpts{look: Look{Albedo: 0.4, Seed: seed}, seed: seed, kbps: 800, cpuUsed: -8},
			newChallenge(t, challenge.KindTurnHead, challenge.DirLeft))
		t.Logf("seed %d: %s %q peak %.1f; %v", seed, res.Outcome, res.Reason, res.Peak, res.Metrics)
		if res.Outcome != challenge.OutcomePassed {
			t.Errorf("seed %d: the darker skin's left turn got %s %q, peak %.1f°", seed, res.Outcome, res.Reason, res.Peak)
		}
	}
}
