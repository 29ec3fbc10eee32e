package analysis

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/models"
)

// fakeEmbedder makes a face sample from the frame's pixels (so a frame
// copied wrongly or overwritten before its turn gives another descriptor),
// rejects frames whose second luma byte is odd, and records how many calls
// run at once. With block set, every call first waits for a token.
type fakeEmbedder struct {
	block chan struct{}

	mu        sync.Mutex
	cur, peak int
	calls     int
}

func (e *fakeEmbedder) Describe(f *models.Frame, o *models.Observation, _ faceid.Gate) (faceid.Sample, string, error) {
	e.mu.Lock()
	e.cur++
	e.peak = max(e.peak, e.cur)
	e.calls++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.cur--
		e.mu.Unlock()
	}()
	if e.block != nil {
		<-e.block
	}
	for range int(f.Y[0]) % 4 { // uneven durations, so that workers overtake each other
		runtime.Gosched()
	}
	if f.Y[1]%2 == 1 {
		return faceid.Sample{}, faceid.RejectBlur, nil
	}
	s := faceid.Sample{At: o.At}
	for k := range s.D {
		s.D[k] = float32(f.Y[(k+int(f.Y[0]))%len(f.Y)]) / 255 * 0.2
	}
	return s, "", nil
}

// embedFrame fills the caller's one frame buffer with the i-th picture.
func embedFrame(f *models.Frame, i int) {
	f.Width, f.Height = 8, 8
	if len(f.Y) == 0 {
		f.Y, f.U, f.V = make([]byte, 64), make([]byte, 16), make([]byte, 16)
	}
	for k := range f.Y {
		f.Y[k] = byte(i*7 + k*k*(i%5+1))
	}
	f.Capture = FileEpoch.Add(time.Duration(i) * 100 * time.Millisecond)
}

// identityTestStage is a session's identity stage over emb, with pool nil:
// inline, as offline.
func identityTestStage(t *testing.T, emb faceid.Embedder, pool *embedPool) *identityStage {
	t.Helper()
	cfg := Config{Logger: quietLogger(), Now: func() time.Time { return FileEpoch },
		Identity: IdentityConfig{Model: emb, Session: faceid.SessionConfig{Every: 10 * time.Millisecond}}}
	s := newSession(cfg.withDefaults(), 0, nil, false)
	return newIdentityStage(s, cfg.Identity, pool)
}

// TestEmbedPoolFoldsInOrder: four sessions sharing a pool of two workers,
// fed at once, each with the one reused frame buffer of an analysis
// goroutine, get the same identity reports and history as the same frames
// embedded inline (templates and changes depend on the order of the
// samples), with at most two embeddings running at once and at most
// maxIdentityJobs frames waiting per session.
func TestEmbedPoolFoldsInOrder(t *testing.T) {
	const sessions, frames = 4, 60
	emb := &fakeEmbedder{}
	pool := newEmbedPool(2)
	want := identityTestStage(t, emb, nil)
	var f models.Frame
	for i := range frames {
		embedFrame(&f, i)
		want.Frame(&f, models.Observation{At: f.Capture})
	}
	wantRep, wantHist := want.report(), want.ids.History()
	if wantRep.Embedded < frames/3 || len(wantRep.Rejected) == 0 || len(wantHist) < frames/3 {
		t.Fatalf("inline: %d embedded, rejected %v, %d history points: the fixture should embed and reject", wantRep.Embedded, wantRep.Rejected, len(wantHist))
	}
	emb.peak = 0

	stages := make([]*identityStage, sessions)
	var wg sync.WaitGroup
	errs := make(chan string, sessions*frames)
	for n := range stages {
		st := identityTestStage(t, emb, pool)
		stages[n] = st
		wg.Add(1)
		go func() { // one session's analysis goroutine
			defer wg.Done()
			var f models.Frame
			for i := range frames {
				embedFrame(&f, i)
				st.Frame(&f, models.Observation{At: f.Capture})
				st.mu.Lock()
				if len(st.jobs) > maxIdentityJobs {
					errs <- "more frames waiting than maxIdentityJobs"
				}
				st.mu.Unlock()
				st.waitRoom(context.Background())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	for n, st := range stages {
		rep, hist := st.report(), st.ids.History()
		if !reflect.DeepEqual(rep, wantRep) || !reflect.DeepEqual(hist, wantHist) {
			t.Fatalf("session %d: the pool gave another identity report than inline: %s against %s", n, repSummary(rep, hist), repSummary(wantRep, wantHist))
		}
		for i := 1; i < len(hist); i++ {
			if !hist[i].At.After(hist[i-1].At) {
				t.Fatalf("session %d: history out of order at %d: %v after %v", n, i, hist[i].At, hist[i-1].At)
			}
		}
		if st.taken != frames || st.folded != frames || len(st.jobs) != 0 || len(st.free) > 2 {
			t.Fatalf("session %d: %d taken, %d folded, %d waiting, %d spare buffers", n, st.taken, st.folded, len(st.jobs), len(st.free))
		}
	}
	if emb.peak > 2 || emb.peak < 1 {
		t.Errorf("%d embeddings ran at once on a pool of 2", emb.peak)
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.running != 0 || len(pool.queue) != 0 {
		t.Errorf("idle pool: %d workers running, %d sessions queued", pool.running, len(pool.queue))
	}
}

// TestEmbedPoolBoundsAndSettles: with the embedding stuck, a session keeps
// at most maxIdentityJobs frames waiting (the analysis goroutine waits for
// room instead of copying more), and a challenge's identity metrics wait
// for the faces taken before its verification: none is missing from the
// windows once the embedding goes on.
func TestEmbedPoolBoundsAndSettles(t *testing.T) {
	emb := &fakeEmbedder{block: make(chan struct{})}
	st := identityTestStage(t, emb, newEmbedPool(1))
	var f models.Frame
	embedded := 0
	for i := range maxIdentityJobs {
		embedFrame(&f, i)
		if f.Y[1]%2 == 0 {
			embedded++
		}
		st.Frame(&f, models.Observation{At: f.Capture})
	}
	st.mu.Lock()
	waiting := len(st.jobs)
	st.mu.Unlock()
	if waiting != maxIdentityJobs || embedded < 2 {
		t.Fatalf("%d frames waiting (want %d), %d of them embeddable", waiting, maxIdentityJobs, embedded)
	}
	roomc := make(chan struct{})
	go func() { st.waitRoom(context.Background()); close(roomc) }()
	r := challenge.Result{ID: "c", Issued: FileEpoch.Add(200 * time.Millisecond), Deadline: FileEpoch.Add(500 * time.Millisecond), Metrics: map[string]float64{}}
	metricsc := make(chan struct{})
	go func() { st.challengeMetrics(&r, FileEpoch.Add(time.Hour)); close(metricsc) }()

	// Nothing was embedded: neither may go on.
	select {
	case <-roomc:
		t.Fatal("waitRoom returned with the queue full")
	case <-metricsc:
		t.Fatal("the challenge's identity windows were read before its faces were embedded")
	default:
	}
	close(emb.block)
	deadline := time.After(20 * time.Second)
	for _, c := range []chan struct{}{roomc, metricsc} {
		select {
		case <-c:
		case <-deadline:
			t.Fatal("still waiting after the embeddings were released")
		}
	}
	// The first embedded face makes the identity; every later one has a distance in a window.
	if got := r.Metrics[MetricIdentitySamples]; int(got) != embedded-1 {
		t.Errorf("%v samples in the challenge's windows, want %d (metrics %v)", got, embedded-1, r.Metrics)
	}
	if st.taken != maxIdentityJobs || st.folded != maxIdentityJobs {
		t.Errorf("%d taken, %d folded", st.taken, st.folded)
	}
}

// repSummary describes a report without its descriptors.
func repSummary(r *faceid.Report, hist []faceid.Point) string {
	s := fmt.Sprintf("%d embedded, rejected %v, %d identities (main %d), %d changes, %d history points", r.Embedded, r.Rejected,
		len(r.Identities), r.Main, len(r.Changes), len(hist))
	for _, id := range r.Identities {
		s += fmt.Sprintf("; identity of %d samples from %v", id.Samples, id.First.Sub(FileEpoch))
	}
	return s
}
