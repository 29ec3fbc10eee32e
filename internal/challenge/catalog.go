package challenge

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Kind names one kind of challenge. The string is what the control channel carries.
type Kind string

// The challenge kinds of the catalog.
const (
	KindTurnHead   Kind = "turn_head"   // turn the head left or right beyond ~35° and back
	KindLook       Kind = "look"        // tilt the head up or down
	KindBlink      Kind = "blink"       // blink 2 or 3 times
	KindCoverFace  Kind = "cover_face"  // hand over half the face for ~2 s, then away
	KindMoveCloser Kind = "move_closer" // lean in until the face is ~1.3× wider
	KindFlash      Kind = "flash"       // the screen flashes a random colour sequence
	KindReadDigits Kind = "read_digits" // read 4–6 random digits aloud
)

// Directions used in Params.Dir. They are the candidate's own directions: "left" is the
// candidate's left, which appears on the right of the (unmirrored) camera image.
const (
	DirLeft  = "left"
	DirRight = "right"
	DirUp    = "up"
	DirDown  = "down"
)

// Params are the drawn parameters of one challenge. Only the fields of its kind are set.
type Params struct {
	Dir    string   `json:"dir,omitempty"`     // turn_head: left|right; look: up|down
	Count  int      `json:"count,omitempty"`   // blink: number of blinks asked for (2–3)
	HoldMS int      `json:"hold_ms,omitempty"` // cover_face: how long to keep the hand there
	Scale  float64  `json:"scale,omitempty"`   // move_closer: face width factor asked for
	Colors []string `json:"colors,omitempty"`  // flash: "#rrggbb" sequence
	StepMS int      `json:"step_ms,omitempty"` // flash: duration of each colour
	Fade   bool     `json:"fade,omitempty"`    // flash: photosensitive variant, linear cross-fades
	Digits string   `json:"digits,omitempty"`  // read_digits: digits separated by single spaces
}

// Spec describes one kind of challenge in the catalog.
type Spec struct {
	Kind Kind
	// Tests says what the challenge is meant to expose.
	Tests string
	// Alternative is the kind issued instead when the candidate cannot do this one
	// (accommodation). For KindFlash it is KindFlash itself: the alternative is the slow-fade
	// variant (Params.Fade) for photosensitive candidates.
	Alternative Kind
	// Deadline is the time from display within which the response must start; flash adds the
	// length of its colour sequence (see Challenge.Deadline).
	Deadline time.Duration
}

// Catalog parameter ranges. Every choice is drawn uniformly (see NewChallenge).
var (
	// Palette is the flash colour palette: the six saturated primaries and secondaries,
	// which sit far apart in the Cb/Cr plane so each step moves the face chroma visibly.
	Palette = []string{"#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff", "#00ffff"}

	flashLengths = []int{6, 7, 8, 9, 10}
	// flashSteps keep every colour change more than a third of a second after the previous
	// one: at most MaxFlashChangesPerSecond changes in any second (WCAG 2.3.1 allows three
	// flashes, i.e. six changes; see flashsafety.go).
	flashSteps  = []int{350, 400, 450, 500}
	fadeLengths = []int{6, 7, 8}
	// A flash reissued after a weak reflection (verify_flash.go) shows twice as many colours
	// at the same steps: the chance correlations the reflection must stand out of shrink
	// with the square root of the frames, the reflection's own correlation does not. The
	// longest is 20 × 500 ms = 10 s (fades 14 × 1.25 s = 17.5 s; the runner's buffer holds a
	// window of 34 s at 30 fps).
	longFlashLengths = []int{12, 14, 16, 18, 20}
	longFadeLengths  = []int{12, 13, 14}
	fadeSteps        = []int{1000, 1250} // ≤ 1 change per second: far below the 3 Hz flash limit
	digitLengths     = []int{4, 5, 6}
	blinkCounts      = []int{2, 3}
	turnDirs         = []string{DirLeft, DirRight}
	lookDirs         = []string{DirUp, DirDown}
	coverHoldMS      = 2000
	closerScale      = 1.3
	flashExtraWindow = 2 * time.Second // deadline after the end of the colour sequence
)

var catalog = []Spec{
	{Kind: KindTurnHead, Alternative: KindReadDigits, Deadline: 6 * time.Second,
		Tests: "face swaps degrade at large yaw; replays cannot follow a random direction"},
	{Kind: KindLook, Alternative: KindReadDigits, Deadline: 6 * time.Second,
		Tests: "face swaps degrade at large pitch; replays cannot follow a random direction"},
	{Kind: KindBlink, Alternative: KindReadDigits, Deadline: 6 * time.Second,
		Tests: "replays cannot blink a requested count on cue"},
	{Kind: KindCoverFace, Alternative: KindTurnHead, Deadline: 8 * time.Second,
		Tests: "swap models break under partial occlusion and may re-initialise afterwards"},
	{Kind: KindMoveCloser, Alternative: KindBlink, Deadline: 7 * time.Second,
		Tests: "scale change stresses the swap's alignment; replays cannot follow"},
	{Kind: KindFlash, Alternative: KindFlash, // the slow-fade variant
		Tests: "the real face reflects the screen colours with camera latency; injected video does not"},
	{Kind: KindReadDigits, Alternative: KindBlink, Deadline: 8 * time.Second,
		Tests: "live speech must start after display and the mouth must follow the audio"},
}

// Catalog returns the specs of every kind, in a fixed order.
func Catalog() []Spec {
	return append([]Spec(nil), catalog...)
}

// Kinds returns every kind of the catalog, in a fixed order.
func Kinds() []Kind {
	ks := make([]Kind, len(catalog))
	for i, s := range catalog {
		ks[i] = s.Kind
	}
	return ks
}

// ParseKinds turns kind names (a setting's list) into kinds; an unknown name is an error
// wrapping models.ErrInvalid that names it.
func ParseKinds(names []string) ([]Kind, error) {
	var out []Kind
	for _, n := range names {
		if _, ok := Lookup(Kind(n)); !ok {
			return nil, fmt.Errorf("unknown kind %q: %w", n, models.ErrInvalid)
		}
		out = append(out, Kind(n))
	}
	return out, nil
}

// Lookup returns the spec of kind k.
func Lookup(k Kind) (Spec, bool) {
	for _, s := range catalog {
		if s.Kind == k {
			return s, true
		}
	}
	return Spec{}, false
}

// Valid reports whether k is a kind of the catalog.
func (k Kind) Valid() bool {
	_, ok := Lookup(k)
	return ok
}

// Instruction returns the text shown to the candidate and a short text for screen readers.
func Instruction(k Kind, p Params) (text, screenReader string) {
	switch k {
	case KindTurnHead:
		return fmt.Sprintf("Turn your head to your %s, then back to the camera.", p.Dir),
			fmt.Sprintf("Turn your head to your %s, then back.", p.Dir)
	case KindLook:
		return fmt.Sprintf("Tilt your head %s, then back to the camera.", p.Dir),
			fmt.Sprintf("Tilt your head %s, then back.", p.Dir)
	case KindBlink:
		return fmt.Sprintf("Blink %d times.", p.Count), fmt.Sprintf("Blink %d times.", p.Count)
	case KindCoverFace:
		return fmt.Sprintf("Cover half of your face with your hand for about %d seconds, then take it away.", p.HoldMS/1000),
			fmt.Sprintf("Cover half your face with a hand for %d seconds, then remove it.", p.HoldMS/1000)
	case KindMoveCloser:
		return "Lean closer to the camera, then back.", "Lean closer to the camera, then back."
	case KindFlash:
		secs := max(1, int(math.Round(float64(len(p.Colors)*p.StepMS)/1000)))
		if p.Fade {
			return fmt.Sprintf("Keep facing the screen: it slowly changes colour for about %d seconds.", secs),
				fmt.Sprintf("The screen will slowly change colour for about %d seconds. Keep your face toward it.", secs)
		}
		return fmt.Sprintf("Keep facing the screen: it changes colour for about %d seconds (at most 3 changes a second).", secs),
			fmt.Sprintf("The screen will change colour for about %d seconds. Keep your face toward it.", secs)
	case KindReadDigits:
		return "Read these digits aloud: " + p.Digits,
			"Read aloud: " + strings.Join(strings.Fields(p.Digits), ", ")
	}
	return "", ""
}

// deadline is the response deadline of a challenge measured from its display.
func deadline(k Kind, p Params) time.Duration {
	if k == KindFlash {
		return time.Duration(len(p.Colors)*p.StepMS)*time.Millisecond + flashExtraWindow
	}
	s, _ := Lookup(k)
	return s.Deadline
}
