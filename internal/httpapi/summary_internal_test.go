package httpapi

import (
	"strings"
	"testing"

	"github.com/livecheck/livecheck/models"
)

func TestPlainSummary(t *testing.T) {
	sigs := []models.Signal{
		// Reasons that read in the candidate's favour carry a few points but are no risk.
		{Kind: "replay", Score: 0.2, Confidence: 0.6, Reason: "no screen border or moiré found"},
		{Kind: "pulse", Score: 0.3, Confidence: 0.5, Reason: "a pulse-like rhythm is visible (0.17 corr)"},
		{Kind: "device_virtual_camera", Score: 0.2, Confidence: 0.8, Reason: `A virtual camera is installed but not in use: "OBS Virtual Camera".`},
		// Risks: a challenge failed twice is one reason; a virtual microphone in use.
		{Kind: "challenge_turn_head", Score: 1, Confidence: 0.8, Reason: "turn_head failed: no response"},
		{Kind: "challenge_turn_head", Score: 1, Confidence: 0.8, Reason: "turn_head failed: wrong direction"},
		{Kind: "device_virtual_mic", Score: 0.9, Confidence: 0.8, Reason: `The candidate's audio input is a virtual audio input: "Fake Default Audio Input".`},
		{Kind: "reuse_fingerprint", Score: 0.8, Confidence: 0.7, Reason: "the same device fingerprint was seen for interview 12"},
		{Kind: "identity_mismatch", Score: 0.9, Confidence: 0.9, Reason: "the face does not match the reference photo"},
		// Passed and inconclusive challenges are no risk; passed ones are named.
		{Kind: "challenge_blink", Score: 0, Confidence: 0.8, Reason: "blink passed"},
		{Kind: "challenge_blink", Score: 0, Confidence: 0.8, Reason: "blink passed"},
		{Kind: "challenge_flash", Score: 0.3, Confidence: 0.2, Reason: "flash inconclusive: face lost"},
	}
	points := []verdictReason{
		{Kind: "challenge_turn_head", Text: "turn_head failed: no response", Points: 20},
		{Kind: "challenge_turn_head", Text: "turn_head failed: wrong direction", Points: 10},
		{Kind: "device_virtual_mic", Text: sigs[5].Reason, Points: 12},
		{Kind: "replay", Text: "no screen border or moiré found", Points: 1.5},
		{Kind: "pulse", Text: sigs[1].Reason, Points: 0.8},
	}
	s := plainSummary(sigs, points)
	var kinds []string
	for _, r := range s.Risks {
		kinds = append(kinds, r.Kind)
		if r.Seen == "" || r.Why == "" || strings.Contains(r.Seen, "corr") {
			t.Errorf("%s: not a plain sentence pair: %q / %q", r.Kind, r.Seen, r.Why)
		}
	}
	want := "challenge_turn_head device_virtual_mic identity_mismatch reuse_fingerprint" // most points first, then by kind
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("risks %q, want %q", got, want)
	}
	turn := s.Risks[0]
	if turn.Points != 30 || turn.Times != 2 || !strings.Contains(turn.Seen, "did not turn their head") || !strings.Contains(turn.Seen, "(2 times)") {
		t.Errorf("turn_head reason: %+v", turn)
	}
	if id := s.Risks[2]; id.Seen != "The face does not match the reference photo." {
		t.Errorf("a kind without plain text keeps its own reason as a sentence: %+v", id)
	}
	if strings.Join(s.Passed, ",") != "blink" {
		t.Errorf("passed %v", s.Passed)
	}
	// A verdict held back for lack of evidence says so.
	s = plainSummary(nil, []verdictReason{{Kind: "coverage", Text: "not enough evidence"}})
	if len(s.Risks) != 1 || !strings.Contains(s.Risks[0].Seen, "Too little could be checked") {
		t.Errorf("coverage: %+v", s.Risks)
	}
}

// The session-wide challenge signals have their own sentences, not "did not do the … challenge".
func TestPlainSessionChallengeSignals(t *testing.T) {
	for _, k := range []string{"challenge_none_passed", "challenge_latency", "challenge_delay_unmeasured"} {
		seen, why := plainReasonText(models.Signal{Kind: k, Score: 1, Confidence: 0.6, Reason: "x: y"})
		if seen == "" || why == "" || strings.Contains(seen, "did not") {
			t.Errorf("%s: %q / %q", k, seen, why)
		}
	}
}
