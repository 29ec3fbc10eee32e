package netsig

import (
	"net/netip"
	"time"

	"github.com/livecheck/livecheck/models"
)

// Config is the server-side knowledge the checks need.
type Config struct {
	// Server is where the media server is; nil disables the RTT checks.
	Server *Coord
	// GeoIP may be nil: the GeoIP-based checks are then skipped.
	GeoIP *GeoIP
	// OwnRelays are the addresses of the TURN servers we offer browsers.
	OwnRelays []netip.Prefix
	// RTT holds the RTT allowances; zero means DefaultRTTPolicy.
	RTT RTTPolicy
}

// Checker runs every network and device check of one session.
type Checker struct {
	cfg Config
}

// NewChecker returns a checker for cfg.
func NewChecker(cfg Config) *Checker { return &Checker{cfg: cfg} }

// Session is what is known about one candidate connection.
type Session struct {
	ClaimedCity    string
	ClaimedCountry string
	// HTTPIPs are the client IPs of the page and WebSocket requests (already
	// resolved through trusted proxies).
	HTTPIPs []netip.Addr
	ICE     ICEReport
	// RTTs are control-channel ping round trips; ICE.Selected.RTT is added.
	RTTs      []time.Duration
	Env       *Environment // nil when the page sent no report
	UserAgent string
	At        time.Time // when the facts were observed (time-zone offsets depend on it)
}

// Check runs every applicable check and returns their signals in a fixed
// order. Cross-candidate reuse needs the store and is separate (CheckReuse;
// face reuse is internal/faceid's identity_reuse).
func (c *Checker) Check(s Session) []models.Signal {
	var out []models.Signal
	add := func(sg models.Signal, ok bool) {
		if ok {
			out = append(out, sg)
		}
	}
	geo := c.cfg.GeoIP
	add(CheckIPMismatch(s.HTTPIPs, s.ICE, geo))
	add(CheckRelay(s.ICE, c.cfg.OwnRelays))

	samples := append([]time.Duration(nil), s.RTTs...)
	if s.ICE.Selected != nil && s.ICE.Selected.RTT > 0 {
		samples = append(samples, s.ICE.Selected.RTT)
	}
	media := s.ICE.MediaIPs()
	if c.cfg.Server != nil {
		if loc, ok := ResolveLocation(s.ClaimedCity, s.ClaimedCountry, *c.cfg.Server); ok {
			add(CheckRTTClaimed(*c.cfg.Server, loc, samples, c.cfg.RTT))
		}
		if geo != nil && len(media) > 0 && !s.ICE.Relayed() {
			add(CheckRTTGeoIP(*c.cfg.Server, geo.Lookup(media[0]), samples, c.cfg.RTT))
		}
	}
	ips := map[string][]netip.Addr{"page": s.HTTPIPs, "media": media}
	add(CheckIPCountry(s.ClaimedCountry, ips, geo))
	out = append(out, CheckNetworkType(ips, geo)...)

	if s.Env != nil {
		env := *s.Env
		add(CheckTimeZoneClaimed(env, s.ClaimedCountry, s.At))
		if geo != nil {
			ipCountry := ""
			for _, a := range append(append([]netip.Addr(nil), media...), s.HTTPIPs...) {
				if info := geo.Lookup(a); info.Country != "" {
					ipCountry = info.Country
					break
				}
			}
			if ipCountry != "" {
				add(CheckTimeZoneIP(env, ipCountry, s.At))
			}
		}
		add(CheckTimeZoneOffset(env, s.At))
		add(CheckLanguages(env, s.ClaimedCountry))
		out = append(out, CheckWebDriver(env))
		add(CheckPlatform(env, s.UserAgent))
		out = append(out, CheckDevices(env)...)
	}
	return out
}
