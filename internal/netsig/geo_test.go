package netsig

import (
	"math"
	"testing"
	"time"
)

func city(t *testing.T, name, country string) Coord {
	t.Helper()
	c, ok := LookupCity(name, country)
	if !ok {
		t.Fatalf("city %q/%q not in the table", name, country)
	}
	return c.Coord
}

func TestDistanceKnownPairs(t *testing.T) {
	// Published great-circle distances between city centres.
	for _, tc := range []struct {
		a, b   string
		ca, cb string
		km     float64
	}{
		{"Lisbon", "Frankfurt", "PT", "DE", 1880},
		{"London", "New York", "GB", "US", 5570},
		{"Tokyo", "Sydney", "JP", "AU", 7820},
		{"Seoul", "Pyongyang", "KR", "KP", 195},
		{"Frankfurt", "Frankfurt", "DE", "DE", 0},
	} {
		d := DistanceKm(city(t, tc.a, tc.ca), city(t, tc.b, tc.cb))
		if math.Abs(d-tc.km) > 0.015*tc.km+1 {
			t.Errorf("%s–%s: %.0f km, want %.0f ±1.5%%", tc.a, tc.b, d, tc.km)
		}
	}
	// Antipodes: half the circumference.
	if d := DistanceKm(Coord{0, 0}, Coord{0, 180}); math.Abs(d-math.Pi*EarthRadiusKm) > 0.01 {
		t.Errorf("antipodes: %.1f", d)
	}
}

func TestMinRTT(t *testing.T) {
	if got := MinRTT(1000); got != 10*time.Millisecond {
		t.Fatalf("MinRTT(1000 km) = %v, want 10ms (2·1000 km / 200 km/ms)", got)
	}
	if MinRTT(-5) != 0 || MinRTT(0) != 0 {
		t.Fatal("no distance, no delay")
	}
}

func TestParseCoord(t *testing.T) {
	c, err := ParseCoord(" 50.11, 8.68 ")
	if err != nil || c.Lat != 50.11 || c.Lon != 8.68 {
		t.Fatalf("%v %v", c, err)
	}
	for _, bad := range []string{"", "50.11", "91,0", "0,181", "a,b", "NaN,1"} {
		if _, err := ParseCoord(bad); err == nil {
			t.Errorf("ParseCoord(%q) must fail", bad)
		}
	}
}

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{
		"Portugal": "PT", "pt": "PT", "USA": "US", "United States of America": "US", "U.S.": "US",
		"United Kingdom": "GB", "uk": "GB", "England": "GB", "South Korea": "KR", "DPRK": "KP",
		"Côte d'Ivoire": "CI", "cote d ivoire": "CI", "Türkiye": "TR", "czechia": "CZ",
	} {
		if got, ok := CountryCode(in); !ok || got != want {
			t.Errorf("CountryCode(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Atlantis", "Europe"} {
		if _, ok := CountryCode(in); ok {
			t.Errorf("CountryCode(%q) must not resolve", in)
		}
	}
}

func TestLookupCity(t *testing.T) {
	if c, ok := LookupCity("sao paulo", ""); !ok || c.Country != "BR" {
		t.Fatalf("accent-insensitive: %+v %v", c, ok)
	}
	if c, ok := LookupCity("BOMBAY", "India"); !ok || c.Name != "Mumbai" {
		t.Fatalf("alias: %+v %v", c, ok)
	}
	if c, ok := LookupCity("Washington, D.C.", "US"); !ok || c.Name != "Washington" {
		t.Fatalf("punctuation: %+v %v", c, ok)
	}
	if _, ok := LookupCity("Lisbon", "Spain"); ok {
		t.Fatal("a city must be in the given country")
	}
	// "San José" (CR) and "San Jose" (US) fold to the same key: ambiguous without a country.
	if _, ok := LookupCity("San Jose", ""); ok {
		t.Fatal("ambiguous name must not resolve without a country")
	}
	if c, ok := LookupCity("San Jose", "Costa Rica"); !ok || c.Country != "CR" {
		t.Fatalf("country disambiguates: %+v %v", c, ok)
	}
}

func TestResolveLocation(t *testing.T) {
	fra := city(t, "Frankfurt", "DE")
	loc, ok := ResolveLocation("Lisbon, Portugal", "", fra)
	if !ok || !loc.Exact || loc.City.Name != "Lisbon" || loc.Country != "PT" {
		t.Fatalf("city, country: %+v %v", loc, ok)
	}
	// Faro is not in the table: fall back to the Portuguese city farthest from the server.
	loc, ok = ResolveLocation("Faro", "Portugal", fra)
	if !ok || loc.Exact || loc.City.Name != "Lisbon" {
		t.Fatalf("fallback: %+v %v", loc, ok)
	}
	if _, ok := ResolveLocation("Faro", "", fra); ok {
		t.Fatal("unknown city without country must not resolve")
	}
}

func TestTablesConsistent(t *testing.T) {
	for _, c := range cities {
		if _, ok := countryByCode(c.country); !ok {
			t.Errorf("city %s: country %s missing from the country table", c.name, c.country)
		}
		if !(Coord{c.lat, c.lon}).Valid() {
			t.Errorf("city %s: bad coordinates", c.name)
		}
	}
	now := time.Date(2030, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, c := range countries {
		for _, z := range c.zones {
			if len(z) > 0 && z[len(z)-1] == '/' {
				continue
			}
			if _, ok := zoneOffset(z, now); !ok {
				t.Errorf("country %s: zone %q is not in tzdata", c.code, z)
			}
		}
		if len(countryOffsets(&c, now)) == 0 {
			t.Errorf("country %s has no loadable zone", c.code)
		}
	}
}
