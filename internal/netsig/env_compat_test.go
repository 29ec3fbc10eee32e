package netsig_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/livecheck/livecheck/models"
)

// The connection report is stored as JSON (attempts.environment) with the
// page's environment fields flat beside the server's own observations, as
// stored before the report had a type: both must survive the round trip, and
// a report without the page's part must stay without it.
func TestConnectionReportRoundTrip(t *testing.T) {
	in := models.ConnectionReport{Environment: &models.Environment{TimeZone: "Europe/Lisbon", TZOffsetMin: 60,
		Languages: []string{"pt-PT"}, ScreenW: 1440, ScreenH: 900, PixelRatio: 2,
		Devices: []models.Device{{Kind: "videoinput", Label: "OBS Virtual Camera"}}, WebDriver: true, Platform: "MacIntel",
		HardwareConc: 8, Video: models.TrackSettings{Label: "OBS Virtual Camera"}, Audio: models.TrackSettings{Label: "MacBook Pro Microphone"}},
		MalformedControl: 2, ControlRTTms: []float64{41.5, 0, 39.25}, ICERemote: []string{"candidate:1 1 udp 1 203.0.113.7 5000 typ host"},
		ICESelected: "x", ICERTTms: 12}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	if flat["tz"] != "Europe/Lisbon" || flat["malformed_control_messages"] != 2.0 || flat["ice_rtt_ms"] != 12.0 {
		t.Fatalf("stored shape changed: %s", b)
	}
	var got models.ConnectionReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	e := got.Environment
	if e == nil || e.TimeZone != "Europe/Lisbon" || e.TZOffsetMin != 60 || len(e.Languages) != 1 || e.ScreenW != 1440 || e.PixelRatio != 2 ||
		len(e.Devices) != 1 || e.Devices[0].Label != "OBS Virtual Camera" || !e.WebDriver || e.Platform != "MacIntel" ||
		e.HardwareConc != 8 || e.Video.Label != "OBS Virtual Camera" || e.Audio.Label != "MacBook Pro Microphone" {
		t.Fatalf("fields lost: %+v", e)
	}
	if got.MalformedControl != 2 || len(got.ICERemote) != 1 || got.ICESelected != "x" || got.ICERTTms != 12 {
		t.Fatalf("server observations lost: %+v", got)
	}
	if r := got.ControlRTTs(); len(r) != 2 || r[1] != 39250*time.Microsecond {
		t.Fatalf("control RTTs: %v (zero samples dropped)", r)
	}
	b, _ = json.Marshal(models.ConnectionReport{MalformedControl: 1})
	var bare models.ConnectionReport
	if err := json.Unmarshal(b, &bare); err != nil || bare.Environment != nil {
		t.Fatalf("a report without the page's part: %s → %+v, %v", b, bare, err)
	}
}
