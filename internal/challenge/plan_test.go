package challenge

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Chi-square goodness of fit. Every test below compares observed counts with the uniform
// expectation and fails when the statistic exceeds the critical value at α = 1e-4. Real
// sampling bugs (a category never drawn, an off-by-one, a 10 % bias) exceed it by far
// (TestChiSquareHasPower). The counting tests draw from fixed-seed ChaCha8 readers
// (seeded below), not crypto/rand: with about twenty tests at α = 1e-4 a fresh random
// source made the package fail about 1 run in 500 with no bug (and the power test's 10 %
// bias can land under the critical value by chance too). NewPlan only reads bytes from
// its reader, so the samplers under test are the production ones either way.
//
// chiSquareCritical holds the upper 1e-4 quantiles of χ² for the degrees of freedom used here,
// computed by bisection on the regularised upper incomplete gamma function
// (Q(df/2, x/2) = 1e-4); they agree with published tables (27.86 for df 6).
var chiSquareCritical = map[int]float64{
	1: 15.137, 2: 18.421, 3: 21.108, 4: 23.513, 5: 25.745, 6: 27.856, 9: 33.720, 29: 66.152, 41: 83.473,
}

// seeded returns a deterministic byte source for the counting tests (see above).
func seeded(name string) *mrand.ChaCha8 {
	var seed [32]byte
	copy(seed[:], name)
	return mrand.NewChaCha8(seed)
}

func critical(t *testing.T, df int) float64 {
	t.Helper()
	c, ok := chiSquareCritical[df]
	if !ok {
		t.Fatalf("no χ² critical value for df %d", df)
	}
	return c
}

// chiSquare returns the statistic of counts against expected proportions (nil: uniform).
func chiSquare(counts []int, probs []float64) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	var x2 float64
	for i, c := range counts {
		p := 1 / float64(len(counts))
		if probs != nil {
			p = probs[i]
		}
		e := p * float64(total)
		x2 += (float64(c) - e) * (float64(c) - e) / e
	}
	return x2
}

// assertUniform fails when counts are not plausibly uniform.
func assertUniform(t *testing.T, what string, counts []int) {
	t.Helper()
	x2, crit := chiSquare(counts, nil), critical(t, len(counts)-1)
	if x2 > crit {
		t.Errorf("%s: χ² = %.1f > %.1f (df %d): counts %v", what, x2, crit, len(counts)-1, counts)
	}
}

func TestChiSquareHasPower(t *testing.T) {
	// An off-by-one sampler (never draws the last of 7) over 50,000 draws must be caught, and
	// so must a mild bias (one category 10 % more likely).
	src := newSource(seeded("chi-square power"))
	offByOne, mild := make([]int, 7), make([]int, 7)
	for range 50000 {
		offByOne[src.intn(6)]++
		k := src.intn(71) // 0–10 → category 0 (11/71), 11–20 → 1, …, 61–70 → 6 (10/71 each)
		if k <= 10 {
			mild[0]++
		} else {
			mild[(k-11)/10+1]++
		}
	}
	if x2 := chiSquare(offByOne, nil); x2 < critical(t, 6) {
		t.Errorf("off-by-one sampler not detected: χ² = %.1f", x2)
	}
	if x2 := chiSquare(mild, nil); x2 < critical(t, 6) {
		t.Errorf("10 %% bias not detected: χ² = %.1f", x2)
	}
}

// fingerprint identifies a plan's content (kinds, parameters, offsets).
func fingerprint(p Plan) string {
	var b strings.Builder
	for _, it := range p.Items {
		fmt.Fprintf(&b, "%s|%+v|%v;", it.Kind, it.Params, it.At)
	}
	return b.String()
}

func TestPlanRandomness(t *testing.T) {
	t.Parallel()
	const plans = 10000
	cfg := PlanConfig{}.withDefaults()
	kinds := Kinds()
	kindIdx := func(k Kind) int { return slices.Index(kinds, k) }
	palIdx := func(c string) int { return slices.Index(Palette, c) }
	slot := (cfg.Duration - cfg.WarmUp - cfg.EndMargin) / time.Duration(cfg.Count)

	byPos := make([][]int, cfg.Count)
	for i := range byPos {
		byPos[i] = make([]int, len(kinds))
	}
	pairs := make([]int, len(kinds)*len(kinds))
	var (
		turnDir, lookDir, blinkN = make([]int, 2), make([]int, 2), make([]int, 2)
		flashLen, flashStep      = make([]int, len(flashLengths)), make([]int, len(flashSteps))
		firstColour, colour      = make([]int, 6), make([]int, 6)
		colourPairs              = make([]int, 36)
		digitLen, digit          = make([]int, 3), make([]int, 10)
		slotPos                  = make([]int, 10)
	)
	ids := map[string]bool{}
	seen := map[string]bool{}
	rnd := seeded("plan randomness")
	for range plans {
		p, err := NewPlan(PlanConfig{}, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != DefaultCount {
			t.Fatalf("%d items", len(p.Items))
		}
		fp := fingerprint(p)
		if seen[fp] {
			t.Fatalf("two equal plans: %s", fp)
		}
		seen[fp] = true
		for i, it := range p.Items {
			if ids[it.ID] {
				t.Fatalf("duplicate ID %s", it.ID)
			}
			ids[it.ID] = true
			if raw, err := base64.RawURLEncoding.DecodeString(it.ID); err != nil || len(raw)*8 < 96 {
				t.Fatalf("ID %q: %d bits, %v", it.ID, len(raw)*8, err)
			}
			byPos[i][kindIdx(it.Kind)]++
			if i > 0 {
				prev := p.Items[i-1]
				if prev.Kind == it.Kind {
					t.Fatalf("immediate repeat of %s", it.Kind)
				}
				pairs[kindIdx(prev.Kind)*len(kinds)+kindIdx(it.Kind)]++
				if gap := it.At - prev.At; gap < time.Duration((1-cfg.Jitter)*float64(slot))-time.Millisecond {
					t.Fatalf("gap %v between challenges", gap)
				}
			}
			if it.At < cfg.WarmUp || it.At >= cfg.Duration-cfg.EndMargin {
				t.Fatalf("offset %v outside [%v, %v)", it.At, cfg.WarmUp, cfg.Duration-cfg.EndMargin)
			}
			u := (float64(it.At-cfg.WarmUp-time.Duration(i)*slot)/float64(slot) - (1-cfg.Jitter)/2) / cfg.Jitter
			if u < -1e-4 || u > 1+1e-4 {
				t.Fatalf("item %d at %v: position %v in its slot", i, it.At, u)
			}
			slotPos[min(9, max(0, int(u*10)))]++
			if it.Deadline != deadline(it.Kind, it.Params) || it.Attempt != 1 {
				t.Fatalf("deadline %v attempt %d for %+v", it.Deadline, it.Attempt, it.Params)
			}
			pr := it.Params
			switch it.Kind {
			case KindTurnHead:
				turnDir[slices.Index(turnDirs, pr.Dir)]++
			case KindLook:
				lookDir[slices.Index(lookDirs, pr.Dir)]++
			case KindBlink:
				blinkN[slices.Index(blinkCounts, pr.Count)]++
			case KindFlash:
				flashLen[slices.Index(flashLengths, len(pr.Colors))]++
				flashStep[slices.Index(flashSteps, pr.StepMS)]++
				firstColour[palIdx(pr.Colors[0])]++
				for j, c := range pr.Colors {
					colour[palIdx(c)]++
					if j > 0 {
						if c == pr.Colors[j-1] {
							t.Fatalf("repeated colour in %v", pr.Colors)
						}
						colourPairs[palIdx(pr.Colors[j-1])*6+palIdx(c)]++
					}
				}
			case KindReadDigits:
				ds := strings.Fields(pr.Digits)
				digitLen[slices.Index(digitLengths, len(ds))]++
				for _, d := range ds {
					digit[int(d[0]-'0')]++
				}
			}
		}
	}
	for i, counts := range byPos {
		assertUniform(t, fmt.Sprintf("kinds at position %d", i), counts)
	}
	var offDiag []int // ordered pairs without repeats: uniform over k(k-1)
	for a := range kinds {
		for b := range kinds {
			if a != b {
				offDiag = append(offDiag, pairs[a*len(kinds)+b])
			}
		}
	}
	assertUniform(t, "consecutive kind pairs", offDiag)
	assertUniform(t, "turn_head dir", turnDir)
	assertUniform(t, "look dir", lookDir)
	assertUniform(t, "blink count", blinkN)
	assertUniform(t, "flash length", flashLen)
	assertUniform(t, "flash step", flashStep)
	assertUniform(t, "first flash colour", firstColour)
	assertUniform(t, "flash colours", colour)
	var colourOffDiag []int
	for a := range 6 {
		for b := range 6 {
			if a != b {
				colourOffDiag = append(colourOffDiag, colourPairs[a*6+b])
			}
		}
	}
	assertUniform(t, "consecutive colour pairs", colourOffDiag)
	assertUniform(t, "digit count", digitLen)
	assertUniform(t, "digit values", digit)
	assertUniform(t, "offset within slot (10 bins)", slotPos)
}

func TestPlanPhotosensitive(t *testing.T) {
	lens, steps := make([]int, len(fadeLengths)), make([]int, len(fadeSteps))
	rnd := seeded("photosensitive")
	for range 2000 {
		p, err := NewPlan(PlanConfig{Kinds: []Kind{KindFlash, KindBlink}, Photosensitive: true}, rnd)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if it.Kind != KindFlash {
				continue
			}
			if !it.Params.Fade || it.Params.StepMS < 1000 {
				t.Fatalf("photosensitive plan with a fast flash: %+v", it.Params)
			}
			lens[slices.Index(fadeLengths, len(it.Params.Colors))]++
			steps[slices.Index(fadeSteps, it.Params.StepMS)]++
		}
		if !p.Photosensitive {
			t.Fatal("plan forgot the photosensitive setting")
		}
	}
	assertUniform(t, "fade length", lens)
	assertUniform(t, "fade step", steps)
}

func TestPlanDeterministicGivenReader(t *testing.T) {
	seed := [32]byte{'p', 'l', 'a', 'n'}
	a, err := NewPlan(PlanConfig{}, mrand.NewChaCha8(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPlan(PlanConfig{}, mrand.NewChaCha8(seed))
	c, _ := NewPlan(PlanConfig{}, mrand.NewChaCha8([32]byte{'o', 't', 'h', 'e', 'r'}))
	if fingerprint(a) != fingerprint(b) || a.Items[0].ID != b.Items[0].ID {
		t.Fatal("same reader bytes gave different plans: randomness leaks in from elsewhere")
	}
	if fingerprint(a) == fingerprint(c) {
		t.Fatal("different reader bytes gave the same plan")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestPlanErrors(t *testing.T) {
	bad := []PlanConfig{
		{Count: -1},
		{Count: MaxCount + 1},
		{Kinds: []Kind{KindBlink}},
		{Kinds: []Kind{KindBlink, "dance"}},
		{Kinds: []Kind{KindBlink, KindBlink}},
		{Count: 10, Duration: 10 * time.Minute},
		{Jitter: 1.5},
		{WarmUp: -time.Minute},
	}
	for _, cfg := range bad {
		if _, err := NewPlan(cfg, rand.Reader); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("%+v: err %v, want ErrInvalid", cfg, err)
		}
	}
	if _, err := NewPlan(PlanConfig{}, failingReader{}); err == nil || !strings.Contains(err.Error(), "entropy exhausted") {
		t.Errorf("reader failure: %v", err)
	}
	if _, err := NewChallenge("dance", false, rand.Reader); !errors.Is(err, models.ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
	short, err := NewPlan(PlanConfig{Count: 2, Duration: 3 * time.Minute, WarmUp: time.Minute, EndMargin: 30 * time.Second}, rand.Reader)
	if err != nil || len(short.Items) != 2 {
		t.Fatalf("short interview: %v", err)
	}
}

func TestAlternatives(t *testing.T) {
	for _, spec := range Catalog() {
		ch, err := NewChallenge(spec.Kind, false, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		alt, err := Alternative(ch, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if alt.Kind != spec.Alternative || alt.Replaces != ch.ID || alt.ID == ch.ID {
			t.Errorf("%s: alternative %+v", spec.Kind, alt)
		}
		if spec.Kind == KindFlash && (!alt.Params.Fade || alt.Params.StepMS < 1000) {
			t.Errorf("flash alternative is not the slow fade: %+v", alt.Params)
		}
		if spec.Alternative != KindFlash && spec.Alternative == spec.Kind {
			t.Errorf("%s is its own alternative", spec.Kind)
		}
	}
}

// TestPlanMix: with a mix, the first items cover every group once (one kind from each, in a
// random order that varies between plans); kinds not allowed are dropped from the groups.
func TestPlanMix(t *testing.T) {
	group := func(k Kind) int {
		for i, g := range DefaultMix() {
			if slices.Contains(g, k) {
				return i
			}
		}
		return -1
	}
	firstAt := map[int]map[int]bool{} // group → positions it was seen at
	for n := 0; n < 200; n++ {
		p, err := NewPlan(PlanConfig{Count: 6, Mix: DefaultMix()}, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for i, it := range p.Items[:4] {
			g := group(it.Kind)
			if g < 0 || seen[g] {
				t.Fatalf("plan %d: item %d is %s: the first four items must cover the four groups once: %v", n, i, it.Kind, p.Items)
			}
			seen[g] = true
			if firstAt[g] == nil {
				firstAt[g] = map[int]bool{}
			}
			firstAt[g][i] = true
		}
	}
	for g, pos := range firstAt {
		if len(pos) != 4 {
			t.Errorf("group %v came only at positions %v in 200 plans", DefaultMix()[g], pos)
		}
	}
	// Without flash (an accommodation), the mix covers the other three groups.
	p, err := NewPlan(PlanConfig{Count: 5, Mix: DefaultMix(), Kinds: []Kind{KindTurnHead, KindCoverFace, KindReadDigits, KindBlink, KindLook}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, it := range p.Items[:3] {
		got[group(it.Kind)] = true
	}
	if len(got) != 3 || got[0] {
		t.Errorf("first three items without flash: %v", p.Items[:3])
	}
}
