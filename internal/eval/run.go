package eval

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Scores are the scores one item received, by detector name (0..1, higher =
// more likely an attack).
type Scores map[string]float64

// Result is the outcome of scoring one item.
type Result struct {
	// Item is the item scored.
	Item Item `json:"item"`
	// Scores are the detector scores; nil when Err is set.
	Scores Scores `json:"scores,omitempty"`
	// Err is the scoring error, if any (also a recovered panic, or the
	// context's error for items never started). Not encoded in JSON; see Error.
	Err error `json:"-"`
	// Error is Err's message, for JSON.
	Error string `json:"error,omitempty"`
	// Elapsed is the time the score function took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Progress is reported after each finished item.
type Progress struct {
	// Done counts finished items (including failed ones) out of Total.
	Done, Total int
	// Failed counts items whose score function returned an error.
	Failed int
	// Result is the item that just finished.
	Result Result
}

// ScoreFunc scores one item. It must be safe for concurrent use.
type ScoreFunc func(ctx context.Context, it Item) (Scores, error)

// Option configures Run.
type Option func(*runConfig)

type runConfig struct {
	progress func(Progress)
}

// WithProgress makes Run call fn after each finished item. Calls come from
// one goroutine at a time, in completion order, so fn needs no locking; a slow
// fn slows the run.
func WithProgress(fn func(Progress)) Option {
	return func(c *runConfig) { c.progress = fn }
}

// Run scores items on a pool of workers goroutines (workers <= 0 means
// runtime.GOMAXPROCS(0), i.e. all cores) and returns one Result per item, in
// the order of items. A failing item records its error in its Result and the
// run goes on; a panicking score function is recovered into an error. When ctx
// is cancelled, items not yet started get ctx.Err() as their error and Run
// returns ctx.Err() after the started ones finish.
func Run(ctx context.Context, items []Item, workers int, score ScoreFunc, opts ...Option) ([]Result, error) {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(items)))
	results := make([]Result, len(items))
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				results[i] = scoreOne(ctx, items[i], score)
				done <- i
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range items {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	var p Progress
	p.Total = len(items)
	started := make([]bool, len(items))
	for i := range done {
		started[i] = true
		p.Done++
		if results[i].Err != nil {
			p.Failed++
		}
		if cfg.progress != nil {
			p.Result = results[i]
			cfg.progress(p)
		}
	}
	for i, ok := range started {
		if !ok {
			err := ctx.Err()
			if err == nil {
				err = context.Canceled
			}
			results[i] = Result{Item: items[i], Err: err, Error: err.Error()}
		}
	}
	return results, ctx.Err()
}

func scoreOne(ctx context.Context, it Item, score ScoreFunc) (r Result) {
	r.Item = it
	start := time.Now()
	defer func() {
		r.Elapsed = time.Since(start)
		if p := recover(); p != nil {
			r.Scores = nil
			r.Err = fmt.Errorf("eval: scoring %s panicked: %v", it.File, p)
		}
		if r.Err != nil {
			r.Error = r.Err.Error()
		}
	}()
	if err := ctx.Err(); err != nil {
		r.Err = err
		return r
	}
	r.Scores, r.Err = score(ctx, it)
	if r.Err != nil {
		r.Err = fmt.Errorf("eval: scoring %s: %w", it.File, r.Err)
	}
	return r
}
