package netsig

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/livecheck/livecheck/models"
)

// writeMMDB builds a MaxMind database in the test's temp dir. The documentation
// ranges used here (RFC 5737) are "reserved" to mmdbwriter, hence IncludeReservedNetworks.
func writeMMDB(t *testing.T, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func cityRec(iso, name string, c Coord, radius uint16, tz string) mmdbtype.Map {
	m := mmdbtype.Map{
		"country":  mmdbtype.Map{"iso_code": mmdbtype.String(iso)},
		"location": mmdbtype.Map{"latitude": mmdbtype.Float64(c.Lat), "longitude": mmdbtype.Float64(c.Lon), "accuracy_radius": mmdbtype.Uint16(radius), "time_zone": mmdbtype.String(tz)},
	}
	if name != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name)}}
	}
	return m
}

// Test network:
//
//	203.0.113.0/24   New York, US, AS7922 Comcast (residential)
//	198.51.100.0/24  New York, US, AS9009 M247, anonymous VPN (an exit really in Europe)
//	192.0.2.0/24     Shenyang, CN, AS4837 China Unicom
func testGeoIP(t *testing.T) *GeoIP {
	t.Helper()
	ny := city(t, "New York", "US")
	paths := GeoIPPaths{
		City: writeMMDB(t, "GeoLite2-City", map[string]mmdbtype.Map{
			"203.0.113.0/24":  cityRec("US", "New York", ny, 20, "America/New_York"),
			"198.51.100.0/24": cityRec("US", "New York", ny, 20, "America/New_York"),
			"192.0.2.0/24":    cityRec("CN", "Shenyang", city(t, "Shenyang", "CN"), 50, "Asia/Shanghai"),
		}),
		ASN: writeMMDB(t, "GeoLite2-ASN", map[string]mmdbtype.Map{
			"203.0.113.0/24":  {"autonomous_system_number": mmdbtype.Uint32(7922), "autonomous_system_organization": mmdbtype.String("COMCAST-7922")},
			"198.51.100.0/24": {"autonomous_system_number": mmdbtype.Uint32(9009), "autonomous_system_organization": mmdbtype.String("M247 Europe SRL")},
			"192.0.2.0/24":    {"autonomous_system_number": mmdbtype.Uint32(4837), "autonomous_system_organization": mmdbtype.String("CHINA UNICOM China169 Backbone")},
		}),
		Anonymous: writeMMDB(t, "GeoIP2-Anonymous-IP", map[string]mmdbtype.Map{
			"198.51.100.0/24": {"is_anonymous": mmdbtype.Bool(true), "is_anonymous_vpn": mmdbtype.Bool(true)},
		}),
	}
	g, err := OpenGeoIP(paths)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func TestGeoIPLookup(t *testing.T) {
	g := testGeoIP(t)
	info := g.Lookup(netip.MustParseAddr("203.0.113.7"))
	if info.Country != "US" || info.City != "New York" || !info.HasCoord || info.AccuracyKm != 20 || info.TimeZone != "America/New_York" ||
		info.ASN != 7922 || info.Anonymous.Any {
		t.Fatalf("%+v", info)
	}
	info = g.Lookup(netip.MustParseAddr("::ffff:198.51.100.9")) // v4-mapped
	if info.ASN != 9009 || !info.Anonymous.VPN {
		t.Fatalf("%+v", info)
	}
	if info := g.Lookup(netip.MustParseAddr("100.64.0.1")); info.Country != "" || info.ASN != 0 {
		t.Fatalf("unknown address: %+v", info)
	}
	var none *GeoIP
	if info := none.Lookup(netip.MustParseAddr("203.0.113.7")); info.Country != "" || none.Close() != nil {
		t.Fatal("a nil GeoIP knows nothing and closes cleanly")
	}
	if g, err := OpenGeoIP(GeoIPPaths{}); g != nil || err != nil {
		t.Fatal("no paths: nil, nil")
	}
	if _, err := OpenGeoIP(GeoIPPaths{City: filepath.Join(t.TempDir(), "missing.mmdb")}); err == nil {
		t.Fatal("a configured but missing database is an error")
	}
}

func TestIPCountry(t *testing.T) {
	g := testGeoIP(t)
	sg, ok := CheckIPCountry("United States", map[string][]netip.Addr{"page": addrs("203.0.113.7")}, g)
	if !ok || sg.Score != 0 || sg.Kind != KindGeoIPCountry {
		t.Fatalf("%+v", sg)
	}
	sg, ok = CheckIPCountry("USA", map[string][]netip.Addr{"page": addrs("198.51.100.9"), "media": addrs("192.0.2.33")}, g)
	if !ok || sg.Score != 0.6 || sg.Value != 1 || !strings.Contains(sg.Reason, "media 192.0.2.33 in CN") {
		t.Fatalf("%+v", sg)
	}
	if _, ok := CheckIPCountry("US", map[string][]netip.Addr{"page": addrs("10.1.2.3")}, g); ok {
		t.Fatal("private address only: not evaluated")
	}
	if _, ok := CheckIPCountry("US", map[string][]netip.Addr{"page": addrs("203.0.113.7")}, nil); ok {
		t.Fatal("no database: not evaluated")
	}
}

func TestNetworkType(t *testing.T) {
	g := testGeoIP(t)
	kinds := func(sgs []models.Signal) map[string]models.Signal {
		m := map[string]models.Signal{}
		for _, s := range sgs {
			m[s.Kind] = s
		}
		return m
	}
	m := kinds(CheckNetworkType(map[string][]netip.Addr{"page": addrs("203.0.113.7")}, g))
	if m[KindAnonymizer].Score != 0 || m[KindHostingASN].Score != 0 || len(m) != 2 {
		t.Fatalf("residential: %+v", m)
	}
	m = kinds(CheckNetworkType(map[string][]netip.Addr{"page": addrs("198.51.100.9")}, g))
	if m[KindAnonymizer].Score != 0.7 || !strings.Contains(m[KindAnonymizer].Reason, "anonymous VPN") {
		t.Fatalf("VPN: %+v", m[KindAnonymizer])
	}
	if m[KindHostingASN].Score != 0.5 || !strings.Contains(m[KindHostingASN].Reason, "M247") {
		t.Fatalf("hosting ASN: %+v", m[KindHostingASN])
	}
	if why, ok := HostingNetwork(64512, "Acme Cloud GmbH"); !ok || !strings.Contains(why, "cloud") {
		t.Fatalf("keyword heuristic: %q %v", why, ok)
	}
	if _, ok := HostingNetwork(3320, "Deutsche Telekom AG"); ok {
		t.Fatal("an access network is not hosting")
	}
}

func TestIPMismatchWithGeoIP(t *testing.T) {
	g := testGeoIP(t)
	// Page through the US VPN, media straight from Shenyang.
	ice := ICEReport{Remote: []Candidate{mustCand(t, "candidate:2 1 udp 1677729535 192.0.2.33 61234 typ srflx")}}
	sg, ok := CheckIPMismatch(addrs("198.51.100.9"), ice, g)
	if !ok || sg.Score != 0.85 || !strings.Contains(sg.Reason, "CN") {
		t.Fatalf("%+v", sg)
	}
	// Dual stack on one network is fine, on two networks it is not.
	sg, _ = CheckIPMismatch(addrs("2001:db8::1"), ice, g)
	if sg.Score > 0.1 {
		t.Fatalf("unknown v6 network: %+v", sg)
	}
}

func TestCheckerSession(t *testing.T) {
	g := testGeoIP(t)
	fra := city(t, "Frankfurt", "DE")
	ck := NewChecker(Config{Server: &fra, GeoIP: g, OwnRelays: []netip.Prefix{netip.MustParsePrefix("192.0.2.250/32")}})
	at := time.Date(2030, 1, 15, 15, 0, 0, 0, time.UTC)
	byKind := func(sgs []models.Signal) map[string]models.Signal {
		m := map[string]models.Signal{}
		for _, s := range sgs {
			if _, dup := m[s.Kind]; dup {
				t.Fatalf("kind %s emitted twice", s.Kind)
			}
			if s.Reason == "" || s.Score < 0 || s.Score > 1 || s.Confidence <= 0 || s.Confidence > 1 {
				t.Fatalf("bad signal %+v", s)
			}
			m[s.Kind] = s
		}
		return m
	}

	t.Run("Honest", func(t *testing.T) {
		env := &Environment{TimeZone: "America/New_York", TZOffsetMin: -300, Languages: []string{"en-US"}, Platform: "Win32",
			Devices: []Device{{Kind: "videoinput", Label: "Integrated Webcam"}}, Video: Track{Label: "Integrated Webcam"}}
		ice := ICEReport{Remote: []Candidate{mustCand(t, "candidate:2 1 udp 1677729535 203.0.113.7 61234 typ srflx")}}
		ice.Selected = &Pair{Remote: ice.Remote[0], RTT: 92 * time.Millisecond}
		m := byKind(ck.Check(Session{ClaimedCity: "New York", ClaimedCountry: "US", HTTPIPs: addrs("203.0.113.7"), ICE: ice,
			RTTs: []time.Duration{95 * time.Millisecond}, Env: env, At: at,
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"}))
		for _, k := range []string{KindIPMismatch, KindTURNRelay, KindRTTClaimed, KindRTTGeoIP, KindGeoIPCountry, KindHostingASN,
			KindAnonymizer, KindTimeZoneClaimed, KindTimeZoneIP, KindTimeZoneOffset, KindLanguage, KindWebDriver, KindPlatform,
			KindVirtualCamera, KindVirtualMicrophone, KindVoiceChanger} {
			sg, ok := m[k]
			if !ok {
				t.Errorf("%s not evaluated", k)
			} else if sg.Score != 0 {
				t.Errorf("honest session: %s scored %.2f: %s", k, sg.Score, sg.Reason)
			}
		}
		if m[KindRTTClaimed].Value != 92 {
			t.Errorf("the ICE pair RTT is a sample too: %v", m[KindRTTClaimed].Value)
		}
	})

	t.Run("Impostor", func(t *testing.T) {
		// Claims New York; page via a "New York" VPN exit that answers in 12 ms from
		// Frankfurt; the browser runs on Shenyang time with Korean first; a virtual camera.
		env := &Environment{TimeZone: "Asia/Shanghai", TZOffsetMin: 480, Languages: []string{"ko-KR", "en-US"}, WebDriver: true,
			Devices: []Device{{Kind: "videoinput", Label: "OBS Virtual Camera"}}, Video: Track{Label: "OBS Virtual Camera"}}
		ice := ICEReport{Remote: []Candidate{mustCand(t, "candidate:2 1 udp 1677729535 198.51.100.9 61234 typ srflx")}}
		ice.Selected = &Pair{Remote: ice.Remote[0]}
		m := byKind(ck.Check(Session{ClaimedCity: "New York", ClaimedCountry: "US", HTTPIPs: addrs("198.51.100.9"), ICE: ice,
			RTTs: []time.Duration{12 * time.Millisecond, 14 * time.Millisecond}, Env: env, At: at}))
		for k, min := range map[string]float64{KindRTTGeoIP: 0.8, KindAnonymizer: 0.7, KindHostingASN: 0.5, KindTimeZoneClaimed: 0.75,
			KindTimeZoneIP: 0.75, KindLanguage: 0.4, KindWebDriver: 0.9, KindVirtualCamera: 0.85} {
			if m[k].Score < min {
				t.Errorf("%s: score %.2f < %.2f (%s)", k, m[k].Score, min, m[k].Reason)
			}
		}
		if m[KindRTTClaimed].Score != 0 {
			t.Errorf("a fast RTT is not 'far above' the claim: %+v", m[KindRTTClaimed])
		}
	})

	t.Run("NoServerNoGeo", func(t *testing.T) {
		m := byKind(NewChecker(Config{}).Check(Session{ClaimedCountry: "US", HTTPIPs: addrs("203.0.113.7"),
			RTTs: []time.Duration{time.Second}}))
		for _, k := range []string{KindRTTClaimed, KindRTTGeoIP, KindGeoIPCountry, KindWebDriver} {
			if _, ok := m[k]; ok {
				t.Errorf("%s needs a server location, GeoIP or environment", k)
			}
		}
	})
}
