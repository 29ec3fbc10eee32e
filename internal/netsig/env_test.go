package netsig

import (
	"strings"
	"testing"
	"time"
)

var (
	winter = time.Date(2030, 1, 15, 15, 0, 0, 0, time.UTC)
	summer = time.Date(2030, 7, 15, 15, 0, 0, 0, time.UTC)
)

func TestTimeZoneClaimed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tz      string
		country string
		at      time.Time
		score   float64
		value   float64
	}{
		{"ZoneOfCountry", "America/Chicago", "United States", winter, 0, 0},
		{"PrefixZone", "America/Indiana/Indianapolis", "US", winter, 0, 0},
		{"LegacyAlias", "Asia/Calcutta", "India", winter, 0, 0},
		{"KyivBothSpellings", "Europe/Kiev", "Ukraine", winter, 0, 0},
		{"FarAway", "Asia/Shanghai", "USA", winter, 0.75, 13},              // UTC+8 vs UTC−5 (New York) nearest
		{"NeighbourSameOffset", "Europe/Berlin", "Poland", winter, 0.3, 0}, // both UTC+1
		{"GenericUTC", "Etc/UTC", "United States", winter, 0.35, 5},
		{"GenericUTCInUTCCountry", "UTC", "United Kingdom", winter, 0.1, 0},
		// Lagos is UTC+1 all year; London is UTC+1 only in summer.
		{"DSTSummerSameOffset", "Africa/Lagos", "GB", summer, 0.3, 0},
		{"DSTWinterDifferent", "Africa/Lagos", "GB", winter, 0.75, 1},
		{"NotAZone", "Mars/Olympus_Mons", "US", winter, 0.5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sg, ok := CheckTimeZoneClaimed(Environment{TimeZone: tc.tz}, tc.country, tc.at)
			if !ok || sg.Kind != KindTimeZoneClaimed {
				t.Fatalf("not evaluated: %+v", sg)
			}
			if sg.Score != tc.score || (tc.value != 0 && sg.Value != tc.value) {
				t.Fatalf("score %.2f value %.2f, want %.2f %.2f: %s", sg.Score, sg.Value, tc.score, tc.value, sg.Reason)
			}
			if sg.Reason == "" {
				t.Fatal("every signal explains itself")
			}
		})
	}
	if _, ok := CheckTimeZoneClaimed(Environment{}, "US", winter); ok {
		t.Fatal("no zone reported: not evaluated")
	}
	if _, ok := CheckTimeZoneClaimed(Environment{TimeZone: "Europe/Lisbon"}, "Atlantis", winter); ok {
		t.Fatal("unknown country: not evaluated")
	}
}

func TestTimeZoneIP(t *testing.T) {
	// A US exit IP with a browser set to Pyongyang time.
	sg, ok := CheckTimeZoneIP(Environment{TimeZone: "Asia/Pyongyang"}, "US", winter)
	if !ok || sg.Kind != KindTimeZoneIP || sg.Score != 0.75 || !strings.Contains(sg.Reason, "KP") {
		t.Fatalf("%+v", sg)
	}
}

func TestTimeZoneOffset(t *testing.T) {
	// Lisbon is UTC+1 in summer: the page sends -getTimezoneOffset() = 60.
	sg, ok := CheckTimeZoneOffset(Environment{TimeZone: "Europe/Lisbon", TZOffsetMin: 60}, summer)
	if !ok || sg.Score != 0 {
		t.Fatalf("%+v", sg)
	}
	// Intl spoofed to Lisbon, Date still on Seoul (UTC+9).
	sg, ok = CheckTimeZoneOffset(Environment{TimeZone: "Europe/Lisbon", TZOffsetMin: 540}, summer)
	if !ok || sg.Score != 0.6 || sg.Value != 480 || !strings.Contains(sg.Reason, "UTC+9") {
		t.Fatalf("%+v", sg)
	}
	if _, ok := CheckTimeZoneOffset(Environment{TZOffsetMin: 60}, summer); ok {
		t.Fatal("no zone: not evaluated")
	}
	// Half-hour zones format correctly.
	sg, _ = CheckTimeZoneOffset(Environment{TimeZone: "Asia/Kolkata", TZOffsetMin: 0}, summer)
	if !strings.Contains(sg.Reason, "UTC+5:30") {
		t.Fatalf("%s", sg.Reason)
	}
}

func TestLanguages(t *testing.T) {
	for _, tc := range []struct {
		langs   []string
		country string
		score   float64
	}{
		{[]string{"en-US", "en"}, "US", 0},
		{[]string{"es-US", "en"}, "US", 0},
		{[]string{"pt-PT", "en-GB"}, "Portugal", 0},
		{[]string{"de-CH", "fr-CH", "it"}, "Switzerland", 0},
		{[]string{"en-GB"}, "Japan", 0},
		{[]string{"ko-KR", "ko", "en-US"}, "US", 0.4},
		{[]string{"en-US", "zh-CN"}, "US", 0.15},
	} {
		sg, ok := CheckLanguages(Environment{Languages: tc.langs}, tc.country)
		if !ok || sg.Score != tc.score || sg.Kind != KindLanguage {
			t.Errorf("%v in %s: %+v, want score %.2f", tc.langs, tc.country, sg, tc.score)
		}
	}
	if _, ok := CheckLanguages(Environment{}, "US"); ok {
		t.Fatal("no languages: not evaluated")
	}
}

func TestWebDriver(t *testing.T) {
	if sg := CheckWebDriver(Environment{WebDriver: true}); sg.Score < 0.9 || sg.Kind != KindWebDriver {
		t.Fatalf("%+v", sg)
	}
	if sg := CheckWebDriver(Environment{}); sg.Score != 0 {
		t.Fatalf("%+v", sg)
	}
}

func TestPlatform(t *testing.T) {
	const (
		win    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
		mac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
		linux  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
		droid  = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
		iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	)
	for _, tc := range []struct {
		ua, platform string
		score        float64
	}{
		{win, "Win32", 0}, {mac, "MacIntel", 0}, {linux, "Linux x86_64", 0}, {droid, "Linux armv8l", 0}, {iphone, "iPhone", 0},
		{win, "Linux x86_64", 0.5}, {mac, "Win32", 0.5}, {iphone, "MacIntel", 0.5},
	} {
		sg, ok := CheckPlatform(Environment{Platform: tc.platform}, tc.ua)
		if !ok || sg.Score != tc.score {
			t.Errorf("%q on %.40q: %+v", tc.platform, tc.ua, sg)
		}
	}
	if _, ok := CheckPlatform(Environment{}, win); ok {
		t.Fatal("no platform: not evaluated")
	}
}
