package netsig

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/livecheck/livecheck/models"
)

// CandidateType is an ICE candidate type (RFC 8445 §5.1.1).
type CandidateType string

// Candidate types.
const (
	TypeHost  CandidateType = "host"  // the device's own address (often an mDNS name in browsers)
	TypeSrflx CandidateType = "srflx" // server reflexive: the public address a STUN server saw
	TypePrflx CandidateType = "prflx" // peer reflexive: the address our server saw connectivity checks from
	TypeRelay CandidateType = "relay" // an address on a TURN server relaying the media
)

// Candidate is one parsed ICE candidate.
type Candidate struct {
	Foundation     string
	Component      int
	Protocol       string // "udp" or "tcp"
	Priority       uint32
	Address        string     // as written: an IP or a hostname (mDNS "….local")
	Addr           netip.Addr // the address when it is an IP, else invalid
	Port           int
	Type           CandidateType
	RelatedAddress netip.Addr // raddr when it is an IP (0.0.0.0 counts as absent)
	RelatedPort    int
	TCPType        string // active | passive | so, for TCP candidates
}

// ErrBadCandidate wraps every candidate parse failure.
var ErrBadCandidate = errors.New("netsig: bad ICE candidate")

// maxCandidateLen bounds an untrusted candidate line (browsers send < 300 bytes).
const maxCandidateLen = 1024

// ParseCandidate parses an ICE candidate attribute as browsers send it in
// RTCIceCandidate.candidate (RFC 8839 §5.1), with or without the "a=" and
// "candidate:" prefixes:
//
//	candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag x network-cost 999
//
// Unknown extension attributes are ignored.
func ParseCandidate(s string) (Candidate, error) {
	if len(s) > maxCandidateLen {
		return Candidate{}, fmt.Errorf("%w: too long", ErrBadCandidate)
	}
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "a=")
	s = strings.TrimPrefix(s, "candidate:")
	f := strings.Fields(s)
	if len(f) < 8 || f[6] != "typ" {
		return Candidate{}, fmt.Errorf("%w: want <foundation> <component> <transport> <priority> <address> <port> typ <type>", ErrBadCandidate)
	}
	var c Candidate
	c.Foundation = f[0]
	comp, err := strconv.Atoi(f[1])
	if err != nil || comp < 1 || comp > 256 {
		return Candidate{}, fmt.Errorf("%w: component %q", ErrBadCandidate, f[1])
	}
	c.Component = comp
	c.Protocol = strings.ToLower(f[2])
	if c.Protocol != "udp" && c.Protocol != "tcp" {
		return Candidate{}, fmt.Errorf("%w: transport %q", ErrBadCandidate, f[2])
	}
	prio, err := strconv.ParseUint(f[3], 10, 32)
	if err != nil {
		return Candidate{}, fmt.Errorf("%w: priority %q", ErrBadCandidate, f[3])
	}
	c.Priority = uint32(prio)
	c.Address = f[4]
	if a, err := netip.ParseAddr(strings.Trim(f[4], "[]")); err == nil {
		c.Addr = a.Unmap()
	} else if len(f[4]) > 255 || strings.ContainsAny(f[4], "/:@") {
		return Candidate{}, fmt.Errorf("%w: address %q", ErrBadCandidate, f[4])
	}
	port, err := strconv.Atoi(f[5])
	if err != nil || port < 0 || port > 65535 {
		return Candidate{}, fmt.Errorf("%w: port %q", ErrBadCandidate, f[5])
	}
	c.Port = port
	switch t := CandidateType(strings.ToLower(f[7])); t {
	case TypeHost, TypeSrflx, TypePrflx, TypeRelay:
		c.Type = t
	default:
		return Candidate{}, fmt.Errorf("%w: type %q", ErrBadCandidate, f[7])
	}
	for i := 8; i+1 < len(f); i += 2 {
		switch f[i] {
		case "raddr":
			if a, err := netip.ParseAddr(f[i+1]); err == nil && !a.IsUnspecified() {
				c.RelatedAddress = a.Unmap()
			}
		case "rport":
			if p, err := strconv.Atoi(f[i+1]); err == nil && p >= 0 && p <= 65535 {
				c.RelatedPort = p
			}
		case "tcptype":
			c.TCPType = f[i+1]
		}
	}
	if !c.RelatedAddress.IsValid() {
		c.RelatedPort = 0 // a port without its address means nothing
	}
	return c, nil
}

// String formats c in the attribute syntax ParseCandidate reads.
func (c Candidate) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "candidate:%s %d %s %d %s %d typ %s", c.Foundation, c.Component, c.Protocol, c.Priority, c.Address, c.Port, c.Type)
	if c.RelatedAddress.IsValid() {
		fmt.Fprintf(&b, " raddr %s rport %d", c.RelatedAddress, c.RelatedPort)
	}
	if c.TCPType != "" {
		fmt.Fprintf(&b, " tcptype %s", c.TCPType)
	}
	return b.String()
}

// Pair is the ICE candidate pair carrying the media: Local is the server's
// candidate, Remote the candidate's.
type Pair struct {
	Local, Remote Candidate
	// RTT is the pair's current round-trip time from the ICE stats
	// (RTCIceCandidatePairStats.currentRoundTripTime), 0 when unknown.
	RTT time.Duration
}

// ParsePairDescription reads the selected pair as pion describes it
// (webrtc.ICECandidatePair.String()):
//
//	(local) udp4 host 192.0.2.10:50000 <-> (remote) udp4 prflx 203.0.113.7:61234 related 0.0.0.0:0
//
// Only type, protocol, address, port and the related address are filled.
func ParsePairDescription(s string) (Pair, error) {
	if len(s) > 2*maxCandidateLen {
		return Pair{}, fmt.Errorf("%w: pair description too long", ErrBadCandidate)
	}
	l, r, ok := strings.Cut(s, "<->")
	if !ok {
		return Pair{}, fmt.Errorf("%w: pair description without <->", ErrBadCandidate)
	}
	local, err := parsePionCandidate(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "(local)")))
	if err != nil {
		return Pair{}, err
	}
	remote, err := parsePionCandidate(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r), "(remote)")))
	if err != nil {
		return Pair{}, err
	}
	return Pair{Local: local, Remote: remote}, nil
}

// parsePionCandidate reads "udp4 srflx 203.0.113.7:61234 related 192.168.1.2:61234".
func parsePionCandidate(s string) (Candidate, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return Candidate{}, fmt.Errorf("%w: %q", ErrBadCandidate, s)
	}
	var c Candidate
	c.Protocol = strings.TrimRight(strings.ToLower(f[0]), "46")
	if c.Protocol != "udp" && c.Protocol != "tcp" {
		return Candidate{}, fmt.Errorf("%w: network %q", ErrBadCandidate, f[0])
	}
	switch t := CandidateType(strings.ToLower(f[1])); t {
	case TypeHost, TypeSrflx, TypePrflx, TypeRelay:
		c.Type = t
	default:
		return Candidate{}, fmt.Errorf("%w: type %q", ErrBadCandidate, f[1])
	}
	host, port, err := splitHostPort(f[2])
	if err != nil {
		return Candidate{}, err
	}
	c.Address, c.Port = host, port
	if a, err := netip.ParseAddr(host); err == nil {
		c.Addr = a.Unmap()
	}
	if len(f) >= 5 && f[3] == "related" {
		if h, p, err := splitHostPort(f[4]); err == nil {
			if a, err := netip.ParseAddr(h); err == nil && !a.IsUnspecified() {
				c.RelatedAddress, c.RelatedPort = a.Unmap(), p
			}
		}
	}
	return c, nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, fmt.Errorf("%w: address %q without port", ErrBadCandidate, s)
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("%w: port in %q", ErrBadCandidate, s)
	}
	return strings.Trim(s[:i], "[]"), p, nil
}

// ICEReport is what the server learnt about the candidate's side of ICE.
type ICEReport struct {
	// Remote holds the candidate's candidates as trickled over signaling, plus
	// any peer-reflexive ones ICE discovered.
	Remote []Candidate
	// Selected is the nominated pair carrying the media, nil when unknown.
	Selected *Pair
}

// public reports whether a is a routable address worth comparing.
func public(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast()
}

// MediaIPs returns the candidate's public addresses as seen on the media path,
// deduplicated, in order of strength: the selected pair's remote address (when
// not a relay), peer-reflexive and server-reflexive addresses, and the mapped
// address browsers put in a relay candidate's raddr.
func (r ICEReport) MediaIPs() []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if public(a) && !containsAddr(out, a) {
			out = append(out, a)
		}
	}
	if r.Selected != nil && r.Selected.Remote.Type != TypeRelay {
		add(r.Selected.Remote.Addr)
	}
	for _, t := range []CandidateType{TypePrflx, TypeSrflx} {
		for _, c := range r.Remote {
			if c.Type == t {
				add(c.Addr)
			}
		}
	}
	for _, c := range r.Remote {
		if c.Type == TypeRelay {
			add(c.RelatedAddress)
		}
	}
	return out
}

// Relayed reports whether the selected pair's remote side is a TURN relay.
func (r ICEReport) Relayed() bool {
	return r.Selected != nil && r.Selected.Remote.Type == TypeRelay
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if b == a {
			return true
		}
	}
	return false
}

// samePrefix reports whether a and b share a /24 (IPv4) or /48 (IPv6): the
// same carrier-grade NAT pool or the same site, where TCP and UDP flows of one
// device may leave from different addresses.
func samePrefix(a, b netip.Addr) bool {
	if a.Is4() != b.Is4() {
		return false
	}
	bits := 24
	if !a.Is4() {
		bits = 48
	}
	pa, _ := a.Prefix(bits)
	pb, _ := b.Prefix(bits)
	return pa == pb
}

// CheckIPMismatch compares the public client IPs of the HTTP and WebSocket
// requests with the media IPs of ICE. A browser whose page traffic goes through
// a proxy or VPN while WebRTC's UDP goes out directly (the "WebRTC leak") shows
// two different addresses; the media one is then the real one. geo (may be nil)
// refines the verdict: the same network (ASN) is benign, another country is not.
// Value is the number of media IPs not matching any HTTP IP.
func CheckIPMismatch(httpIPs []netip.Addr, ice ICEReport, geo *GeoIP) (models.Signal, bool) {
	var web []netip.Addr
	for _, a := range httpIPs {
		if a = a.Unmap(); public(a) && !containsAddr(web, a) {
			web = append(web, a)
		}
	}
	media := ice.MediaIPs()
	if len(web) == 0 || len(media) == 0 {
		return models.Signal{}, false
	}
	sg := models.Signal{Kind: KindIPMismatch}
	var comparable, unmatched []netip.Addr
	near := false
	for _, m := range media {
		matched := false
		for _, w := range web {
			if w.Is4() != m.Is4() {
				continue
			}
			if !containsAddr(comparable, m) {
				comparable = append(comparable, m)
			}
			if w == m {
				matched = true
			} else if samePrefix(w, m) {
				matched, near = true, true
			}
		}
		if !matched && containsAddr(comparable, m) {
			unmatched = append(unmatched, m)
		}
	}
	sg.Value = float64(len(unmatched))
	switch {
	case len(comparable) == 0:
		// IPv4 page, IPv6 media (or the reverse): normal on dual-stack networks.
		sg.Confidence = 0.3
		sg.Score = 0.1
		sg.Reason = fmt.Sprintf("Page requests came from %s and media from %s, different IP versions: not comparable without network data.",
			joinAddrs(web), joinAddrs(media))
		if geo != nil {
			wi, mi := geo.Lookup(web[0]), geo.Lookup(media[0])
			if wi.ASN != 0 && mi.ASN != 0 {
				sg.Confidence = 0.6
				if wi.ASN == mi.ASN {
					sg.Score = 0
					sg.Reason = fmt.Sprintf("Page requests (%s) and media (%s) use different IP versions of the same network AS%d.", joinAddrs(web), joinAddrs(media), wi.ASN)
				} else {
					sg.Score = 0.5
					sg.Reason = fmt.Sprintf("Page requests (%s, AS%d %s) and media (%s, AS%d %s) leave from different networks: the page likely goes through a proxy or VPN.",
						joinAddrs(web), wi.ASN, wi.ASOrg, joinAddrs(media), mi.ASN, mi.ASOrg)
				}
			}
		}
		return sg, true
	case len(unmatched) == 0:
		sg.Confidence = 0.8
		sg.Reason = fmt.Sprintf("Media IP %s matches the page's IP %s.", joinAddrs(media), joinAddrs(web))
		if near {
			sg.Reason = fmt.Sprintf("Media IP %s is in the same /24 (or /48) as the page's IP %s (one NAT pool).", joinAddrs(media), joinAddrs(web))
		}
		return sg, true
	}
	sg.Score, sg.Confidence = 0.7, 0.6
	sg.Reason = fmt.Sprintf("Media travels from %s but the page's requests came from %s: the browser's web traffic goes through a proxy or VPN that WebRTC bypasses, so %s is likely the real address.",
		joinAddrs(unmatched), joinAddrs(web), unmatched[0])
	if geo != nil {
		wi, mi := geo.Lookup(web[0]), geo.Lookup(unmatched[0])
		switch {
		case wi.ASN != 0 && wi.ASN == mi.ASN:
			sg.Score, sg.Confidence = 0.2, 0.7
			sg.Reason = fmt.Sprintf("Media (%s) and page requests (%s) leave from different addresses of the same network AS%d %s (carrier NAT or load-balanced egress).",
				joinAddrs(unmatched), joinAddrs(web), wi.ASN, wi.ASOrg)
		case wi.Country != "" && mi.Country != "" && wi.Country != mi.Country:
			sg.Score, sg.Confidence = 0.85, 0.8
			sg.Reason = fmt.Sprintf("Media travels from %s (%s) but the page's requests came from %s (%s): the web traffic goes through a proxy or VPN in another country, and %s is likely the real location.",
				unmatched[0], mi.Country, web[0], wi.Country, mi.Country)
		}
	}
	return sg, true
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// CheckRelay reports TURN relay use. Relaying through our own TURN servers
// (ownRelays) is what restrictive corporate firewalls force and scores low; a
// relay we did not offer means the page's ICE configuration was tampered with
// to hide the address; a browser offering only relay candidates has direct
// connectivity disabled (iceTransportPolicy "relay" or a WebRTC leak-protection
// setting). Value is 1 when the selected pair is relayed, else 0.
func CheckRelay(ice ICEReport, ownRelays []netip.Prefix) (models.Signal, bool) {
	if ice.Selected == nil && len(ice.Remote) == 0 {
		return models.Signal{}, false
	}
	var host, srflx, relay int
	for _, c := range ice.Remote {
		switch c.Type {
		case TypeHost:
			host++
		case TypeSrflx, TypePrflx:
			srflx++
		case TypeRelay:
			relay++
		}
	}
	onlyRelay := relay > 0 && host == 0 && srflx == 0
	sg := models.Signal{Kind: KindTURNRelay, Confidence: 0.7}
	if !ice.Relayed() {
		if onlyRelay {
			sg.Score = 0.5
			sg.Reason = fmt.Sprintf("The browser offered only relay candidates (%d): direct connectivity is disabled on purpose (relay-only policy or a WebRTC leak-protection setting).", relay)
			return sg, true
		}
		sg.Reason = "Media flows directly, not through a TURN relay."
		return sg, true
	}
	sg.Value = 1
	relayAddr := ice.Selected.Remote.Addr
	own := false
	for _, p := range ownRelays {
		if relayAddr.IsValid() && p.Contains(relayAddr) {
			own = true
		}
	}
	switch {
	case !own && len(ownRelays) > 0:
		sg.Score, sg.Confidence = 0.8, 0.8
		sg.Reason = fmt.Sprintf("Media is relayed through %s, a TURN server we did not offer: the page's ICE configuration was changed to hide the candidate's address.", ice.Selected.Remote.Address)
	case onlyRelay:
		sg.Score = 0.6
		sg.Reason = fmt.Sprintf("Media is relayed through TURN (%s) and the browser offered only relay candidates: direct connectivity is disabled on purpose, which hides the candidate's address.", ice.Selected.Remote.Address)
	default:
		sg.Score = 0.25
		sg.Reason = fmt.Sprintf("Media is relayed through our TURN server (%s); common behind strict firewalls, but it hides the candidate's own address from the RTT and IP checks.", ice.Selected.Remote.Address)
	}
	return sg, true
}
