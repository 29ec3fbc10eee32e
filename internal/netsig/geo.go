package netsig

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Physics of round-trip time.
//
// Light in optical fibre travels at about c/1.47 ≈ 204 km per millisecond; we
// use FibreKmPerMs = 200. A round trip covers the distance twice, so over a
// great-circle distance d (km) no packet can come back faster than
//
//	MinRTT(d) = 2·d / 200 km/ms = d / 100 ms
//
// Real paths are longer than the great circle and add queueing, Wi-Fi and
// last-mile delay, so an honest RTT is above MinRTT; the checks in rtt.go
// allow for that explicitly.
const (
	// EarthRadiusKm is the mean Earth radius used by the haversine formula.
	EarthRadiusKm = 6371.0
	// FibreKmPerMs is the one-way distance light covers in fibre per millisecond.
	FibreKmPerMs = 200.0
)

// Coord is a point on Earth in decimal degrees.
type Coord struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Valid reports whether c is a real latitude/longitude.
func (c Coord) Valid() bool {
	return !math.IsNaN(c.Lat) && !math.IsNaN(c.Lon) && c.Lat >= -90 && c.Lat <= 90 && c.Lon >= -180 && c.Lon <= 180
}

// String formats c as "lat,lon".
func (c Coord) String() string { return fmt.Sprintf("%.4f,%.4f", c.Lat, c.Lon) }

// ParseCoord reads "lat,lon" in decimal degrees (e.g. "50.11,8.68").
func ParseCoord(s string) (Coord, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return Coord{}, fmt.Errorf("netsig: coordinate %q: want lat,lon", s)
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	c := Coord{Lat: lat, Lon: lon}
	if err1 != nil || err2 != nil || !c.Valid() {
		return Coord{}, fmt.Errorf("netsig: coordinate %q: want lat,lon in degrees", s)
	}
	return c, nil
}

// DistanceKm is the great-circle distance between a and b (haversine formula on
// a sphere of radius EarthRadiusKm; error against the ellipsoid is below 0.5 %):
//
//	h = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2)
//	d = 2 R · asin(√h)
func DistanceKm(a, b Coord) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s1, s2 := math.Sin(dLat/2), math.Sin(dLon/2)
	h := s1*s1 + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*s2*s2
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(math.Min(1, h)))
}

// MinRTT is the smallest round-trip time physically possible over distanceKm of
// fibre: 2·d / FibreKmPerMs.
func MinRTT(distanceKm float64) time.Duration {
	if distanceKm <= 0 {
		return 0
	}
	ms := 2 * distanceKm / FibreKmPerMs
	return time.Duration(ms * float64(time.Millisecond))
}

// City is a place from the embedded table of major cities.
type City struct {
	Name    string
	Country string // ISO 3166-1 alpha-2
	Coord   Coord
}

// Location is a resolved claim: where the candidate says they are.
type Location struct {
	City    City
	Country string // ISO code, set even when the city is unknown
	// Exact is true when the city itself was found; false when only the country
	// was, and City is the table city of that country farthest from the
	// reference point given to ResolveLocation (a conservative stand-in).
	Exact bool
}

// foldKey lower-cases s, removes accents and punctuation and collapses spaces:
// "São Paulo" → "sao paulo", "Washington, D.C." → "washington d c".
func foldKey(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.NewReplacer("ł", "l", "Ł", "l", "ø", "o", "Ø", "o", "ß", "ss", "đ", "d", "ı", "i").Replace(out)
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(out) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

var (
	cityIndex    map[string][]int // folded name or alias → indexes into cities
	countryIndex map[string]int   // folded name, alias or code → index into countries
	zoneCountry  map[string]string
)

func init() {
	cityIndex = map[string][]int{}
	for i, c := range cities {
		for _, n := range append([]string{c.name}, c.aliases...) {
			k := foldKey(n)
			cityIndex[k] = append(cityIndex[k], i)
		}
	}
	countryIndex = map[string]int{}
	zoneCountry = map[string]string{}
	for i, c := range countries {
		countryIndex[strings.ToLower(c.code)] = i
		for _, n := range c.names {
			countryIndex[foldKey(n)] = i
		}
		for _, z := range c.zones {
			if !strings.HasSuffix(z, "/") {
				zoneCountry[z] = c.code
			}
		}
	}
}

// CountryCode normalises a country name, alias or ISO code ("Portugal", "pt",
// "USA", "United Kingdom", "Côte d'Ivoire") to its ISO 3166-1 alpha-2 code. ok is
// false for countries outside the embedded table.
func CountryCode(s string) (code string, ok bool) {
	k := foldKey(s)
	if k == "" {
		return "", false
	}
	if i, ok := countryIndex[k]; ok {
		return countries[i].code, true
	}
	return "", false
}

func countryByCode(code string) (*country, bool) {
	i, ok := countryIndex[strings.ToLower(code)]
	if !ok {
		return nil, false
	}
	return &countries[i], true
}

// LookupCity finds a city of the embedded table by name (accents, case and
// punctuation ignored; common aliases such as "NYC" or "Bombay" accepted).
// country, when not empty, restricts the search; without it a name that exists
// in several countries is not resolved.
func LookupCity(name, country string) (City, bool) {
	idx := cityIndex[foldKey(name)]
	var code string
	if country != "" {
		var ok bool
		if code, ok = CountryCode(country); !ok {
			return City{}, false
		}
	}
	var found []int
	for _, i := range idx {
		if code == "" || cities[i].country == code {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		return City{}, false
	}
	c := cities[found[0]]
	return City{Name: c.name, Country: c.country, Coord: Coord{c.lat, c.lon}}, true
}

// ResolveLocation turns an interview's claimed city and country into a
// Location. A city written as "Lisbon, Portugal" is split at the comma. When the
// city is unknown but the country is in the table, the location falls back to
// the table city of that country farthest from ref (the server), which makes
// every RTT allowance derived from it generous; Exact is then false.
func ResolveLocation(city, country string, ref Coord) (Location, bool) {
	city = strings.TrimSpace(city)
	country = strings.TrimSpace(country)
	if name, rest, ok := strings.Cut(city, ","); ok {
		city = strings.TrimSpace(name)
		if country == "" {
			country = strings.TrimSpace(rest)
		}
	}
	code, _ := CountryCode(country)
	if c, ok := LookupCity(city, code); ok {
		return Location{City: c, Country: c.Country, Exact: true}, true
	}
	if code == "" {
		return Location{}, false
	}
	var best City
	bestD := -1.0
	for _, c := range cities {
		if c.country != code {
			continue
		}
		cc := City{Name: c.name, Country: c.country, Coord: Coord{c.lat, c.lon}}
		if d := DistanceKm(ref, cc.Coord); d > bestD {
			best, bestD = cc, d
		}
	}
	if bestD < 0 {
		return Location{Country: code}, false
	}
	return Location{City: best, Country: code}, true
}
