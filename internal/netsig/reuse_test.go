package netsig

import (
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func laptop() Environment {
	return Environment{TimeZone: "America/New_York", Languages: []string{"en-US"}, ScreenW: 1920, ScreenH: 1080, PixelRatio: 1,
		HardwareConc: 8, Platform: "Win32", Devices: []Device{
			{Kind: "videoinput", Label: "HD Pro Webcam C920 (046d:082d)"}, {Kind: "audioinput", Label: "Default - Headset Microphone (Jabra EVOLVE 20 MS)"},
			{Kind: "audioinput", Label: "Headset Microphone (Jabra EVOLVE 20 MS)"}, {Kind: "audiooutput", Label: "Speakers (Realtek(R) Audio)"}}}
}

const ua126 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

func TestFingerprint(t *testing.T) {
	base, strength := Fingerprint(laptop(), ua126)
	if !strings.HasPrefix(base, "fp1:") || len(base) != 4+32 {
		t.Fatalf("format: %q", base)
	}
	// "Default - X" and "X" are one device; two labels → 0.2 + 2·0.15.
	if math.Abs(strength-0.5) > 1e-9 {
		t.Fatalf("strength %v, want 0.5", strength)
	}
	persona := laptop()
	persona.TimeZone, persona.Languages = "Europe/Warsaw", []string{"pl-PL"}
	persona.Devices[0], persona.Devices[2] = persona.Devices[2], persona.Devices[0] // order does not matter
	if fp, _ := Fingerprint(persona, strings.Replace(ua126, "126.0.0.0", "127.0.6533.72", 1)); fp != base {
		t.Fatal("a new persona (zone, language) and a browser update must keep the fingerprint")
	}
	other := laptop()
	other.Devices[0].Label = "Logitech BRIO (046d:085e)"
	if fp, _ := Fingerprint(other, ua126); fp == base {
		t.Fatal("another camera is another device")
	}
	if fp, _ := Fingerprint(laptop(), strings.Replace(ua126, "Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", 1)); fp == base {
		t.Fatal("another OS is another device")
	}
	if fp, s := Fingerprint(Environment{}, ua126); fp != "" || s != 0 {
		t.Fatal("an empty report has no fingerprint")
	}
}

func TestReuseAddresses(t *testing.T) {
	ice := ICEReport{Remote: []Candidate{
		mustCand(t, "candidate:2 1 udp 1677729535 203.0.113.7 61234 typ srflx"),
		mustCand(t, "candidate:3 1 udp 41885439 198.51.100.20 3478 typ relay raddr 203.0.113.50 rport 1"),
	}}
	got := ReuseAddresses([]netip.Addr{netip.MustParseAddr("::ffff:198.51.100.9"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("203.0.113.7")}, ice)
	if strings.Join(got, ",") != "198.51.100.9,203.0.113.7,203.0.113.50" {
		t.Fatalf("%v (private and TURN addresses must be left out)", got)
	}
}

func TestCheckReuse(t *testing.T) {
	self := Subject{InterviewID: 10, CandidateEmail: "Ana@Example.test"}
	day := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	sightings := []Sighting{
		{InterviewID: 10, CandidateEmail: "ana@example.test", Match: MatchIP, Value: "203.0.113.7", At: day}, // itself
		{InterviewID: 11, CandidateEmail: "ana@example.TEST", Match: MatchBrowser, Value: "cookie", At: day}, // her second round
		{InterviewID: 12, CandidateEmail: "bo@example.test", Match: MatchIP, Value: "203.0.113.7", At: day},
		{InterviewID: 12, CandidateEmail: "bo@example.test", Match: MatchFingerprint, Value: "fp1:aa", At: day},
		{InterviewID: 13, CandidateEmail: "cy@example.test", Match: MatchFingerprint, Value: "fp1:aa", At: day.AddDate(0, 0, 1)},
	}
	m := map[string]float64{}
	for _, sg := range CheckReuse(self, sightings, 0.5) {
		m[sg.Kind] = sg.Score
		if strings.Contains(sg.Reason, "bo@") || strings.Contains(sg.Reason, "cy@") {
			t.Fatalf("reasons must not name other candidates: %s", sg.Reason)
		}
		if sg.Kind == KindReuseFingerprint && (sg.Value != 2 || sg.Confidence != 0.5 || !strings.Contains(sg.Reason, "interview 12 on 2030-03-01, interview 13 on 2030-03-02")) {
			t.Fatalf("%+v", sg)
		}
	}
	if _, ok := m[KindReuseBrowser]; ok {
		t.Fatal("the same candidate's other interview is not reuse")
	}
	if m[KindReuseFingerprint] != 0.85 || m[KindReuseIP] != 0.5 {
		t.Fatalf("%v (fingerprint with a shared IP in the same interview scores 0.85)", m)
	}
	out := CheckReuse(self, []Sighting{{InterviewID: 14, CandidateEmail: "x@y.test", Match: MatchBrowser, At: day}}, 0.2)
	if len(out) != 1 || out[0].Kind != KindReuseBrowser || out[0].Score != 0.9 {
		t.Fatalf("%+v", out)
	}
	out = CheckReuse(self, sightings[:2], 0.5)
	if len(out) != 1 || out[0].Score != 0 {
		t.Fatalf("nothing found must say so with score 0: %+v", out)
	}
}
