package netsig

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/livecheck/livecheck/models"
)

// GeoIPPaths are the MaxMind-format (.mmdb) databases to open. Any may be empty.
//
//   - City: GeoLite2-City / GeoIP2-City layout (country.iso_code, city.names.en,
//     location.latitude/longitude/accuracy_radius/time_zone); a Country database
//     works too, without coordinates. DB-IP's "lite" City database uses the same
//     layout.
//   - ASN: GeoLite2-ASN layout (autonomous_system_number, autonomous_system_organization).
//   - Anonymous: GeoIP2-Anonymous-IP layout (is_anonymous, is_anonymous_vpn,
//     is_hosting_provider, is_public_proxy, is_residential_proxy, is_tor_exit_node).
type GeoIPPaths struct {
	City      string
	ASN       string
	Anonymous string
}

// GeoIP looks addresses up in the configured databases. A nil *GeoIP is valid
// and knows nothing.
type GeoIP struct {
	city, asn, anon *maxminddb.Reader
}

// OpenGeoIP opens the databases whose paths are set. With no path set it
// returns a nil *GeoIP and no error.
func OpenGeoIP(p GeoIPPaths) (*GeoIP, error) {
	if p.City == "" && p.ASN == "" && p.Anonymous == "" {
		return nil, nil
	}
	g := &GeoIP{}
	open := func(path, what string) (*maxminddb.Reader, error) {
		if path == "" {
			return nil, nil
		}
		r, err := maxminddb.Open(path)
		if err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("netsig: open %s database %s: %w", what, path, err)
		}
		return r, nil
	}
	var err error
	if g.city, err = open(p.City, "GeoIP city"); err != nil {
		return nil, err
	}
	if g.asn, err = open(p.ASN, "GeoIP ASN"); err != nil {
		return nil, err
	}
	if g.anon, err = open(p.Anonymous, "anonymous-IP"); err != nil {
		return nil, err
	}
	return g, nil
}

// Close releases the databases.
func (g *GeoIP) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, r := range []*maxminddb.Reader{g.city, g.asn, g.anon} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}

// IPInfo is what the databases know about one address. Zero fields are unknown.
type IPInfo struct {
	IP         netip.Addr
	Country    string // ISO 3166-1 alpha-2
	City       string // English name
	Coord      Coord
	HasCoord   bool
	AccuracyKm float64 // radius around Coord the database is confident in
	TimeZone   string  // IANA zone of the location
	ASN        uint
	ASOrg      string
	Anonymous  AnonymousFlags
}

// AnonymousFlags are the anonymous-IP database's verdicts.
type AnonymousFlags struct {
	Any, VPN, Hosting, PublicProxy, ResidentialProxy, Tor bool
}

type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude       *float64 `maxminddb:"latitude"`
		Longitude      *float64 `maxminddb:"longitude"`
		AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
		TimeZone       string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
	Traits struct {
		ASN   uint   `maxminddb:"autonomous_system_number"`
		ASOrg string `maxminddb:"autonomous_system_organization"`
	} `maxminddb:"traits"`
}

type asnRecord struct {
	ASN   uint   `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

type anonRecord struct {
	Any              bool `maxminddb:"is_anonymous"`
	VPN              bool `maxminddb:"is_anonymous_vpn"`
	Hosting          bool `maxminddb:"is_hosting_provider"`
	PublicProxy      bool `maxminddb:"is_public_proxy"`
	ResidentialProxy bool `maxminddb:"is_residential_proxy"`
	Tor              bool `maxminddb:"is_tor_exit_node"`
}

// Lookup returns what the databases know about ip. Lookup errors (a corrupt
// record) leave the affected fields empty: a GeoIP gap never stops a session.
func (g *GeoIP) Lookup(ip netip.Addr) IPInfo {
	info := IPInfo{IP: ip.Unmap()}
	if g == nil || !ip.IsValid() {
		return info
	}
	ip = ip.Unmap()
	if g.city != nil {
		var r cityRecord
		if err := g.city.Lookup(ip).Decode(&r); err == nil {
			info.Country = strings.ToUpper(r.Country.ISOCode)
			info.City = r.City.Names["en"]
			if r.Location.Latitude != nil && r.Location.Longitude != nil {
				info.Coord = Coord{Lat: *r.Location.Latitude, Lon: *r.Location.Longitude}
				info.HasCoord = info.Coord.Valid()
				info.AccuracyKm = float64(r.Location.AccuracyRadius)
			}
			info.TimeZone = r.Location.TimeZone
			info.ASN, info.ASOrg = r.Traits.ASN, r.Traits.ASOrg
		}
	}
	if g.asn != nil {
		var r asnRecord
		if err := g.asn.Lookup(ip).Decode(&r); err == nil && r.ASN != 0 {
			info.ASN, info.ASOrg = r.ASN, r.ASOrg
		}
	}
	if g.anon != nil {
		var r anonRecord
		if err := g.anon.Lookup(ip).Decode(&r); err == nil {
			info.Anonymous = AnonymousFlags(r)
		}
	}
	return info
}

// CheckIPCountry compares the country GeoIP gives each of the candidate's
// public addresses (labelled, e.g. "page" or "media") with the claimed country.
// Travel and corporate VPNs make honest mismatches, so the score stays at 0.6;
// Value is the number of addresses outside the claimed country.
func CheckIPCountry(claimedCountry string, ips map[string][]netip.Addr, geo *GeoIP) (models.Signal, bool) {
	code, ok := CountryCode(claimedCountry)
	if !ok || geo == nil || geo.city == nil {
		return models.Signal{}, false
	}
	var seen, outside []string
	for _, label := range sortedKeys(ips) {
		for _, a := range ips[label] {
			if !public(a.Unmap()) {
				continue
			}
			info := geo.Lookup(a)
			if info.Country == "" {
				continue
			}
			desc := fmt.Sprintf("%s %s in %s", label, info.IP, info.Country)
			seen = append(seen, desc)
			if info.Country != code {
				outside = append(outside, desc)
			}
		}
	}
	if len(seen) == 0 {
		return models.Signal{}, false
	}
	sg := models.Signal{Kind: KindGeoIPCountry, Value: float64(len(outside)), Confidence: 0.7}
	if len(outside) == 0 {
		sg.Reason = fmt.Sprintf("Every address is in the claimed country %s (%s).", code, strings.Join(seen, "; "))
		return sg, true
	}
	sg.Score = 0.6
	sg.Reason = fmt.Sprintf("The candidate claims %s but GeoIP places %s. Travel or a corporate VPN can explain it; a consumer VPN or proxy is the usual cause.",
		code, strings.Join(outside, "; "))
	return sg, true
}

// hostingASNs are networks whose address space is almost entirely servers:
// cloud and hosting providers and the carriers commercial VPNs rent exits from.
// A candidate on home broadband or a mobile network is never in them; a
// candidate behind a consumer VPN, a cloud desktop or a remote-controlled
// server is. Corporate egress (Zscaler, Cloudflare WARP) is in the list too:
// honest but hides the location, hence the moderate score.
var hostingASNs = map[uint]string{
	16509: "Amazon AWS", 14618: "Amazon AWS", 8987: "Amazon AWS",
	396982: "Google Cloud", 15169: "Google", 19527: "Google",
	8075: "Microsoft Azure", 8068: "Microsoft",
	14061: "DigitalOcean", 16276: "OVH", 24940: "Hetzner", 213230: "Hetzner Cloud",
	63949: "Akamai Linode", 20473: "Vultr (Choopa)", 51167: "Contabo", 12876: "Scaleway",
	31898: "Oracle Cloud", 45102: "Alibaba Cloud", 37963: "Alibaba Cloud", 132203: "Tencent Cloud", 45090: "Tencent Cloud",
	9009: "M247 (VPN exits)", 60068: "Datacamp/CDN77 (VPN exits)", 212238: "Datacamp (VPN exits)",
	60781: "Leaseweb", 28753: "Leaseweb", 30633: "Leaseweb US", 147049: "PacketHub (VPN exits)",
	62240: "Clouvider", 136787: "TEFINCOM (NordVPN)", 39351: "31173 Services (VPN exits)",
	202425: "IP Volume", 49981: "WorldStream", 46844: "Sharktech", 53667: "FranTech/BuyVM",
	36352: "ColoCrossing", 8100: "QuadraNet",
	13335: "Cloudflare (WARP)", 53813: "Zscaler", 62044: "Zscaler",
}

// hostingWords appear in the organisation names of hosting and VPN networks.
var hostingWords = []string{"hosting", "datacenter", "data center", "colocation", "cloud", "vps", "server", "vpn", "proxy", "dedicated"}

// HostingNetwork reports whether an ASN or organisation name looks like a
// hosting, cloud or VPN network, and why.
func HostingNetwork(asn uint, org string) (string, bool) {
	if name, ok := hostingASNs[asn]; ok {
		return fmt.Sprintf("AS%d is %s", asn, name), true
	}
	o := strings.ToLower(org)
	for _, w := range hostingWords {
		if strings.Contains(o, w) {
			return fmt.Sprintf("AS%d %q names a %s network", asn, org, w), true
		}
	}
	return "", false
}

// CheckNetworkType looks every public address up in the ASN and anonymous-IP
// databases. It returns a KindAnonymizer signal when the anonymous-IP database
// flags an address and a KindHostingASN signal from the ASN heuristic; either
// may be absent. Scores: Tor 0.8, VPN / public or residential proxy 0.7,
// hosting 0.5, hosting ASN heuristic 0.5.
func CheckNetworkType(ips map[string][]netip.Addr, geo *GeoIP) []models.Signal {
	if geo == nil {
		return nil
	}
	var out []models.Signal
	var anonHits, anonSeen, hostHits, hostSeen []string
	anonScore := 0.0
	for _, label := range sortedKeys(ips) {
		for _, a := range ips[label] {
			if !public(a.Unmap()) {
				continue
			}
			info := geo.Lookup(a)
			if geo.anon != nil {
				anonSeen = append(anonSeen, info.IP.String())
				f := info.Anonymous
				var what []string
				s := 0.0
				add := func(flag bool, name string, score float64) {
					if flag {
						what = append(what, name)
						s = max(s, score)
					}
				}
				add(f.Tor, "Tor exit", 0.8)
				add(f.VPN, "anonymous VPN", 0.7)
				add(f.PublicProxy, "public proxy", 0.7)
				add(f.ResidentialProxy, "residential proxy", 0.7)
				add(f.Hosting, "hosting provider", 0.5)
				add(f.Any && len(what) == 0, "anonymizer", 0.6)
				if len(what) > 0 {
					anonHits = append(anonHits, fmt.Sprintf("%s %s: %s", label, info.IP, strings.Join(what, ", ")))
					anonScore = max(anonScore, s)
				}
			}
			if info.ASN != 0 {
				hostSeen = append(hostSeen, fmt.Sprintf("%s AS%d", info.IP, info.ASN))
				if why, ok := HostingNetwork(info.ASN, info.ASOrg); ok {
					hostHits = append(hostHits, fmt.Sprintf("%s %s: %s", label, info.IP, why))
				}
			}
		}
	}
	if len(anonSeen) > 0 {
		sg := models.Signal{Kind: KindAnonymizer, Score: anonScore, Confidence: 0.8, Value: float64(len(anonHits))}
		if len(anonHits) == 0 {
			sg.Reason = "No address is listed as VPN, proxy, Tor or hosting in the anonymous-IP database."
		} else {
			sg.Reason = "The anonymous-IP database lists " + strings.Join(anonHits, "; ") + "."
		}
		out = append(out, sg)
	}
	if len(hostSeen) > 0 {
		sg := models.Signal{Kind: KindHostingASN, Confidence: 0.6, Value: float64(len(hostHits))}
		if len(hostHits) == 0 {
			sg.Reason = "Addresses belong to access networks (" + strings.Join(hostSeen, ", ") + "), not known hosting or VPN networks."
		} else {
			sg.Score = 0.5
			sg.Reason = "The connection comes from a hosting, cloud or VPN network, where home and mobile users never are: " +
				strings.Join(hostHits, "; ") + "."
		}
		out = append(out, sg)
	}
	return out
}

func sortedKeys(m map[string][]netip.Addr) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
