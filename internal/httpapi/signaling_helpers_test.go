package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/rtc"
	"github.com/livecheck/livecheck/internal/signal"
)

// sigClient is a signaling socket read by one goroutine; tests wait for the
// messages they expect.
type sigClient struct {
	t     *testing.T
	ws    *websocket.Conn
	wmu   sync.Mutex
	msgs  chan signal.Message
	cands chan signal.Message // the server's trickled candidates, kept apart
}

// dialSignaling opens path (/ws/...) with the client's cookies and a same-origin header.
func dialSignaling(t *testing.T, env *apptest.Env, c *apptest.Client, path string) (*sigClient, *http.Response, error) {
	t.Helper()
	u, _ := url.Parse(env.URL)
	ws := "ws://" + u.Host + path
	d := websocket.Dialer{Jar: c.HTTP.Jar, HandshakeTimeout: 15 * time.Second}
	conn, resp, err := d.Dial(ws, http.Header{"Origin": {env.URL}})
	if err != nil {
		return nil, resp, err
	}
	s := &sigClient{t: t, ws: conn, msgs: make(chan signal.Message, 256), cands: make(chan signal.Message, 256)}
	go func() {
		defer close(s.msgs)
		defer close(s.cands)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m signal.Message
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			if m.T == signal.TypeCandidate {
				s.cands <- m
			} else {
				s.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s, resp, nil
}

// consentedCandidate returns a client that opened the join link and consented.
func consentedCandidate(t *testing.T, env *apptest.Env, token string) *apptest.Client {
	t.Helper()
	c := env.NewClient()
	if r := c.Get("/join/" + token); r.Status != http.StatusOK {
		t.Fatalf("join page: %d", r.Status)
	}
	if r := c.Post("/join/"+token+"/consent", url.Values{"decision": {"given"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("consent: %d", r.Status)
	}
	return c
}

func (s *sigClient) send(m signal.Message) {
	s.t.Helper()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.ws.WriteJSON(m); err != nil {
		s.t.Fatalf("signaling write: %v", err)
	}
}

// next returns the next message of one of the types, skipping others, or fails
// the test after timeout.
func (s *sigClient) next(timeout time.Duration, types ...string) signal.Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				s.t.Fatalf("signaling socket closed while waiting for %v", types)
			}
			for _, typ := range types {
				if m.T == typ {
					return m
				}
			}
		case <-deadline:
			s.t.Fatalf("no %v message within %s", types, timeout)
		}
	}
}

// answerer is a pion PeerConnection answering the server's offers, as the
// candidate's browser does; it trickles nothing unless told.
type answerer struct {
	pc        *webrtc.PeerConnection
	connected chan struct{}
}

func newAnswerer(t *testing.T) *answerer {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(rtc.VP8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	if err := me.RegisterCodec(rtc.OpusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	a := &answerer{pc: pc, connected: make(chan struct{})}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(a.connected) })
		}
	})
	return a
}

// answer applies the offer, from then on adds the server's trickled
// candidates, and returns the answer with every gathered candidate in it.
func (a *answerer) answer(t *testing.T, s *sigClient, offer string) string {
	t.Helper()
	if err := a.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range s.cands {
			if m.Candidate != nil && m.Candidate.Candidate != "" {
				_ = a.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
					SDPMLineIndex: m.Candidate.SDPMLineIndex})
			}
		}
	}()
	ans, err := a.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(a.pc)
	if err := a.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(30 * time.Second):
		t.Fatal("ICE gathering did not complete")
	}
	return a.pc.LocalDescription().SDP
}

// addCandidateLines inserts a=candidate lines after the first m-section's
// a=mid line of an SDP.
func addCandidateLines(sdp string, lines ...string) string {
	i := strings.Index(sdp, "a=mid:")
	j := i + strings.Index(sdp[i:], "\r\n") + 2
	return sdp[:j] + strings.Join(lines, "\r\n") + "\r\n" + sdp[j:]
}

func waitClosed(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}
