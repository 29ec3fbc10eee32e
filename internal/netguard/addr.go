// Package netguard decides which network addresses a client may make the
// server contact: the ICE candidates a candidate's browser sends (the server
// sends STUN checks to each) and the webhook targets an admin configures.
// Everything here is pure and fuzzed.
package netguard

import (
	"net/netip"
	"strings"
)

// nonPublic are the ranges of the IANA special-purpose address registries that
// are not globally reachable, plus those that reach IPv4 through a translator
// or tunnel (NAT64, 6to4, Teredo, IPv4-compatible IPv6) and so could lead to
// any internal IPv4 address.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local (cloud metadata endpoints)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // unspecified, loopback, IPv4-compatible (deprecated)
		"::ffff:0:0/96",   // IPv4-mapped: checked as IPv4 after Unmap, listed for safety
		"64:ff9b::/96",    // NAT64 well-known prefix
		"64:ff9b:1::/48",  // NAT64 local use
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo, benchmarking, ORCHID)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 segment identifiers
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// global6 is the IPv6 global unicast space; nothing outside it is public.
var global6 = netip.MustParsePrefix("2000::/3")

// Public reports whether a is a globally reachable unicast address. IPv4-mapped
// IPv6 addresses are judged as the IPv4 address they map.
func Public(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	if a.Is6() && !global6.Contains(a) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Dialable reports whether a could be a peer's unicast address at all: not
// unspecified, multicast, in 0.0.0.0/8 or in 240.0.0.0/4 (reserved, and the
// broadcast address). Private and loopback addresses are dialable (see
// CandidatePolicy.AllowPrivate).
func Dialable(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && !zeroNet.Contains(a) && !reserved4.Contains(a)
}

var (
	zeroNet   = netip.MustParsePrefix("0.0.0.0/8")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4")
)

// HostEndsInNumber reports whether a URL host is read by browsers and by
// getaddrinfo as an IPv4 address although it is not in dotted-quad form
// ("2130706433", "0x7f000001", "127.1", "0177.0.0.1"): its last label (after
// a trailing dot) is a decimal, octal or hexadecimal number (WHATWG URL "ends
// in a number"). Such hosts must not be taken for DNS names.
func HostEndsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		return strings.Trim(l[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}
