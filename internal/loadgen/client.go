package loadgen

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	pmedia "github.com/pion/webrtc/v3/pkg/media"

	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// The exported client below lets other measurement tools (internal/redteam) drive one
// simulated candidate over the same path as the load generator: the join link, consent,
// signaling, pion peer, control channel and admin API; they bring their own media.

// API is the admin JSON API of a server, authenticated with its API token.
type API struct{ c *apiClient }

// NewAPI returns a client of the server at base (http://host:port).
func NewAPI(base, token string) *API {
	return &API{&apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}}
}

// CreateInterview creates an interview and returns its id and the candidate's join link.
func (a *API) CreateInterview(ctx context.Context, name string) (wire.InterviewCreated, error) {
	return a.c.createInterview(ctx, name)
}

// CreateInterviewFor creates an interview for a candidate with the given e-mail address.
func (a *API) CreateInterviewFor(ctx context.Context, name, email string) (wire.InterviewCreated, error) {
	return a.c.createInterviewFor(ctx, name, email)
}

// Interview reads an interview (status, live figures, stored session, signals, challenges).
func (a *API) Interview(ctx context.Context, id int64) (wire.Interview, error) {
	return a.c.interview(ctx, id)
}

// Post calls POST /api/interviews/:id/<action> (challenge: the recruiter's "challenge now";
// end) and returns the HTTP status.
func (a *API) Post(ctx context.Context, id int64, action string) (int, error) {
	return a.c.post(ctx, id, action)
}

// CandidateOptions configure a Candidate.
type CandidateOptions struct {
	// OnPrompt sees every challenge prompt (the raw control message) right after the page's
	// "shown" acknowledgement was sent, with the time it arrived. It must not block.
	OnPrompt func(msg []byte, at time.Time)
	// Env is the browser environment report sent on the control channel (default: the load
	// generator's, which declares itself).
	Env *models.Environment
	// Width, Height and FPS describe the camera in the default environment report.
	Width, Height int
	FPS           float64
}

// Candidate is one simulated candidate's browser whose media the caller sends.
type Candidate struct {
	cd *candidate
}

// JoinCandidate opens the join link, gives consent and opens the signaling socket. Call Run,
// then wait for Connected before sending media.
func JoinCandidate(ctx context.Context, joinURL string, o CandidateOptions) (*Candidate, error) {
	clk := &captureClock{}
	api, err := newAPIClock(clk)
	if err != nil {
		return nil, err
	}
	m := &Media{Width: o.Width, Height: o.Height, Video: []VideoFrame{{Duration: time.Duration(float64(time.Second) / max(o.FPS, 1))}}}
	cd, err := joinCandidate(ctx, api, joinURL, m, &counters{})
	if err != nil {
		return nil, err
	}
	cd.onPrompt, cd.env, cd.clock = o.OnPrompt, o.Env, clk
	return &Candidate{cd: cd}, nil
}

// Run reads signaling messages until the socket closes or ctx ends.
func (c *Candidate) Run(ctx context.Context) { c.cd.run(ctx) }

// Connected is closed when the peer connection is up; Failed when it failed or closed.
func (c *Candidate) Connected() <-chan struct{} { return c.cd.connected }

// Failed is closed when the connection failed or was closed.
func (c *Candidate) Failed() <-chan struct{} { return c.cd.failed }

// LastError is the last error the server reported, if any.
func (c *Candidate) LastError() string { return c.cd.lastError() }

// WriteVideo sends one encoded VP8 frame lasting d.
func (c *Candidate) WriteVideo(frame []byte, d time.Duration) error {
	if c.cd.video == nil {
		return errors.New("loadgen: WriteVideo: the candidate sends layered video (Media.Layers)")
	}
	return c.cd.video.WriteSample(pmedia.Sample{Data: frame, Duration: d})
}

// WriteAudio sends one Opus packet lasting d.
func (c *Candidate) WriteAudio(packet []byte, d time.Duration) error {
	return c.cd.audio.WriteSample(pmedia.Sample{Data: packet, Duration: d})
}

// WriteVideoAt is WriteVideo for a frame the camera captured at capture: the sender reports map
// its RTP timestamp to capture, as a browser's do, however late this process sends it. The
// durations of successive frames must add up to their capture times' differences.
func (c *Candidate) WriteVideoAt(frame []byte, d time.Duration, capture time.Time) error {
	return c.cd.clock.write(capture, func() error { return c.WriteVideo(frame, d) })
}

// WriteAudioAt is WriteAudio for a packet whose first sample was captured at capture
// (WriteVideoAt).
func (c *Candidate) WriteAudioAt(packet []byte, d time.Duration, capture time.Time) error {
	return c.cd.clock.write(capture, func() error { return c.WriteAudio(packet, d) })
}

// LoopVideo sends m's video frames in a loop, paced by the wall clock, until
// ctx ends; a keyframe request from the server goes back to the last keyframe.
// Use it or WriteVideo, not both.
func (c *Candidate) LoopVideo(ctx context.Context, m *Media) { c.cd.loopVideo(ctx, m, 0) }

// KeyframeRequested reports (and clears) a keyframe request (PLI/FIR) from the server.
func (c *Candidate) KeyframeRequested() bool { return c.cd.wantKey.Swap(false) }

// Close leaves the call.
func (c *Candidate) Close() { c.cd.close() }

// BrowserEnv is an environment report like an ordinary desktop browser's with one camera and
// one microphone (what a careful attacker's injection tool reports).
func BrowserEnv(w, h int, fps float64) *models.Environment {
	return &models.Environment{
		TimeZone: "UTC", Languages: []string{"en-US", "en"}, ScreenW: 1920, ScreenH: 1080, PixelRatio: 1,
		Devices:  []models.Device{{Kind: "videoinput", Label: "HD Webcam (046d:0825)"}, {Kind: "audioinput", Label: "Default - Microphone"}},
		Platform: "Linux x86_64", HardwareConc: 8,
		Video: models.TrackSettings{Label: "HD Webcam (046d:0825)", Width: w, Height: h, FrameRate: fps},
		Audio: models.TrackSettings{Label: "Default - Microphone"},
	}
}
