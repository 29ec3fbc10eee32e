package httpapi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/models"
)

// PlainReason is one reason of a verdict in words a recruiter understands:
// what was seen, and why it matters.
type PlainReason struct {
	Kind   string
	Seen   string
	Why    string
	Points float64 // the reason's share of the risk score
	Times  int     // signals of this kind merged into the sentence
}

// Summary is the recruiter-facing reading of a session: only the reasons that
// add risk (once each), and what went well.
type Summary struct {
	Risks  []PlainReason
	Passed []string // challenges passed, in plain words
}

// riskScore is the least detector score that reads as "looks forged": below
// it a signal speaks for the candidate, whatever points it carries.
const riskScore = 0.5

// plainText says what a signal kind found, for kinds whose reason text is technical.
var plainText = map[string][2]string{
	"photo":           {"The face moved like a flat picture: no blinks, no expressions.", "A photo held up to the camera looks like this."},
	"replay":          {"The picture looks like a screen being filmed (a border around the face, screen patterns or washed-out colours).", "Someone may be playing a recording of another person."},
	"seam":            {"A blending edge runs around the face.", "Face-swap software, which puts one person's face onto another, leaves such edges."},
	"virtual_camera":  {"The video looks made by software rather than by a camera (too regular, no sensor noise, repeated frames).", "Software cameras can send any video, including a face swap or a recording."},
	"flicker":         {"The face's brightness or tint flickers on its own, unlike the rest of the picture.", "Face swaps often flicker like this."},
	"texture":         {"The face looks smoother than the rest of the picture.", "Generated or swapped faces often lose the skin's detail."},
	"landmark_jitter": {"The features of the face tremble against each other.", "Face swaps often jitter like this."},
	"pulse":           {"No pulse could be seen in the skin's colour.", "Real skin shows the heartbeat faintly; on its own this is only a weak hint."},
	"synthetic_voice": {"The voice sounds synthetic.", "Text-to-speech and voice cloning sound like this."},
	"av_sync":         {"The lips and the voice are out of step.", "Dubbed or generated video often is."},
	"face_presence":   {"No face could be seen in much of the video.", "Without a face there is nothing to check."},
	"face_absent":     {"The face was out of view for long stretches.", "Someone else may have been answering, or the picture hidden."},
	"camera_off":      {"The camera was off or black for long stretches.", "Nobody can be checked while the camera is off."},
	"audio_level":     {"No sound was received.", "The voice could not be checked."},
	"motion_stall":    {"The picture froze for single frames while the head was moving.", "Face-swap software behind a virtual camera repeats its last picture when it falls behind; a camera does not."},
	"frame_cadence":   {"The candidate's video skipped many frames at irregular times.", "Real-time face-swap software that cannot keep up with the camera does this; a camera does not."},

	"device_virtual_camera": {"The candidate's camera is a virtual camera or a video file.", "It can send any picture instead of the real one."},
	"device_virtual_mic":    {"The candidate's microphone is a virtual audio device.", "It can send recorded or generated speech."},
	"device_voice_changer":  {"A voice changer was found on the candidate's computer.", "It disguises or replaces the candidate's voice."},
	"env_webdriver":         {"The browser said it is controlled by automation software.", "People join with an ordinary browser; automation can inject video."},
	"env_timezone_offset":   {"The browser's time-zone settings contradict each other.", "This happens when a location is faked."},
	"env_":                  {"What the browser reports (time zone, languages, system) does not fit the candidate's claims.", "Honest travellers can trip this; alone it proves nothing."},
	"net_anonymizer":        {"The connection came through a VPN, Tor or a proxy.", "It hides where the candidate really is."},
	"net_rtt_geoip":         {"The connection's delay is impossible for where its address is.", "The address is probably a relay; the candidate is elsewhere."},
	"net_rtt_claimed":       {"The connection's delay is far too long for the city the candidate claims.", "The candidate may be much further away than claimed."},
	"net_ip_mismatch":       {"The web page and the video came from different internet addresses.", "The video may be sent from another machine."},
	"net_geoip_country":     {"The internet address is in another country than the one claimed.", "The candidate may not be where they say (or uses a VPN)."},
	"net_hosting_asn":       {"The internet address belongs to a hosting or VPN provider, not a home or office line.", "Remote-access set-ups use such addresses."},
	"net_turn_relay":        {"The video was relayed through a server rather than sent directly.", "Common behind strict firewalls; a weak hint only."},
	"challenges_locked":     {"Challenges stopped after repeated failures.", "So that nobody can retry until one passes: a reviewer decides."},
	"challenge_none_passed": {"No challenge could be confirmed: every one was inconclusive.", "Without one confirmed response nothing shows a live person: a reviewer decides."},
	"challenge_latency":     {"The candidate started the movement challenges unusually late.", "Video relayed through a face-swap or a delay pipeline arrives late; a slow reader can too."},
	"challenge_delay_unmeasured": {"The camera's delay could not be measured: the screen-colour check was inconclusive every time.",
		"That check is the only one that shows the video comes straight from a camera; software that alters the voice or face and delays the video to match passes the others. Some cameras and skin tones show the colours too faintly: a reviewer decides."},

	"identity_change":    {"The person on camera changed during the interview.", "Someone else may have taken over, or a face swap slipped and showed the real face: the security team compares the two faces."},
	"identity_reuse":     {"The same face was seen in another candidate's interview.", "One person may be interviewing under several names: the security team checks the match."},
	"identity_reference": {"The face on camera does not match the candidate's reference photo.", "The person interviewing may not be the applicant: the security team compares both images."},
}

// challengeVerbs say what each challenge asked.
var challengeVerbs = map[string]string{
	"turn_head": "turn their head", "look": "tilt their head", "blink": "blink", "cover_face": "cover half their face",
	"move_closer": "lean closer", "flash": "reflect the screen's colours", "read_digits": "read the digits aloud",
}

// plainSummary reads a session's signals for recruiters. points are the stored
// verdict's reasons (for each reason's share of the score).
func plainSummary(sigs []models.Signal, points []verdictReason) Summary {
	pts := map[string]float64{}
	for _, p := range points {
		pts[p.Kind+"\x00"+p.Text] += p.Points
	}
	var sum Summary
	byKind := map[string]*PlainReason{}
	passed := map[string]bool{}
	for _, sg := range sigs {
		if ck, ok := strings.CutPrefix(sg.Kind, "challenge_"); ok && sg.Score < riskScore {
			if strings.Contains(sg.Reason, "passed") && !passed[ck] {
				passed[ck] = true
				sum.Passed = append(sum.Passed, strings.ReplaceAll(ck, "_", " "))
			}
			continue
		}
		if sg.Score < riskScore || sg.Score*sg.Confidence < 0.2 {
			continue // speaks for the candidate, or too unsure to count as risk
		}
		pr := byKind[sg.Kind] // once per kind: repeated failures of one challenge are one reason
		if pr == nil {
			seen, why := plainReasonText(sg)
			pr = &PlainReason{Kind: sg.Kind, Seen: seen, Why: why}
			byKind[sg.Kind] = pr
		}
		pr.Times++
		pr.Points += pts[sg.Kind+"\x00"+sg.Reason]
	}
	for _, p := range points {
		if p.Kind == "coverage" { // the verdict could not be "verified" for lack of evidence
			byKind[p.Kind] = &PlainReason{Kind: p.Kind, Seen: "Too little could be checked to verify the candidate (not enough analysed video or challenges).",
				Why: "Without enough evidence the session cannot count as verified: a reviewer decides.", Times: 1}
		}
	}
	for _, pr := range byKind {
		if pr.Times > 1 && strings.HasPrefix(pr.Kind, "challenge_") {
			pr.Seen = strings.TrimSuffix(pr.Seen, ".") + fmt.Sprintf(" (%d times).", pr.Times)
		}
		sum.Risks = append(sum.Risks, *pr)
	}
	sort.SliceStable(sum.Risks, func(i, j int) bool {
		if sum.Risks[i].Points != sum.Risks[j].Points {
			return sum.Risks[i].Points > sum.Risks[j].Points
		}
		return sum.Risks[i].Kind < sum.Risks[j].Kind
	})
	sort.Strings(sum.Passed)
	return sum
}

// plainReasonText is the sentence pair of one risk-adding signal.
func plainReasonText(sg models.Signal) (seen, why string) {
	if t, ok := plainText[sg.Kind]; ok { // also the session-wide challenge signals
		return t[0], t[1]
	}
	if ck, ok := strings.CutPrefix(sg.Kind, "challenge_"); ok {
		verb := challengeVerbs[ck]
		if verb == "" {
			verb = "do the " + strings.ReplaceAll(ck, "_", " ") + " challenge"
		}
		detail := ""
		if _, d, found := strings.Cut(sg.Reason, ": "); found {
			detail = " (" + d + ")"
		}
		return "The candidate did not " + verb + " when asked" + detail + ".",
			"A live person follows a random instruction at once; a recording or a face swap often cannot."
	}
	if t, ok := plainText[sg.Kind]; ok {
		return t[0], t[1]
	}
	if strings.HasPrefix(sg.Kind, "reuse_") {
		return sentence(sg.Reason), "One person may be interviewing under several names."
	}
	for prefix, t := range plainText {
		if strings.HasSuffix(prefix, "_") && strings.HasPrefix(sg.Kind, prefix) {
			return t[0], t[1]
		}
	}
	why = "It adds to the risk score; the security reviewers see the details."
	if info, ok := risk.Describe(sg.Kind); ok {
		why = sentence("It suggests " + info.Meaning)
	}
	return sentence(sg.Reason), why
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
