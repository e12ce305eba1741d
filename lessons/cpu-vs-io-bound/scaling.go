package cpuvsiobound

import (
	"context"
	"fmt"
	"slices"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimIOScales = lab.Claim{
		Claim:    "Work that waits on I/O keeps speeding up as workers are added, far past the number of cores.",
		Expected: "with workers far past the CPUs (ten times as many or more), speedup still rising beyond its figure at the CPU count and reaching five times the CPU count or more",
	}
	claimCPUStops = lab.Claim{
		Claim:    "Work that computes stops speeding up at the number of cores.",
		Expected: "speedup rises to about the number of cores, then stays about there (hyper-threads count as cores only where they add nothing) " + lab.NeedsTwoCPUs,
	}
	claimOneCPU = lab.Claim{
		Claim:    "On one CPU, more workers give computing work no speedup at all.",
		Expected: "speedup about 1 or less at every worker count",
	}
)

// A curve of the scaling experiment: one kind of task on one set of CPUs.
type curve struct {
	key, label string // its table row and its line on the chart
	metric     string // its part of the metric keys, such as io_bound.all_cpus
	io         bool   // I/O-bound (else CPU-bound)
	one        bool   // restricted to one CPU
	curveFigures
	base     time.Duration // fastest one-worker batch seen
	baseRun  batchResult   // the one-worker batch of the first point, for rates
	last     batchResult   // the latest point's fastest batch
	lastBase time.Duration // the one-worker time the latest point was compared with
	done     int           // tasks done over every round
	answered int64         // queries the server answered for this curve
}

func scaling() *lab.Experiment {
	return &lab.Experiment{
		ID:     "scaling",
		Lesson: Slug,
		Title:  "Add workers: who gets faster?",
		Summary: "Two batches of tasks are shared among 1, 2, 4 … workers (goroutines). I/O-bound tasks each send a query to a local TCP server " +
			"that answers after a delay and wait on the socket; CPU-bound tasks each hash a buffer with SHA-256. Each batch runs with every CPU " +
			"available and again restricted to one CPU (GOMAXPROCS=1, every thread pinned). Speedup is how many tasks a second the workers finish against one worker alone, with at most 64 tasks per worker in a batch.",
		Params: []lab.Param{
			// "Far past the number of cores" needs workers and tasks far
			// past the CPUs on any machine: 16 per CPU by default (at
			// least 64), up to 64 per CPU.
			lab.Int("max-workers", "Most workers", 64, 1, 64, "Worker counts double from 1 up to this (the core count is always included).").PerCPU(16, 64).WithQuick(8),
			lab.Int("tasks", "Tasks per batch", 64, 8, 128, "How many tasks each batch holds; with more workers than tasks the extra workers sit idle. A point with few workers runs 64 tasks per worker and compares rates.").PerCPU(16, 64).WithQuick(16),
			lab.Int("delay", "Server delay per I/O task", 5, 1, 20, "How long the local server holds back each answer.").WithUnit("ms").WithQuick(4),
			lab.Int("compute", "CPU time per CPU task", 1, 1, 5, "How long one CPU-bound task hashes, calibrated on one thread before the run.").WithUnit("ms").WithQuick(1),
			lab.Int("rounds", "Rounds per point", 3, 1, 4, "Each batch is timed this many times. The chart shows the fastest (other programs can slow a round down, never speed it up); the verdicts read the spread between rounds as noise.").WithQuick(1),
		},
		Claims:      []lab.Claim{claimIOScales, claimCPUStops, claimOneCPU},
		Predictions: scalingPredictions,
		Charts: []lab.Chart{
			{ID: "speedup", Kind: "line", Title: "Speedup against the number of workers", X: "workers", Y: "speedup (×)", LogX: true, LogY: true,
				Note: "Speedup = tasks finished per second with n workers ÷ with one, fastest of the rounds (a batch gives each worker at most 64 tasks); for CPU-bound points the one-worker batch is re-timed next to each point. The dashed lines are the number of CPUs this run may use and, with hyper-threads, of physical cores. The two I/O-bound curves nearly coincide: waiting needs no CPU."},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "What each curve did", Columns: []lab.Column{
			{Key: "curve", Label: "Curve"}, {Key: "done", Label: "Tasks done"}, {Key: "answered", Label: "Answered by the server"},
			{Key: "base", Label: "1 worker (ms)"}, {Key: "most", Label: "Latest point (ms)"}, {Key: "best", Label: "Best speedup"},
			{Key: "busy", Label: "CPUs busy, latest point"},
		}}},
		// A run with fewer workers than cores has no point at the core count.
		Conditional: []string{keyCPUAtCores},
		Limit:       120 * time.Second, // the largest settings take about 70 s on two idle cores
		Run:         runScaling,
	}
}

// workerCounts doubles from 1 to most, with the core and CPU counts and
// most itself.
func workerCounts(most int, counts ...int) []int {
	var ws []int
	for w := 1; w <= most; w *= 2 {
		ws = append(ws, w)
	}
	ws = append(ws, most)
	for _, c := range counts {
		if c <= most {
			ws = append(ws, c)
		}
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// scalingHost is what the run may use: logical CPUs and the physical
// cores under them.
type scalingHost struct{ cpus, cores int }

func runScaling(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	h := probe.ReadHost()
	host := scalingHost{cpus: h.EffectiveCPUs(), cores: h.EffectiveCores()}
	cores := host.cpus
	// One CPU: the last allowed one, away from CPU 0 where interrupts and
	// most other pinned work land.
	single := allowed[len(allowed)-1]
	most, tasks, rounds := p.Int("max-workers"), p.Int("tasks"), p.Int("rounds")
	delay := time.Duration(p.Int("delay")) * time.Millisecond
	if most > tasks {
		out.Log(fmt.Sprintf("%d workers share %d tasks, so beyond %d workers the extra ones have nothing to do.", most, tasks, tasks))
	}
	if cores < 2 {
		out.Log("Only one CPU is usable here: \"all CPUs\" and \"one CPU\" are the same machine, so the computing curves cannot rise above 1.")
	}

	srv, err := kit.StartSlowServer(nil)
	if err != nil {
		return err
	}
	defer srv.Close(ctx)
	out.Log(fmt.Sprintf("The slow server listens on %s and answers each query after %s.", srv.Addr(), delay))

	out.Progress("calibrating the hashing", 0, 1)
	rate, err := calibrateHash(single)
	if err != nil {
		return err
	}
	blocks := blocksFor(p.Int("compute"), rate)
	out.Log(fmt.Sprintf("One thread hashes %.0f MiB/s here; a CPU-bound task hashes %d × 16 KiB (about %d ms).", rate.PerMs*blockSize*1e3/(1<<20), blocks, p.Int("compute")))
	out.Mark("speedup", float64(cores), fmt.Sprintf("%d CPUs", cores))
	if host.cores < host.cpus {
		out.Mark("speedup", float64(host.cores), fmt.Sprintf("%d cores", host.cores))
		out.Log(fmt.Sprintf("The %d CPUs this run may use sit on %d physical cores: the others are hyper-threads, second threads of a core that share its units.", host.cpus, host.cores))
	}

	curves := []*curve{
		{key: "io-all", label: "I/O-bound, all CPUs", metric: "io_bound.all_cpus", io: true},
		{key: "io-one", label: "I/O-bound, one CPU", metric: "io_bound.one_cpu", io: true, one: true},
		{key: "cpu-all", label: "CPU-bound, all CPUs", metric: "cpu_bound.all_cpus"},
		{key: "cpu-one", label: "CPU-bound, one CPU", metric: "cpu_bound.one_cpu", one: true},
	}
	ws := workerCounts(most, host.cpus, host.cores)
	step, steps := 0, len(ws)*len(curves)
	for _, w := range ws {
		for _, c := range curves {
			out.Progress(fmt.Sprintf("%s, %d worker%s", c.label, w, format.Plural(w)), step, steps)
			step++
			m := &measure{tasks: tasks, rounds: rounds, task: cpuTask(blocks)}
			if c.io {
				m.addr, m.task = srv.Addr(), ioTask(delay)
			}
			a0 := srv.Answered()
			if err := m.point(ctx, c, w, single); err != nil {
				return err
			}
			c.answered += srv.Answered() - a0
			out.Point("speedup", c.label, float64(w), format.Round(c.speedup[w], 3))
			row := map[string]any{"curve": c.label, "done": c.done, "base": format.Round(format.Ms(c.base), 3), "most": format.Round(format.Ms(c.last.wall), 3),
				"best": format.Round(maxSpeedup(c.speedup), 2), "busy": format.Round(c.last.busy(), 2)}
			if c.io {
				row["answered"] = c.answered
			}
			out.Row("evidence", c.key, row)
		}
		out.Gauge("Queries answered by the local server", float64(srv.Answered()), "")
	}
	out.Progress("done", steps, steps)
	return scalingResult(out, curves, most, host, tasks, srv.Answered())
}

// scalingPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var scalingPredictions = []lab.Prediction{
	{Claim: 0, Question: "With the most workers, on all CPUs, I/O-bound tasks finish how many times faster than with one worker?", Kind: lab.PredictNumber, Unit: "×", Min: 0.5, Max: 1000, Log: true, Key: "speedup.io_bound.all_cpus.most_workers"},
	{Claim: 1, Question: "With the most workers, on all CPUs, CPU-bound tasks finish how many times faster than with one?", Kind: lab.PredictNumber, Unit: "×", Min: 0.5, Max: 1000, Log: true, Key: "speedup.cpu_bound.all_cpus.most_workers"},
	{Claim: 2, Question: "On one CPU, the most workers make CPU-bound tasks finish how many times faster than one worker?", Kind: lab.PredictNumber, Unit: "×", Min: 0.1, Max: 1000, Log: true, Key: "speedup.cpu_bound.one_cpu.most_workers"},
}
