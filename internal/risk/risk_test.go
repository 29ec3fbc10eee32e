package risk

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

func sg(kind string, score, conf float64, reason string) models.Signal {
	return models.Signal{Kind: kind, Score: score, Confidence: conf, Reason: reason}
}

// clean is the evidence of an uneventful session.
var clean = []models.Signal{
	sg("face_presence", 0, 1, "a face was found in 99 % of 600 analysed frames"),
	sg("photo", 0.05, 0.8, "face moves like a live face"),
	sg("replay", 0.02, 0.7, "no screen border"),
	sg("challenge_blink", 0, 0.8, "blink passed"),
}

func TestScoreTable(t *testing.T) {
	ts := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		signals  []models.Signal
		settings Settings
		score    float64
		decision Decision
		reasons  []string // kinds of the leading reasons, in order
	}{
		{name: "NoEvidence", score: 0, decision: Review, reasons: []string{"coverage"}},
		{name: "Clean", signals: clean,
			// photo 0.7·0.04 and replay 0.7·0.014: 1−(0.972·0.9902) = 3.75 %
			score: 3.8, decision: Verified, reasons: []string{"photo", "replay"}},
		{name: "OneFailedChallenge", signals: append(clean[:len(clean):len(clean)],
			models.Signal{Kind: "challenge_turn_head", Score: 1, Confidence: 0.8, Reason: "turn_head failed: no response", At: ts}),
			// 1 − (1−0.64)(0.972)(0.9902) = 65.35 %
			score: 65.4, decision: Review, reasons: []string{"challenge_turn_head", "photo", "replay"}},
		{name: "TwoFailedChallenges", signals: []models.Signal{
			sg("challenge_turn_head", 1, 0.8, "turn_head failed"), sg("challenge_flash", 1, 0.8, "flash failed"),
			sg("face_presence", 0, 1, "face found")},
			// 1 − 0.36² = 87.04 %
			score: 87.0, decision: Failed, reasons: []string{"challenge_flash", "challenge_turn_head"}},
		{name: "SameKindTwice", signals: []models.Signal{
			sg("challenge_blink", 1, 0.5, "blink failed"), sg("challenge_blink", 1, 0.5, "blink failed again"),
			sg("face_presence", 0, 1, "face found")},
			// E = 1 − 0.5² = 0.75, w 0.8: 60 %
			score: 60, decision: Review, reasons: []string{"challenge_blink", "challenge_blink"}},
		{name: "Photo", signals: []models.Signal{sg("photo", 0.95, 0.85, "rigid, no blink"), sg("face_presence", 0, 1, "face")},
			// 0.7·0.8075 = 56.525 %
			score: 56.5, decision: Review, reasons: []string{"photo"}},
		{name: "PhotoAndReplay", signals: []models.Signal{sg("photo", 0.95, 0.85, "rigid"), sg("replay", 0.9, 0.75, "border"),
			sg("face_presence", 0, 1, "face")},
			// 1 − (1−0.56525)(1−0.4725) = 77.07 %
			score: 77.1, decision: Failed, reasons: []string{"photo", "replay"}},
		{name: "WeakCuesStayVerified", signals: []models.Signal{
			sg("seam", 0.3, 0.5, "s"), sg("flicker", 0.3, 0.6, "f"), sg("pulse", 0.8, 0.25, "p"), sg("face_presence", 0, 1, "face")},
			// 1 − (1−0.075)(1−0.081)(1−0.03) = 17.54 %
			score: 17.5, decision: Verified, reasons: []string{"flicker", "seam", "pulse"}},
		{name: "NetworkOnlyNeedsCoverage", signals: []models.Signal{sg("net_hosting_asn", 1, 1, "hosting provider IP")},
			score: 20, decision: Review, reasons: []string{"net_hosting_asn", "coverage"}},
		{name: "NetworkWithVideo", signals: []models.Signal{sg("net_hosting_asn", 1, 1, "hosting provider IP"), sg("face_presence", 0, 1, "face")},
			score: 20, decision: Verified, reasons: []string{"net_hosting_asn", "face_presence"}},
		{name: "UnknownKindDefaultWeight", signals: []models.Signal{sg("something_new", 1, 1, "?"), sg("face_presence", 0, 0.9, "face")},
			score: 20, decision: Verified, reasons: []string{"something_new"}},
		{name: "SyntheticVoice", signals: []models.Signal{sg("synthetic_voice", 0.9, 0.7, "espeak-like jitter"), sg("face_presence", 0, 1, "face")},
			// 0.7·0.63 = 44.1 %
			score: 44.1, decision: Review, reasons: []string{"synthetic_voice"}},
		{name: "LowerReviewThreshold", signals: []models.Signal{sg("net_hosting_asn", 1, 1, "vpn"), sg("face_presence", 0, 1, "face")},
			settings: Settings{ReviewAt: 15, FailAt: 60}, score: 20, decision: Review, reasons: []string{"net_hosting_asn"}},
		{name: "OutOfRangeInputsClamped", signals: []models.Signal{sg("photo", 7, 2, "bad input"), sg("face_presence", math.NaN(), 1, "face")},
			score: 70, decision: Failed, reasons: []string{"photo", "face_presence"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Score(tc.signals, tc.settings)
			if v.Score != tc.score {
				t.Errorf("score %v, want %v", v.Score, tc.score)
			}
			if v.Decision != tc.decision {
				t.Errorf("decision %s, want %s", v.Decision, tc.decision)
			}
			if len(v.Reasons) < len(tc.reasons) {
				t.Fatalf("reasons %+v, want at least %v", v.Reasons, tc.reasons)
			}
			for i, k := range tc.reasons {
				if v.Reasons[i].Kind != k {
					t.Errorf("reason %d is %s (%+v), want %s", i, v.Reasons[i].Kind, v.Reasons, k)
				}
			}
			var pts float64
			for i, r := range v.Reasons {
				pts += r.Points
				if i > 0 && r.Points > v.Reasons[i-1].Points {
					t.Errorf("reasons not ordered by points: %+v", v.Reasons)
				}
			}
			if math.Abs(pts-v.Score) > 0.01*float64(len(v.Reasons))+1e-9 {
				t.Errorf("points sum to %v, score %v", pts, v.Score)
			}
			if v.ScoringVersion != ScoringVersion {
				t.Errorf("version %q", v.ScoringVersion)
			}
		})
	}
}

func TestScoreIsOrderIndependent(t *testing.T) {
	in := append(clean[:len(clean):len(clean)], sg("challenge_turn_head", 1, 0.8, "failed"), sg("seam", 0.4, 0.5, "s"),
		sg("challenge_turn_head", 0, 0.8, "passed"), sg("flicker", 0.6, 0.3, "f"))
	want := Score(in, Settings{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		sh := append([]models.Signal(nil), in...)
		r.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		if got := Score(sh, Settings{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input changed the verdict:\n%+v\n%+v", got, want)
		}
	}
}

func TestSettings(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Settings{{ReviewAt: 80, FailAt: 50}, {ReviewAt: 30, FailAt: 120}, {MinCoverage: 2},
		{Weights: map[string]float64{"photo": 1.5}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	w := Settings{Weights: map[string]float64{"photo": 0.2}}
	if w.Version() == ScoringVersion || w.Version() != (Settings{Weights: map[string]float64{"photo": 0.2}}).Version() {
		t.Errorf("override version %q must differ from %q and be stable", w.Version(), ScoringVersion)
	}
	v := Score([]models.Signal{sg("photo", 1, 1, "x")}, w)
	if v.Score != 20 || v.ScoringVersion != w.Version() {
		t.Errorf("override not applied: %+v", v)
	}
}

func TestWeights(t *testing.T) {
	for kind, want := range map[string]float64{
		"challenge_flash": 0.8, "photo": 0.7, "net_hosting_asn": 0.2, "identity_change": 0.6, "identity_other": 0.3, "reuse_face": 0.3, "net_something_new": 0.2,
		"env_language": 0.15, "device_virtual_camera": 0.5, "env_webdriver": 0.5, "nonsense": DefaultWeight,
	} {
		if got := Weight(kind); got != want {
			t.Errorf("Weight(%q) = %v, want %v", kind, got, want)
		}
	}
	if !IsLiveness("challenge_blink") || IsLiveness("net_hosting_asn") || IsLiveness("nonsense") {
		t.Error("IsLiveness table wrong")
	}
	s := SortedKinds()
	for i := 1; i < len(s); i++ {
		if s[i].Weight > s[i-1].Weight {
			t.Fatal("SortedKinds not sorted by weight")
		}
	}
}
