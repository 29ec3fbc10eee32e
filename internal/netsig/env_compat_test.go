package netsig_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/room"
)

// The environment report is stored as room.Environment JSON; netsig must read
// every field it uses from that shape.
func TestEnvironmentMatchesRoomReport(t *testing.T) {
	in := room.Environment{TimeZone: "Europe/Lisbon", TZOffsetMin: 60, Languages: []string{"pt-PT"}, ScreenW: 1440,
		ScreenH: 900, PixelRatio: 2, Devices: []room.Device{{Kind: "videoinput", Label: "OBS Virtual Camera"}}, WebDriver: true,
		Platform: "MacIntel", HardwareConc: 8, VideoSettings: room.Settings{Label: "OBS Virtual Camera"},
		AudioSettings: room.Settings{Label: "MacBook Pro Microphone"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any // what store.Attempt.Environment holds
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["malformed_control_messages"] = 0
	m["control_rtt_ms"] = []float64{41.5, 0, 39.25} // added by the room's control channel
	got, err := netsig.EnvironmentFromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	if got.TimeZone != in.TimeZone || got.TZOffsetMin != 60 || len(got.Languages) != 1 || got.ScreenW != 1440 || got.PixelRatio != 2 ||
		len(got.Devices) != 1 || got.Devices[0].Label != "OBS Virtual Camera" || !got.WebDriver || got.Platform != "MacIntel" ||
		got.HardwareConc != 8 || got.Video.Label != "OBS Virtual Camera" || got.Audio.Label != "MacBook Pro Microphone" {
		t.Fatalf("fields lost: %+v", got)
	}
	if r := got.RTTs(); len(r) != 2 || r[1] != 39250*time.Microsecond {
		t.Fatalf("control RTTs: %v (zero samples dropped)", r)
	}
}
