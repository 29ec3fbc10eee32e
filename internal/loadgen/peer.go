package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	pmedia "github.com/pion/webrtc/v3/pkg/media"

	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/rtc"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// newAPI returns the pion API of the simulated browsers: VP8 and Opus with the
// server's payload types, the default interceptors (NACK, RTCP sender reports,
// which the server needs for capture times), mDNS off, UDP over IPv4 including
// loopback (so a server on the same host without other interfaces works).
func newAPI() (*webrtc.API, error) { return newAPIClock(nil) }

// newAPIClock is newAPI whose sender reports read clk (nil: the wall clock).
func newAPIClock(clk *captureClock) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(rtc.VP8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(rtc.OpusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if clk == nil {
		if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
			return nil, err
		}
	} else { // webrtc.RegisterDefaultInterceptors with the sender reports on clk
		if err := webrtc.ConfigureNack(me, ir); err != nil {
			return nil, err
		}
		rr, err := report.NewReceiverInterceptor()
		if err != nil {
			return nil, err
		}
		sr, err := report.NewSenderInterceptor(report.SenderNow(clk.now))
		if err != nil {
			return nil, err
		}
		ir.Add(rr)
		ir.Add(sr)
		if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// captureClock is the sender-report clock of a simulated browser whose caller stamps each
// sample with its capture time (Candidate.WriteVideoAt). pion's sender reports map the RTP
// timestamp of the last packet to the time it was written; a browser's map it to the capture
// clock, so that a frame sent late still maps to when it was captured. While a stamped sample
// is written, the clock reads that sample's capture time (shifted by the time elapsed since),
// so the report maps RTP time to capture time however late the sample went out. Writes of
// stamped samples are serialised (mu) so that one track's offset does not apply to another's.
type captureClock struct {
	mu  sync.Mutex
	off atomic.Int64 // while a stamped sample is written: how long ago it was captured
}

func (c *captureClock) now() time.Time { return time.Now().Add(-time.Duration(c.off.Load())) }

// write runs w (a WriteSample) with the clock set to capture.
func (c *captureClock) write(capture time.Time, w func() error) error {
	if c == nil || capture.IsZero() {
		return w()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off.Store(int64(time.Since(capture)))
	defer c.off.Store(0)
	return w()
}

// counters are shared by every simulated peer of a run.
type counters struct {
	videoFrames   atomic.Uint64 // VP8 frames written
	audioPackets  atomic.Uint64 // Opus packets written
	keyframeReqs  atomic.Uint64 // PLI/FIR received from the server
	keyframesSent atomic.Uint64 // restarts at a keyframe of the file on request
	pings         atomic.Uint64 // control-channel pings answered
	prompts       atomic.Uint64 // challenge prompts acknowledged with "shown"
	viewerPackets atomic.Uint64 // RTP packets received by viewers
	sendErrors    atomic.Uint64
}

// signaler is one signaling WebSocket and the PeerConnection it drives. The
// server is the offerer; this side answers and trickles candidates.
type signaler struct {
	name    string
	api     *webrtc.API
	ws      *websocket.Conn
	wmu     sync.Mutex
	pc      *webrtc.PeerConnection
	pending []webrtc.ICECandidateInit

	setup       func(pc *webrtc.PeerConnection) error // on hello, before the first offer
	connected   chan struct{}
	connectOnce sync.Once
	failed      chan struct{}
	failOnce    sync.Once
	ended       atomic.Bool
	moved       atomic.Bool  // the server said the interview moved to another node
	err         atomic.Value // string: last error from the server
	closeOnce   sync.Once
}

func (s *signaler) send(m signal.Message) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.ws.WriteJSON(m)
}

// dial opens the signaling socket with the jar's cookies and extra headers. The
// Origin header matches the server, as a browser's would.
func dialWS(ctx context.Context, base *url.URL, path string, jar http.CookieJar, hdr http.Header) (*websocket.Conn, error) {
	u := *base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawQuery = p, q
	return dialURL(ctx, u.String(), base, jar, hdr)
}

// dialURL opens the signaling socket at an absolute ws(s) URL (a node's, from
// a route) with the Origin of the page's server, as a browser's would.
func dialURL(ctx context.Context, wsURL string, page *url.URL, jar http.CookieJar, hdr http.Header) (*websocket.Conn, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Origin", page.Scheme+"://"+page.Host)
	p := wsURL
	if u, err := url.Parse(wsURL); err == nil {
		p = u.Host + u.Path // never the ticket or token's query into errors
	}
	d := websocket.Dialer{Jar: jar, HandshakeTimeout: 15 * time.Second}
	ws, resp, err := d.DialContext(ctx, wsURL, hdr)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			resp.Body.Close()
			return nil, fmt.Errorf("websocket %s: %d %s", p, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("websocket %s: %w", p, err)
	}
	ws.SetReadLimit(signal.MaxMessageSize * 2)
	return ws, nil
}

// run reads signaling messages until the socket closes or ctx ends.
func (s *signaler) run(ctx context.Context) {
	defer s.fail()
	go func() { <-ctx.Done(); s.close() }()
	for {
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		var m signal.Message
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		if err := s.handle(m); err != nil {
			s.err.Store(err.Error())
		}
	}
}

func (s *signaler) handle(m signal.Message) error {
	switch m.T {
	case signal.TypeHello:
		cfg := webrtc.Configuration{}
		for _, is := range m.ICEServers {
			cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
		}
		pc, err := s.api.NewPeerConnection(cfg)
		if err != nil {
			return err
		}
		s.pc = pc
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			msg := signal.Message{T: signal.TypeCandidate, Candidate: &signal.ICECandidate{Candidate: ""}}
			if c != nil {
				init := c.ToJSON()
				msg.Candidate = &signal.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex}
			}
			_ = s.send(msg)
		})
		pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			switch st {
			case webrtc.PeerConnectionStateConnected:
				s.connectOnce.Do(func() { close(s.connected) })
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				s.fail()
			}
		})
		if s.setup != nil {
			return s.setup(pc)
		}
	case signal.TypeOffer:
		if s.pc == nil {
			return errors.New("offer before hello")
		}
		if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
			return err
		}
		for _, c := range s.pending {
			_ = s.pc.AddICECandidate(c)
		}
		s.pending = nil
		ans, err := s.pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		if err := s.pc.SetLocalDescription(ans); err != nil {
			return err
		}
		return s.send(signal.Message{T: signal.TypeAnswer, SDP: ans.SDP})
	case signal.TypeCandidate:
		if m.Candidate == nil || m.Candidate.Candidate == "" {
			return nil
		}
		c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex}
		if s.pc == nil || s.pc.RemoteDescription() == nil {
			s.pending = append(s.pending, c)
			return nil
		}
		return s.pc.AddICECandidate(c)
	case signal.TypeEnded:
		s.ended.Store(true)
		s.close()
	case signal.TypeMoved:
		s.moved.Store(true)
		s.fail()
	case signal.TypeBusy, signal.TypeError:
		return fmt.Errorf("server: %s", m.Error)
	}
	return nil
}

func (s *signaler) fail() { s.failOnce.Do(func() { close(s.failed) }) }

// lastError returns the last error the server reported, if any.
func (s *signaler) lastError() string {
	v, _ := s.err.Load().(string)
	return v
}

func (s *signaler) close() {
	s.closeOnce.Do(func() {
		_ = s.send(signal.Message{T: signal.TypeLeave})
		if s.pc != nil {
			_ = s.pc.Close()
		}
		_ = s.ws.Close()
	})
}

// candidate is one simulated candidate's browser.
type candidate struct {
	signaler
	m       *Media
	c       *counters
	wantKey atomic.Bool
	video   *webrtc.TrackLocalStaticSample
	audio   *webrtc.TrackLocalStaticSample
	// videoRTP replaces video with temporal layers (Media.Layers > 1): the
	// candidate packetises VP8 itself to write the descriptor's TID.
	videoRTP *webrtc.TrackLocalStaticRTP
	joined   time.Time
	connAt   time.Duration // join → ICE/DTLS connected
	// onPrompt, when set, sees every prompt message (after its "shown" ack) with its arrival
	// time: the red team's responders react to it (see Candidate).
	onPrompt func(msg []byte, at time.Time)
	clock    *captureClock       // sender reports on capture times (JoinCandidate); nil: the wall clock
	env      *models.Environment // replaces the load generator's own environment report
	node     string              // base URL of the node the call runs on
}

// getRoute asks where to connect (wire.Route); nil without error when the
// server has no routing (404).
func getRoute(ctx context.Context, hc *http.Client, routeURL string, hdr http.Header) (*wire.Route, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, routeURL, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("route: status %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var rt wire.Route
	if err := json.Unmarshal(b, &rt); err != nil || rt.WS == "" {
		return nil, fmt.Errorf("route: %q", b)
	}
	return &rt, nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

// joinCandidate takes the candidate's HTTP steps (open the link, give consent)
// and opens the signaling socket; media starts when the call connects.
func joinCandidate(ctx context.Context, api *webrtc.API, joinURL string, m *Media, c *counters) (*candidate, error) {
	b, err := consent(ctx, joinURL)
	if err != nil {
		return nil, err
	}
	return b.connect(ctx, api, m, c)
}

// browser is a candidate's browser after consent: its cookies and the page's server.
type browser struct {
	joinURL string
	base    *url.URL
	jar     http.CookieJar
	hc      *http.Client
}

// consent opens the join link and gives consent, as the page does.
func consent(ctx context.Context, joinURL string) (*browser, error) {
	u, err := url.Parse(joinURL)
	if err != nil {
		return nil, err
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, joinURL, nil)
	req.Header.Set("User-Agent", "livecheck-loadgen/1 (pion)")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join page: status %d", resp.StatusCode)
	}
	mt := csrfMeta.FindSubmatch(body)
	if mt == nil {
		return nil, errors.New("join page: no csrf token")
	}
	form := url.Values{"decision": {"given"}, "csrf_token": {string(mt[1])}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, joinURL+"/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base.String())
	req.Header.Set("User-Agent", "livecheck-loadgen/1 (pion)")
	resp, err = hc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("consent: status %d", resp.StatusCode)
	}
	return &browser{joinURL: joinURL, base: base, jar: jar, hc: hc}, nil
}

// connect asks the page's server where the interview lives and opens the
// signaling socket there (on the page's server when it has no routing).
func (b *browser) connect(ctx context.Context, api *webrtc.API, m *Media, c *counters) (*candidate, error) {
	u, _ := url.Parse(b.joinURL)
	token := u.Path[strings.LastIndex(u.Path, "/")+1:]
	hdr := http.Header{"User-Agent": {"livecheck-loadgen/1 (pion)"}}
	rt, err := getRoute(ctx, b.hc, b.joinURL+"/node", nil)
	if err != nil {
		return nil, err
	}
	var ws *websocket.Conn
	if rt != nil {
		ws, err = dialURL(ctx, rt.WS, b.base, b.jar, hdr)
	} else {
		ws, err = dialWS(ctx, b.base, "/ws/join/"+token, b.jar, hdr)
	}
	if err != nil {
		return nil, err
	}
	cd := &candidate{m: m, c: c, joined: time.Now(), node: b.base.String()}
	if rt != nil {
		cd.node = strings.TrimRight(rt.URL, "/")
	}
	cd.signaler = signaler{name: "candidate", api: api, ws: ws, connected: make(chan struct{}), failed: make(chan struct{})}
	cd.setup = cd.setupPC
	return cd, nil
}

// setupPC adds the camera and microphone tracks (before the offer, as the
// page does) and the control-channel handler.
func (cd *candidate) setupPC(pc *webrtc.PeerConnection) error {
	var err error
	var video webrtc.TrackLocal
	if cd.m.Layers > 1 {
		if cd.videoRTP, err = webrtc.NewTrackLocalStaticRTP(rtc.VP8Codec.RTPCodecCapability, "video", "loadgen"); err != nil {
			return err
		}
		video = cd.videoRTP
	} else {
		if cd.video, err = webrtc.NewTrackLocalStaticSample(rtc.VP8Codec.RTPCodecCapability, "video", "loadgen"); err != nil {
			return err
		}
		video = cd.video
	}
	if cd.audio, err = webrtc.NewTrackLocalStaticSample(rtc.OpusCodec.RTPCodecCapability, "audio", "loadgen"); err != nil {
		return err
	}
	for _, tr := range []webrtc.TrackLocal{video, cd.audio} {
		sender, err := pc.AddTrack(tr)
		if err != nil {
			return err
		}
		go cd.readRTCP(sender, tr == video)
	}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != "control" {
			return
		}
		dc.OnOpen(func() { _ = dc.SendText(cd.envMessage()) })
		dc.OnMessage(func(msg webrtc.DataChannelMessage) { cd.onControl(dc, msg.Data) })
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { // the recruiter's media, if any: drain
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := t.Read(buf); err != nil {
					return
				}
			}
		}()
	})
	return nil
}

// readRTCP honours keyframe requests: the video restarts at the file's last
// keyframe at or before the current position.
func (cd *candidate) readRTCP(s *webrtc.RTPSender, video bool) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		if !video {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				cd.c.keyframeReqs.Add(1)
				cd.wantKey.Store(true)
			}
		}
	}
}

func (cd *candidate) envMessage() string {
	if cd.env != nil {
		b, _ := json.Marshal(map[string]any{"t": "env", "env": *cd.env})
		return string(b)
	}
	b, _ := json.Marshal(map[string]any{"t": "env", "env": models.Environment{
		TimeZone: "UTC", Languages: []string{"en-US"}, ScreenW: 1920, ScreenH: 1080, PixelRatio: 1,
		Devices:   []models.Device{{Kind: "videoinput", Label: "livecheck loadgen camera"}, {Kind: "audioinput", Label: "livecheck loadgen microphone"}},
		WebDriver: true, Platform: "Linux x86_64", HardwareConc: runtime.NumCPU(),
		Video: models.TrackSettings{Label: "livecheck loadgen camera", Width: cd.m.Width, Height: cd.m.Height, FrameRate: cd.m.FPS()},
		Audio: models.TrackSettings{Label: "livecheck loadgen microphone"},
	}})
	return string(b)
}

// onControl answers pings and acknowledges every prompt as shown.
func (cd *candidate) onControl(dc *webrtc.DataChannel, b []byte) {
	var m struct {
		T  string `json:"t"`
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &m) != nil || m.ID == "" {
		return
	}
	switch m.T {
	case "ping":
		if dc.SendText(`{"t":"pong","id":"`+jsonEscape(m.ID)+`"}`) == nil {
			cd.c.pings.Add(1)
		}
	case "challenge", "flash", "digits":
		at := time.Now()
		if dc.SendText(`{"t":"shown","id":"`+jsonEscape(m.ID)+`"}`) == nil {
			cd.c.prompts.Add(1)
		}
		if cd.onPrompt != nil {
			cd.onPrompt(b, at)
		}
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// sendMedia paces the looped video and audio by the wall clock until ctx ends.
// phase delays the start so that candidates do not all send at the same instant.
func (cd *candidate) sendMedia(ctx context.Context, phase time.Duration) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); cd.loopVideo(ctx, cd.m, phase) }()
	go func() { defer wg.Done(); cd.pumpAudio(ctx, phase) }()
	wg.Wait()
}

// Pace sleeps until next and reports whether ctx is still live; when the
// sender fell more than a second behind (a stalled machine) it moves next to
// now instead of bursting. t is the sender's timer, reused between calls.
func Pace(ctx context.Context, t *time.Timer, next *time.Time) bool {
	d := time.Until(*next)
	if d < -time.Second {
		*next = time.Now()
		d = 0
	}
	t.Reset(d)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// loopVideo sends m's video in a loop, paced by the wall clock from phase on,
// until ctx ends; a keyframe request from the server goes back to the last
// keyframe (a decoder can start there).
func (cd *candidate) loopVideo(ctx context.Context, m *Media, phase time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	next := time.Now().Add(phase)
	i := 0
	var lw *layeredWriter
	if cd.videoRTP != nil {
		lw = newLayeredWriter(cd.videoRTP)
	}
	for Pace(ctx, t, &next) {
		if cd.wantKey.Swap(false) {
			i = m.keyframeAtOrBefore(i)
			cd.c.keyframesSent.Add(1)
		}
		f := m.Video[i]
		var err error
		if lw != nil {
			err = lw.write(f)
		} else {
			err = cd.video.WriteSample(pmedia.Sample{Data: f.Data, Duration: f.Duration})
		}
		if err != nil {
			cd.c.sendErrors.Add(1)
		} else {
			cd.c.videoFrames.Add(1)
		}
		next = next.Add(f.Duration)
		if i++; i == len(m.Video) {
			i = 0 // the file starts with a keyframe
		}
	}
}

// layeredWriter packetises a layered VP8 video with the descriptor's
// PictureID, TL0PICIDX and TID (media.VP8Packetizer), as a browser sending
// L1T2/L1T3 does; RTP timestamps at 90 kHz from the frames' durations.
type layeredWriter struct {
	tr  *webrtc.TrackLocalStaticRTP
	pz  media.VP8Packetizer
	seq uint16
	ts  uint32
}

func newLayeredWriter(tr *webrtc.TrackLocalStaticRTP) *layeredWriter {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &layeredWriter{tr: tr, seq: uint16(b[0])<<8 | uint16(b[1]), ts: uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]),
		pz: media.VP8Packetizer{PictureID: (uint16(b[6])<<8 | uint16(b[7])) & 0x7fff}}
}

func (w *layeredWriter) write(f VideoFrame) error {
	pls := w.pz.Payloads(f.Data, f.TID, f.TID > 0, f.NonRef)
	var err error
	for j, pl := range pls {
		p := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: j == len(pls)-1, SequenceNumber: w.seq, Timestamp: w.ts}, Payload: pl}
		w.seq++
		if e := w.tr.WriteRTP(p); e != nil && err == nil {
			err = e
		}
	}
	w.ts += uint32(f.Duration * 90000 / time.Second)
	return err
}

func (cd *candidate) pumpAudio(ctx context.Context, phase time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	next := time.Now().Add(phase)
	i := 0
	for Pace(ctx, t, &next) {
		if err := cd.audio.WriteSample(pmedia.Sample{Data: cd.m.Audio[i], Duration: 20 * time.Millisecond}); err != nil {
			cd.c.sendErrors.Add(1)
		} else {
			cd.c.audioPackets.Add(1)
		}
		next = next.Add(20 * time.Millisecond)
		i = (i + 1) % len(cd.m.Audio)
	}
}

// viewer is a recruiter (host) or reviewer (observe) page that only receives.
type viewer struct {
	signaler
	c *counters
}

// joinViewer opens a staff signaling socket authenticated with the API token.
func joinViewer(ctx context.Context, api *webrtc.API, base *url.URL, token string, interviewID int64, mode string, c *counters) (*viewer, error) {
	hdr := http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {"livecheck-loadgen/1 (pion viewer)"}}
	rt, err := getRoute(ctx, &http.Client{Timeout: 30 * time.Second}, fmt.Sprintf("%s/api/interviews/%d/node?mode=%s", base, interviewID, mode), hdr)
	if err != nil {
		return nil, err
	}
	var ws *websocket.Conn
	if rt != nil {
		ws, err = dialURL(ctx, rt.WS, base, nil, hdr)
	} else {
		ws, err = dialWS(ctx, base, fmt.Sprintf("/ws/interviews/%d?mode=%s", interviewID, mode), nil, hdr)
	}
	if err != nil {
		return nil, err
	}
	v := &viewer{c: c}
	v.signaler = signaler{name: "viewer", api: api, ws: ws, connected: make(chan struct{}), failed: make(chan struct{})}
	v.setup = func(pc *webrtc.PeerConnection) error {
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			go func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := t.Read(buf); err != nil {
						return
					}
					v.c.viewerPackets.Add(1)
				}
			}()
		})
		return nil
	}
	return v, nil
}
