package wire

// ControlMessage is a message from the candidate's page on the "control"
// DataChannel. Everything in it is a claim of the browser: evidence, never proof.
type ControlMessage struct {
	T   string       `json:"t"`             // env | pong | shown
	ID  string       `json:"id,omitempty"`  // pong: ping id; shown: challenge id
	Env *Environment `json:"env,omitempty"` // env
}

// Environment is the candidate page's report about its browser and devices.
type Environment struct {
	TimeZone      string   `json:"tz"`
	TZOffsetMin   int      `json:"tz_offset_min"`
	Languages     []string `json:"languages"`
	ScreenW       int      `json:"screen_w"`
	ScreenH       int      `json:"screen_h"`
	PixelRatio    float64  `json:"dpr"`
	Devices       []Device `json:"devices"`
	WebDriver     bool     `json:"webdriver"`
	Platform      string   `json:"platform"`
	HardwareConc  int      `json:"hw_concurrency"`
	VideoSettings Settings `json:"video"`
	AudioSettings Settings `json:"audio"`
}

// Device is one media device as enumerateDevices reported it.
type Device struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

// Settings are a track's getSettings() values we keep.
type Settings struct {
	Label     string  `json:"label"`
	Width     int     `json:"width,omitempty"`
	Height    int     `json:"height,omitempty"`
	FrameRate float64 `json:"frame_rate,omitempty"`
	Echo      *bool   `json:"echo_cancellation,omitempty"`
	Noise     *bool   `json:"noise_suppression,omitempty"`
	AGC       *bool   `json:"auto_gain_control,omitempty"`
}
