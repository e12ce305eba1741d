package cpuvsiobound

import (
	"context"
	"fmt"
	"sync"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimMixedWins = lab.Claim{
		Claim:    "For mixed work, handling the waits concurrently and handing the computing to a pool of workers, one per core, beats the alternatives that do not overlap the waits or use every core.",
		Expected: "the pool's throughput above sequential's and the one-CPU strategy's, beyond the spread of the rounds " + lab.NeedsTwoCPUs,
	}
	claimPoolAdds = lab.Claim{
		Claim:    "Over plain goroutines on all CPUs, the pool adds little: Go's scheduler already runs goroutines on every core.",
		Expected: "the pool's throughput about that of plain goroutines on all CPUs (within a quarter either way), beyond the spread of the rounds " + lab.NeedsTwoCPUs,
	}
)

// A strategy is one way to serve the same burst of requests.
type strategy struct {
	key, label string // its table row, and its name on the charts
	metric     string // its part of the metric keys
	one        bool   // restricted to one CPU
	serve      func(ctx context.Context, env *pipeline) error
}

var strategies = []strategy{
	{"sequential", "sequential", "sequential", false, serveSequential},
	{"concurrent-1cpu", "goroutines, one CPU", "concurrent_one_cpu", true, serveConcurrent},
	{"concurrent-all", "goroutines, all CPUs", "concurrent_all_cpus", false, serveConcurrent},
	{"mixed", "goroutines for I/O + CPU pool", "mixed", false, serveMixed},
}

// mixedRounds is how many times each concurrent strategy serves the
// burst; sequential, many times slower than the rest, serves it once.
const mixedRounds = 5

func mixedPipeline() *lab.Experiment {
	return &lab.Experiment{
		ID:     "mixed-pipeline",
		Lesson: Slug,
		Title:  "Serving mixed work four ways",
		Summary: "A burst of requests arrives at once. Each one queries the slow local server and waits, computes (hashes), queries again and waits, then writes its response. " +
			"They are served four ways: one after another; all at once as goroutines on one CPU; all at once as goroutines on all CPUs; and all at once with the hashing handed to a pool with one worker per core. " +
			"Goroutines on one CPU do all the computing on one core, as an event loop does, but unlike an event loop's tasks they are preemptive: Go takes the CPU from one that computes for more than about 10 ms. " +
			"Latency is from the burst's arrival to each response; the concurrent strategies serve the burst five times.",
		Params: []lab.Param{
			lab.Int("requests", "Requests in the burst", 100, 4, 200, "How many requests arrive together.").PerCPU(0, 8).WithQuick(12),
			lab.Int("wait", "Server delay per query", 15, 1, 100, "How long the slow server holds back each answer; every request makes two queries.").WithUnit("ms").WithQuick(3),
			lab.Int("compute", "Computing per request", 4, 1, 20, "How long each request hashes, calibrated on one thread.").WithUnit("ms").WithQuick(1),
		},
		Claims:      []lab.Claim{claimMixedWins, claimPoolAdds},
		Predictions: mixedPredictions,
		Charts: []lab.Chart{
			{ID: "done", Kind: "line", Title: "Requests answered as time goes by", X: "ms since the burst arrived", Y: "requests answered",
				Note: "Sampled every 25 ms while each strategy runs; a steeper line is more throughput. The concurrent strategies finish so fast that their lines rise almost straight up."},
			{ID: "throughput", Kind: "bars", Title: "Throughput", Y: "requests per second", LogY: true,
				Note: "Requests answered ÷ time since the burst, updated while each strategy runs."},
			{ID: "latency", Kind: "bars", Title: "Latency, median and 99th percentile", Y: "ms from arrival to response", LogY: true,
				Note: "Over the requests answered so far, updated while each strategy runs."},
		},
		Tables: []lab.Table{{ID: "strategies", Title: "Every request accounted for", Columns: []lab.Column{
			{Key: "strategy", Label: "Strategy"}, {Key: "processed", Label: "Processed"}, {Key: "queries", Label: "Queries answered by the server"},
			{Key: "responses", Label: "Responses received"}, {Key: "rps", Label: "Requests/s"}, {Key: "p50", Label: "p50 (ms)"}, {Key: "p99", Label: "p99 (ms)"},
			{Key: "busy", Label: "CPUs busy"}, {Key: "others", Label: "Other programs (CPUs)"}, {Key: "state", Label: "State"},
		}}},
		Limit: 90 * time.Second, // the largest settings take about 50 s, nearly all of it sequential
		Run:   runMixedPipeline,
	}
}

// pipeline is what a strategy works with: the server to query, the work
// per request, and where to record each response.
type pipeline struct {
	addr   string
	wait   time.Duration
	blocks int
	n      int
	pool   int // CPU workers in the mixed strategy
	t0     time.Time

	mu        sync.Mutex
	latencies []float64 // ms from arrival to response, in order of completion
}

// handle serves request id: query, compute, query, respond. compute does
// the hashing; strategies differ in where it runs.
func (pl *pipeline) handle(ctx context.Context, compute func() [32]byte) error {
	cl, err := kit.DialSlow(ctx, pl.addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := cl.Query(pl.wait, nil); err != nil {
		return err
	}
	if ctx.Err() != nil { // a stopped run does not queue its computing
		return ctx.Err()
	}
	sum := compute()
	if _, err := cl.Query(pl.wait, sum[:]); err != nil {
		return err
	}
	if err := cl.Respond(sum[:]); err != nil {
		return err
	}
	d := time.Since(pl.t0)
	pl.mu.Lock()
	pl.latencies = append(pl.latencies, float64(d.Nanoseconds())/1e6)
	pl.mu.Unlock()
	return nil
}

func (pl *pipeline) hash() [32]byte { return hashBlocks(pl.blocks) }

// serveSequential handles one request at a time.
func serveSequential(ctx context.Context, pl *pipeline) error {
	for range pl.n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := pl.handle(ctx, pl.hash); err != nil {
			return err
		}
	}
	return nil
}

// serveConcurrent starts a goroutine per request; the caller restricts the
// process to one CPU, so the waits overlap and the hashing takes turns.
func serveConcurrent(ctx context.Context, pl *pipeline) error {
	return fanOut(pl.n, func() error { return pl.handle(ctx, pl.hash) })
}

// snippet:mixed-pipeline

// serveMixed starts a goroutine per request for the waiting and hands the
// hashing to a pool of pl.pool workers through a queue.
func serveMixed(ctx context.Context, pl *pipeline) error {
	type job struct{ done chan [32]byte }
	jobs := make(chan job)
	var workers sync.WaitGroup
	for range pl.pool {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				j.done <- pl.hash()
			}
		}()
	}
	err := fanOut(pl.n, func() error {
		return pl.handle(ctx, func() [32]byte {
			j := job{done: make(chan [32]byte, 1)}
			jobs <- j
			return <-j.done
		})
	})
	close(jobs)
	workers.Wait()
	return err
}

// end snippet

// fanOut runs f n times at once and returns the first error.
func fanOut(n int, f func() error) error {
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				once.Do(func() { firstErr = err })
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func runMixedPipeline(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	single := allowed[len(allowed)-1]
	cores := probe.ReadHost().EffectiveCPUs()
	n := p.Int("requests")
	out.Progress("calibrating the hashing", 0, len(strategies))
	rate, err := calibrateHash(single)
	if err != nil {
		return err
	}
	blocks := blocksFor(p.Int("compute"), rate)
	out.Log(fmt.Sprintf("%d requests arrive together. Each makes two queries the server answers after %d ms and hashes %d × 16 KiB (about %d ms of computing); the pool has %d worker%s, one per usable CPU.",
		n, p.Int("wait"), blocks, p.Int("compute"), cores, format.Plural(cores)))
	if cores < 2 {
		out.Log("Only one CPU is usable here, so the pool has one worker and the mixed strategy can do no better than the single-CPU one.")
	}

	results := map[string][]stratResult{}
	steps := 1 + (len(strategies)-1)*mixedRounds
	step := 0
	for round := range mixedRounds {
		for _, s := range strategies {
			if s.key == "sequential" && round > 0 {
				continue
			}
			out.Progress(fmt.Sprintf("%s, round %d", s.label, round+1), step, steps)
			step++
			r, err := runStrategy(ctx, out, s, &pipeline{wait: time.Duration(p.Int("wait")) * time.Millisecond, blocks: blocks, n: n, pool: cores}, single, round)
			if err != nil {
				return err
			}
			results[s.key] = append(results[s.key], r)
		}
	}
	out.Progress("done", steps, steps)
	return mixedResult(out, results, n, cores)
}

// mixedPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var mixedPredictions = []lab.Prediction{
	{Claim: 0, Question: "The mixed strategy (concurrent waits, a pool for the computing) serves how many times as many requests a second as the concurrent one on one CPU?", Kind: lab.PredictNumber, Unit: "×", Min: 0.25, Max: 100, Log: true, Key: "throughput_ratio.mixed_over_concurrent_one_cpu"},
	{Claim: 1, Question: "Over plain goroutines on all CPUs, the pool of workers adds…", Kind: lab.PredictChoice, Choices: []string{"a lot (10% or more)", "little"}, Answer: poolAnswer},
}

// poolAnswer says whether the pool served a tenth more than plain
// goroutines on all CPUs.
func poolAnswer(ms []lab.Metric) (string, bool) {
	pool, ok1 := lab.FindMetric(ms, "throughput.mixed")
	all, ok2 := lab.FindMetric(ms, "throughput.concurrent_all_cpus")
	if !ok1 || !ok2 || all.Value <= 0 {
		return "", false
	}
	if pool.Value/all.Value >= 1.1 {
		return "a lot (10% or more)", true
	}
	return "little", true
}
