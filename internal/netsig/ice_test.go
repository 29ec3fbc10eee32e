package netsig

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustCand(t testing.TB, s string) Candidate {
	t.Helper()
	c, err := ParseCandidate(s)
	if err != nil {
		t.Fatalf("ParseCandidate(%q): %v", s, err)
	}
	return c
}

func TestParseCandidate(t *testing.T) {
	t.Run("ChromeHostMDNS", func(t *testing.T) {
		c := mustCand(t, "candidate:2437107466 1 udp 2122260223 4e5b7a3c-1f0e-4d1e-9c1a-7b2f3e8d9a10.local 54400 typ host generation 0 ufrag Xy12 network-id 1 network-cost 10")
		if c.Type != TypeHost || c.Addr.IsValid() || !strings.HasSuffix(c.Address, ".local") || c.Port != 54400 || c.Priority != 2122260223 || c.Component != 1 {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("Srflx", func(t *testing.T) {
		c := mustCand(t, "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 generation 0")
		if c.Type != TypeSrflx || c.Addr != netip.MustParseAddr("203.0.113.7") || c.RelatedAddress.IsValid() || c.Protocol != "udp" {
			t.Fatalf("%+v (raddr 0.0.0.0 must count as absent)", c)
		}
	})
	t.Run("RelayWithMappedAddress", func(t *testing.T) {
		c := mustCand(t, "candidate:1 1 udp 41885439 198.51.100.20 3478 typ relay raddr 203.0.113.7 rport 61234 generation 0")
		if c.Type != TypeRelay || c.RelatedAddress != netip.MustParseAddr("203.0.113.7") || c.RelatedPort != 61234 {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("TCPIPv6", func(t *testing.T) {
		c := mustCand(t, "candidate:3 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active")
		if c.Protocol != "tcp" || c.TCPType != "active" || !c.Addr.Is6() || c.Port != 9 {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		c := mustCand(t, "candidate:1 1 udp 41885439 198.51.100.20 3478 typ relay raddr 203.0.113.7 rport 61234")
		if d := mustCand(t, c.String()); d != c {
			t.Fatalf("round trip: %+v != %+v", d, c)
		}
	})
	for _, bad := range []string{
		"",
		"candidate:1 1 udp 1 203.0.113.7 61234", // no typ
		"candidate:1 1 sctp 1 203.0.113.7 61234 typ host",                         // transport
		"candidate:1 1 udp 1 203.0.113.7 70000 typ host",                          // port
		"candidate:1 0 udp 1 203.0.113.7 1 typ host",                              // component
		"candidate:1 1 udp -5 203.0.113.7 1 typ host",                             // priority
		"candidate:1 1 udp 1 203.0.113.7 1 typ bogus",                             // type
		"candidate:1 1 udp 1 http://x/y 1 typ host",                               // address
		"candidate:1 1 udp 1 203.0.113.7 1 typ host " + strings.Repeat("x ", 600), // too long
	} {
		if _, err := ParseCandidate(bad); !errors.Is(err, ErrBadCandidate) {
			t.Errorf("ParseCandidate(%.60q) = %v, want ErrBadCandidate", bad, err)
		}
	}
}

func TestParsePairDescription(t *testing.T) {
	p, err := ParsePairDescription("(local) udp4 host 192.0.2.10:50000 <-> (remote) udp4 prflx 203.0.113.7:61234 related 0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Local.Type != TypeHost || p.Local.Port != 50000 || p.Remote.Type != TypePrflx || p.Remote.Addr != netip.MustParseAddr("203.0.113.7") || p.Remote.RelatedAddress.IsValid() {
		t.Fatalf("%+v", p)
	}
	p, err = ParsePairDescription("(local) udp6 host [2001:db8::1]:5000 <-> (remote) udp4 relay 198.51.100.20:3478 related 203.0.113.7:61234")
	if err != nil || p.Local.Addr != netip.MustParseAddr("2001:db8::1") || p.Remote.Type != TypeRelay || p.Remote.RelatedAddress != netip.MustParseAddr("203.0.113.7") {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{"", "(local) udp4 host 1.2.3.4:5", "(local) udp4 host 1.2.3.4 <-> (remote) udp4 host 1.2.3.4:5", "(local) quic host 1.2.3.4:5 <-> (remote) udp4 host 1.2.3.4:5"} {
		if _, err := ParsePairDescription(bad); !errors.Is(err, ErrBadCandidate) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// browserICE is what a candidate at 203.0.113.7 behind a home NAT sends.
func browserICE(t *testing.T, selectedRemote string) ICEReport {
	r := ICEReport{Remote: []Candidate{
		mustCand(t, "candidate:1 1 udp 2122260223 a1b2.local 54400 typ host"),
		mustCand(t, "candidate:2 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0"),
	}}
	if selectedRemote != "" {
		r.Selected = &Pair{Local: mustCand(t, "candidate:9 1 udp 2130706431 192.0.2.10 50000 typ host"), Remote: mustCand(t, selectedRemote)}
	}
	return r
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestMediaIPs(t *testing.T) {
	r := browserICE(t, "candidate:5 1 udp 1845501695 203.0.113.99 40000 typ prflx")
	r.Remote = append(r.Remote, mustCand(t, "candidate:3 1 udp 41885439 198.51.100.20 3478 typ relay raddr 203.0.113.50 rport 1"),
		mustCand(t, "candidate:4 1 udp 1 10.0.0.5 1 typ srflx"))
	got := r.MediaIPs()
	want := addrs("203.0.113.99", "203.0.113.7", "203.0.113.50")
	if len(got) != len(want) {
		t.Fatalf("%v, want %v (private and relay addresses excluded)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

func TestCheckIPMismatch(t *testing.T) {
	t.Run("Same", func(t *testing.T) {
		sg, ok := CheckIPMismatch(addrs("203.0.113.7"), browserICE(t, "candidate:2 1 udp 1677729535 203.0.113.7 61234 typ srflx"), nil)
		if !ok || sg.Score != 0 || sg.Kind != KindIPMismatch {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("SameNATPool", func(t *testing.T) {
		sg, ok := CheckIPMismatch(addrs("203.0.113.8"), browserICE(t, ""), nil)
		if !ok || sg.Score != 0 || !strings.Contains(sg.Reason, "/24") {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("WebRTCLeak", func(t *testing.T) {
		// The page came through a proxy at 198.51.100.9; media leaks the real 203.0.113.7.
		sg, ok := CheckIPMismatch(addrs("198.51.100.9", "::ffff:198.51.100.9"), browserICE(t, ""), nil)
		if !ok || sg.Score != 0.7 || sg.Value != 1 || !strings.Contains(sg.Reason, "203.0.113.7") {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("DifferentFamilies", func(t *testing.T) {
		sg, ok := CheckIPMismatch(addrs("2001:db8::7"), browserICE(t, ""), nil)
		if !ok || sg.Score > 0.1 || sg.Confidence > 0.3 {
			t.Fatalf("dual stack must be inconclusive: %+v", sg)
		}
	})
	t.Run("NothingToCompare", func(t *testing.T) {
		if _, ok := CheckIPMismatch(addrs("127.0.0.1"), browserICE(t, ""), nil); ok {
			t.Fatal("loopback page IP: not evaluated")
		}
		if _, ok := CheckIPMismatch(addrs("203.0.113.7"), ICEReport{Remote: []Candidate{mustCand(t, "candidate:1 1 udp 1 x.local 1 typ host")}}, nil); ok {
			t.Fatal("no public media IP: not evaluated")
		}
	})
}

func TestCheckRelay(t *testing.T) {
	own := []netip.Prefix{netip.MustParsePrefix("198.51.100.20/32")}
	relayPair := func(addr string) *Pair {
		return &Pair{Remote: mustCand(t, "candidate:3 1 udp 41885439 "+addr+" 3478 typ relay raddr 203.0.113.7 rport 1")}
	}
	t.Run("Direct", func(t *testing.T) {
		sg, ok := CheckRelay(browserICE(t, "candidate:2 1 udp 1677729535 203.0.113.7 61234 typ srflx"), own)
		if !ok || sg.Score != 0 || sg.Value != 0 {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("OwnTURN", func(t *testing.T) {
		r := browserICE(t, "")
		r.Selected = relayPair("198.51.100.20")
		sg, _ := CheckRelay(r, own)
		if sg.Score != 0.25 || sg.Value != 1 {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("ForeignTURN", func(t *testing.T) {
		r := browserICE(t, "")
		r.Selected = relayPair("192.0.2.200")
		sg, _ := CheckRelay(r, own)
		if sg.Score != 0.8 || !strings.Contains(sg.Reason, "did not offer") {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("RelayOnly", func(t *testing.T) {
		r := ICEReport{Remote: []Candidate{relayPair("198.51.100.20").Remote}, Selected: relayPair("198.51.100.20")}
		sg, _ := CheckRelay(r, own)
		if sg.Score != 0.6 {
			t.Fatalf("%+v", sg)
		}
		r.Selected = nil
		sg, _ = CheckRelay(r, own)
		if sg.Score != 0.5 {
			t.Fatalf("relay-only offer before selection: %+v", sg)
		}
	})
	t.Run("Nothing", func(t *testing.T) {
		if _, ok := CheckRelay(ICEReport{}, own); ok {
			t.Fatal("no ICE data: not evaluated")
		}
	})
}

func FuzzParseCandidate(f *testing.F) {
	for _, s := range []string{
		"candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 generation 0",
		"candidate:1 1 udp 41885439 198.51.100.20 3478 typ relay raddr 203.0.113.7 rport 61234",
		"candidate:3 1 TCP 1518280447 2001:db8::5 9 typ host tcptype active",
		"candidate:2437107466 1 udp 2122260223 abc.local 54400 typ host",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCandidate(s)
		if err != nil {
			return
		}
		d, err := ParseCandidate(c.String())
		if err != nil {
			t.Fatalf("String() of a parsed candidate does not parse: %q: %v", c.String(), err)
		}
		if d != c {
			t.Fatalf("round trip changed the candidate: %+v != %+v", d, c)
		}
		_, _ = ParsePairDescription(s)
	})
}
