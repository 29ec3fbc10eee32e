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
	// Challenges (internal/analysis): one signal per challenge, Score 1 failed, 0 passed.
	{"challenge_", 0.8, true, "analysis (challenges)", "an active liveness challenge failed (or, weakly, was inconclusive)"},
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
	// The analysis session's own measurements (internal/analysis, mapped by internal/verdict).
	{"face_presence", 0.3, true, "analysis", "no face in much of the analysed video"},
	{"face_absent", 0.25, false, "analysis", "long stretches without a face"},
	{"camera_off", 0.25, false, "analysis", "camera off or black for long stretches"},
	{"frame_cadence", 0.5, false, "analysis", "the camera source skipped many of its frames at irregular times (a pipeline that cannot keep up: a real-time face swap)"},
	{"motion_stall", 0.5, false, "analysis", "the head stood still on single frames while it moved steadily on both sides (a virtual camera repeating a late face swap's last frame)"},
	{"audio_level", 0.15, false, "analysis", "no audio received"},
	// Face identity (internal/faceid through the analysis's identity stage and internal/verdict).
	{"identity_change", 0.6, false, "faceid", "the person on camera changed during the session (a person switch, a face swap dropping out)"},
	{"identity_reuse", 0.6, false, "faceid", "the same face was seen for a different candidate in the look-back window"},
	{"identity_reference", 0.6, false, "faceid", "the face on camera does not match the candidate's reference photo"},
	{"identity_", 0.3, false, "faceid", "another identity irregularity"},
	// The analysis itself (internal/analysis, internal/verdict).
	{"analysis_error", 0.3, false, "analysis", "the analysis stopped after an internal error: the verdict covers only part of the session"},
	// Environment, device and network facts (internal/netsig; browser claims
	// are evidence, not proof). The net_, env_, device_ and reuse_ prefixes
	// cover kinds added there later.
	{"device_virtual_camera", 0.5, false, "netsig", "a virtual camera is in use or installed"},
	{"device_virtual_mic", 0.3, false, "netsig", "a virtual audio device is in use or installed"},
	{"device_voice_changer", 0.5, false, "netsig", "a voice changer is in use or installed"},
	{"device_", 0.3, false, "netsig", "another suspicious device"},
	{"env_webdriver", 0.5, false, "netsig", "the browser reports automation (navigator.webdriver)"},
	{"env_timezone_offset", 0.25, false, "netsig", "the browser's time zone settings disagree (spoofing)"},
	{"env_", 0.15, false, "netsig", "a browser claim (time zone, languages, platform) contradicts the candidate's claims"},
	{"net_anonymizer", 0.35, false, "netsig", "the IP is a known VPN, Tor exit or proxy"},
	{"net_rtt_geoip", 0.35, false, "netsig", "the round-trip time is physically impossible for the IP's location"},
	{"net_rtt_claimed", 0.3, false, "netsig", "the round-trip time is far above what the claimed city allows"},
	{"net_ip_mismatch", 0.25, false, "netsig", "the web and media connections come from different IPs"},
	{"net_geoip_country", 0.25, false, "netsig", "the IP's country differs from the claimed country"},
	{"net_hosting_asn", 0.2, false, "netsig", "the IP belongs to a hosting or VPN network"},
	{"net_turn_relay", 0.1, false, "netsig", "media relayed through TURN (common behind strict firewalls)"},
	{"net_", 0.2, false, "netsig", "another network irregularity"},
	{"reuse_fingerprint", 0.4, false, "netsig", "the same device fingerprint was seen for a different candidate"},
	{"reuse_browser", 0.4, false, "netsig", "the same browser was seen for a different candidate"},
	{"reuse_ip", 0.15, false, "netsig", "the same IP was seen for a different candidate"},
	{"reuse_", 0.3, false, "netsig", "another cross-candidate reuse"},
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

// Describe returns the table entry that weighs kind (exact, else the longest
// prefix), for explaining a signal to people.
func Describe(kind string) (KindInfo, bool) { return lookup(kind) }
