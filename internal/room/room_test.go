package room_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	pmedia "github.com/pion/webrtc/v3/pkg/media"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/room"
	"github.com/livecheck/livecheck/internal/rtc"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			var st []string
			for _, f := range state {
				st = append(st, f())
			}
			t.Fatalf("timed out waiting for %s %s", what, strings.Join(st, "; "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is an in-process pion peer that plays a browser: it answers the
// server's offers, trickles its candidates, publishes what it was given and
// counts the packets of every track it receives. Its signaling is a queue,
// like a WebSocket, so the room never waits on it.
type client struct {
	t     *testing.T
	pc    *webrtc.PeerConnection
	in    chan signal.Message
	ready chan struct{}
	peer  *room.Peer
	done  atomic.Bool // the test is over: errors are no longer reported

	out chan signal.Message // client → server, in order, like a WebSocket

	mu       sync.Mutex
	answered bool             // the first answer went out: candidates may follow
	held     []signal.Message // candidates gathered before that
	pending  []webrtc.ICECandidateInit
	got      map[string]*atomic.Int64 // packets per received track, by "kind/stream"
	msgs     []signal.Message         // every message the server sent
	control  []string                 // control-channel messages from the server
}

func newClient(t *testing.T, api *webrtc.API) *client {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, pc: pc, in: make(chan signal.Message, 256), out: make(chan signal.Message, 256), ready: make(chan struct{}),
		got: map[string]*atomic.Int64{}}
	t.Cleanup(func() { c.done.Store(true); _ = pc.Close() })
	pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		if ic == nil {
			return
		}
		init := ic.ToJSON()
		m := signal.Message{T: signal.TypeCandidate, Candidate: &signal.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
			SDPMLineIndex: init.SDPMLineIndex}}
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.answered { // a page sends its answer before the candidates it gathers for it
			c.held = append(c.held, m)
			return
		}
		c.send(m)
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		n := &atomic.Int64{}
		c.mu.Lock()
		c.got[tr.Kind().String()+"/"+tr.StreamID()] = n
		c.mu.Unlock()
		go func() {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				n.Add(1)
			}
		}()
	})
	go c.loop()
	go c.writer()
	return c
}

// Send is the server → client direction (room.Sender).
func (c *client) Send(m signal.Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	c.in <- m
	return nil
}

// send queues a client → server message.
func (c *client) send(m signal.Message) { c.out <- m }

// writer delivers the client's messages to the server in order.
func (c *client) writer() {
	<-c.ready
	for m := range c.out {
		b, err := json.Marshal(m)
		if err != nil {
			c.fail("marshal", err)
			continue
		}
		c.peer.HandleMessage(context.Background(), b)
	}
}

// join adds the client to r in role and sends the first offer.
func (c *client) join(r *room.Room, role room.Role, a room.Attempt) {
	c.t.Helper()
	p, err := r.Join(context.Background(), role, c, a)
	if err != nil {
		c.t.Fatal(err)
	}
	c.peer = p
	close(c.ready)
	p.Start()
}

func (c *client) loop() {
	<-c.ready
	for m := range c.in {
		switch m.T {
		case signal.TypeOffer:
			if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
				c.fail("offer", err)
				continue
			}
			c.mu.Lock()
			for _, ic := range c.pending {
				_ = c.pc.AddICECandidate(ic)
			}
			c.pending = nil
			c.mu.Unlock()
			ans, err := c.pc.CreateAnswer(nil)
			if err == nil {
				err = c.pc.SetLocalDescription(ans)
			}
			if err != nil {
				c.fail("answer", err)
				continue
			}
			c.mu.Lock()
			c.send(signal.Message{T: signal.TypeAnswer, SDP: ans.SDP})
			if !c.answered {
				c.answered = true
				for _, h := range c.held {
					c.send(h)
				}
				c.held = nil
			}
			c.mu.Unlock()
		case signal.TypeCandidate:
			ic := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex}
			c.mu.Lock()
			if c.pc.RemoteDescription() == nil {
				c.pending = append(c.pending, ic)
			} else {
				_ = c.pc.AddICECandidate(ic)
			}
			c.mu.Unlock()
		}
	}
}

func (c *client) fail(what string, err error) {
	if !c.done.Load() {
		c.t.Errorf("%s: %v", what, err)
	}
}

// received returns the packets received on the track kind/stream.
func (c *client) received(kind, stream string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.got[kind+"/"+stream]; n != nil {
		return n.Load()
	}
	return 0
}

func (c *client) sawMessage(t string, contains string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.T == t && strings.Contains(string(m.Data), contains) {
			return true
		}
	}
	return false
}

// publish adds a camera and (if audio) a microphone track, as a page does
// before answering, and returns a function that sends one more sample on each.
func (c *client) publish(t *testing.T, stream string, audio bool) func() {
	t.Helper()
	video, err := webrtc.NewTrackLocalStaticSample(rtc.VP8Codec.RTPCodecCapability, "video", stream)
	if err != nil {
		t.Fatal(err)
	}
	tracks := []*webrtc.TrackLocalStaticSample{video}
	if audio {
		mic, err := webrtc.NewTrackLocalStaticSample(rtc.OpusCodec.RTPCodecCapability, "audio", stream)
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, mic)
	}
	for _, tr := range tracks {
		s, err := c.pc.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { // drain RTCP, as a browser does
			buf := make([]byte, 1500)
			for {
				if _, _, err := s.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	payload := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8} // relayed, never decoded here
	return func() {
		for _, tr := range tracks {
			_ = tr.WriteSample(pmedia.Sample{Data: payload, Duration: 20 * time.Millisecond})
		}
	}
}

// recordingAnalysis is the interview's Analysis for these tests: it records
// what the room hands it (the room's contract), and decodes nothing.
type recordingAnalysis struct {
	out room.Outlet

	mu        sync.Mutex
	tracks    []media.TrackInfo
	rtp       map[bool]int // packets per video (true) / audio (false) track
	rtcp      int
	shown     []string
	rtts      int
	left      int
	keyframe  int
	noFlash   bool
	remaining int // the challenge state's
	ended     []string
	endGate   chan struct{} // End waits for it when set
	endDone   atomic.Bool
}

type recordingSink struct {
	a     *recordingAnalysis
	video bool
}

func (s recordingSink) WriteRTP(*rtp.Packet, time.Time) {
	s.a.mu.Lock()
	s.a.rtp[s.video]++
	s.a.mu.Unlock()
}
func (s recordingSink) WriteRTCP([]rtcp.Packet) { s.a.mu.Lock(); s.a.rtcp++; s.a.mu.Unlock() }
func (s recordingSink) Close()                  {}

func (a *recordingAnalysis) Track(t media.TrackInfo) (media.PacketSink, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tracks = append(a.tracks, t)
	return recordingSink{a: a, video: t.Video}, nil
}
func (a *recordingAnalysis) Shown(id string, _ time.Time) {
	a.mu.Lock()
	a.shown = append(a.shown, id)
	a.mu.Unlock()
}
func (a *recordingAnalysis) ControlRTT(time.Time, time.Duration) {
	a.mu.Lock()
	a.rtts++
	a.mu.Unlock()
}
func (a *recordingAnalysis) KeyframeRequested()      { a.mu.Lock(); a.keyframe++; a.mu.Unlock() }
func (a *recordingAnalysis) CandidateLeft(time.Time) { a.mu.Lock(); a.left++; a.mu.Unlock() }
func (a *recordingAnalysis) ChallengeNow() error     { return nil }
func (a *recordingAnalysis) ChallengeState() wire.ChallengeState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return wire.ChallengeState{Enabled: true, Remaining: a.remaining}
}
func (a *recordingAnalysis) AvoidFlashes()       { a.mu.Lock(); a.noFlash = true; a.mu.Unlock() }
func (a *recordingAnalysis) Snapshot() wire.Live { return wire.Live{} }
func (a *recordingAnalysis) End(reason string, _ time.Time) {
	if a.endGate != nil {
		<-a.endGate
	}
	a.mu.Lock()
	a.ended = append(a.ended, reason)
	a.mu.Unlock()
	a.endDone.Store(true)
}

func (a *recordingAnalysis) HandOver(time.Time) {
	a.mu.Lock()
	a.ended = append(a.ended, "handed over")
	a.mu.Unlock()
	a.endDone.Store(true)
}

func (a *recordingAnalysis) get(f func(*recordingAnalysis) bool) func() bool {
	return func() bool { a.mu.Lock(); defer a.mu.Unlock(); return f(a) }
}

// hooks record what the room asks to store.
type hooks struct {
	mu       sync.Mutex
	started  int
	attempts []string
	reports  []*models.ConnectionReport
}

func (h *hooks) room() room.Hooks {
	return room.Hooks{
		SessionStarted: func(context.Context, int64, time.Time) error { h.mu.Lock(); h.started++; h.mu.Unlock(); return nil },
		AttemptStarted: func(_ context.Context, _ int64, a room.Attempt) error {
			h.mu.Lock()
			h.attempts = append(h.attempts, a.Key)
			h.mu.Unlock()
			return nil
		},
		AttemptEnded: func(_ context.Context, key string, _ time.Time, _ string, r *models.ConnectionReport) error {
			h.mu.Lock()
			h.reports = append(h.reports, r)
			h.mu.Unlock()
			return nil
		},
	}
}

func newManager(t *testing.T, a *recordingAnalysis, h *hooks) (*room.Manager, *webrtc.API) {
	t.Helper()
	api, err := rtc.NewAPI(rtc.Config{IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	m := room.NewManager(room.Config{API: api, Logger: quiet(), Grace: time.Minute, Hooks: h.room(),
		NewAnalysis: func(_ int64, out room.Outlet) room.Analysis { a.out = out; return a }})
	return m, api
}

// page makes the client behave as the candidate's page on the control
// channel: it reports env when the channel opens, answers pings, and keeps
// what the server sends.
func (c *client) page(env string) func(msg string) {
	var dcMu sync.Mutex
	var dc *webrtc.DataChannel
	c.pc.OnDataChannel(func(d *webrtc.DataChannel) {
		if d.Label() != "control" {
			return
		}
		d.OnOpen(func() {
			dcMu.Lock()
			dc = d
			dcMu.Unlock()
			_ = d.SendText(env)
		})
		d.OnMessage(func(m webrtc.DataChannelMessage) {
			var msg struct {
				T  string `json:"t"`
				ID string `json:"id"`
			}
			_ = json.Unmarshal(m.Data, &msg)
			c.mu.Lock()
			c.control = append(c.control, string(m.Data))
			c.mu.Unlock()
			if msg.T == "ping" {
				_ = d.SendText(`{"t":"pong","id":"` + msg.ID + `"}`)
			}
		})
	})
	return func(msg string) {
		dcMu.Lock()
		defer dcMu.Unlock()
		if dc == nil {
			c.t.Error("control channel not open")
			return
		}
		_ = dc.SendText(msg)
	}
}

func (c *client) controlSaw(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.control {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

const envReport = `{"t":"env","env":{"tz":"Europe/Lisbon","tz_offset_min":60,"languages":["pt-PT"],"screen_w":1280,"screen_h":800,` +
	`"devices":[{"kind":"videoinput","label":"Integrated Webcam"}],"video":{"label":"Integrated Webcam","width":640,"height":480}}}`

// TestRelayFanOutAndAnalysisHandOff runs a room with pion peers in the test
// process: a recruiter who publishes video, a silent observer, and a
// candidate who publishes video and audio. It checks the negotiation (the
// server offers to each, again when tracks appear), the relay (who receives
// what), that exactly the candidate's tracks reach the analysis, the control
// channel both ways, the hooks, and the end.
func TestRelayFanOutAndAnalysisHandOff(t *testing.T) {
	a := &recordingAnalysis{rtp: map[bool]int{}}
	h := &hooks{}
	m, api := newManager(t, a, h)
	defer m.Shutdown(context.Background())
	r, err := m.Open(7, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The candidate joins first and publishes; the recruiter joins and
	// publishes; the observer joins once the server relays all four tracks.
	// (Each receiver's offer then lists what it gets: pion as a receiver,
	// unlike browsers, drops a stream whose packets come before the offer
	// that announces them, so the test does not race its own joins.)
	cand := newClient(t, api)
	candSend := cand.publish(t, "cand", true)
	toServer := cand.page(envReport)
	cand.join(r, room.RoleCandidate, room.Attempt{BrowserID: "b1", IP: "203.0.113.7", UserAgent: "test", NoFlash: true})
	waitFor(t, "the candidate's tracks", func() bool { candSend(); return room.TrackCount(r) == 2 })
	host := newClient(t, api)
	hostSend := host.publish(t, "host", true) // the recruiter's page publishes camera and microphone
	host.join(r, room.RoleHost, room.Attempt{})
	waitFor(t, "the recruiter's tracks", func() bool { candSend(); hostSend(); return room.TrackCount(r) == 4 }, func() string {
		var tr []string
		for _, x := range host.pc.GetTransceivers() {
			tr = append(tr, fmt.Sprintf("%s mid %s dir %s sender %v", x.Kind(), x.Mid(), x.Direction(), x.Sender() != nil && x.Sender().Track() != nil))
		}
		host.mu.Lock()
		defer host.mu.Unlock()
		var types []string
		for _, m := range host.msgs {
			types = append(types, m.T)
		}
		return fmt.Sprintf("tracks %d; host %s %s; transceivers %v; messages %v", room.TrackCount(r), host.pc.ConnectionState(), host.pc.SignalingState(), tr, types)
	})
	obs := newClient(t, api)
	obs.join(r, room.RoleObserver, room.Attempt{})

	waitFor(t, "the relay to reach every receiver", func() bool {
		candSend()
		hostSend()
		return host.received("video", "candidate") > 0 && host.received("audio", "candidate") > 0 &&
			obs.received("video", "candidate") > 0 && obs.received("audio", "candidate") > 0 &&
			obs.received("video", "host") > 0 && obs.received("audio", "host") > 0
	}, func() string {
		return fmt.Sprintf("host got the candidate's %d/%d packets; observer the candidate's %d/%d, the host's %d/%d",
			host.received("video", "candidate"), host.received("audio", "candidate"), obs.received("video", "candidate"),
			obs.received("audio", "candidate"), obs.received("video", "host"), obs.received("audio", "host"))
	})
	if n := cand.received("video", "candidate") + host.received("video", "host"); n != 0 {
		t.Errorf("a publisher received its own media (%d packets)", n)
	}
	waitFor(t, "an offer of the recruiter's media to the candidate", func() bool {
		cand.mu.Lock()
		defer cand.mu.Unlock()
		for _, m := range cand.msgs {
			if m.T == signal.TypeOffer && strings.Count(m.SDP, "msid:host ") >= 2 {
				return true
			}
		}
		return false
	})
	waitFor(t, "the candidate's packets in the analysis", a.get(func(a *recordingAnalysis) bool { return a.rtp[true] > 0 && a.rtp[false] > 0 }))
	a.mu.Lock()
	if len(a.tracks) != 2 || a.tracks[0].Video == a.tracks[1].Video {
		t.Errorf("analysis tracks %+v, want the candidate's video and audio only", a.tracks)
	}
	a.mu.Unlock()

	// The control channel: pings answered (round trips to the analysis), acks forwarded, prompts delivered.
	waitFor(t, "a control round trip", a.get(func(a *recordingAnalysis) bool { return a.rtts > 0 }))
	toServer(`{"t":"shown","id":"c1"}`)
	waitFor(t, "the display ack", a.get(func(a *recordingAnalysis) bool { return len(a.shown) == 1 && a.shown[0] == "c1" }))
	if err := a.out.SendCandidate(map[string]string{"t": "prompt", "id": "c2"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the prompt on the page", func() bool { return cand.controlSaw(`"id":"c2"`) })
	a.out.BroadcastStaff(signal.Message{T: "challenge_issued", Data: []byte(`{"id":"c2"}`)})
	waitFor(t, "the staff event", func() bool {
		return host.sawMessage("challenge_issued", "c2") && obs.sawMessage("challenge_issued", "c2")
	})
	if cand.sawMessage("challenge_issued", "") {
		t.Error("a staff event reached the candidate")
	}
	// The analysis's challenge state reaches the staff pages when it changes.
	a.mu.Lock()
	a.remaining = 3
	a.mu.Unlock()
	a.out.ChallengeChanged()
	waitFor(t, "the challenge state", func() bool {
		return host.sawMessage(signal.TypeChallengeState, `"remaining":3`) && obs.sawMessage(signal.TypeChallengeState, `"remaining":3`)
	})
	if cand.sawMessage(signal.TypeChallengeState, "") {
		t.Error("the challenge state reached the candidate")
	}
	if !a.get(func(a *recordingAnalysis) bool { return a.noFlash })() {
		t.Error("the candidate's no-flash choice did not reach the analysis")
	}

	// The candidate leaves: the analysis and staff are told, the attempt is closed with the page's report.
	cand.send(signal.Message{T: signal.TypeLeave})
	waitFor(t, "the candidate to leave", a.get(func(a *recordingAnalysis) bool { return a.left == 1 }))
	waitFor(t, "staff told", func() bool { return host.sawMessage(signal.TypePeer, "candidate_left") })
	waitFor(t, "the attempt end", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.reports) == 1 })
	h.mu.Lock()
	rep := h.reports[0]
	if h.started != 1 || len(h.attempts) != 1 || h.attempts[0] == "" {
		t.Errorf("session started %d times, attempts %v", h.started, h.attempts)
	}
	h.mu.Unlock()
	if rep == nil || rep.Environment == nil || rep.Environment.TimeZone != "Europe/Lisbon" || rep.Environment.Video.Width != 640 ||
		len(rep.ControlRTTms) == 0 || len(rep.ICERemote) == 0 {
		t.Errorf("connection report %+v", rep)
	}

	r.End(room.EndCompleted)
	waitFor(t, "the analysis to end", a.get(func(a *recordingAnalysis) bool { return len(a.ended) == 1 && a.ended[0] == models.EndCompleted }))
	waitFor(t, "staff told the end", func() bool { return host.sawMessage(signal.TypeEnded, "") && obs.sawMessage(signal.TypeEnded, "") })
	if _, err := r.Join(context.Background(), room.RoleHost, newClient(t, api), room.Attempt{}); err != room.ErrEnded {
		t.Errorf("join after the end: %v, want ErrEnded", err)
	}
	if _, live := m.Get(7); live {
		t.Error("an ended room is still listed")
	}
}

// TestShutdownInterruptsAndWaits: a shutdown ends every room as
// interrupted, waits for each analysis to finish storing, and refuses new
// rooms.
func TestShutdownInterruptsAndWaits(t *testing.T) {
	a := &recordingAnalysis{rtp: map[bool]int{}, endGate: make(chan struct{})}
	m, api := newManager(t, a, &hooks{})
	r, err := m.Open(8, 0)
	if err != nil {
		t.Fatal(err)
	}
	cand := newClient(t, api)
	cand.publish(t, "cand", true)
	cand.join(r, room.RoleCandidate, room.Attempt{BrowserID: "b"})
	done := make(chan struct{})
	go func() { m.Shutdown(context.Background()); close(done) }()
	waitFor(t, "the candidate told the end", func() bool { return cand.sawMessage(signal.TypeEnded, "interrupted") })
	select {
	case <-done:
		t.Fatal("Shutdown returned before the analysis had stored its results")
	default:
	}
	close(a.endGate)
	<-done
	if !a.endDone.Load() || len(a.ended) != 1 || a.ended[0] != models.EndInterrupted {
		t.Fatalf("analysis ended %v (done %v), want interrupted", a.ended, a.endDone.Load())
	}
	if _, err := m.Open(9, 0); err != room.ErrClosed {
		t.Fatalf("open after shutdown: %v", err)
	}
}

// TestDrainHandsOverThenTells: a drain hands over as many candidate rooms as
// the other nodes have room for and ends the others interrupted, as a
// shutdown does. A room handed over stops its analysis (HandOver, not End),
// gives the lease up through the write queue (Hooks.HandedOver) and only
// then tells its participants "moved"; new rooms are refused.
func TestDrainHandsOverThenTells(t *testing.T) {
	a := &recordingAnalysis{rtp: map[bool]int{}}
	api, err := rtc.NewAPI(rtc.Config{IncludeLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	cands := map[int64]*client{}
	gate := make(chan struct{})
	var mu sync.Mutex
	var handed []int64
	var toldFirst bool
	h := (&hooks{}).room()
	h.HandedOver = func(_ context.Context, id int64) error {
		<-gate
		mu.Lock()
		defer mu.Unlock()
		handed = append(handed, id)
		toldFirst = toldFirst || cands[id].sawMessage(signal.TypeMoved, "")
		a.mu.Lock()
		defer a.mu.Unlock()
		if !slices.Contains(a.ended, "handed over") {
			t.Errorf("lease given up before the analysis was handed over: %v", a.ended)
		}
		return nil
	}
	m := room.NewManager(room.Config{API: api, Logger: quiet(), Grace: time.Minute, Hooks: h,
		NewAnalysis: func(_ int64, out room.Outlet) room.Analysis { a.out = out; return a }})
	for _, id := range []int64{8, 9} {
		r, err := m.Open(id, 10)
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, api)
		c.publish(t, "cand", true)
		c.join(r, room.RoleCandidate, room.Attempt{BrowserID: fmt.Sprint("b", id)})
		cands[id] = c
	}
	done := make(chan int)
	go func() { done <- m.Drain(context.Background(), 1) }()
	waitFor(t, "one room ended interrupted", func() bool {
		return cands[8].sawMessage(signal.TypeEnded, "interrupted") || cands[9].sawMessage(signal.TypeEnded, "interrupted")
	})
	if _, err := m.Open(10, 0); err != room.ErrClosed {
		t.Fatalf("open while draining: %v", err)
	}
	close(gate)
	if n := <-done; n != 1 {
		t.Fatalf("drain handed over %d rooms, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handed) != 1 || toldFirst {
		t.Fatalf("handed over %v (told before the lease was given up: %v)", handed, toldFirst)
	}
	moved, other := cands[handed[0]], cands[17-handed[0]]
	if !moved.sawMessage(signal.TypeMoved, "node drained") || moved.sawMessage(signal.TypeEnded, "") {
		t.Error("the room handed over did not tell its candidate moved")
	}
	if !other.sawMessage(signal.TypeEnded, "interrupted") || other.sawMessage(signal.TypeMoved, "") {
		t.Error("the other room did not end interrupted")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ended) != 2 || !a.endDone.Load() {
		t.Fatalf("analyses %v, want one handed over and one interrupted", a.ended)
	}
	if m.Live() != 0 {
		t.Fatalf("%d rooms left after the drain", m.Live())
	}
}
