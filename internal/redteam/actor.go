package redteam

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// prompt is the part of a control-channel prompt a responder reads. Scenarios see only this:
// what the page shows the candidate, never the server's plan.
type prompt struct {
	T      string `json:"t"` // challenge | flash | digits
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Params struct {
		Dir    string  `json:"dir"`
		Count  int     `json:"count"`
		HoldMS int     `json:"hold_ms"`
		Scale  float64 `json:"scale"`
	} `json:"params"`
	Colors []string `json:"colors"`
	StepMS int      `json:"step_ms"`
	Digits string   `json:"digits"`
}

// response is one scheduled reaction to a prompt.
type response struct {
	kind   string
	start  time.Time // the movement starts (arrival + reaction latency)
	shown  time.Time // the prompt was on the screen (flash colours start here)
	dir    string
	count  int
	hold   time.Duration
	colors [][3]byte
	step   time.Duration
	speech *speech // read_digits
}

// Behaviour is how a responder reacts; every scenario is one.
type Behaviour struct {
	Respond     bool             // reacts to prompts at all
	Latency     [2]time.Duration // reaction latency, uniform in [min, max]
	FlashGain   float64          // how much of the screen's colour the skin reflects
	CameraLag   time.Duration    // the camera shows the screen's light this much later
	IgnoreFlash bool             // no reflection (a swap's rendered face, an injected video)
	YawLimit    float64          // the rendered head never turns beyond this (0: no limit; State.RealYaw has the head's)
	Mouth       string           // sync (default) | none | delayed
	MouthDelay  time.Duration    // mouth movement after the voice (Mouth delayed)
	Voice       string           // espeak (default) | pitch (voice conversion)
	VoiceDelay  time.Duration    // the voice comes this much after the mouth
	TTSLatency  time.Duration    // extra wait before a synthetic answer is spoken
	Sway        float64          // idle head motion amplitude in degrees (default 2)
	// Alive adds what a live face does between prompts: blinks every 2–6 s and small
	// expression changes of the mouth.
	Alive bool
}

// Actor turns prompts into a timeline of States and audio.
type Actor struct {
	b     Behaviour
	voice *Voice
	rng   *rand.Rand
	t0    time.Time

	blinks []time.Duration // natural blinks, from t0

	mu        sync.Mutex
	responses []*response
	latencies []time.Duration // chosen reaction latencies (prompt arrival → movement)
}

// NewActor makes an actor; voice may be nil when no digits are read.
func NewActor(b Behaviour, voice *Voice, seed uint64) *Actor {
	if b.Sway == 0 {
		b.Sway = 2
	}
	a := &Actor{b: b, voice: voice, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t0: time.Now()}
	if b.Alive {
		for t := time.Second; t < 2*time.Hour; t += 2*time.Second + time.Duration(a.rng.Int64N(int64(4*time.Second))) {
			a.blinks = append(a.blinks, t)
		}
	}
	return a
}

// Latencies returns the reaction latencies chosen so far.
func (a *Actor) Latencies() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.latencies...)
}

// Prompt schedules the reaction to one control-channel prompt that arrived at at.
func (a *Actor) Prompt(msg []byte, at time.Time) {
	var p prompt
	if json.Unmarshal(msg, &p) != nil || !a.b.Respond {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	lat := a.b.Latency[0]
	if d := a.b.Latency[1] - a.b.Latency[0]; d > 0 {
		lat += time.Duration(a.rng.Int64N(int64(d)))
	}
	r := &response{start: at.Add(lat), shown: at.Add(30 * time.Millisecond)}
	switch p.T {
	case "flash":
		r.kind, r.step = "flash", time.Duration(p.StepMS)*time.Millisecond
		for _, c := range p.Colors {
			if rgb, err := ParseColor(c); err == nil {
				r.colors = append(r.colors, rgb)
			}
		}
		r.start = r.shown
	case "digits":
		r.kind = "read_digits"
		r.start = r.start.Add(a.b.TTSLatency)
		if a.voice != nil {
			r.speech = a.voice.Say(p.Digits, a.b.Voice == "pitch")
		}
	case "challenge":
		r.kind, r.dir, r.count = p.Kind, p.Params.Dir, p.Params.Count
		r.hold = time.Duration(p.Params.HoldMS) * time.Millisecond
	default:
		return
	}
	a.latencies = append(a.latencies, r.start.Sub(at))
	a.responses = append(a.responses, r)
}

// ramp is 0 before a, rises smoothly to 1 over rise, holds for hold, falls over rise.
func ramp(tau, rise, hold time.Duration) float64 {
	switch {
	case tau <= 0:
		return 0
	case tau < rise:
		x := float64(tau) / float64(rise)
		return x * x * (3 - 2*x)
	case tau < rise+hold:
		return 1
	case tau < 2*rise+hold:
		x := 1 - float64(tau-rise-hold)/float64(rise)
		return x * x * (3 - 2*x)
	}
	return 0
}

// State returns what the person does at t.
func (a *Actor) State(t time.Time) State {
	el := t.Sub(a.t0).Seconds()
	st := State{Scale: 1,
		Yaw:   a.b.Sway * math.Sin(2*math.Pi*el/7.1),
		Pitch: 0.7 * a.b.Sway * math.Sin(2*math.Pi*el/5.3),
	}
	if a.b.Alive {
		since := t.Sub(a.t0)
		k := sort.Search(len(a.blinks), func(i int) bool { return a.blinks[i] > since })
		if k > 0 {
			st.EyesClosed = ramp(since-a.blinks[k-1], 60*time.Millisecond, 80*time.Millisecond)
		}
		st.Mouth = 0.06 + 0.05*math.Sin(2*math.Pi*el/3.3)*math.Sin(2*math.Pi*el/1.7)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.responses {
		tau := t.Sub(r.start)
		if tau < 0 || tau > 20*time.Second {
			continue
		}
		switch r.kind {
		case "turn_head":
			// calibrated on the project's pose estimate of the astronaut still: these peaks
			// measure about 43° left and 41° right
			v := 65 * ramp(tau, 600*time.Millisecond, 900*time.Millisecond)
			if r.dir == "right" {
				v = -72 * ramp(tau, 600*time.Millisecond, 900*time.Millisecond)
			}
			st.Yaw += v
		case "look":
			if r.dir == "up" {
				st.Pitch += 35 * ramp(tau, 500*time.Millisecond, 900*time.Millisecond)
			} else {
				st.Pitch -= 50 * ramp(tau, 500*time.Millisecond, 900*time.Millisecond)
			}
		case "blink":
			for k := 0; k < r.count; k++ {
				bt := tau - time.Duration(k)*650*time.Millisecond
				st.EyesClosed = math.Max(st.EyesClosed, ramp(bt, 70*time.Millisecond, 90*time.Millisecond))
			}
		case "cover_face":
			st.Hand = math.Max(st.Hand, ramp(tau, 350*time.Millisecond, r.hold+300*time.Millisecond))
		case "move_closer":
			st.Scale *= 1 + 0.38*ramp(tau, 700*time.Millisecond, time.Second)
		case "flash":
			if a.b.IgnoreFlash || len(r.colors) == 0 {
				continue
			}
			lt := t.Sub(r.shown) - a.b.CameraLag
			if lt < 0 {
				continue
			}
			i := int(lt / r.step)
			if i >= len(r.colors) {
				continue
			}
			st.Flash, st.Gain = r.colors[i], a.b.FlashGain
		case "read_digits":
			if r.speech == nil || a.b.Mouth == "none" {
				continue
			}
			mt := tau
			if a.b.Mouth == "delayed" {
				mt -= a.b.MouthDelay
			}
			if tau < time.Duration(len(r.speech.mouth))*20*time.Millisecond+time.Second {
				st.Mouth = 0 // speaking: the mouth follows the voice alone
			}
			st.Mouth = math.Max(st.Mouth, r.speech.mouthAt(mt))
		}
	}
	st.RealYaw = st.Yaw
	if a.b.YawLimit > 0 {
		st.Yaw = clampF(st.Yaw, -a.b.YawLimit, a.b.YawLimit)
	}
	return st
}

// Audio fills out (48 kHz mono) with what the microphone hears from t on: room noise and any
// speech.
func (a *Actor) Audio(t time.Time, out []int16) {
	for i := range out {
		out[i] = int16((a.rng.Float64()*2 - 1) * 40) // about -60 dBFS of room noise
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.responses {
		if r.speech == nil {
			continue
		}
		off := t.Sub(r.start) - a.b.VoiceDelay
		i0 := int(off.Seconds() * 48000)
		for i := range out {
			j := i0 + i
			if j >= 0 && j < len(r.speech.pcm) {
				out[i] = sat16(int(out[i]) + int(r.speech.pcm[j]))
			}
		}
	}
}

func sat16(v int) int16 { return int16(max(-32768, min(32767, v))) }
