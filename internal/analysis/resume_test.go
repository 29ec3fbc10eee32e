package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/detect"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/writeq"
	"github.com/livecheck/livecheck/models"
)

// memStore keeps checkpoints and challenge results as the database does
// (store.SaveCheckpoint merges the parts of one session; JSON both ways).
type memStore struct {
	mu      sync.Mutex
	started time.Time
	at      time.Time
	chal    []byte
	ident   []byte
	parts   [][]byte // measurement parts, in the order written
	results []challenge.Result
	writes  int
}

func (m *memStore) save(_ context.Context, cp *Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !cp.SessionStarted.Equal(m.started) {
		m.started, m.chal, m.ident, m.parts = cp.SessionStarted, nil, nil, nil
	}
	if cp.Measures != nil {
		b, _ := json.Marshal(cp.Measures)
		m.parts = append(m.parts, b)
	}
	m.at = cp.At
	if cp.Challenges != nil {
		m.chal, _ = json.Marshal(cp.Challenges)
	}
	if cp.Identity != nil {
		m.ident, _ = json.Marshal(cp.Identity)
	}
	m.writes++
	return nil
}

func (m *memStore) result(_ context.Context, _ int64, r challenge.Result, _ []byte, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, r)
	return nil
}

func (m *memStore) resume(context.Context, int64) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started.IsZero() {
		return nil, nil
	}
	cp := &Checkpoint{SessionStarted: m.started, At: m.at, Results: append([]challenge.Result(nil), m.results...)}
	if m.chal != nil {
		cp.Challenges = &challenge.Progress{}
		if err := json.Unmarshal(m.chal, cp.Challenges); err != nil {
			return nil, err
		}
	}
	if m.ident != nil {
		cp.Identity = &faceid.Snapshot{}
		if err := json.Unmarshal(m.ident, cp.Identity); err != nil {
			return nil, err
		}
	}
	var parts []*Measures
	for _, b := range m.parts {
		p := &Measures{}
		if err := json.Unmarshal(b, p); err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	cp.Measures, cp.MeasuresErr = JoinMeasures(parts)
	return cp, nil
}

// twoPeople embeds a frame as one of two synthetic people by its luma (100
// or 200), about 1 apart in descriptor distance, with a little noise.
type twoPeople struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func (e *twoPeople) Describe(f *models.Frame, o *models.Observation, _ faceid.Gate) (faceid.Sample, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := rand.New(rand.NewPCG(uint64(f.Y[0]), 1))
	var d faceid.Descriptor
	for i := range d {
		d[i] = float32(p.NormFloat64()*0.06 + e.rng.NormFloat64()*0.01)
	}
	return faceid.Sample{At: o.At, D: d, Sharpness: 1}, "", nil
}

// TestSessionResumesFromCheckpoint: a live session whose node dies (it
// never ends; only what its write queue stored survives) is resumed by the
// next session of the interview from its checkpoint: the same session start,
// the plan's next item instead of the first again, the failures and the lock
// carried over, and the identity seen before the move, so that another face
// after it is an identity change; the result covers both parts (the
// series and counters too, up to the first part's last stored part).
func TestSessionResumesFromCheckpoint(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	mem := &memStore{}
	emb := &twoPeople{rng: rand.New(rand.NewPCG(9, 9))}
	engine := func(w *writeq.Queue) *Engine {
		return New(Config{Logger: quietLogger(), Now: now, AnalysisFPS: -1, Writes: w,
			Store:    Store{ChallengeResult: mem.result, Checkpoint: mem.save, Resume: mem.resume},
			Identity: IdentityConfig{Model: emb, Workers: -1},
			Challenges: ChallengeConfig{Enabled: true, LockAfter: 2,
				Plan: challenge.PlanConfig{Count: 3, Kinds: []challenge.Kind{challenge.KindBlink, challenge.KindTurnHead}}}})
	}
	var seq uint64
	feed := func(s *Session, luma byte, from, to time.Duration) {
		for at := from; at < to; at += time.Second / 15 {
			seq++
			y := make([]byte, 64*48)
			for i := range y {
				y[i] = luma
			}
			clock.Store(t0.Add(at).UnixNano())
			s.frame(&models.Frame{Width: 64, Height: 48, Y: y, U: make([]byte, 32*24), V: make([]byte, 32*24), Capture: t0.Add(at), Seq: seq}, t0.Add(at))
			waitHandled(t, s, seq)
		}
	}

	// The first node: person 100 for 30 s, one challenge issued and failed (the node
	// dies before its runner's own verification: the stored result is what counts).
	wA := writeq.New(quietLogger(), time.Minute)
	a := engine(wA).Open(7, &recordingOutlet{})
	feed(a, 100, 0, 30*time.Second)
	if err := a.ChallengeNow(); err != nil {
		t.Fatal(err)
	}
	pA := a.ch.runner.Progress()
	a.ch.finish(challenge.Result{ID: pA.Active.ID, Kind: pA.Active.Kind, Attempt: 1, Outcome: challenge.OutcomeFailed, Issued: now()})
	feed(a, 100, 30*time.Second, 31*time.Second)
	// The node dies: nothing more is written; the analysis stops without storing.
	wA.Close(context.Background())
	a.finish(models.EndInterrupted, now())
	if mem.writes < 4 || mem.ident == nil || mem.chal == nil {
		t.Fatalf("checkpoint writes %d (identity %v, challenges %v)", mem.writes, mem.ident != nil, mem.chal != nil)
	}

	// The candidate rejoins 20 s later on another node; another face shows.
	clock.Store(t0.Add(51 * time.Second).UnixNano())
	wB := writeq.New(quietLogger(), time.Minute)
	defer wB.Close(context.Background())
	b := engine(wB).Open(7, &recordingOutlet{})
	if !b.started.Equal(a.started) || b.Resumed().IsZero() {
		t.Fatalf("resumed session started %v (resumed %v), want the first part's %v", b.started, b.Resumed(), a.started)
	}
	b.mu.Lock()
	seq = b.decoded // the first part's frames, up to its last stored part (at 30 s)
	b.mu.Unlock()
	if seq < 30*15 {
		t.Fatalf("the resumed session counts %d frames decoded, want the first part's 450+", seq)
	}
	st := b.ChallengeState()
	if st.Failed != 1 || st.Locked || st.Remaining != 2 || st.Running != nil {
		t.Fatalf("resumed challenge state %+v, want 1 failure and the 2 plan items left", st)
	}
	feed(b, 200, 51*time.Second, 60*time.Second)
	if err := b.ChallengeNow(); err != nil {
		t.Fatal(err)
	}
	pB := b.ch.runner.Progress()
	if pB.Active.ID != pA.Plan.Items[1].ID || pB.Next != 2 || len(b.ch.results) != 1 {
		t.Fatalf("after the move: active %+v next %d, want the plan's second item %s", pB.Active, pB.Next, pA.Plan.Items[1].ID)
	}
	b.ch.finish(challenge.Result{ID: pB.Active.ID, Kind: pB.Active.Kind, Attempt: 1, Outcome: challenge.OutcomeFailed, Issued: now()})
	if st := b.ChallengeState(); !st.Locked || st.Failed != 2 {
		t.Fatalf("after a second failure across the move: %+v, want locked (LockAfter 2)", st)
	}
	r := b.finish(models.EndCompleted, now())
	if !r.StartedAt.Equal(a.started) || !r.ResumedAt.Equal(t0.Add(51*time.Second)) || len(r.Challenges) != 2 || r.ChallengeFailures != 2 || !r.Locked {
		t.Fatalf("result: started %v, %d challenges, %d failures, locked %v", r.StartedAt, len(r.Challenges), r.ChallengeFailures, r.Locked)
	}
	if r.FramesDecoded != seq || len(r.FacePresence) != int(seq) || r.FacePresence[0].T != 0 || r.FacePresence[len(r.FacePresence)-1].T < 59000 {
		t.Fatalf("result: %d frames, %d face points from %d ms, want %d from 0 to 60 s", r.FramesDecoded, len(r.FacePresence), r.FacePresence[0].T, seq)
	}
	if r.Identity == nil || len(r.Identity.Changes) != 1 || r.Identity.Changes[0].After.At.Before(t0.Add(51*time.Second)) {
		t.Fatalf("identity after the move: %+v, want one change after the rejoin", r.Identity)
	}
	var change bool
	for _, sg := range r.StageSignals {
		change = change || (sg.Kind == faceid.KindChange && sg.Score > 0)
	}
	if !change {
		t.Fatalf("no identity_change signal: %+v", r.StageSignals)
	}
}

// TestJoinMeasures: stored parts join in order (series appended, counters
// from the last part), and a part of another version, parts out of order,
// or a join longer than the bounds are refused with ErrMeasures, never a
// panic.
func TestJoinMeasures(t *testing.T) {
	pt := func(ts ...int64) []models.Point {
		var out []models.Point
		for _, x := range ts {
			out = append(out, models.Point{T: x, V: 1})
		}
		return out
	}
	m, err := JoinMeasures([]*Measures{
		{V: MeasuresVersion, Seq: 0, FramesDecoded: 2, Face: pt(0, 100), CameraOff: []models.Interval{{From: 10, To: 2000}}},
		{V: MeasuresVersion, Seq: 2, FramesDecoded: 3, Face: pt(200), Cadence: &Cadence{Intervals: 4}},
	})
	if err != nil || m.Seq != 2 || m.FramesDecoded != 3 || len(m.Face) != 3 || m.Face[2].T != 200 || len(m.CameraOff) != 1 ||
		m.Cadence == nil || m.Cadence.Intervals != 4 {
		t.Fatalf("joined %+v, %v", m, err)
	}
	if m, err := JoinMeasures(nil); m != nil || err != nil {
		t.Fatalf("no parts: %+v %v", m, err)
	}
	big := make([]models.Point, MaxSeriesPoints)
	for name, parts := range map[string][]*Measures{
		"version":      {{V: MeasuresVersion + 1}},
		"order":        {{V: MeasuresVersion, Seq: 1}, {V: MeasuresVersion, Seq: 1}},
		"nil":          {nil},
		"long series":  {{V: MeasuresVersion, Seq: 0, AudioLevel: big}, {V: MeasuresVersion, Seq: 1, AudioLevel: pt(1)}},
		"many windows": {{V: MeasuresVersion, Windows: make([]detect.Window, MaxCheckpointWindows+1)}},
	} {
		if m, err := JoinMeasures(parts); !errors.Is(err, ErrMeasures) || m != nil {
			t.Errorf("%s: %+v, %v; want ErrMeasures", name, m, err)
		}
	}
}

// TestUnreadableMeasuresGoOn: a checkpoint whose measurements could not be
// read back resumes the session all the same (its start), logs why, and
// numbers its own parts after every part stored, so that none is written
// over an unread one (ON CONFLICT DO NOTHING would drop it).
func TestUnreadableMeasuresGoOn(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.Add(time.Minute).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	var mu sync.Mutex
	var seqs []int
	w := writeq.New(quietLogger(), time.Minute)
	e := New(Config{Logger: quietLogger(), Now: now, AnalysisFPS: -1, Writes: w, Store: Store{
		Resume: func(context.Context, int64) (*Checkpoint, error) {
			return &Checkpoint{SessionStarted: t0, At: t0.Add(30 * time.Second), NextPart: 5,
				MeasuresErr: fmt.Errorf("%w: part 5 of 5 left out: version 2", ErrMeasures)}, nil
		},
		Checkpoint: func(_ context.Context, cp *Checkpoint) error {
			if cp.Measures != nil {
				mu.Lock()
				seqs = append(seqs, cp.Measures.Seq)
				mu.Unlock()
			}
			return nil
		}}})
	s := e.Open(3, nil)
	if !s.started.Equal(t0) {
		t.Fatalf("session started %v, want the checkpoint's %v", s.started, t0)
	}
	for i := range uint64(12 * 15) {
		at := t0.Add(time.Minute + time.Duration(i)*time.Second/15)
		clock.Store(at.UnixNano())
		s.frame(grey(64, 48, at, i+1), at)
		waitHandled(t, s, i+1)
	}
	s.finish(models.EndCompleted, now())
	w.Close(context.Background())
	if len(seqs) != 1 || seqs[0] != 5 {
		t.Fatalf("parts written %v, want one numbered 5", seqs)
	}
}

// BenchmarkMeasuresPart: the cost of one 10 s part with a face (15 analysed
// fps: 150 points in each face series, 500 audio levels, 20 RTTs, eight
// detectors' windows), marshalled as the writer does.
func BenchmarkMeasuresPart(b *testing.B) {
	t0 := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	pts := func(n int, step int64, v float64) []models.Point {
		out := make([]models.Point, n)
		for i := range out {
			out[i] = models.Point{T: 600000 + int64(i)*step, V: v + float64(i%7)/10}
		}
		return out
	}
	var ws []detect.Window
	for i := range 20 {
		ws = append(ws, detect.Window{Kind: detect.VideoKinds[i%8], From: t0.Add(time.Duration(i) * time.Second), To: t0.Add(time.Duration(i+4) * time.Second),
			Score: 0.123, Confidence: 0.456, Value: 1.234})
	}
	m := &Measures{V: MeasuresVersion, Seq: 60, FramesDecoded: 9000, FramesAnalysed: 9000, AudioChunks: 30000,
		Face: pts(150, 66, 1), Yaw: pts(150, 66, -12.3), EAR: pts(150, 66, 0.281), Mouth: pts(150, 66, 0.052),
		AudioLevel: pts(500, 20, -31.4), RTT: pts(20, 500, 41.7), Windows: ws}
	var n int
	for b.Loop() {
		buf, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		n = len(buf)
	}
	b.ReportMetric(float64(n), "bytes/part")
}
