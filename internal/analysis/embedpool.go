package analysis

import (
	"runtime"
	"sync"
)

// embedPool runs the face-identity embeddings of an engine's live sessions
// off their analysis goroutines. Inline, an embedding (11–30 ms of CPU,
// BenchmarkEmbed) held one of the Gate's NumCPU analysis slots, and the
// frame it was taken from was observed only after it: at N = 30 on two
// cores about one analysed frame in six carried one (one face per 2 s of
// 5 fps, four per second of a challenge's 15 fps), which made the
// capture→observation p95 (67 ms against 31 ms in challenges, docs/BENCH.md)
// and delayed the frames queued behind the two slots.
//
// At most workers embeddings run at once, on goroutines that exist while
// there is work, at the process's priority: they share the cores with the
// frames' measurements instead of holding their slots. (A lower thread
// priority, nice +10, was tried: on the shared machine, where the bench
// itself runs under nice and other processes load the cores, the
// embeddings got no CPU at all, the sessions' queues of faces filled, and
// their analysis goroutines stopped at waitRoom — 0.2 analysed fps at
// N = 30.) Sessions take turns one job at a time; a session's jobs run one
// at a time, in the order taken.
type embedPool struct {
	workers int

	mu      sync.Mutex
	queue   []*identityStage // sessions with a job waiting, each at most once (identityStage.scheduled)
	running int
}

func newEmbedPool(workers int) *embedPool {
	if workers <= 0 {
		workers = min(4, runtime.NumCPU())
	}
	return &embedPool{workers: workers}
}

// schedule queues a session whose jobs wait, starting a worker when fewer
// than workers run.
func (p *embedPool) schedule(st *identityStage) {
	p.mu.Lock()
	p.queue = append(p.queue, st)
	start := p.running < p.workers
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

// work runs queued sessions' jobs, one job per turn, until the queue is
// empty.
func (p *embedPool) work() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		st := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		if st.runOne() {
			p.mu.Lock()
			p.queue = append(p.queue, st)
			p.mu.Unlock()
		}
	}
}
