package challenge

import (
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestPromptJSON(t *testing.T) {
	tests := []struct {
		ch         Challenge
		wantKeys   []string
		wantParams []string // keys of "params" for challenge messages
		check      func(t *testing.T, m map[string]any)
	}{
		{ch: fixed(KindTurnHead, Params{Dir: DirLeft}),
			wantKeys: []string{"deadline_ms", "id", "kind", "params", "sr_text", "t", "text"}, wantParams: []string{"dir"},
			check: func(t *testing.T, m map[string]any) {
				if m["t"] != "challenge" || m["kind"] != "turn_head" || m["deadline_ms"] != 6000.0 ||
					m["params"].(map[string]any)["dir"] != "left" || !strings.Contains(m["text"].(string), "your left") {
					t.Fatalf("%v", m)
				}
			}},
		{ch: fixed(KindLook, Params{Dir: DirDown}), wantKeys: []string{"deadline_ms", "id", "kind", "params", "sr_text", "t", "text"}, wantParams: []string{"dir"}},
		{ch: fixed(KindBlink, Params{Count: 3}), wantKeys: []string{"deadline_ms", "id", "kind", "params", "sr_text", "t", "text"}, wantParams: []string{"count"}},
		{ch: fixed(KindCoverFace, Params{HoldMS: 2000}), wantKeys: []string{"deadline_ms", "id", "kind", "params", "sr_text", "t", "text"}, wantParams: []string{"hold_ms"}},
		{ch: fixed(KindMoveCloser, Params{Scale: 1.3}), wantKeys: []string{"deadline_ms", "id", "kind", "params", "sr_text", "t", "text"}, wantParams: []string{"scale"}},
		{ch: fixed(KindFlash, Params{Colors: []string{"#ff0000", "#00ff00"}, StepMS: 250}),
			wantKeys: []string{"colors", "id", "sr_text", "step_ms", "t", "text"},
			check: func(t *testing.T, m map[string]any) {
				if m["t"] != "flash" || m["step_ms"] != 250.0 || len(m["colors"].([]any)) != 2 {
					t.Fatalf("%v", m)
				}
			}},
		{ch: fixed(KindFlash, Params{Colors: []string{"#ff0000", "#00ff00"}, StepMS: 1250, Fade: true}),
			wantKeys: []string{"colors", "fade", "id", "sr_text", "step_ms", "t", "text"}},
		{ch: fixed(KindReadDigits, Params{Digits: "4 9 1 7"}),
			wantKeys: []string{"deadline_ms", "digits", "id", "sr_text", "t", "text"},
			check: func(t *testing.T, m map[string]any) {
				if m["t"] != "digits" || m["digits"] != "4 9 1 7" || !strings.Contains(m["sr_text"].(string), "4, 9, 1, 7") {
					t.Fatalf("%v", m)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(string(tc.ch.Kind), func(t *testing.T) {
			b, err := json.Marshal(tc.ch.Prompt())
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := keys(m); !slices.Equal(got, tc.wantKeys) {
				t.Fatalf("keys %v, want %v: %s", got, tc.wantKeys, b)
			}
			if tc.wantParams != nil {
				if got := keys(m["params"].(map[string]any)); !slices.Equal(got, tc.wantParams) {
					t.Fatalf("params %v, want %v", got, tc.wantParams)
				}
			}
			if m["id"] != tc.ch.ID || m["text"] == "" || m["sr_text"] == "" {
				t.Fatalf("%s", b)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// TestPromptLeaksNothingElse: a prompt carries none of the other challenges of the plan, and
// none of the plan's timing.
func TestPromptLeaksNothingElse(t *testing.T) {
	for range 200 {
		p, err := NewPlan(PlanConfig{}, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p.Items[0].Prompt())
		for _, other := range p.Items[1:] {
			if strings.Contains(string(b), other.ID) {
				t.Fatalf("prompt %s holds a later challenge's ID", b)
			}
			if other.Kind == KindReadDigits && p.Items[0].Kind != KindReadDigits && strings.Contains(string(b), other.Params.Digits) {
				t.Fatalf("prompt %s holds later digits", b)
			}
		}
		for _, word := range []string{"attempt", "offset", "\"at\"", "items"} {
			if strings.Contains(string(b), word) {
				t.Fatalf("prompt %s has plan field %s", b, word)
			}
		}
	}
}

func TestInstructions(t *testing.T) {
	for _, k := range Kinds() {
		ch, err := NewChallenge(k, false, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		text, sr := Instruction(k, ch.Params)
		if text == "" || sr == "" || len(sr) > 120 {
			t.Errorf("%s: %q / %q", k, text, sr)
		}
	}
	if text, _ := Instruction(KindTurnHead, Params{Dir: DirRight}); !strings.Contains(text, "your right") {
		t.Errorf("right turn text: %q", text)
	}
}

func TestResultMessage(t *testing.T) {
	b, _ := json.Marshal(Result{ID: "x", Outcome: OutcomeInconclusive}.Message())
	if string(b) != `{"t":"result","id":"x","ok":false}` {
		t.Fatalf("%s", b)
	}
	if !(Result{Outcome: OutcomePassed}).Message().OK {
		t.Fatal("passed is not ok")
	}
}
