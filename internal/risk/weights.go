package risk

import (
	"sort"
	"strings"
)

// KindInfo documents one signal kind the risk engine knows.
type KindInfo struct {
	// Kind is the models.Signal kind, or a prefix ending in "_" (challenge_,
	// network_, env_) that covers a family of kinds.
	Kind string
	// Weight is the largest share of the risk the kind can take (0..1).
	Weight float64
	// Liveness marks kinds whose confidence counts as coverage.
	Liveness bool
	// Source names who emits it.
	Source string
	// Meaning says what a high score means.
	Meaning string
}

// Kinds is the weight table of ScoringVersion. Exact kinds win over
// prefixes; kinds not in the table weigh DefaultWeight.
var Kinds = []KindInfo{
	// Challenges (internal/room): one signal per challenge, Score 1 failed, 0 passed.
	{"challenge_", 0.8, true, "room (challenges)", "an active liveness challenge failed (or, weakly, was inconclusive)"},
	// Passive video detectors (internal/detect).
	{"photo", 0.7, true, "detect", "the face moves like a flat picture: rigid landmarks, no blink, no expression"},
	{"replay", 0.7, true, "detect", "a screen is being filmed: border around the face, moiré, compressed gamut"},
	{"seam", 0.5, true, "detect", "a blend boundary runs around the face (face swap)"},
	{"virtual_camera", 0.5, true, "detect", "the video comes from software: regular frame timing, no sensor noise, repeated frames"},
	{"flicker", 0.45, true, "detect", "the face's brightness or tint flickers independently of the scene (face swap)"},
	{"texture", 0.4, true, "detect", "the face is smoother than its surroundings (generated or swapped face)"},
	{"landmark_jitter", 0.3, true, "detect", "facial landmarks tremble against each other (face swap)"},
	{"pulse", 0.15, true, "detect", "no pulse visible in the skin colour (weak; never proof)"},
	// Audio (internal/voice via internal/detect).
	{"synthetic_voice", 0.7, true, "voice", "the voice looks synthetic (TTS, vocoder)"},
	{"av_sync", 0.4, false, "detect", "the lips and the voice are out of step or unrelated"},
	// Room measurements (internal/room).
	{"face_presence", 0.3, true, "room", "no face in much of the analysed video"},
	{"face_absent", 0.25, false, "room", "long stretches without a face"},
	{"camera_off", 0.25, false, "room", "camera off or black for long stretches"},
	{"audio_level", 0.15, false, "room", "no audio received"},
	// Environment and network (browser claims and connection facts: evidence, not proof).
	{"device_label", 0.5, false, "environment report", "the camera's label names a virtual camera (OBS, ManyCam, …)"},
	{"env_webdriver", 0.5, false, "environment report", "the browser reports automation (navigator.webdriver)"},
	{"env_", 0.15, false, "environment report", "another inconsistent browser claim (time zone, screen, languages)"},
	{"network_tor", 0.35, false, "network", "the candidate connects through Tor"},
	{"network_vpn", 0.2, false, "network", "the candidate's IP belongs to a VPN, proxy or hosting provider"},
	{"network_geo_mismatch", 0.25, false, "network", "the IP's location is far from the claimed city"},
	{"network_ip_change", 0.1, false, "network", "the candidate's IP changed during the interview"},
	{"network_", 0.2, false, "network", "another network irregularity"},
}

// DefaultWeight is the weight of a kind the table does not know.
const DefaultWeight = 0.2

// lookup finds the table entry of kind: exact match first, then the longest
// matching prefix entry.
func lookup(kind string) (KindInfo, bool) {
	var best KindInfo
	found := false
	for _, k := range Kinds {
		if k.Kind == kind {
			return k, true
		}
		if strings.HasSuffix(k.Kind, "_") && strings.HasPrefix(kind, k.Kind) && len(k.Kind) > len(best.Kind) {
			best, found = k, true
		}
	}
	return best, found
}

// Weight returns the weight of a signal kind in ScoringVersion.
func Weight(kind string) float64 {
	if k, ok := lookup(kind); ok {
		return k.Weight
	}
	return DefaultWeight
}

// IsLiveness reports whether a kind's confidence counts as coverage.
func IsLiveness(kind string) bool {
	k, ok := lookup(kind)
	return ok && k.Liveness
}

func (s Settings) weight(kind string) float64 {
	if w, ok := s.Weights[kind]; ok {
		return w
	}
	return Weight(kind)
}

// SortedKinds returns Kinds ordered by weight (heaviest first), then name,
// for documentation and reports.
func SortedKinds() []KindInfo {
	out := append([]KindInfo(nil), Kinds...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
