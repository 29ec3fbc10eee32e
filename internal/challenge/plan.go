package challenge

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Plan defaults.
const (
	DefaultCount     = 5
	DefaultDuration  = 30 * time.Minute
	DefaultWarmUp    = 2 * time.Minute
	DefaultEndMargin = 3 * time.Minute
	DefaultJitter    = 0.8
	// MinSlot is the smallest share of the interview one challenge may get: a response window
	// is up to ~20 s and the next challenge needs a clean baseline after it.
	MinSlot = 40 * time.Second
	// MaxCount bounds PlanConfig.Count.
	MaxCount = 50
)

// PlanConfig says how to draw a session's plan. Zero fields take the defaults.
type PlanConfig struct {
	Count     int           // number of challenges; default 5
	Duration  time.Duration // expected interview length; default 30 min
	WarmUp    time.Duration // no challenge before this offset; default 2 min
	EndMargin time.Duration // no challenge in this last part of Duration; default 3 min
	// Jitter is the fraction of each slot over which a challenge's offset is spread uniformly
	// (0 < Jitter ≤ 1; default 0.8). Consecutive challenges are at least (1-Jitter)·slot apart.
	Jitter float64
	// Kinds are the kinds allowed in this session (at least two); default every kind.
	// Accommodations remove kinds here; see Spec.Alternative for the replacements.
	Kinds []Kind
	// Photosensitive selects the slow-fade variant for every flash challenge.
	Photosensitive bool
	// Mix makes the plan's first challenges cover these groups of kinds, one kind from each
	// group, in random order, so that an interview meets every defence even when a weakness
	// (a face swap that cannot show a hand over the face, a video that cannot reflect the
	// screen, a voice pipeline) would pass the other kinds. Kinds not allowed in Kinds are
	// dropped from the groups, and empty groups are skipped; the later items are drawn as
	// usual. Nil: no mix (every position uniform). DefaultMix is the server's default
	// (LIVECHECK_CHALLENGE_MIX).
	Mix [][]Kind
}

// DefaultMix is the server's plan mix: light (flash: replays, injected and swapped video do not
// reflect the screen with a camera's latency, and a processing delay shows as lag), occlusion
// (cover_face: swaps paint over or drop out under a hand), a deep profile turn (turn_head:
// swaps break at large yaw; look is left to the later items, its pitch is measured less
// reliably), speech (read_digits: a TTS or voice-conversion pipeline adds latency and has no
// matching mouth), and a second movement (move_closer: a swap behind a virtual camera that
// repeats frames shows stalls in a moving head, and one turn gives too few moving frames to
// judge; the scale change also strains a swap's alignment; docs/REDTEAM.md finding 16 (d)).
func DefaultMix() [][]Kind {
	return [][]Kind{{KindFlash}, {KindCoverFace}, {KindTurnHead}, {KindReadDigits}, {KindMoveCloser}}
}

func (c PlanConfig) withDefaults() PlanConfig {
	if c.Count == 0 {
		c.Count = DefaultCount
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.WarmUp == 0 {
		c.WarmUp = DefaultWarmUp
	}
	if c.EndMargin == 0 {
		c.EndMargin = DefaultEndMargin
	}
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	if len(c.Kinds) == 0 {
		c.Kinds = Kinds()
	}
	return c
}

// Validate reports a configuration that cannot produce a plan (after defaults are applied).
// Errors wrap models.ErrInvalid.
func (c PlanConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Count < 1 || c.Count > MaxCount:
		return fmt.Errorf("challenge: count %d out of range 1..%d: %w", c.Count, MaxCount, models.ErrInvalid)
	case c.WarmUp < 0 || c.EndMargin < 0:
		return fmt.Errorf("challenge: negative warm-up or end margin: %w", models.ErrInvalid)
	case c.Jitter < 0 || c.Jitter > 1:
		return fmt.Errorf("challenge: jitter %v out of range (0,1]: %w", c.Jitter, models.ErrInvalid)
	case (c.Duration-c.WarmUp-c.EndMargin)/time.Duration(c.Count) < MinSlot:
		return fmt.Errorf("challenge: %d challenges do not fit in %v (warm-up %v, end margin %v): %w",
			c.Count, c.Duration, c.WarmUp, c.EndMargin, models.ErrInvalid)
	}
	seen := map[Kind]bool{}
	for _, k := range c.Kinds {
		if !k.Valid() {
			return fmt.Errorf("challenge: unknown kind %q: %w", k, models.ErrInvalid)
		}
		if seen[k] {
			return fmt.Errorf("challenge: kind %q listed twice: %w", k, models.ErrInvalid)
		}
		seen[k] = true
	}
	if len(c.Kinds) < 2 {
		return fmt.Errorf("challenge: need at least two kinds to avoid repeats: %w", models.ErrInvalid)
	}
	return nil
}

// Challenge is one drawn challenge. It is secret until issued.
type Challenge struct {
	ID     string `json:"id"` // 128 random bits, URL-safe base64
	Kind   Kind   `json:"kind"`
	Params Params `json:"params"`
	// Deadline is the time, counted from the display ack, within which the response must start.
	Deadline time.Duration `json:"deadline"`
	// Attempt is 1 for a first issue and 2 for the reissue of an inconclusive challenge.
	Attempt int `json:"attempt"`
	// Replaces is the ID of the challenge this one replaced as an accessible alternative.
	Replaces string `json:"replaces,omitempty"`
}

// Item is one challenge of a plan with its start offset from the session start.
type Item struct {
	Challenge
	At time.Duration `json:"at"`
}

// Plan is a session's secret challenge schedule. Never send it to the browser.
type Plan struct {
	Items []Item `json:"items"` // sorted by At
	// Kinds and Photosensitive are kept so that reissues and extra challenges follow the
	// session's configuration.
	Kinds          []Kind `json:"kinds"`
	Photosensitive bool   `json:"photosensitive"`
}

// NewPlan draws a plan from rnd (crypto/rand.Reader in production; tests may inject).
//
// Sampling, all uniform and independent unless stated:
//   - kinds: the first from cfg.Kinds, each next from cfg.Kinds minus the previous kind (no
//     immediate repeat). This chain's stationary distribution is uniform and it starts uniform,
//     so every position is uniform over the kinds; a kind may recur non-adjacently.
//   - parameters: see NewChallenge.
//   - offsets: [WarmUp, Duration-EndMargin) is cut into Count equal slots; challenge i starts
//     uniformly within the middle Jitter fraction of slot i, rounded to the millisecond.
//
// It returns an error wrapping models.ErrInvalid for a bad cfg, or the reader's error.
func NewPlan(cfg PlanConfig, rnd io.Reader) (Plan, error) {
	if err := cfg.Validate(); err != nil {
		return Plan{}, err
	}
	cfg = cfg.withDefaults()
	src := newSource(rnd)
	plan := Plan{Kinds: append([]Kind(nil), cfg.Kinds...), Photosensitive: cfg.Photosensitive}
	slot := (cfg.Duration - cfg.WarmUp - cfg.EndMargin) / time.Duration(cfg.Count)
	mix := mixGroups(cfg.Mix, cfg.Kinds)
	for i := len(mix) - 1; i > 0; i-- { // shuffle the groups (Fisher–Yates)
		j := src.intn(i + 1)
		mix[i], mix[j] = mix[j], mix[i]
	}
	var prev Kind
	for i := range cfg.Count {
		var k Kind
		if i < len(mix) {
			k = drawKind(src, mix[i], prev)
			if k == "" {
				k = drawKind(src, cfg.Kinds, prev)
			}
		} else {
			k = drawKind(src, cfg.Kinds, prev)
		}
		prev = k
		ch := drawChallenge(src, k, cfg.Photosensitive)
		u := (1-cfg.Jitter)/2 + cfg.Jitter*src.float()
		at := cfg.WarmUp + time.Duration(i)*slot + time.Duration(u*float64(slot))
		plan.Items = append(plan.Items, Item{Challenge: ch, At: at.Round(time.Millisecond)})
	}
	if src.err != nil {
		return Plan{}, src.err
	}
	return plan, nil
}

// drawKind draws uniformly from kinds without prev ("" when nothing is left).
func drawKind(src *source, kinds []Kind, prev Kind) Kind {
	pool := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		if k != prev {
			pool = append(pool, k)
		}
	}
	if len(pool) == 0 {
		return ""
	}
	return pick(src, pool)
}

// mixGroups keeps the allowed kinds of each group and drops empty groups.
func mixGroups(groups [][]Kind, allowed []Kind) [][]Kind {
	var out [][]Kind
	for _, g := range groups {
		var keep []Kind
		for _, k := range g {
			for _, a := range allowed {
				if k == a {
					keep = append(keep, k)
					break
				}
			}
		}
		if len(keep) > 0 {
			out = append(out, keep)
		}
	}
	return out
}

// NewChallenge draws a fresh challenge of kind k with a new ID from rnd. photosensitive
// selects the slow-fade flash variant. Parameter sampling (each uniform):
//   - turn_head dir ∈ {left, right}; look dir ∈ {up, down}; blink count ∈ {2, 3};
//   - cover_face holds 2 s; move_closer asks for 1.3× (fixed: nothing to randomise usefully);
//   - flash: length ∈ {6..10}, step ∈ {350, 400, 450, 500} ms (at most 3 changes a second);
//     fade variant: length ∈ {6, 7, 8}, step ∈ {1000, 1250} ms; each colour from Palette minus
//     the previous colour;
//   - read_digits: length ∈ {4, 5, 6}, each digit ∈ 0..9 (repeats allowed).
func NewChallenge(k Kind, photosensitive bool, rnd io.Reader) (Challenge, error) {
	if !k.Valid() {
		return Challenge{}, fmt.Errorf("challenge: unknown kind %q: %w", k, models.ErrInvalid)
	}
	src := newSource(rnd)
	ch := drawChallenge(src, k, photosensitive)
	if src.err != nil {
		return Challenge{}, src.err
	}
	return ch, nil
}

// Alternative draws the accessible alternative of ch (Spec.Alternative; for flash the
// slow-fade variant) with a new ID, the same attempt number and Replaces set to ch.ID.
func Alternative(ch Challenge, rnd io.Reader) (Challenge, error) {
	spec, ok := Lookup(ch.Kind)
	if !ok {
		return Challenge{}, fmt.Errorf("challenge: unknown kind %q: %w", ch.Kind, models.ErrInvalid)
	}
	alt, err := NewChallenge(spec.Alternative, spec.Alternative == KindFlash, rnd)
	if err != nil {
		return Challenge{}, err
	}
	alt.Attempt, alt.Replaces = ch.Attempt, ch.ID
	return alt, nil
}

// NewLongFlash draws a flash of twice the usual length (12–20 colours; fades 12–14) at the
// usual steps: the reissue after a weak reflection (ReasonWeakFlash). The changes per second
// are those of the short sequences (at most MaxFlashChangesPerSecond).
func NewLongFlash(photosensitive bool, rnd io.Reader) (Challenge, error) {
	src := newSource(rnd)
	ch := Challenge{ID: src.id(), Kind: KindFlash, Attempt: 1}
	drawFlash(src, &ch.Params, photosensitive, true)
	ch.Deadline = deadline(KindFlash, ch.Params)
	if src.err != nil {
		return Challenge{}, src.err
	}
	return ch, nil
}

// drawFlash draws a flash's colours and step (long: NewLongFlash's lengths).
func drawFlash(src *source, p *Params, photosensitive, long bool) {
	lengths, fades := flashLengths, fadeLengths
	if long {
		lengths, fades = longFlashLengths, longFadeLengths
	}
	n, step := pick(src, lengths), pick(src, flashSteps)
	if photosensitive { // drawn after the flash's (the order of the draws is kept for seeded tests)
		n, step = pick(src, fades), pick(src, fadeSteps)
		p.Fade = true
	}
	p.StepMS = step
	prev := -1
	for range n {
		var c int
		if prev < 0 {
			c = src.intn(len(Palette))
		} else if c = src.intn(len(Palette) - 1); c >= prev {
			c++ // skip the previous colour: a repeat would be an invisible step
		}
		prev = c
		p.Colors = append(p.Colors, Palette[c])
	}
}

func drawChallenge(src *source, k Kind, photosensitive bool) Challenge {
	ch := Challenge{ID: src.id(), Kind: k, Attempt: 1}
	p := &ch.Params
	switch k {
	case KindTurnHead:
		p.Dir = pick(src, turnDirs)
	case KindLook:
		p.Dir = pick(src, lookDirs)
	case KindBlink:
		p.Count = pick(src, blinkCounts)
	case KindCoverFace:
		p.HoldMS = coverHoldMS
	case KindMoveCloser:
		p.Scale = closerScale
	case KindFlash:
		drawFlash(src, p, photosensitive, false)
	case KindReadDigits:
		n := pick(src, digitLengths)
		ds := make([]string, n)
		for i := range ds {
			ds[i] = strconv.Itoa(src.intn(10))
		}
		p.Digits = strings.Join(ds, " ")
	}
	ch.Deadline = deadline(k, ch.Params)
	return ch
}
