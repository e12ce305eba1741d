package greenthreads

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

var (
	claimCheapest = lab.Claim{
		Claim:    "A switch between coroutines is the cheapest of the three: cheaper than between goroutines, far cheaper than between OS threads.",
		Expected: "per switch: a coroutine cheaper than a goroutine, and at least 5× cheaper than an OS thread",
	}
	claimOneCPU = lab.Claim{
		Claim:    "Coroutines on one thread cannot use more than one CPU; goroutines can use them all.",
		Expected: "coroutines keep about 1 CPU busy; goroutines about as many as there are CPUs " + lab.NeedsTwoCPUs,
	}
)

// switchKind is one kind of party in the switch ping-pong.
type switchKind struct {
	key, label string // key: the middle word of its metrics' keys
	per        int    // round trips per timed batch
	run        func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error)
	where      string
}

// Every kind runs on one CPU, so every hand-off really is a switch.
var switchKinds = []switchKind{
	{"coroutine", "coroutines (iter.Pull)", 20_000, pingpong.Coroutines, "user space: the runtime swaps stacks directly"},
	{"goroutine", "goroutines (channels)", 5_000, func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
		return pingpong.Goroutines(ctx, cpu, cpu, batches, per, tick)
	}, "user space: through the Go scheduler"},
	{"thread", "OS threads (pipes)", 200, func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
		return pingpong.Threads(ctx, cpu, cpu, batches, per, tick)
	}, "the kernel: sleep in read, wake on write"},
}

func coroutineSwitch() *lab.Experiment {
	return &lab.Experiment{
		ID:     "coroutine-switch",
		Lesson: Slug,
		Title:  "The cheapest switch, and its limit",
		Summary: "Two coroutines, two goroutines and two OS threads hand control back and forth, all on one CPU, in timed batches; " +
			"one switch is half a round trip. Then T tasks of pure computation run twice: as coroutines resumed in turn by one loop " +
			"on one thread, and as goroutines on every CPU the runtime may use.",
		Params: []lab.Param{
			lab.Int("batches", "Timed batches per kind", 200, 10, 2000,
				"More batches give a steadier median.").WithQuick(20),
			// "Can use them all": at least as many tasks as CPUs, on any
			// machine (two per CPU by default).
			lab.Int("tasks", "Tasks (T)", 8, 2, 64, "How many CPU-bound tasks share the work; fewer than the CPUs leaves some idle.").PerCPU(2, 8),
			lab.Int("work", "Work in all", 1200, 50, 5000,
				"CPU time the tasks need together, calibrated on this CPU.").WithUnit("ms").WithQuick(150),
		},
		Claims:      []lab.Claim{claimCheapest, claimOneCPU},
		Predictions: coroutinePredictions,
		Charts: []lab.Chart{
			{ID: "switch", Kind: "bars", Title: "Cost of one switch", Y: "ns per switch", LogY: true,
				Note: "Median of the timed batches, all on one CPU; whiskers from the 10th to the 90th percentile."},
			{ID: "batches", Kind: "line", Title: "Every batch as it was timed", X: "batch", Y: "ns per switch", LogY: true},
			{ID: "cpus", Kind: "line", Title: "CPUs kept busy by the same work", X: "ms since the work began", Y: "CPUs busy",
				Note: "The process's CPU time (getrusage) gained in each 100 ms, divided by 100 ms."},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "Where each switch happens: what the kernel counted (getrusage)", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "rounds", Label: "Round trips"}, {Key: "ns", Label: "ns per switch (median)"},
			{Key: "voluntary", Label: "Kernel switches, voluntary"}, {Key: "involuntary", Label: "Kernel switches, involuntary"}, {Key: "where", Label: "Who switches"},
		}}},
		Limit: 90 * time.Second,
		Run:   runCoroutineSwitch,
	}
}

func runCoroutineSwitch(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	cpu := cpus[0]
	batches := p.Int("batches")
	steps := len(switchKinds) + 2
	runs := map[string]pingpong.Result{}
	for i, k := range switchKinds {
		out.Progress(k.label, i, steps)
		r, err := k.run(ctx, cpu, batches, k.per, pingpong.Live(out, "batches", k.label, 1))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", k.label, err)
		}
		runs[k.key] = r
		s := lab.Summarize(r.PerSwitch)
		out.Bar("switch", "", k.label, s.P50, s.P10, s.P90)
		out.Row("evidence", k.key, map[string]any{
			"kind": k.label, "rounds": r.Rounds, "ns": s.P50, "voluntary": r.Kernel.Voluntary,
			"involuntary": r.Kernel.Involuntary, "where": k.where,
		})
	}

	// The same computation two ways.
	tasks := p.Int("tasks")
	slice := sliceCost()
	slices := max(1, int(time.Duration(p.Int("work"))*time.Millisecond/slice)/tasks)
	out.Log(fmt.Sprintf("One slice of work takes %s here; each of the %d tasks does %d slices.", slice.Round(100*time.Nanosecond), tasks, slices))
	out.Progress("tasks as coroutines on one thread", len(switchKinds), steps)
	coro := timeWork(out, "coroutines, one thread", func() { onCoroutines(ctx, tasks, slices) })
	out.Progress("tasks as goroutines on all CPUs", len(switchKinds)+1, steps)
	goro := timeWork(out, "goroutines, all CPUs", func() { onGoroutines(ctx, tasks, slices) })
	if err := ctx.Err(); err != nil {
		return err
	}
	out.Progress("done", steps, steps)

	metrics, claims := judgeCoroutineSwitch(coroMeasured{switches: runs, coro: coro, goro: goro, usable: probe.ReadHost().EffectiveCPUs(), tasks: tasks, load: out.Load()})
	out.Result(metrics, claims)
	return nil
}

// ms is a duration in milliseconds.

// coroutinePredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var coroutinePredictions = []lab.Prediction{
	{Claim: 0, Question: "One switch between two coroutines (iter.Pull) costs about how long?", Kind: lab.PredictNumber, Unit: "ns", Min: 0.1, Max: 1000000, Log: true, Key: "switch.coroutine.same_cpu"},
	{Claim: 1, Question: "How many CPUs can coroutines on one thread keep busy?", Kind: lab.PredictNumber, Unit: "CPUs", Min: 0.1, Max: 64, Log: true, Key: "work.cpus_busy.coroutines_one_thread"},
}
