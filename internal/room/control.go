package room

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// ControlMessage is a message from the candidate's page, defined in
// internal/wire (shared with the load generator, which plays candidate pages).
type ControlMessage = wire.ControlMessage

// MaxControlMessage bounds one control-channel message.
const MaxControlMessage = 16 << 10

// The page sends an env report, a pong every 2 s and one ack per prompt: far
// below this. More is a flood (46.8k messages in 30 s cost 11 CPU-seconds):
// the excess is dropped before parsing, counted as evidence, and the page is
// told once per window.
const (
	controlMsgLimit = 60
	controlMsgWin   = 10 * time.Second
)

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
	p    *Peer
	text func(string) error // sends on the channel

	mu       sync.Mutex
	env      *models.Environment
	pings    map[string]time.Time
	lastRTT  time.Duration
	rtts     []float64 // ms
	bad      int
	dropped  int // messages beyond the rate limit
	limit    signal.Limiter
	open     bool
	stop     chan struct{}
	stopOnce sync.Once
}

func newControl(p *Peer, dc *webrtc.DataChannel) *control {
	c := newControlState(p, dc.SendText)
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

// newControlState is the channel's state without the channel itself.
func newControlState(p *Peer, text func(string) error) *control {
	return &control{p: p, text: text, pings: map[string]time.Time{}, stop: make(chan struct{}),
		limit: signal.Limiter{Max: controlMsgLimit, Window: controlMsgWin}}
}

func (c *control) send(b []byte) error {
	c.mu.Lock()
	open := c.open
	c.mu.Unlock()
	if !open {
		return errors.New("room: control channel not open")
	}
	return c.text(string(b))
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
		if err := c.text(`{"t":"ping","id":"` + id + `"}`); err != nil {
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
	c.mu.Lock()
	allowed := c.limit.Allow(now)
	tell := !allowed && c.limit.First()
	if !allowed {
		c.dropped++
	}
	c.mu.Unlock()
	if !allowed {
		if tell {
			_ = c.text(`{"t":"error","error":"too many control messages: slow down"}`)
		}
		return
	}
	m, err := ParseControl(b)
	if err != nil {
		c.mu.Lock()
		c.bad++
		c.mu.Unlock()
		_ = c.text(`{"t":"error","error":"malformed control message"}`)
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
	r := &models.ConnectionReport{Environment: c.env, MalformedControl: c.bad, ControlDropped: c.dropped}
	if len(c.rtts) > 0 {
		r.ControlRTTms = append([]float64(nil), c.rtts...)
	}
	return r
}
