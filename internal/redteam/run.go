package redteam

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/livecheck/livecheck/internal/dsp"
	"github.com/livecheck/livecheck/internal/loadgen"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/internal/risk"
	"github.com/livecheck/livecheck/internal/wire"
	"github.com/livecheck/livecheck/models"
)

// Config is one red-team run against a running server.
type Config struct {
	Server     string
	APIToken   string
	Face       string // the public-domain face still (testdata/faces/astronaut.png)
	Challenges int    // "challenge now" presses per interview (default 5)
	Runs       int    // interviews per scenario (default 1)
	Parallel   int    // interviews at once (default 1)
	Log        func(format string, args ...any)
	// Baseline is how long the candidate is in the call before the first challenge (default 4 s).
	Baseline time.Duration
	// MinFrames keeps the call going, after the challenges, until the server decoded this many
	// video frames: a real interview lasts many minutes, and signals whose confidence grows with
	// the footage (frame_cadence: full from 300 frame steps) need more than a few challenges'
	// worth. 0: the call ends after the challenges.
	MinFrames int
}

// Kit is what every interview of a run shares: the face, the swap identity, the voice and
// the looped video.
type Kit struct {
	Face  *Face
	Other *Face // the identity a swap pastes over Face: another person
	Voice *Voice
	Loop  *loadgen.Media
}

// NewKit loads the face still (the honest person, and the swap operator's own face) and the
// still of the identity a swap pastes over it (another person: testdata/faces/obama.jpg),
// checks espeak-ng and generates the looped clip (ffmpeg, cached). The swapped frames exist
// only in memory and on the wire to the server under test: no altered picture of a real
// person is written anywhere (testdata/README.md).
func NewKit(facePath, swapPath string) (*Kit, error) {
	f, err := LoadFace(facePath)
	if err != nil {
		return nil, err
	}
	o, err := LoadFace(swapPath)
	if err != nil {
		return nil, err
	}
	v, err := NewVoice()
	if err != nil {
		return nil, err
	}
	m, err := loadgen.LoadMedia("", "", facePath)
	if err != nil {
		return nil, err
	}
	return &Kit{Face: f, Other: o, Voice: v, Loop: m}, nil
}

// Run runs every scenario cfg.Runs times and returns the results in scenario order.
func Run(ctx context.Context, cfg Config, kit *Kit, scenarios []Scenario) []Result {
	if cfg.Challenges <= 0 {
		cfg.Challenges = 5
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 1
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 1
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	type job struct {
		i  int
		sc Scenario
		k  int
	}
	var jobs []job
	for k := 0; k < cfg.Runs; k++ {
		for _, sc := range scenarios {
			jobs = append(jobs, job{len(jobs), sc, k})
		}
	}
	out := make([]Result, len(jobs))
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(j job) {
			defer func() { <-sem; wg.Done() }()
			r := RunOne(ctx, cfg, kit, j.sc, uint64(j.i+1))
			out[j.i] = r
			var ks []string
			for _, c := range r.Challenges {
				ks = append(ks, c.Kind+":"+c.Outcome)
			}
			cfg.Log("%-10s %-45s run %d: %-8s %4.1f (server: %s %.1f) %s %s", r.Scenario, r.Params, j.k+1, r.Status, r.BehaviourScore,
				r.Decision, r.Score, strings.Join(ks, " "), r.Error)
		}(j)
	}
	wg.Wait()
	var res []Result
	for _, r := range out {
		if r.Scenario != "" {
			res = append(res, r)
		}
	}
	return res
}

// Material lists the signal kinds that judge what the picture and the voice are made of
// rather than how the candidate behaves: the red team's honest person is a warped still that
// speaks with espeak-ng, sent by a timer, so these read it as what it is (synthetic_voice 0.6–0.7,
// replay and photo 0.3–0.5 on every honest interview) and would score the honest person and
// every attack alike. The table's verdict leaves them out; the server's own verdict is kept
// in Result.Decision.
var Material = map[string]bool{"photo": true, "replay": true, "seam": true, "virtual_camera": true, "flicker": true,
	"texture": true, "landmark_jitter": true, "pulse": true, "synthetic_voice": true}

// Behavioural returns the signals that judge behaviour: sigs without the Material kinds.
func Behavioural(sigs []models.Signal) []models.Signal {
	var out []models.Signal
	for _, s := range sigs {
		if !Material[s.Kind] {
			out = append(out, s)
		}
	}
	return out
}

// RunOne runs one interview of scenario sc.
func RunOne(ctx context.Context, cfg Config, kit *Kit, sc Scenario, seed uint64) Result {
	start := time.Now()
	res := Result{Scenario: sc.Name, Params: sc.Params, Attack: sc.Attack}
	err := runOne(ctx, cfg, kit, sc, seed, &res)
	if err != nil {
		res.Error = err.Error()
	}
	res.Seconds = math.Round(time.Since(start).Seconds())
	return res
}

// CandidateEmail is the e-mail address of every interview the red team creates.
const CandidateEmail = "redteam.candidate@loadgen.invalid"

func runOne(ctx context.Context, cfg Config, kit *Kit, sc Scenario, seed uint64, res *Result) error {
	api := loadgen.NewAPI(cfg.Server, cfg.APIToken)
	// Every simulated candidate is drawn from the same public-domain face and runs on this
	// machine: one candidate e-mail for all of them, so that the server's reuse checks (the
	// same face, address or browser under several names) do not count them against each
	// other. The red team measures the challenges; reuse has its own tests.
	iv, err := api.CreateInterviewFor(ctx, fmt.Sprintf("Redteam %s %d", sc.Name, seed), CandidateEmail)
	if err != nil {
		return err
	}
	res.Interview = iv.ID
	actor := NewActor(sc.Behaviour, kit.Voice, seed)
	cand, err := loadgen.JoinCandidate(ctx, iv.JoinURL, loadgen.CandidateOptions{OnPrompt: actor.Prompt,
		Env: loadgen.BrowserEnv(W, H, 15)})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go cand.Run(runCtx)
	select {
	case <-cand.Connected():
	case <-cand.Failed():
		return fmt.Errorf("connection failed: %s", cand.LastError())
	case <-time.After(45 * time.Second):
		return errors.New("not connected in 45 s")
	case <-ctx.Done():
		return ctx.Err()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	var late senderLate
	go func() { defer wg.Done(); pumpVideo(runCtx, cand, kit, sc, actor, seed, &late) }()
	defer func() { res.Keyframes = late.keys }()
	go func() { defer wg.Done(); pumpAudio(runCtx, cand, sc, actor) }()
	defer wg.Wait()
	defer stop()

	baseline := cfg.Baseline
	if baseline <= 0 {
		baseline = 4 * time.Second
	}
	// Wait for the analysis to run, then the baseline.
	if err := waitFor(ctx, 60*time.Second, func() (bool, error) {
		got, err := api.Interview(ctx, iv.ID)
		return err == nil && got.Live != nil && got.Live.FramesAnalysed >= 15, err
	}); err != nil {
		return fmt.Errorf("analysis did not start: %w", err)
	}
	if !sleepCtx(ctx, baseline) {
		return ctx.Err()
	}
	// Press until cfg.Challenges results were conclusive (an inconclusive one is reissued by
	// the server, which takes the next press), at most twice as many presses.
	conclusive := func(w wire.Interview) int {
		n := 0
		for _, c := range w.Challenges {
			if c.Outcome != "inconclusive" {
				n++
			}
		}
		return n
	}
	for k := 0; k < 2*cfg.Challenges; k++ {
		before, err := api.Interview(ctx, iv.ID)
		if err != nil {
			return err
		}
		if conclusive(before) >= cfg.Challenges {
			break
		}
		locked := false
		if err := waitFor(ctx, 60*time.Second, func() (bool, error) {
			code, err := api.Post(ctx, iv.ID, "challenge")
			if err == nil {
				return true, nil
			}
			if code == http.StatusConflict || code == http.StatusLocked {
				if strings.Contains(strings.ToLower(err.Error()), "lock") {
					locked = true
					return true, nil
				}
				return false, nil // a reissue is running: wait
			}
			return false, err
		}); err != nil {
			return fmt.Errorf("challenge %d: %w", k+1, err)
		}
		if locked {
			break
		}
		if err := waitFor(ctx, 90*time.Second, func() (bool, error) {
			got, err := api.Interview(ctx, iv.ID)
			return err == nil && len(got.Challenges) > len(before.Challenges), err
		}); err != nil {
			return fmt.Errorf("challenge %d result: %w", k+1, err)
		}
	}
	// Let an automatic reissue of an inconclusive result finish.
	_ = waitFor(ctx, 40*time.Second, func() (bool, error) {
		code, err := api.Post(ctx, iv.ID, "challenge")
		_ = code
		return err != nil, nil // refused (busy or locked): nothing to wait for; accepted: one more challenge ran
	})
	if cfg.MinFrames > 0 {
		if err := waitFor(ctx, 5*time.Minute, func() (bool, error) {
			got, err := api.Interview(ctx, iv.ID)
			return err == nil && got.Live != nil && got.Live.FramesDecoded >= uint64(cfg.MinFrames), err
		}); err != nil {
			return fmt.Errorf("waiting for %d decoded frames: %w", cfg.MinFrames, err)
		}
	}
	stop()
	wg.Wait()
	cand.Close()
	if _, err := api.Post(ctx, iv.ID, "end"); err != nil && !strings.Contains(err.Error(), "409") {
		return fmt.Errorf("end: %w", err)
	}
	var got wire.Interview
	if err := waitFor(ctx, 90*time.Second, func() (bool, error) {
		var err error
		got, err = api.Interview(ctx, iv.ID)
		return err == nil && got.Session != nil && got.Verdict != nil && got.Status != string(models.StatusLive), err
	}); err != nil {
		return fmt.Errorf("results not stored: %w", err)
	}
	// The verdict, not the interview's status: a session sent to review stays "completed".
	res.Decision, res.Score = got.Verdict.Decision, got.Verdict.Score
	var sigs []models.Signal
	for _, s := range got.Signals {
		sigs = append(sigs, models.Signal{Kind: s.Kind, Value: s.Value, Score: s.Score, Confidence: s.Confidence, Reason: s.Reason})
	}
	v := risk.Score(Behavioural(sigs), risk.Settings{ReviewAt: got.Verdict.ReviewAt, FailAt: got.Verdict.FailAt})
	res.Status, res.BehaviourScore = string(v.Decision), v.Score
	res.Verified = v.Decision == risk.Verified
	for _, c := range got.Challenges {
		res.Challenges = append(res.Challenges, ChallengeResult{Kind: c.Kind, Outcome: c.Outcome, Reason: c.Reason})
	}
	res.Signals = map[string]float64{}
	for _, s := range got.Signals {
		if s.Score > 0.3 || s.Kind == "frame_cadence" { // the cadence always: its honest 0 is the point
			res.Signals[s.Kind] = math.Round(s.Score*100) / 100
		}
	}
	res.SenderLate = [2]float64{math.Round(late.p50*1000) / 1000, math.Round(late.p90*1000) / 1000}
	for _, s := range got.Signals {
		if s.Score > 0.3 && s.Kind == "identity_change" { // when and how far: no biometric data
			res.Reasons = map[string]string{s.Kind: s.Reason}
		}
	}
	for _, l := range actor.Latencies() {
		res.Latencies = append(res.Latencies, math.Round(l.Seconds()*100)/100)
	}
	return nil
}

func waitFor(ctx context.Context, d time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(d)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("timed out after %s: %w", d, last)
			}
			return fmt.Errorf("timed out after %s", d)
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

const frameDur = time.Second / 15

// senderLate is how late the video sender rendered its frames after their capture slots
// (a loaded machine): the median and the 90th percentile, in seconds.
type senderLate struct {
	p50, p90 float64
	keys     [][2]float64 // keyframes in the first 10 s: seconds since the first frame, bytes
}

// pumpVideo renders, encodes and sends 15 frames a second (or loops the
// scenario's recording) until ctx ends.
func pumpVideo(ctx context.Context, cand *loadgen.Candidate, kit *Kit, sc Scenario, actor *Actor, seed uint64, late *senderLate) {
	if sc.Source == "loop" {
		m := kit.Loop
		if sc.LoopFile != "" {
			lm, err := loadgen.LoadMedia(sc.LoopFile, "", "")
			if err != nil {
				return
			}
			m = lm
		}
		cand.LoopVideo(ctx, m)
		return
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	look := sc.Look
	look.Seed = seed
	if look.Noise == 0 {
		look.Noise = 2.5 // a camera sensor's
	}
	r := NewRenderer(kit.Face, look)
	if sc.Swap != "" {
		r.SetSwap(kit.Other)
	}
	bitrate := sc.Bitrate
	if bitrate == 0 {
		bitrate = 800
	}
	enc, err := media.NewVP8Encoder(media.VP8EncoderConfig{Width: W, Height: H, FPS: 15, BitrateKbps: bitrate})
	if err != nil {
		return
	}
	defer enc.Close()
	f := &models.Frame{Width: W, Height: H}
	sw := &swapper{sc: sc}
	t := time.NewTimer(0)
	defer t.Stop()
	next := time.Now()
	// Frames carry the camera's clock, as a browser's capture timestamps do: each is one slot
	// of 1/15 s after the previous slot, also when this process is late to render it (a busy
	// sender sends late, it does not skip); a frame the swap drops leaves its slot empty. The
	// sender reports map the RTP timestamps to the slots' times (WriteVideoAt), as a browser's
	// map them to its capture clock, not to when this process got round to sending.
	slot, lastSlot := 0, -1
	var lateness []float64
	defer func() {
		if len(lateness) > 0 {
			late.p50, late.p90 = dsp.Quantile(lateness, 0.5), dsp.Quantile(lateness, 0.9)
		}
	}()
	for loadgen.Pace(ctx, t, &next) {
		// The frame shows the person at its slot's time, the camera's capture time, which its
		// RTP timestamp carries; not at the time this process gets round to rendering it (up
		// to a second later on a loaded machine, which put the picture out of step with the
		// timestamps and with the audio: REDTEAM.md finding 14).
		capture := next
		next = next.Add(frameDur)
		if slot++; sc.FPSDrop > 0 && rng.Float64() < sc.FPSDrop {
			continue
		}
		lateness = append(lateness, time.Since(capture).Seconds())
		// A virtual camera behind a late swap sends its last frame again, on time: the slot
		// is filled, with the previous picture (noise and all).
		if repeat := sc.FPSRepeat > 0 && f.Y != nil && rng.Float64() < sc.FPSRepeat; !repeat {
			st := actor.State(sc.performed(capture))
			swapped := sw.frame(&st)
			r.RenderInto(st, swapped)
			if sc.Source == "replay" {
				screen(r.out)
			}
		}
		f.Y, f.U, f.V = r.out.y, r.out.u, r.out.v
		data, key, err := enc.Encode(f, cand.KeyframeRequested())
		if err != nil {
			continue
		}
		if since := float64(slot-1) * frameDur.Seconds(); key && since < 10 {
			late.keys = append(late.keys, [2]float64{math.Round(since*1000) / 1000, float64(len(data))})
		}
		d := frameDur
		if lastSlot >= 0 {
			d = time.Duration(slot-lastSlot) * frameDur
		}
		_ = cand.WriteVideoAt(data, d, capture)
		lastSlot = slot
	}
}

// performed is when the person did what the media captured at capture shows: the whole stream
// (video and audio alike) Scenario.Delay late, so a delay keeps the mouth and the voice
// aligned; only Behaviour.VoiceDelay (and MouthDelay) moves one against the other.
func (sc Scenario) performed(capture time.Time) time.Time { return capture.Add(-sc.Delay) }

// pumpAudio sends 20 ms Opus packets of what the actor says.
func pumpAudio(ctx context.Context, cand *loadgen.Candidate, sc Scenario, actor *Actor) {
	enc, err := media.NewOpusEncoder(media.OpusSampleRate, 1)
	if err != nil {
		return
	}
	defer enc.Close()
	_ = enc.SetBitrate(32000)
	n := enc.FrameSamples()
	buf := make([]int16, n)
	t := time.NewTimer(0)
	defer t.Stop()
	next := time.Now()
	for loadgen.Pace(ctx, t, &next) {
		capture := next
		at := sc.performed(next)
		next = next.Add(20 * time.Millisecond)
		actor.Audio(at, buf) // room noise, and speech when the actor answers digits
		p, err := enc.Encode(buf)
		if err != nil {
			continue
		}
		_ = cand.WriteAudioAt(p, 20*time.Millisecond, capture)
	}
}

// screen shows the picture as a camera filming a monitor would: the picture inset in a dark
// bezel, a moiré pattern, a gamma change and a bluish cast.
func screen(p planes) {
	src := p.clone()
	const inset = 0.86
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			sx := (float64(x)-W/2)/inset + W/2
			sy := (float64(y)-H/2)/inset + H/2
			var v float64
			if sx < 0 || sy < 0 || sx >= W-1 || sy >= H-1 {
				v = 22 // the bezel
			} else {
				v = float64(bilinear(src.y, W, H, sx, sy))
				v = 255 * math.Pow(v/255, 0.8)
				v += 7 * math.Sin(2*math.Pi*(float64(x)*0.23+float64(y)*0.19)) * math.Sin(2*math.Pi*float64(y)*0.031)
			}
			p.y[y*W+x] = clampB(v)
			if x%2 == 0 && y%2 == 0 {
				j := (y/2)*W/2 + x/2
				if sx < 0 || sy < 0 || sx >= W-1 || sy >= H-1 {
					p.u[j], p.v[j] = 128, 128
				} else {
					p.u[j] = clampB(float64(bilinear(src.u, W/2, H/2, sx/2, sy/2)) + 6)
					p.v[j] = clampB(float64(bilinear(src.v, W/2, H/2, sx/2, sy/2)) - 3)
				}
			}
		}
	}
}
