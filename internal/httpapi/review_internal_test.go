package httpapi

import (
	"testing"

	"github.com/livecheck/livecheck/models"
)

// TestEnvValue: the browser's report reads as people write it on the review
// page — devices as labels with their kind, the camera track as label and
// format, languages as a list — and anything else as it came.
func TestEnvValue(t *testing.T) {
	off := false
	e := models.Environment{TimeZone: "Europe/Lisbon", Languages: []string{"pt-PT", "en"}, ScreenW: 1440, WebDriver: true,
		Devices: []models.Device{{Kind: "videoinput", Label: "OBS Virtual Camera"}, {Kind: "audioinput"}, {Kind: "other", Label: "X"}},
		Video:   models.TrackSettings{Label: "OBS Virtual Camera", Width: 1280, Height: 720, FrameRate: 29.97},
		Audio:   models.TrackSettings{Label: "Mic", Echo: &off}}
	for _, tc := range []struct {
		k    string
		v    any
		want string
	}{
		{"tz", e.TimeZone, "Europe/Lisbon"},
		{"languages", e.Languages, "pt-PT, en"},
		{"screen_w", e.ScreenW, "1440"},
		{"webdriver", e.WebDriver, "true"},
		{"devices", e.Devices, "OBS Virtual Camera (camera); (no label) (microphone); X (other)"},
		{"video", e.Video, "OBS Virtual Camera · 1280×720 · 29.97 fps"},
		{"audio", e.Audio, `{"label":"Mic","echo_cancellation":false}`},
	} {
		if got := envValue(tc.k, tc.v); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.k, got, tc.want)
		}
	}
}
