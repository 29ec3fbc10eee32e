package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Why a remote ICE candidate is not used. Every refusal wraps ErrRefused.
var (
	ErrRefused    = errors.New("netguard: candidate refused")
	ErrMalformed  = fmt.Errorf("%w: malformed", ErrRefused)
	ErrTransport  = fmt.Errorf("%w: not UDP", ErrRefused)
	ErrHostname   = fmt.Errorf("%w: a host name, not an IP address (names are not resolved)", ErrRefused)
	ErrNotPublic  = fmt.Errorf("%w: not a public address", ErrRefused)
	ErrUndialable = fmt.Errorf("%w: not a unicast address", ErrRefused)
	ErrTooMany    = fmt.Errorf("%w: too many candidates from this peer", ErrRefused)
)

// CandidatePolicy says which remote ICE candidates the server may send
// connectivity checks to.
type CandidatePolicy struct {
	// AllowPrivate admits loopback, private, link-local and the other
	// non-public ranges (tests on one host, deployments inside one private
	// network). Unspecified, multicast and reserved addresses stay refused.
	AllowPrivate bool
}

// Candidate is the part of a remote ICE candidate the server acts on.
type Candidate struct {
	Addr netip.Addr // the address checks are sent to (zone removed, IPv4-mapped unmapped)
	Port uint16
	Type string // host | srflx | prflx | relay
}

// ParseCandidate reads an ICE candidate attribute ("candidate:…", with or
// without "a="), splitting it as pion does (strings.Fields, a leading space
// meaning an empty foundation, the zone removed from the address), so that the
// address judged here is the address pion would contact.
func ParseCandidate(s string) (Candidate, error) {
	s = strings.TrimPrefix(s, "a=")
	v, ok := strings.CutPrefix(s, "candidate:")
	if !ok || len(v) > 1024 || strings.ContainsAny(v, "\r\n\x00") {
		return Candidate{}, ErrMalformed
	}
	f := strings.Fields(v)
	if len(v) > 0 && v[0] == ' ' {
		f = append([]string{" "}, f...)
	}
	if len(f) < 8 || f[6] != "typ" {
		return Candidate{}, ErrMalformed
	}
	if _, err := strconv.ParseUint(f[1], 10, 16); err != nil {
		return Candidate{}, ErrMalformed
	}
	if _, err := strconv.ParseUint(f[3], 10, 32); err != nil {
		return Candidate{}, ErrMalformed
	}
	port, err := strconv.ParseUint(f[5], 10, 16)
	if err != nil || port == 0 {
		return Candidate{}, ErrMalformed
	}
	switch f[7] {
	case "host", "srflx", "prflx", "relay":
	default:
		return Candidate{}, ErrMalformed
	}
	if !strings.EqualFold(f[2], "udp") {
		return Candidate{}, ErrTransport // the server gathers UDP only
	}
	host := f[4]
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return Candidate{}, ErrHostname
	}
	return Candidate{Addr: a.Unmap(), Port: uint16(port), Type: f[7]}, nil
}

// Check returns nil when the server may contact the candidate, or why not (an
// error wrapping ErrRefused).
func (p CandidatePolicy) Check(s string) error {
	c, err := ParseCandidate(s)
	if err != nil {
		return err
	}
	switch {
	case !Dialable(c.Addr):
		return ErrUndialable
	case !p.AllowPrivate && !Public(c.Addr):
		return ErrNotPublic
	}
	return nil
}

// Filter applies a policy and a cap to the remote candidates of one peer,
// whether trickled or inside an SDP answer. It is safe for concurrent use.
type Filter struct {
	policy CandidatePolicy
	max    int

	mu       sync.Mutex
	accepted map[string]bool // candidates passed on, by address and port
	refused  int
}

// NewFilter returns a filter that passes at most max distinct candidates
// (max <= 0: no cap).
func NewFilter(p CandidatePolicy, max int) *Filter {
	return &Filter{policy: p, max: max, accepted: map[string]bool{}}
}

// Allow reports whether the candidate attribute s may be passed to the ICE
// agent; a refusal wraps ErrRefused. A candidate already allowed is allowed again.
func (f *Filter) Allow(s string) error {
	err := f.policy.Check(s)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		c, _ := ParseCandidate(s)
		key := netip.AddrPortFrom(c.Addr, c.Port).String()
		switch {
		case f.accepted[key]:
		case f.max > 0 && len(f.accepted) >= f.max:
			err = ErrTooMany
		default:
			f.accepted[key] = true
		}
	}
	if err != nil {
		f.refused++
	}
	return err
}

// Refused returns how many candidates were refused so far.
func (f *Filter) Refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

// SDP returns sdp without the "a=candidate" lines Allow refuses, and the
// refused lines (for the evidence kept about the connection). Line endings are
// kept as they were.
func (f *Filter) SDP(sdp string) (string, []string) {
	var b strings.Builder
	var refused []string
	b.Grow(len(sdp))
	for rest := sdp; rest != ""; {
		line, tail, found := strings.Cut(rest, "\n")
		rest = tail
		if found {
			line += "\n"
		}
		// pion's SDP reader skips carriage returns before a line's type and
		// drops them at its end (and one character per CR inside it): judge the
		// line as pion reads it, and drop any candidate line with a CR inside.
		attr := strings.TrimRight(strings.TrimLeft(line, "\r"), "\r\n")
		if strings.HasPrefix(attr, "a=candidate:") && f.Allow(attr) != nil { // a CR inside is malformed
			refused = append(refused, strings.TrimPrefix(attr, "a="))
			continue
		}
		b.WriteString(line)
	}
	return b.String(), refused
}
