package models

import (
	"math"
	"time"
)

// Environment is the candidate page's report about its browser and devices,
// sent on the control channel and stored with the connection. Every field
// is a claim of the browser: evidence, never proof.
type Environment struct {
	TimeZone     string        `json:"tz"`
	TZOffsetMin  int           `json:"tz_offset_min"` // minutes east of UTC (-Date.getTimezoneOffset())
	Languages    []string      `json:"languages"`
	ScreenW      int           `json:"screen_w"`
	ScreenH      int           `json:"screen_h"`
	PixelRatio   float64       `json:"dpr"`
	Devices      []Device      `json:"devices"`
	WebDriver    bool          `json:"webdriver"`
	Platform     string        `json:"platform"`
	HardwareConc int           `json:"hw_concurrency"`
	Video        TrackSettings `json:"video"` // the camera track in use
	Audio        TrackSettings `json:"audio"` // the microphone track in use
}

// Device is one entry of enumerateDevices().
type Device struct {
	Kind  string `json:"kind"` // videoinput | audioinput | audiooutput
	Label string `json:"label"`
}

// TrackSettings are the getSettings() values kept of a track in use.
type TrackSettings struct {
	Label     string  `json:"label"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	FrameRate float64 `json:"frame_rate,omitempty"`
	Echo      *bool   `json:"echo_cancellation,omitempty"`
	Noise     *bool   `json:"noise_suppression,omitempty"`
	AGC       *bool   `json:"auto_gain_control,omitempty"`
}

// ConnectionReport is what is stored with one candidate connection when it
// ends: the page's Environment (nil when the page never sent one; its
// fields are stored flat, as the page sent them) and what the server
// observed itself on the connection.
type ConnectionReport struct {
	*Environment
	// MalformedControl counts control-channel messages that failed validation.
	MalformedControl int `json:"malformed_control_messages"`
	// ControlDropped counts control-channel messages dropped beyond the
	// channel's rate limit (not stored when none were).
	ControlDropped int `json:"control_messages_dropped,omitempty"`
	// ControlRTTms are the control-channel ping round trips, in milliseconds.
	ControlRTTms []float64 `json:"control_rtt_ms,omitempty"`
	// ICERemote are the client's ICE candidates (trickled and peer-reflexive).
	ICERemote []string `json:"ice_remote,omitempty"`
	// ICESelected describes the selected candidate pair.
	ICESelected string `json:"ice_selected,omitempty"`
	// ICERTTms is the selected pair's round-trip time in milliseconds (0: unknown).
	ICERTTms float64 `json:"ice_rtt_ms,omitempty"`
}

// ControlRTTs returns ControlRTTms as durations, without invalid samples.
func (r *ConnectionReport) ControlRTTs() []time.Duration {
	out := make([]time.Duration, 0, len(r.ControlRTTms))
	for _, v := range r.ControlRTTms {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			out = append(out, time.Duration(v*float64(time.Millisecond)))
		}
	}
	return out
}
