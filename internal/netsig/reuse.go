package netsig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// FingerprintVersion prefixes every fingerprint so a future definition never
// matches an old one.
const FingerprintVersion = "fp1"

var versionNumbers = regexp.MustCompile(`[0-9]+([._][0-9]+)*`)

// Fingerprint derives a device fingerprint from the environment report and the
// User-Agent header. It hashes what belongs to the machine rather than the
// persona an operator sets up per interview:
//
//   - the sorted, de-duplicated labels of cameras and microphones (models, USB
//     ids, headsets: the most distinctive part),
//   - screen size and pixel ratio, CPU thread count, navigator.platform,
//   - the User-Agent with version numbers removed (browser updates every few
//     weeks must not change it).
//
// Time zone and languages are left out on purpose: they are the first things
// an impostor changes between personas. strength (0..0.8) estimates how
// distinctive the result is: a bare laptop with its built-in camera and
// microphone shares its fingerprint with every laptop of the same model, so
// strength grows with the number of device labels. fp is "" when the report
// has nothing to hash.
func Fingerprint(env Environment, userAgent string) (fp string, strength float64) {
	var labels []string
	for _, d := range env.Devices {
		if (d.Kind == "videoinput" || d.Kind == "audioinput") && strings.TrimSpace(d.Label) != "" {
			l := strings.ToLower(strings.TrimSpace(d.Label))
			l = strings.TrimPrefix(l, "default - ")
			l = strings.TrimPrefix(l, "communications - ")
			if !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
		}
	}
	sort.Strings(labels)
	if len(labels) == 0 && env.ScreenW == 0 && env.Platform == "" {
		return "", 0
	}
	ua := versionNumbers.ReplaceAllString(strings.ToLower(userAgent), "")
	parts := []string{
		FingerprintVersion,
		"labels=" + strings.Join(labels, "|"),
		fmt.Sprintf("screen=%dx%d@%s", env.ScreenW, env.ScreenH, strconv.FormatFloat(env.PixelRatio, 'f', 2, 64)),
		fmt.Sprintf("cpu=%d", env.HardwareConc),
		"platform=" + strings.ToLower(env.Platform),
		"ua=" + ua,
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	strength = math.Min(0.8, 0.2+0.15*float64(len(labels)))
	return FingerprintVersion + ":" + hex.EncodeToString(sum[:16]), strength
}

// ReuseAddresses returns the public addresses worth looking up for reuse: the
// page's and the media's, without private ranges (shared by everyone behind
// the same proxy) and without relay addresses (our own TURN servers).
func ReuseAddresses(httpIPs []netip.Addr, ice ICEReport) []string {
	var out []string
	for _, a := range append(slices.Clone(httpIPs), ice.MediaIPs()...) {
		a = a.Unmap()
		if public(a) && !slices.Contains(out, a.String()) {
			out = append(out, a.String())
		}
	}
	return out
}

// Match kinds of a Sighting.
const (
	MatchIP          = "ip"
	MatchBrowser     = "browser"
	MatchFingerprint = "fingerprint"
)

// Sighting is one earlier interview where the same IP, browser cookie or
// fingerprint was seen. Its fields are those of store.ReuseMatch, so a store
// result converts with netsig.Sighting(m).
type Sighting struct {
	InterviewID    int64
	CandidateEmail string
	Match          string // MatchIP, MatchBrowser or MatchFingerprint
	Value          string // the shared IP, browser id or fingerprint
	At             time.Time
}

// Subject identifies the interview being checked.
type Subject struct {
	InterviewID    int64
	CandidateEmail string
}

// sameCandidate reports whether two interviews are for the same person (the
// same e-mail address, case-insensitively): a second-round interview is not reuse.
func sameCandidate(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// CheckReuse turns sightings into reuse signals, ignoring the interview itself
// and other interviews of the same candidate. Reasons name the other
// interviews by id and date only, never the other candidate's identity.
//
//   - reuse_browser (0.9): the same browser cookie — the same browser profile
//     joined as another candidate.
//   - reuse_fingerprint (0.6, 0.85 when the same interview also shares an IP):
//     confidence is fpStrength, since common laptops share fingerprints.
//   - reuse_ip (0.5, confidence 0.5): offices, shared flats and carrier NAT
//     put honest people behind one address.
//
// Value is the number of other interviews matched. Kinds without sightings
// yield no signal; with none at all, a single Score-0 reuse_ip signal says the
// lookup was made.
func CheckReuse(self Subject, sightings []Sighting, fpStrength float64) []models.Signal {
	by := map[string]map[int64]Sighting{}
	for _, s := range sightings {
		if s.InterviewID == self.InterviewID || sameCandidate(s.CandidateEmail, self.CandidateEmail) {
			continue
		}
		if by[s.Match] == nil {
			by[s.Match] = map[int64]Sighting{}
		}
		if prev, ok := by[s.Match][s.InterviewID]; !ok || s.At.After(prev.At) {
			by[s.Match][s.InterviewID] = s
		}
	}
	describe := func(m map[int64]Sighting, showValue bool) string {
		ids := make([]int64, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var parts []string
		for _, id := range ids {
			s := m[id]
			p := fmt.Sprintf("interview %d on %s", id, s.At.UTC().Format("2006-01-02"))
			if showValue {
				p += " from " + s.Value
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ", ")
	}
	var out []models.Signal
	if m := by[MatchBrowser]; len(m) > 0 {
		out = append(out, models.Signal{Kind: KindReuseBrowser, Value: float64(len(m)), Score: 0.9, Confidence: 0.9,
			Reason: fmt.Sprintf("The same browser (its livecheck cookie) joined as a different candidate in %s: one person or one machine behind several candidates.", describe(m, false))})
	}
	if m := by[MatchFingerprint]; len(m) > 0 {
		score := 0.6
		for id := range m {
			if _, ok := by[MatchIP][id]; ok {
				score = 0.85
			}
		}
		out = append(out, models.Signal{Kind: KindReuseFingerprint, Value: float64(len(m)), Score: score, Confidence: fpStrength,
			Reason: fmt.Sprintf("The same device fingerprint (camera and microphone models, screen, CPU, browser) was seen for a different candidate in %s.%s",
				describe(m, false), map[bool]string{true: " The same address was seen there too.", false: " Identical standard laptops share fingerprints, so this alone is weak."}[score > 0.6])})
	}
	if m := by[MatchIP]; len(m) > 0 {
		out = append(out, models.Signal{Kind: KindReuseIP, Value: float64(len(m)), Score: 0.5, Confidence: 0.5,
			Reason: fmt.Sprintf("The same IP address was used by a different candidate in %s. Offices, shared homes and carrier NAT can explain it.", describe(m, true))})
	}
	if len(out) == 0 {
		out = append(out, models.Signal{Kind: KindReuseIP, Confidence: 0.5,
			Reason: "No other candidate used this IP address, browser or device fingerprint in the look-back window."})
	}
	return out
}
