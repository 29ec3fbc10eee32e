package netsig

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/livecheck/livecheck/models"
)

// RTTPolicy holds the allowances of the two RTT checks. The zero value is
// replaced by DefaultRTTPolicy.
//
// Upper bound (claimed location). An honest candidate at the claimed place
// should reach the server within
//
//	allowed = RouteFactor · MinRTT(d_claimed) + LastMile
//
// RouteFactor covers paths longer than the great circle (submarine cables,
// peering detours: measured Internet paths are typically 1.5–2× longer than
// the geodesic); LastMile covers access network, Wi-Fi, the browser's event
// loop and the SCTP/DTLS stack of the control-channel ping (DSL/cable 5–25 ms,
// 4G 30–60 ms). The smallest sample is compared, so queueing spikes do not
// count. Above allowed the signal score grows linearly with the excess:
//
//	score = min(0.9, 0.3 + 0.6 · (rtt − allowed) / allowed)
//
// Lower bound (geolocated IP). Nothing returns faster than light in fibre, so
// an RTT below
//
//	floor = MinRTT(max(0, d_geo − accuracy − GeoSlackKm)) · FloorFactor − FloorMargin
//
// means the IP is not where GeoIP puts it (a VPN's "virtual location", a
// proxy) or the database is wrong. The accuracy radius the database reports
// and GeoSlackKm are subtracted from the distance first.
type RTTPolicy struct {
	RouteFactor float64       // default 2
	LastMile    time.Duration // default 60 ms
	GeoSlackKm  float64       // default 100 km
	FloorFactor float64       // default 0.9
	FloorMargin time.Duration // default 2 ms
}

// DefaultRTTPolicy returns the documented defaults.
func DefaultRTTPolicy() RTTPolicy {
	return RTTPolicy{RouteFactor: 2, LastMile: 60 * time.Millisecond, GeoSlackKm: 100, FloorFactor: 0.9, FloorMargin: 2 * time.Millisecond}
}

func (p RTTPolicy) orDefault() RTTPolicy {
	if p == (RTTPolicy{}) {
		return DefaultRTTPolicy()
	}
	return p
}

// AllowedRTT is the largest RTT an honest client distanceKm away should show.
func (p RTTPolicy) AllowedRTT(distanceKm float64) time.Duration {
	p = p.orDefault()
	return time.Duration(p.RouteFactor*float64(MinRTT(distanceKm))) + p.LastMile
}

// FloorRTT is the smallest RTT physically possible for a client geolocated
// distanceKm away with the given accuracy radius.
func (p RTTPolicy) FloorRTT(distanceKm, accuracyKm float64) time.Duration {
	p = p.orDefault()
	d := math.Max(0, distanceKm-accuracyKm-p.GeoSlackKm)
	f := time.Duration(p.FloorFactor*float64(MinRTT(d))) - p.FloorMargin
	return max(f, 0)
}

// minSample returns the smallest positive sample.
func minSample(samples []time.Duration) (time.Duration, int) {
	var pos []time.Duration
	for _, s := range samples {
		if s > 0 {
			pos = append(pos, s)
		}
	}
	if len(pos) == 0 {
		return 0, 0
	}
	return slices.Min(pos), len(pos)
}

// sampleConfidence grows with the number of RTT samples.
func sampleConfidence(n int) float64 {
	switch {
	case n >= 10:
		return 0.8
	case n >= 3:
		return 0.7
	default:
		return 0.5
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// CheckRTTClaimed compares the smallest measured RTT (control-channel pings,
// ICE candidate-pair RTTs) with the largest RTT an honest candidate at the
// claimed location could show from the server. Value is the smallest RTT in ms.
// A GEO satellite link (~600 ms) trips this check honestly; the reason says so.
func CheckRTTClaimed(server Coord, claimed Location, samples []time.Duration, p RTTPolicy) (models.Signal, bool) {
	rtt, n := minSample(samples)
	if n == 0 || !claimed.City.Coord.Valid() || claimed.City.Name == "" {
		return models.Signal{}, false
	}
	d := DistanceKm(server, claimed.City.Coord)
	allowed := p.AllowedRTT(d)
	place := claimed.City.Name
	conf := sampleConfidence(n)
	if !claimed.Exact {
		place = fmt.Sprintf("anywhere in %s (city not in the table; farthest known city %s used)", claimed.Country, claimed.City.Name)
		conf *= 0.7
	}
	sg := models.Signal{Kind: KindRTTClaimed, Value: ms(rtt), Confidence: conf}
	if rtt <= allowed {
		sg.Reason = fmt.Sprintf("Smallest round-trip time %.0f ms (%d samples) is plausible for %s, %.0f km from the server (allowed up to %.0f ms).",
			ms(rtt), n, place, d, ms(allowed))
		return sg, true
	}
	sg.Score = math.Min(0.9, 0.3+0.6*float64(rtt-allowed)/float64(allowed))
	sg.Reason = fmt.Sprintf("Smallest round-trip time %.0f ms (%d samples) is far above the %.0f ms an honest connection from %s (%.0f km from the server, physical minimum %.0f ms) should need: the media path likely ends much farther away, e.g. behind a VPN or a remote-desktop hop. A satellite link can also cause this.",
		ms(rtt), n, ms(allowed), place, d, ms(MinRTT(d)))
	return sg, true
}

// CheckRTTGeoIP compares the smallest measured RTT with the physical minimum
// for the location GeoIP gives the media IP. It applies only when the media is
// not relayed (the RTT then belongs to the candidate's own address) and the
// database has coordinates. Value is the smallest RTT in ms.
func CheckRTTGeoIP(server Coord, geo IPInfo, samples []time.Duration, p RTTPolicy) (models.Signal, bool) {
	rtt, n := minSample(samples)
	if n == 0 || !geo.HasCoord {
		return models.Signal{}, false
	}
	d := DistanceKm(server, geo.Coord)
	floor := p.FloorRTT(d, geo.AccuracyKm)
	where := geo.Country
	if geo.City != "" {
		where = geo.City + ", " + geo.Country
	}
	sg := models.Signal{Kind: KindRTTGeoIP, Value: ms(rtt), Confidence: 0.6}
	if rtt >= floor {
		sg.Reason = fmt.Sprintf("Smallest round-trip time %.0f ms is physically possible for %s geolocated in %s (%.0f km from the server, floor %.0f ms).",
			ms(rtt), geo.IP, where, d, ms(floor))
		return sg, true
	}
	sg.Score = math.Min(0.9, 0.7+0.2*float64(floor-rtt)/float64(floor))
	sg.Reason = fmt.Sprintf("Smallest round-trip time %.0f ms is below the %.0f ms light in fibre needs to reach %s, where GeoIP places %s (%.0f km from the server): the address is not where it claims to be — typical of a VPN exit with a fake location, or a wrong GeoIP entry.",
		ms(rtt), ms(floor), where, geo.IP, d)
	return sg, true
}
