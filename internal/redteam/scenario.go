package redteam

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Scenario is one simulated candidate: honest, or an attack with its parameters.
type Scenario struct {
	Name   string // honest, loop, photo, replay, delayed, swap, tts, voiceconv
	Params string // the parameters, as a label of the table row
	Attack bool
	// Source is what the camera shows: render (the synthetic person), loop (a looped IVF
	// file), replay (the synthetic person's recording through a simulated screen).
	Source    string
	Behaviour Behaviour
	Look      Look
	Bitrate   int           // kbit/s of the VP8 stream (default 800)
	Delay     time.Duration // the whole stream (video and audio) arrives this much late
	FPSDrop   float64       // share of frames not sent (a swap that cannot keep up)
	// FPSRepeat is the share of frames on which the camera repeats the last one: a swap that
	// cannot keep up, behind a virtual camera that keeps its rate by sending its last frame again.
	FPSRepeat float64
	Swap      string // face swap failure mode: "", paint_over, dropout, yaw_break, no_flash, latency, fps_drop, fps_repeat, mild
	DropOut   int    // dropout, yaw_break: frames of the operator's real face when the swap fails
	// Variant names a second setting of the same failure mode ("mild": its mildest setting),
	// selected as swap/MODE_VARIANT (swap/dropout_mild), or an honest row's look, selected as
	// honest/VARIANT (honest/dim, honest/darker), or a voice conversion's timing
	// (voiceconv/lagged, voiceconv/synced).
	Variant  string
	LoopFile string // loop: the IVF (default: generated from the face still)
}

// selector is the name of the swap's row after "swap/": its mode, and variant if any.
func (s Scenario) selector() string {
	if s.Variant == "" {
		return s.Swap
	}
	return s.Swap + "_" + s.Variant
}

// Label is the scenario's table row: name and parameters.
func (s Scenario) Label() string {
	if s.Params == "" {
		return s.Name
	}
	return s.Name + " " + s.Params
}

func honestBehaviour(lat [2]time.Duration) Behaviour {
	return Behaviour{Respond: true, Alive: true, Latency: lat, FlashGain: 0.05, CameraLag: 120 * time.Millisecond}
}

// Scenarios returns the catalogue: every scenario with the parameter settings of the table.
// names selects by name ("all" or empty: every one; "swap/dropout": one swap failure mode).
func Scenarios(names []string) ([]Scenario, error) {
	want := map[string]bool{}
	for _, n := range names {
		for _, p := range strings.Split(n, ",") {
			if p = strings.TrimSpace(p); p != "" {
				want[p] = true
			}
		}
	}
	all := want["all"] || len(want) == 0
	lat := [2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}
	var out []Scenario
	add := func(s Scenario) {
		// honest/dim, honest/darker, voiceconv/synced: one row of a scenario without Swap alone (its Variant)
		if all || want[s.Name] || (s.Swap != "" && want[s.Name+"/"+s.selector()]) || (s.Swap == "" && s.Variant != "" && want[s.Name+"/"+s.Variant]) {
			out = append(out, s)
		}
	}
	add(Scenario{Name: "honest", Params: "latency 0.3-1.2 s", Source: "render", Behaviour: honestBehaviour(lat)})
	add(Scenario{Name: "honest", Params: "dim, noisy, larger head, 400 kbit/s", Source: "render", Behaviour: honestBehaviour(lat),
		Look: Look{Light: 0.8, Noise: 4, Size: 1.25}, Bitrate: 400, Variant: "dim"})
	// A darker skin (finding 21): the skin drawn 0.4 as bright, reflecting 0.4 of the flash's
	// light — fairness, for the face detector and the flash alike.
	add(Scenario{Name: "honest", Params: "darker skin (albedo 0.4)", Source: "render", Behaviour: honestBehaviour(lat),
		Look: Look{Albedo: 0.4}, Variant: "darker"})
	add(Scenario{Name: "loop", Params: "generated IVF (slow zoom and sway)", Attack: true, Source: "loop"})
	add(Scenario{Name: "photo", Params: "still, 1° sway", Attack: true, Source: "render", Behaviour: Behaviour{Sway: 1}})
	add(Scenario{Name: "replay", Params: "screen: moiré, bezel, gamma 0.8", Attack: true, Source: "replay", Behaviour: Behaviour{Alive: true}})
	add(Scenario{Name: "delayed", Params: "stream 2 s late", Attack: true, Source: "render", Behaviour: honestBehaviour(lat), Delay: 2 * time.Second})
	sw := func(mode, params string, mut func(*Scenario)) {
		s := Scenario{Name: "swap", Params: params, Attack: true, Source: "render", Behaviour: honestBehaviour(lat), Swap: mode}
		if mut != nil {
			mut(&s)
		}
		add(s)
	}
	sw("paint_over", "paints over the hand", nil)
	sw("dropout", "drops out under the hand (8 frames as it comes and goes)", func(s *Scenario) { s.DropOut = 8 })
	sw("yaw_break", "breaks beyond 25° yaw (8 frames)", func(s *Scenario) { s.Behaviour.YawLimit, s.DropOut = 25, 8 })
	sw("no_flash", "ignores the flash", func(s *Scenario) { s.Behaviour.IgnoreFlash = true })
	sw("latency", "adds 1 s", func(s *Scenario) { s.Delay = time.Second })
	sw("fps_drop", "drops 40 % of frames", func(s *Scenario) { s.FPSDrop = 0.4 })
	sw("fps_repeat", "virtual camera repeats 20 % of frames", func(s *Scenario) { s.FPSRepeat = 0.2 })
	sw("mild", "mildest: 0.2 s latency, no other failure", func(s *Scenario) { s.Delay = 200 * time.Millisecond })
	// The mildest setting of each failure mode that has a degree (paint_over and no_flash are
	// all or nothing; latency's mildest is the row above): what a better tool still shows.
	mild := func(mode, params string, mut func(*Scenario)) {
		sw(mode, params, func(s *Scenario) { s.Variant = "mild"; mut(s) })
	}
	mild("dropout", "drops out under the hand (2 frames as it comes and goes)", func(s *Scenario) { s.DropOut = 2 })
	mild("yaw_break", "breaks beyond 45° yaw (4 frames)", func(s *Scenario) { s.Behaviour.YawLimit, s.DropOut = 45, 4 })
	mild("fps_drop", "drops 20 % of frames", func(s *Scenario) { s.FPSDrop = 0.2 })
	tts := honestBehaviour(lat)
	tts.Mouth, tts.TTSLatency = "none", 1500*time.Millisecond
	add(Scenario{Name: "tts", Params: "espeak-ng digits +1.5 s, no mouth", Attack: true, Source: "render", Behaviour: tts})
	tts2 := honestBehaviour(lat)
	tts2.Mouth, tts2.MouthDelay, tts2.TTSLatency = "delayed", 500*time.Millisecond, 1500*time.Millisecond
	add(Scenario{Name: "tts", Params: "espeak-ng digits +1.5 s, mouth 0.5 s late", Attack: true, Source: "render", Behaviour: tts2})
	// Voice conversion (selector voiceconv: both rows; voiceconv/lagged, voiceconv/synced: one).
	// lagged: the converter's 0.6 s processing delay on the voice alone (the video goes
	// straight from the camera), so the voice comes after the mouth.
	vc := honestBehaviour(lat)
	vc.Voice, vc.VoiceDelay = "pitch", 600*time.Millisecond
	add(Scenario{Name: "voiceconv", Params: "pitch +18 %, voice 0.6 s after the mouth", Attack: true, Source: "render", Behaviour: vc,
		Variant: "lagged"})
	// synced: the converter delays its video by the same 0.6 s (any streaming tool's A/V offset
	// setting does it), so the whole stream is late and the mouth and the voice stay aligned
	// (Delay shifts the video's State and the audio alike; VoiceDelay is 0): like delayed with a
	// pitch-shifted voice. Lip sync passes by construction; the flash's lag limit is what is left
	// (REDTEAM.md finding 31).
	vcs := honestBehaviour(lat)
	vcs.Voice = "pitch"
	add(Scenario{Name: "voiceconv", Params: "pitch +18 %, voice and video 0.6 s late (converter delays its video to match)", Attack: true,
		Source: "render", Behaviour: vcs, Delay: 600 * time.Millisecond, Variant: "synced"})
	if len(out) == 0 {
		return nil, fmt.Errorf("redteam: no scenario matches %v", names)
	}
	return out, nil
}

// swapper applies a face swap's failure mode frame by frame, as real-time swap tools fail:
// frame tells whether the frame shows the pasted identity. dropout shows the operator's real
// face for the first DropOut frames of the hand over the face and for the DropOut frames after
// it left (the tool's face detector finding the face again); yaw_break shows it, turned as
// far as the operator turns, for the first DropOut frames beyond YawLimit, then paints the
// swap again held at the limit; paint_over draws the face over the hand.
type swapper struct {
	sc   Scenario
	n    int // frames of the current failure
	away int // dropout: frames since the hand left (-1: the hand is there, 0: never came)
}

func (w *swapper) frame(st *State) bool {
	switch w.sc.Swap {
	case "":
		return false
	case "paint_over":
		st.HandOnTop = true
	case "dropout":
		if st.Hand > 0.3 { // the hand comes: the swap loses the face
			// A new arrival (the hand never came, or left and the swap found the face again)
			// starts the failure; while the hand stays (away < 0) it goes on counting, so only
			// its first DropOut frames show the operator (before, every frame of the hand did).
			if w.away == 0 || w.away > w.sc.DropOut {
				w.n = 0
			}
			w.away = -1
			if w.n++; w.n <= w.sc.DropOut {
				return false
			}
			break
		}
		if w.away == 0 { // the hand never came
			break
		}
		if w.away < 0 { // the hand left: the swap needs as long to find the face again
			w.away = 0
		}
		if w.away++; w.away <= w.sc.DropOut {
			return false
		}
	case "yaw_break":
		lim := w.sc.Behaviour.YawLimit
		if lim <= 0 || math.Abs(st.RealYaw) <= lim {
			w.n = 0
			break
		}
		if w.n++; w.n <= w.sc.DropOut {
			st.Yaw = st.RealYaw
			return false
		}
	}
	return true
}

// Result is one simulated interview.
type Result struct {
	Scenario  string `json:"scenario"`
	Params    string `json:"params"`
	Attack    bool   `json:"attack"`
	Interview int64  `json:"interview"`
	Status    string `json:"status"` // the table's verdict on behaviour: verified, review or failed
	Verified  bool   `json:"verified"`
	// BehaviourScore is the risk score (0..100) of the signals without the Material kinds,
	// which Status decides on; Decision and Score are the server's verdict over every signal.
	BehaviourScore float64            `json:"behaviour_score"`
	Decision       string             `json:"server_decision"`
	Score          float64            `json:"server_score"`
	Challenges     []ChallengeResult  `json:"challenges"`
	Latencies      []float64          `json:"response_latency_s"`      // the responder's reaction latencies
	Signals        map[string]float64 `json:"signal_scores,omitempty"` // scores over 0.3, and frame_cadence's always
	// Reasons is the identity_change signal's reason when it scored (when the change was
	// confirmed and at what distance).
	Reasons map[string]string `json:"signal_reasons,omitempty"`
	// SenderLate is how late the video sender rendered its frames after their capture slots,
	// median and 90th percentile in seconds: a loaded machine's (the frames still carry their
	// capture times, REDTEAM.md finding 14).
	SenderLate [2]float64 `json:"sender_late_s"`
	// Keyframes are the sent video's keyframes in its first 10 s: seconds since the first frame
	// and size in bytes (the first is the encoder's own; later ones answer the server's
	// keyframe requests, which cost the rate control its budget).
	Keyframes [][2]float64 `json:"keyframes,omitempty"`
	Error     string       `json:"error,omitempty"`
	Seconds   float64      `json:"seconds"`
}

// ChallengeResult is one stored challenge result.
type ChallengeResult struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Row is one line of the table: a scenario with its parameters over its runs.
type Row struct {
	Scenario    string            `json:"scenario"`
	Params      string            `json:"params"`
	Attack      bool              `json:"attack"`
	Interviews  int               `json:"interviews"`
	Errors      int               `json:"errors"`
	Verified    int               `json:"verified"`
	NotVerified int               `json:"not_verified"`
	ErrorRate   float64           `json:"error_rate"`     // APCER for attacks, BPCER for honest
	PassRates   map[string][2]int `json:"challenge_pass"` // kind → passed, issued
	MedianLatS  float64           `json:"median_response_latency_s"`
}

// Table summarises results by scenario and parameters, in the order first seen.
func Table(results []Result) []Row {
	var rows []*Row
	idx := map[string]*Row{}
	lats := map[string][]float64{}
	for _, r := range results {
		key := r.Scenario + "|" + r.Params
		row := idx[key]
		if row == nil {
			row = &Row{Scenario: r.Scenario, Params: r.Params, Attack: r.Attack, PassRates: map[string][2]int{}}
			idx[key] = row
			rows = append(rows, row)
		}
		if r.Error != "" {
			row.Errors++
			continue
		}
		row.Interviews++
		if r.Verified {
			row.Verified++
		} else {
			row.NotVerified++
		}
		for _, c := range r.Challenges {
			p := row.PassRates[c.Kind]
			p[1]++
			if c.Outcome == "passed" {
				p[0]++
			}
			row.PassRates[c.Kind] = p
		}
		lats[key] = append(lats[key], r.Latencies...)
	}
	out := make([]Row, 0, len(rows))
	for _, row := range rows {
		if row.Interviews > 0 {
			if row.Attack {
				row.ErrorRate = float64(row.Verified) / float64(row.Interviews)
			} else {
				row.ErrorRate = float64(row.NotVerified) / float64(row.Interviews)
			}
		}
		l := lats[row.Scenario+"|"+row.Params]
		if len(l) > 0 {
			sort.Float64s(l)
			row.MedianLatS = math.Round(l[len(l)/2]*100) / 100
		} else {
			row.MedianLatS = -1
		}
		out = append(out, *row)
	}
	return out
}

// PrintTable writes the table as Markdown.
func PrintTable(w interface{ Write([]byte) (int, error) }, rows []Row) {
	fmt.Fprintln(w, "| scenario | parameters | interviews | verified | review/failed | APCER / BPCER | challenges passed (kind passed/issued) | median reaction latency |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		metric := "APCER"
		if !r.Attack {
			metric = "BPCER"
		}
		var kinds []string
		for k := range r.PassRates {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		var pr []string
		for _, k := range kinds {
			p := r.PassRates[k]
			pr = append(pr, fmt.Sprintf("%s %d/%d", k, p[0], p[1]))
		}
		lat := "–"
		if r.MedianLatS >= 0 {
			lat = fmt.Sprintf("%.2f s", r.MedianLatS)
		}
		errs := ""
		if r.Errors > 0 {
			errs = fmt.Sprintf(" (+%d not run: error)", r.Errors)
		}
		fmt.Fprintf(w, "| %s | %s | %d%s | %d | %d | %s %.0f %% | %s | %s |\n", r.Scenario, r.Params, r.Interviews, errs,
			r.Verified, r.NotVerified, metric, 100*r.ErrorRate, strings.Join(pr, ", "), lat)
	}
}
