package loadgen

import (
	"context"
	"net/url"
	"strings"
	"sync"

	"github.com/pion/webrtc/v3"
)

// Rejoiner is one simulated candidate driven step by step (tests of several
// nodes): it consents once, then joins and rejoins like a browser reloading
// the call page, sending media while connected.
type Rejoiner struct {
	b   *browser
	api *webrtc.API
	m   *Media
	c   counters

	mu     sync.Mutex
	cur    *candidate
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// NewRejoiner opens the join link and gives consent.
func NewRejoiner(ctx context.Context, joinURL string, m *Media) (*Rejoiner, error) {
	api, err := newAPI()
	if err != nil {
		return nil, err
	}
	b, err := consent(ctx, joinURL)
	if err != nil {
		return nil, err
	}
	return &Rejoiner{b: b, api: api, m: m}, nil
}

// Join asks the page's server (page: a base URL; empty: the join link's) where
// the interview lives, connects there and sends media once connected. An
// earlier call is closed first.
func (c *Rejoiner) Join(ctx context.Context, page string) error {
	c.Close()
	b := *c.b
	if page != "" {
		p, err := url.Parse(strings.TrimRight(page, "/"))
		if err != nil {
			return err
		}
		j, _ := url.Parse(b.joinURL)
		j.Scheme, j.Host = p.Scheme, p.Host
		b.joinURL, b.base = j.String(), &url.URL{Scheme: p.Scheme, Host: p.Host}
	}
	cd, err := b.connect(ctx, c.api, c.m, &c.c)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.cur, c.cancel = cd, cancel
	c.mu.Unlock()
	c.done.Add(2)
	go func() { defer c.done.Done(); cd.run(runCtx) }()
	go func() {
		defer c.done.Done()
		select {
		case <-cd.connected:
			cd.sendMedia(runCtx, 0)
		case <-runCtx.Done():
		}
	}()
	return nil
}

// Node is the base URL of the node of the current call ("" before Join).
func (c *Rejoiner) Node() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return ""
	}
	return c.cur.node
}

// Connected is closed when the current call's media connected.
func (c *Rejoiner) Connected() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.connected
}

// Failed is closed when the current call's signaling or connection ended.
func (c *Rejoiner) Failed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.failed
}

// Moved reports whether the server told the current call that the interview
// moved to another node (reconnect), as opposed to a lost connection.
func (c *Rejoiner) Moved() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil && c.cur.moved.Load()
}

// FramesSent counts the video frames sent over every call.
func (c *Rejoiner) FramesSent() uint64 { return c.c.videoFrames.Load() }

// Close leaves the current call.
func (c *Rejoiner) Close() {
	c.mu.Lock()
	cur, cancel := c.cur, c.cancel
	c.mu.Unlock()
	if cur == nil {
		return
	}
	cancel()
	cur.close()
	c.done.Wait()
}
