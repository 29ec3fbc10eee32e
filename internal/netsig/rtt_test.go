package netsig

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func msD(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func TestRTTClaimed(t *testing.T) {
	fra := city(t, "Frankfurt", "DE")
	lis, _ := ResolveLocation("Lisbon", "Portugal", fra)
	d := DistanceKm(fra, lis.City.Coord)
	allowed := DefaultRTTPolicy().AllowedRTT(d)
	// allowed = 2 · (d/100 ms) + 60 ms ≈ 97.6 ms for ~1,880 km.
	if want := 2*MinRTT(d) + 60*time.Millisecond; allowed != want || allowed < 95*time.Millisecond || allowed > 100*time.Millisecond {
		t.Fatalf("allowed Lisbon–Frankfurt = %v (want %v, ~97 ms)", allowed, want)
	}
	t.Run("PlausibleFromLisbon", func(t *testing.T) {
		// A typical Lisbon home connection: ~45 ms, with jitter spikes that must not count.
		sg, ok := CheckRTTClaimed(fra, lis, []time.Duration{msD(180), msD(47), msD(45), msD(300)}, RTTPolicy{})
		if !ok || sg.Score != 0 || sg.Value != 45 || sg.Kind != KindRTTClaimed {
			t.Fatalf("%+v %v", sg, ok)
		}
	})
	t.Run("FarAboveFromLisbon", func(t *testing.T) {
		// Claimed Lisbon, but the fastest of 12 pings is 260 ms: an East Asia path.
		var s []time.Duration
		for i := 0; i < 12; i++ {
			s = append(s, msD(260+float64(i)))
		}
		sg, ok := CheckRTTClaimed(fra, lis, s, RTTPolicy{})
		if !ok || sg.Score < 0.85 || sg.Confidence != 0.8 || !strings.Contains(sg.Reason, "Lisbon") {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("JustAboveScoresLow", func(t *testing.T) {
		sg, _ := CheckRTTClaimed(fra, lis, []time.Duration{allowed + msD(5)}, RTTPolicy{})
		if sg.Score < 0.3 || sg.Score > 0.4 || sg.Confidence != 0.5 {
			t.Fatalf("slightly above allowance: %+v", sg)
		}
	})
	t.Run("NewYorkNeedsMore", func(t *testing.T) {
		ny, _ := ResolveLocation("New York", "US", fra)
		// ~6,200 km: 95 ms is a normal transatlantic RTT and must pass.
		sg, ok := CheckRTTClaimed(fra, ny, []time.Duration{msD(95)}, RTTPolicy{})
		if !ok || sg.Score != 0 {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("CountryFallbackIsGenerous", func(t *testing.T) {
		// Unknown Russian town: allowance from Vladivostok, the farthest table city.
		ru, ok := ResolveLocation("Tver", "Russia", fra)
		if !ok || ru.Exact || ru.City.Name != "Vladivostok" {
			t.Fatalf("%+v", ru)
		}
		sg, _ := CheckRTTClaimed(fra, ru, []time.Duration{msD(200)}, RTTPolicy{})
		if sg.Score != 0 || sg.Confidence >= 0.5 {
			t.Fatalf("fallback must be generous and less confident: %+v", sg)
		}
	})
	t.Run("NoSamples", func(t *testing.T) {
		if _, ok := CheckRTTClaimed(fra, lis, []time.Duration{0, -1}, RTTPolicy{}); ok {
			t.Fatal("no positive sample: not evaluated")
		}
	})
}

func TestRTTGeoIP(t *testing.T) {
	fra := city(t, "Frankfurt", "DE")
	ny := city(t, "New York", "US")
	geo := IPInfo{IP: netip.MustParseAddr("203.0.113.7"), Country: "US", City: "New York", Coord: ny, HasCoord: true, AccuracyKm: 20}
	d := DistanceKm(fra, ny)
	floor := DefaultRTTPolicy().FloorRTT(d, 20)
	// floor = 0.9 · MinRTT(d − 20 − 100) − 2 ms ≈ 53 ms.
	if floor < 50*time.Millisecond || floor > 56*time.Millisecond {
		t.Fatalf("floor Frankfurt–New York = %v", floor)
	}
	t.Run("ImpossiblyFast", func(t *testing.T) {
		// 14 ms from Frankfurt cannot reach New York: the "US" VPN exit is in Europe.
		sg, ok := CheckRTTGeoIP(fra, geo, []time.Duration{msD(14), msD(15)}, RTTPolicy{})
		if !ok || sg.Score < 0.8 || sg.Kind != KindRTTGeoIP || !strings.Contains(sg.Reason, "New York") || !strings.Contains(sg.Reason, "203.0.113.7") {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("Plausible", func(t *testing.T) {
		sg, ok := CheckRTTGeoIP(fra, geo, []time.Duration{msD(88)}, RTTPolicy{})
		if !ok || sg.Score != 0 {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("CoarseLocationNeverFlags", func(t *testing.T) {
		// A country-level entry with a 1000 km radius 300 km away: floor 0.
		g := IPInfo{Country: "DE", Coord: city(t, "Berlin", "DE"), HasCoord: true, AccuracyKm: 1000}
		sg, ok := CheckRTTGeoIP(fra, g, []time.Duration{msD(1)}, RTTPolicy{})
		if !ok || sg.Score != 0 {
			t.Fatalf("%+v", sg)
		}
	})
	t.Run("NoCoordinates", func(t *testing.T) {
		if _, ok := CheckRTTGeoIP(fra, IPInfo{Country: "US"}, []time.Duration{msD(1)}, RTTPolicy{}); ok {
			t.Fatal("without coordinates the check does not apply")
		}
	})
}
