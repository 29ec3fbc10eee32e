package room

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/models"
)

// ControlMessage is a message from the candidate's page on the "control"
// DataChannel. Everything in it is a claim of the browser: evidence, never proof.
type ControlMessage struct {
	T   string              `json:"t"`             // env | pong | shown
	ID  string              `json:"id,omitempty"`  // pong: ping id; shown: challenge id
	Env *models.Environment `json:"env,omitempty"` // env
}

// MaxControlMessage bounds one control-channel message.
const MaxControlMessage = 16 << 10

// ErrBadControl wraps every control-message parse failure.
var ErrBadControl = errors.New("room: bad control message")

// ParseControl decodes and validates a control message from the page.
func ParseControl(b []byte) (ControlMessage, error) {
	var m ControlMessage
	if len(b) > MaxControlMessage {
		return m, fmt.Errorf("%w: too large", ErrBadControl)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return ControlMessage{}, fmt.Errorf("%w: %v", ErrBadControl, err)
	}
	if dec.More() {
		return ControlMessage{}, fmt.Errorf("%w: trailing data", ErrBadControl)
	}
	switch m.T {
	case "env":
		e := m.Env
		if e == nil {
			return ControlMessage{}, fmt.Errorf("%w: env missing", ErrBadControl)
		}
		if len(e.TimeZone) > 64 || len(e.Platform) > 64 || len(e.Languages) > 16 || len(e.Devices) > 32 ||
			e.ScreenW < 0 || e.ScreenH < 0 || e.ScreenW > 100000 || e.ScreenH > 100000 || e.TZOffsetMin < -1440 || e.TZOffsetMin > 1440 {
			return ControlMessage{}, fmt.Errorf("%w: env out of range", ErrBadControl)
		}
		for _, l := range e.Languages {
			if len(l) > 35 {
				return ControlMessage{}, fmt.Errorf("%w: language tag too long", ErrBadControl)
			}
		}
		for _, d := range e.Devices {
			if len(d.Label) > 256 || len(d.Kind) > 32 {
				return ControlMessage{}, fmt.Errorf("%w: device entry too long", ErrBadControl)
			}
		}
		if len(e.Video.Label) > 256 || len(e.Audio.Label) > 256 {
			return ControlMessage{}, fmt.Errorf("%w: track label too long", ErrBadControl)
		}
	case "pong", "shown":
		if m.ID == "" || len(m.ID) > 64 {
			return ControlMessage{}, fmt.Errorf("%w: id missing or too long", ErrBadControl)
		}
	default:
		return ControlMessage{}, fmt.Errorf("%w: unknown type", ErrBadControl)
	}
	return m, nil
}

// control runs the candidate's DataChannel: environment report, pings, and
// forwarding of acknowledgements and round trips to the analysis.
type control struct {
	p  *Peer
	dc *webrtc.DataChannel

	mu       sync.Mutex
	env      *models.Environment
	pings    map[string]time.Time
	lastRTT  time.Duration
	rtts     []float64 // ms
	bad      int
	open     bool
	stop     chan struct{}
	stopOnce sync.Once
}

func newControl(p *Peer, dc *webrtc.DataChannel) *control {
	c := &control{p: p, dc: dc, pings: map[string]time.Time{}, stop: make(chan struct{})}
	dc.OnOpen(func() {
		c.mu.Lock()
		c.open = true
		c.mu.Unlock()
		go c.pingLoop()
	})
	dc.OnClose(func() { c.stopOnce.Do(func() { close(c.stop) }) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { c.onMessage(msg.Data) })
	return c
}

func (c *control) send(b []byte) error {
	c.mu.Lock()
	open := c.open
	c.mu.Unlock()
	if !open {
		return errors.New("room: control channel not open")
	}
	return c.dc.SendText(string(b))
}

func (c *control) pingLoop() {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	n := 0
	for {
		n++
		id := fmt.Sprintf("p%d", n)
		c.mu.Lock()
		c.pings[id] = time.Now()
		if len(c.pings) > 16 { // unanswered pings: forget the oldest
			for k := range c.pings {
				delete(c.pings, k)
				break
			}
		}
		c.mu.Unlock()
		if err := c.dc.SendText(`{"t":"ping","id":"` + id + `"}`); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-c.stop:
			return
		}
	}
}

func (c *control) onMessage(b []byte) {
	now := time.Now()
	m, err := ParseControl(b)
	if err != nil {
		c.mu.Lock()
		c.bad++
		c.mu.Unlock()
		_ = c.dc.SendText(`{"t":"error","error":"malformed control message"}`)
		return
	}
	switch m.T {
	case "env":
		c.mu.Lock()
		c.env = m.Env
		c.mu.Unlock()
	case "pong":
		c.mu.Lock()
		if sent, ok := c.pings[m.ID]; ok {
			delete(c.pings, m.ID)
			c.lastRTT = now.Sub(sent)
			if len(c.rtts) < 10000 {
				c.rtts = append(c.rtts, float64(c.lastRTT.Microseconds())/1000)
			}
		}
		c.mu.Unlock()
	}
	r := c.p.room
	if a := r.Session(); a != nil {
		switch m.T {
		case "shown":
			a.Shown(m.ID, now)
		case "pong":
			a.ControlRTT(r.m.cfg.Now(), c.rtt())
		}
	}
}

func (c *control) rtt() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRTT
}

func (c *control) environment() *models.ConnectionReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &models.ConnectionReport{Environment: c.env, MalformedControl: c.bad}
	if len(c.rtts) > 0 {
		r.ControlRTTms = append([]float64(nil), c.rtts...)
	}
	return r
}
