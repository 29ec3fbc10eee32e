package room

import (
	"errors"
	"strings"
	"testing"
)

func TestParseControl(t *testing.T) {
	good := []string{
		`{"t":"pong","id":"p1"}`,
		`{"t":"shown","id":"abc"}`,
		`{"t":"env","env":{"tz":"Europe/Lisbon","tz_offset_min":60,"languages":["pt-PT","en"],"screen_w":1920,"screen_h":1080,"dpr":1,` +
			`"devices":[{"kind":"videoinput","label":"Integrated Webcam"}],"webdriver":false,"platform":"Linux x86_64","hw_concurrency":8,` +
			`"video":{"label":"Integrated Webcam","width":640,"height":480,"frame_rate":15},"audio":{"label":"Mic","echo_cancellation":false}}}`,
	}
	for _, g := range good {
		if _, err := ParseControl([]byte(g)); err != nil {
			t.Errorf("ParseControl(%s): %v", g, err)
		}
	}
	bad := map[string]string{
		"junk":          `{`,
		"unknown type":  `{"t":"challenge","id":"x"}`,
		"unknown field": `{"t":"pong","id":"p1","extra":1}`,
		"no id":         `{"t":"shown"}`,
		"long id":       `{"t":"shown","id":"` + strings.Repeat("x", 65) + `"}`,
		"env missing":   `{"t":"env"}`,
		"too many devs": `{"t":"env","env":{"devices":[` + strings.Repeat(`{"kind":"videoinput","label":"x"},`, 40) + `{"kind":"a","label":"b"}]}}`,
		"huge screen":   `{"t":"env","env":{"screen_w":1000000}}`,
		"long label":    `{"t":"env","env":{"devices":[{"kind":"videoinput","label":"` + strings.Repeat("L", 300) + `"}]}}`,
		"oversized":     `{"t":"pong","id":"` + strings.Repeat("x", MaxControlMessage) + `"}`,
	}
	for name, b := range bad {
		if _, err := ParseControl([]byte(b)); !errors.Is(err, ErrBadControl) {
			t.Errorf("%s: %v, want ErrBadControl", name, err)
		}
	}
}

// FuzzParseControl covers the control-channel messages and the environment report.
func FuzzParseControl(f *testing.F) {
	f.Add([]byte(`{"t":"pong","id":"p1"}`))
	f.Add([]byte(`{"t":"shown","id":"0123456789abcdef"}`))
	f.Add([]byte(`{"t":"env","env":{"tz":"UTC","languages":["en"],"devices":[{"kind":"audioinput","label":"VB-Cable"}],"webdriver":true}}`))
	f.Add([]byte(`{"t":"env","env":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseControl(b)
		if err != nil {
			if !errors.Is(err, ErrBadControl) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		switch m.T {
		case "env":
			if m.Env == nil || len(m.Env.Devices) > 32 || len(m.Env.Languages) > 16 {
				t.Fatal("accepted an env report out of bounds")
			}
		case "pong", "shown":
			if m.ID == "" || len(m.ID) > 64 {
				t.Fatal("accepted a bad id")
			}
		default:
			t.Fatalf("accepted type %q", m.T)
		}
	})
}

// TestControlFloodDropped: finding 8 of the security probe. Control-channel
// messages had no rate limit (46.8k in 30 s cost 11 CPU-seconds). Beyond the
// limit they are dropped before parsing, counted in the evidence, and the page
// is told once per window.
func TestControlFloodDropped(t *testing.T) {
	m := NewManager(Config{})
	p := &Peer{room: newRoom(m, 1), role: RoleCandidate}
	var replies []string
	c := newControlState(p, func(s string) error { replies = append(replies, s); return nil })
	const flood = 1000
	for i := 0; i < flood; i++ {
		c.onMessage([]byte(`{"t":"pong","id":"p1"}`))
	}
	if got := c.environment().ControlDropped; got != flood-controlMsgLimit {
		t.Fatalf("dropped %v of %d messages, want %d (limit %d per %v)", got, flood, flood-controlMsgLimit, controlMsgLimit, controlMsgWin)
	}
	if len(replies) != 1 || !strings.Contains(replies[0], "too many control messages") {
		t.Fatalf("replies %q: want one notice per window", replies)
	}
	// A well-behaved page is never limited.
	c2 := newControlState(p, func(string) error { return nil })
	for i := 0; i < controlMsgLimit; i++ {
		c2.onMessage([]byte(`{"t":"shown","id":"c1"}`))
	}
	if c2.environment().ControlDropped != 0 {
		t.Fatal("messages within the limit were dropped")
	}
}
