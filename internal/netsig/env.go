package netsig

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zone offsets must not depend on the host's tzdata package

	"github.com/livecheck/livecheck/models"
)

// Environment is the candidate page's report about its browser and devices
// (defined once, in models). Every field is a claim of the browser.
type Environment = models.Environment

// Device is one entry of enumerateDevices().
type Device = models.Device

// Track is the camera or microphone track actually in use.
type Track = models.TrackSettings

// genericZone reports whether tz is a location-free zone (UTC, Etc/GMT+3):
// what privacy-hardened browsers (Tor Browser, Firefox resistFingerprinting),
// fresh VMs and servers report.
func genericZone(tz string) bool {
	switch tz {
	case "UTC", "UCT", "GMT", "Universal", "Zulu", "Greenwich", "GMT0", "GMT+0", "GMT-0":
		return true
	}
	return strings.HasPrefix(tz, "Etc/")
}

// zoneInCountry reports whether tz is one of the country's zones.
func zoneInCountry(tz string, c *country) bool {
	for _, z := range c.zones {
		if z == tz || (strings.HasSuffix(z, "/") && strings.HasPrefix(tz, z)) {
			return true
		}
	}
	return false
}

// ZoneCountry returns the ISO code of the country an IANA zone belongs to, when
// the embedded table knows it.
func ZoneCountry(tz string) (string, bool) {
	if c, ok := zoneCountry[tz]; ok {
		return c, true
	}
	for _, c := range countries {
		if zoneInCountry(tz, &c) {
			return c.code, true
		}
	}
	return "", false
}

// zoneOffset returns tz's UTC offset in minutes at t.
func zoneOffset(tz string, t time.Time) (int, bool) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		return 0, false
	}
	_, off := t.In(loc).Zone()
	return off / 60, true
}

// countryOffsets returns the distinct UTC offsets (minutes) of a country's zones at t.
func countryOffsets(c *country, t time.Time) []int {
	var out []int
	for _, z := range c.zones {
		if strings.HasSuffix(z, "/") {
			continue
		}
		if off, ok := zoneOffset(z, t); ok && !slices.Contains(out, off) {
			out = append(out, off)
		}
	}
	slices.Sort(out)
	return out
}

func fmtOffset(min int) string {
	sign := "+"
	if min < 0 {
		sign, min = "-", -min
	}
	if min%60 == 0 {
		return fmt.Sprintf("UTC%s%d", sign, min/60)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, min/60, min%60)
}

// CheckTimeZoneClaimed compares the browser's IANA time zone with the claimed
// country at time at (offsets depend on daylight saving).
func CheckTimeZoneClaimed(env Environment, claimedCountry string, at time.Time) (models.Signal, bool) {
	return checkTimeZone(KindTimeZoneClaimed, "the claimed country", env, claimedCountry, at)
}

// CheckTimeZoneIP compares the browser's time zone with the country GeoIP
// gives the candidate's address (a US exit IP with an Asia/Shanghai browser).
func CheckTimeZoneIP(env Environment, ipCountry string, at time.Time) (models.Signal, bool) {
	return checkTimeZone(KindTimeZoneIP, "the IP address's country", env, ipCountry, at)
}

// checkTimeZone scores: a zone of the country 0; a generic UTC zone 0.35 (0.1
// where the country is on UTC); another country's zone with an offset the
// country also uses 0.3; a zone whose offset the country never has 0.75, with
// Value the distance in hours to the nearest offset of the country.
func checkTimeZone(kind, what string, env Environment, countryName string, at time.Time) (models.Signal, bool) {
	tz := strings.TrimSpace(env.TimeZone)
	code, ok := CountryCode(countryName)
	if tz == "" || !ok {
		return models.Signal{}, false
	}
	c, _ := countryByCode(code)
	sg := models.Signal{Kind: kind, Confidence: 0.7}
	if zoneInCountry(tz, c) {
		sg.Reason = fmt.Sprintf("Browser time zone %s is in %s (%s).", tz, what, code)
		return sg, true
	}
	offs := countryOffsets(c, at)
	off, known := zoneOffset(tz, at)
	if !known {
		sg.Score, sg.Confidence = 0.5, 0.5
		sg.Reason = fmt.Sprintf("Browser reports time zone %q, which is not a known IANA zone: the value was likely set by hand or by a spoofing tool (%s is %s).", tz, what, code)
		return sg, true
	}
	nearest := math.Inf(1)
	for _, o := range offs {
		nearest = math.Min(nearest, math.Abs(float64(o-off))/60)
	}
	if len(offs) == 0 {
		nearest = 0
	}
	sg.Value = nearest
	if genericZone(tz) {
		sg.Score, sg.Confidence = 0.35, 0.5
		if slices.Contains(offs, off) {
			sg.Score = 0.1
		}
		sg.Reason = fmt.Sprintf("Browser reports the location-free zone %s (%s) instead of a city zone: typical of privacy-hardened browsers, virtual machines and remote servers (%s is %s).", tz, fmtOffset(off), what, code)
		return sg, true
	}
	other, _ := ZoneCountry(tz)
	if other == "" {
		other = "another country"
	}
	if slices.Contains(offs, off) {
		sg.Score, sg.Confidence = 0.3, 0.5
		sg.Reason = fmt.Sprintf("Browser time zone %s belongs to %s, not %s (%s), though the clock offset %s is the same.", tz, other, what, code, fmtOffset(off))
		return sg, true
	}
	sg.Score = 0.75
	sg.Reason = fmt.Sprintf("Browser time zone %s (%s, %s) is %.1f h away from any time of %s (%s): the computer's clock is set for somewhere else.",
		tz, other, fmtOffset(off), nearest, what, code)
	return sg, true
}

// CheckTimeZoneOffset compares the IANA zone (Intl API) with the offset the
// Date API reports. They come from the same OS setting, so a disagreement means
// one of them was overridden — a time-zone spoofing extension or an
// anti-detect browser that patched only one API. Value is the difference in minutes.
func CheckTimeZoneOffset(env Environment, at time.Time) (models.Signal, bool) {
	off, ok := zoneOffset(strings.TrimSpace(env.TimeZone), at)
	if !ok {
		return models.Signal{}, false
	}
	d := env.TZOffsetMin - off
	sg := models.Signal{Kind: KindTimeZoneOffset, Value: math.Abs(float64(d)), Confidence: 0.7}
	if d == 0 {
		sg.Reason = fmt.Sprintf("Time zone %s and the clock offset %s agree.", env.TimeZone, fmtOffset(off))
		return sg, true
	}
	sg.Score = 0.6
	sg.Reason = fmt.Sprintf("The browser's time zone %s means %s but its clock reports %s: one of the two was overridden by a spoofing tool.",
		env.TimeZone, fmtOffset(off), fmtOffset(env.TZOffsetMin))
	return sg, true
}

// primaryLang returns the lower-case primary subtag of a BCP 47 tag ("pt-BR" → "pt").
func primaryLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// CheckLanguages compares the browser's preferred languages with the claimed
// country. English is accepted everywhere, and expatriates legitimately keep
// their mother tongue, so the score is low: 0.4 when the first language is
// foreign to the country, 0.15 when only a later one is. This check must never
// decide alone. Value is the number of foreign languages.
func CheckLanguages(env Environment, claimedCountry string) (models.Signal, bool) {
	code, ok := CountryCode(claimedCountry)
	if !ok || len(env.Languages) == 0 {
		return models.Signal{}, false
	}
	c, _ := countryByCode(code)
	var foreign []string
	firstForeign := false
	for i, tag := range env.Languages {
		p := primaryLang(tag)
		if p == "" || p == "en" || slices.Contains(c.langs, p) {
			continue
		}
		foreign = append(foreign, tag)
		if i == 0 {
			firstForeign = true
		}
	}
	sg := models.Signal{Kind: KindLanguage, Value: float64(len(foreign)), Confidence: 0.4}
	switch {
	case len(foreign) == 0:
		sg.Reason = fmt.Sprintf("Browser languages %s fit %s.", strings.Join(env.Languages, ", "), code)
	case firstForeign:
		sg.Score = 0.4
		sg.Reason = fmt.Sprintf("The browser's preferred language is %s, not usual in the claimed country %s (all: %s). Weak on its own: people abroad keep their language.",
			env.Languages[0], code, strings.Join(env.Languages, ", "))
	default:
		sg.Score = 0.15
		sg.Reason = fmt.Sprintf("The browser also lists %s, not usual in the claimed country %s. Weak on its own.", strings.Join(foreign, ", "), code)
	}
	return sg, true
}

// CheckWebDriver reports navigator.webdriver. A person in an ordinary browser
// never has it set; Selenium, Puppeteer and Playwright do (and so do this
// project's own headless browser tests).
func CheckWebDriver(env Environment) models.Signal {
	if env.WebDriver {
		return models.Signal{Kind: KindWebDriver, Value: 1, Score: 0.9, Confidence: 0.9,
			Reason: "navigator.webdriver is true: the browser is driven by automation software (Selenium, Puppeteer, Playwright), not used by a person directly."}
	}
	return models.Signal{Kind: KindWebDriver, Confidence: 0.3,
		Reason: "navigator.webdriver is false (automation tools can hide it, so this proves little)."}
}

// CheckPlatform compares navigator.platform with the operating system named
// in the User-Agent header. User-agent switchers change one and not the other.
func CheckPlatform(env Environment, userAgent string) (models.Signal, bool) {
	p := strings.ToLower(strings.TrimSpace(env.Platform))
	ua := strings.ToLower(userAgent)
	if p == "" || ua == "" {
		return models.Signal{}, false
	}
	var uaOS string
	var want []string
	switch {
	case strings.Contains(ua, "iphone") || strings.Contains(ua, "ipod"):
		uaOS, want = "iOS", []string{"iphone", "ipod"}
	case strings.Contains(ua, "ipad"):
		uaOS, want = "iPadOS", []string{"ipad", "macintel"}
	case strings.Contains(ua, "android"):
		uaOS, want = "Android", []string{"linux", "android"}
	case strings.Contains(ua, "windows"):
		uaOS, want = "Windows", []string{"win"}
	case strings.Contains(ua, "macintosh") || strings.Contains(ua, "mac os x"):
		uaOS, want = "macOS", []string{"mac"}
	case strings.Contains(ua, "cros") || strings.Contains(ua, "linux") || strings.Contains(ua, "x11"):
		uaOS, want = "Linux/ChromeOS", []string{"linux", "freebsd", "openbsd"}
	default:
		return models.Signal{}, false
	}
	sg := models.Signal{Kind: KindPlatform, Confidence: 0.7}
	for _, w := range want {
		if strings.HasPrefix(p, w) {
			sg.Reason = fmt.Sprintf("navigator.platform %q fits the %s user agent.", env.Platform, uaOS)
			return sg, true
		}
	}
	sg.Score, sg.Value = 0.5, 1
	sg.Reason = fmt.Sprintf("The user agent claims %s but navigator.platform says %q: the user agent was altered (a switcher extension or an anti-detect browser).", uaOS, env.Platform)
	return sg, true
}
