package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/ice/v2"
	"github.com/pion/sdp/v3"
)

func TestCandidatePolicy(t *testing.T) {
	strict, loose := CandidatePolicy{}, CandidatePolicy{AllowPrivate: true}
	for _, tc := range []struct {
		cand          string
		strict, loose error
	}{
		{"candidate:1 1 udp 2122260223 8.8.8.8 54400 typ host generation 0", nil, nil},
		{"a=candidate:1 1 UDP 2122260223 2a00:1450:4001:82b::200e 54400 typ srflx raddr 0.0.0.0 rport 0", nil, nil},
		{"candidate:1 1 udp 41885439 81.2.69.142 3478 typ relay raddr 10.0.0.2 rport 5000", nil, nil},
		{"candidate:1 1 udp 2122260223 127.0.0.77 5432 typ host", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 10.0.0.5 5000 typ host", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 169.254.169.254 80 typ srflx raddr 8.8.8.8 rport 1", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 ::ffff:127.0.0.1 5000 typ host", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 fe80::1%eth0 5000 typ host", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 64:ff9b::7f00:1 5000 typ host", ErrNotPublic, nil},
		{"candidate:1 1 udp 2122260223 0.0.0.0 5000 typ host", ErrUndialable, ErrUndialable},
		{"candidate:1 1 udp 2122260223 224.0.0.251 5353 typ host", ErrUndialable, ErrUndialable},
		{"candidate:1 1 udp 2122260223 255.255.255.255 5000 typ host", ErrUndialable, ErrUndialable},
		{"candidate:1 1 udp 2122260223 4e5b7a3c-1f0e-4d1e-9c1a-7b2f3e8d9a10.local 54400 typ host", ErrHostname, ErrHostname},
		{"candidate:1 1 udp 2122260223 db.internal.example 5432 typ host", ErrHostname, ErrHostname},
		{"candidate:1 1 tcp 1518280447 8.8.8.8 9 typ host tcptype active", ErrTransport, ErrTransport},
		{"candidate:1 1 udp 2122260223 8.8.8.8 0 typ host", ErrMalformed, ErrMalformed},
		{"candidate:1 1 udp 2122260223 8.8.8.8 70000 typ host", ErrMalformed, ErrMalformed},
		{"candidate:1 1 udp 2122260223 8.8.8.8 5000 type host", ErrMalformed, ErrMalformed},
		{"candidate:1 1 udp 2122260223 8.8.8.8 5000 typ bogus", ErrMalformed, ErrMalformed},
		{"candidate:1 1 udp 2122260223 8.8.8.8", ErrMalformed, ErrMalformed},
		{"1 1 udp 2122260223 8.8.8.8 5000 typ host", ErrMalformed, ErrMalformed},
		{"candidate:1 1 udp 2122260223 8.8.8.8 5000 typ host\r\n", ErrMalformed, ErrMalformed},
		{"candidate: 1 udp 2122260223 127.0.0.1 5000 typ host", ErrNotPublic, nil}, // empty foundation, read as pion does
	} {
		if err := strict.Check(tc.cand); !errors.Is(err, tc.strict) || (err != nil && !errors.Is(err, ErrRefused)) {
			t.Errorf("strict %q: %v, want %v", tc.cand, err, tc.strict)
		}
		if err := loose.Check(tc.cand); !errors.Is(err, tc.loose) {
			t.Errorf("allowing private %q: %v, want %v", tc.cand, err, tc.loose)
		}
	}
}

func TestFilterCapAndSDP(t *testing.T) {
	f := NewFilter(CandidatePolicy{}, 3)
	for i := 0; i < 3; i++ {
		if err := f.Allow(fmt.Sprintf("candidate:%d 1 udp 1 8.8.8.%d 5000 typ host", i, i+1)); err != nil {
			t.Fatalf("candidate %d: %v", i, err)
		}
	}
	if err := f.Allow("candidate:0 1 udp 1 8.8.8.1 5000 typ host"); err != nil {
		t.Fatalf("a candidate passed once passes again: %v", err)
	}
	if err := f.Allow("candidate:9 1 udp 1 9.9.9.9 5000 typ host"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("fourth distinct candidate: %v, want ErrTooMany", err)
	}
	sdpIn := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" +
		"a=candidate:1 1 udp 1 8.8.8.1 5000 typ host\r\n" +
		"a=candidate:2 1 udp 1 127.0.0.1 5432 typ host\r\n" +
		"\ra=candidate:3 1 udp 1 10.0.0.1 5432 typ host\r\n" + // a leading CR: pion still reads the line
		"a=candidate:4 1 udp 1 127.0.0.1 5432\r typ host1\r\n" + // a CR inside: pion reads "… typ host"
		"a=candidate:5 1 udp 1 1.0.0.1 5000 typ host\r\n" + // beyond the cap
		"a=end-of-candidates\r\n"
	out, refused := f.SDP(sdpIn)
	if len(refused) != 4 || strings.Contains(out, "127.0.0.1 5432") || strings.Contains(out, "10.0.0.1") || strings.Contains(out, "1.0.0.1") {
		t.Fatalf("refused %q, kept:\n%s", refused, out)
	}
	if !strings.Contains(out, "a=candidate:1 1 udp 1 8.8.8.1 5000 typ host\r\n") || !strings.HasSuffix(out, "a=end-of-candidates\r\n") {
		t.Fatalf("the allowed candidate and the other lines must stay as they were:\n%s", out)
	}
	if f.Refused() != 5 {
		t.Fatalf("Refused() = %d, want 5", f.Refused())
	}
}

// pionAddr is the address pion's ICE agent would contact for a candidate value
// (what follows "candidate:"), or false when pion refuses it or would resolve
// it as a host name.
func pionAddr(value string) (netip.Addr, bool) {
	c, err := ice.UnmarshalCandidate(value)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(c.Address())
	return a, err == nil
}

// FuzzCandidateFilter: no candidate the strict policy passes reaches a
// non-public address as pion reads it (the same attribute through pion's own
// parser), and nothing panics.
func FuzzCandidateFilter(f *testing.F) {
	for _, s := range []string{
		"candidate:1 1 udp 2122260223 8.8.8.8 54400 typ host generation 0",
		"candidate:1 1 udp 2122260223 127.0.0.77 5432 typ host",
		"candidate: 1 udp 2122260223 127.0.0.1 5000 typ host",
		"candidate:1 1 udp 2122260223 ::ffff:7f00:1 5000 typ host",
		"candidate:1 1 udp 2122260223 fe80::1%25eth0 5000 typ host",
		"candidate:1 1 udp 2122260223 8.8.8.8%x 5000 typ srflx raddr 10.0.0.1 rport 9",
		"candidate:1\t1\tudp\t1\t8.8.8.8\t1\ttyp\thost",
		"candidate:1 1 udp 1 2002:7f00:1::1 1 typ host",
	} {
		f.Add(s)
	}
	strict := CandidatePolicy{}
	f.Fuzz(func(t *testing.T, s string) {
		err := strict.Check(s)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		c, perr := ParseCandidate(s)
		if perr != nil || !Public(c.Addr) {
			t.Fatalf("%q passed with %v, address %v", s, perr, c.Addr)
		}
		value := strings.TrimPrefix(strings.TrimPrefix(s, "a="), "candidate:")
		if a, ok := pionAddr(value); ok && (!Public(a) || a.Unmap() != c.Addr) {
			t.Fatalf("%q passed as %v but pion contacts %v", s, c.Addr, a)
		}
	})
}

// FuzzSDPFilter: after the filter, no ICE candidate in the SDP as pion parses
// it points at a non-public address.
func FuzzSDPFilter(f *testing.F) {
	head := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
	for _, s := range []string{
		"a=candidate:1 1 udp 1 8.8.8.1 5000 typ host\r\n",
		"a=candidate:2 1 udp 1 127.0.0.1 5432 typ host\r\n",
		"\ra=candidate:3 1 udp 1 10.0.0.1 5432 typ host\r\n",
		"a=candidate:4 1 udp 1 127.0.0.1 5432\r typ host1\r\n",
		"a=candidate:5 1 udp 1 8.8.8.8 5432 typ host\na=candidate:6 1 udp 1 192.168.0.1 5 typ host\n",
	} {
		f.Add(head + s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, _ := NewFilter(CandidatePolicy{}, 8).SDP(in)
		var d sdp.SessionDescription
		if err := d.UnmarshalString(out); err != nil {
			return
		}
		var attrs []sdp.Attribute
		attrs = append(attrs, d.Attributes...)
		for _, m := range d.MediaDescriptions {
			attrs = append(attrs, m.Attributes...)
		}
		for _, a := range attrs {
			if !a.IsICECandidate() {
				continue
			}
			if addr, ok := pionAddr(a.Value); ok && !Public(addr) {
				t.Fatalf("candidate %q to %v survived the filter:\n%q", a.Value, addr, out)
			}
		}
	})
}
