package netguard

import (
	"net/netip"
	"testing"
)

func TestPublic(t *testing.T) {
	public := []string{"8.8.8.8", "1.1.1.1", "81.2.69.142", "2a00:1450:4001:82b::200e", "2001:4860:4860::8888",
		"::ffff:8.8.8.8", "100.63.255.255", "100.128.0.0", "172.32.0.1", "198.17.255.255", "198.20.0.0", "223.255.255.255"}
	private := []string{"127.0.0.1", "127.0.0.77", "10.1.2.3", "192.168.1.1", "172.16.0.1", "172.31.255.255",
		"169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "255.255.255.255", "240.0.0.1",
		"224.0.0.251", "192.0.2.10", "198.51.100.1", "203.0.113.7", "192.0.0.8", "192.88.99.1",
		// finding 9 of the security probe: these were taken for public
		"198.18.0.1", "198.19.255.254", "::7f00:1", "::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::1",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1",
		"ff02::1", "2001:db8::1", "2001::1", "2001:0:4136:e378::1", "100::1", "64:ff9b:1::1", "3fff::1", "5f00::1", "4000::1", "1::1"}
	for _, s := range public {
		if !Public(netip.MustParseAddr(s)) {
			t.Errorf("%s must be public", s)
		}
	}
	for _, s := range private {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("%s must not be public", s)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("the zero Addr is not public")
	}
}

func TestHostEndsInNumber(t *testing.T) {
	for h, want := range map[string]bool{
		"2130706433": true, "0x7f000001": true, "0X7F000001": true, "127.1": true, "0177.0.0.1": true, "127.0.0.1": true,
		"10.0.0.0x1": true, "foo.0x": true, "foo.1.": true, "1.2.3.4.": true,
		"example.com": false, "localhost.": false, "hooks.example.com.": false, "0xg": false, "1a.example": false, "": false, "example.123abc": false,
	} {
		if got := HostEndsInNumber(h); got != want {
			t.Errorf("HostEndsInNumber(%q) = %v, want %v", h, got, want)
		}
	}
}
