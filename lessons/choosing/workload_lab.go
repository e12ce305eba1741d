package choosing

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// ID is the id of the lesson's experiment.
const ID = "workload-lab"

// budget is how long all rounds together are planned to take at most; a
// heavy workload gets fewer rounds rather than running into the limit.
const budget = 60 * time.Second

func workloadLab() *lab.Experiment {
	return &lab.Experiment{
		ID:     ID,
		Lesson: Slug,
		Title:  "Your workload, five ways",
		Summary: "Each task asks a server on this machine for data (a real TCP round trip that answers after the I/O wait) and then " +
			"hashes it for the CPU time you set. The same tasks run sequentially, as goroutines on one CPU, as goroutines on all CPUs, " +
			"on a pool of worker processes, and as goroutines for the I/O feeding a CPU pool; the lab ranks them by wall time.",
		Params: []lab.Param{
			lab.Int("tasks", "Tasks", 48, 1, 200, "How many tasks the workload has.").WithQuick(12),
			lab.Float("cpu_ms", "CPU time per task", 5, 0, 20,
				"Computation per task: SHA-256 rounds, calibrated on this CPU to take this long.").WithUnit("ms").WithQuick(1.0),
			lab.Float("io_ms", "I/O wait per task", 10, 0, 100,
				"How long the server takes to answer each task's request.").WithUnit("ms").WithQuick(2.0),
			lab.Int("rounds", "Rounds", 3, 1, 5,
				"Every strategy runs this many times, taking turns; the spread between rounds shows what counts as a tie.").WithQuick(1),
		},
		Claims:      []lab.Claim{claimRule},
		Predictions: workloadPredictions,
		Charts: []lab.Chart{
			{ID: "wall", Kind: "bars", Title: "Wall time by strategy", Y: "ms",
				Note: "Median over the rounds so far; the whiskers span the fastest and slowest round. Drawn as each strategy finishes."},
			{ID: "progress", Kind: "line", Title: "Tasks finished over time (first round)", X: "ms since the strategy started", Y: "tasks done",
				Note: "Sampled every 25 ms while each strategy runs."},
			{ID: "cpu", Kind: "bars", Title: "CPU time used by strategy", Y: "ms of CPU",
				Note: "getrusage: user + system time of this process, plus the worker processes' own for the pool. Median over the rounds."},
		},
		Tables: []lab.Table{
			{ID: "strategies", Title: "Every strategy, as it runs", Columns: []lab.Column{
				{Key: "strategy", Label: "Strategy"}, {Key: "units", Label: "What ran the tasks"},
				{Key: "done", Label: "Tasks done"}, {Key: "wall", Label: "Wall time, ms (median)"},
				{Key: "cpu", Label: "CPU time, ms"}, {Key: "busy", Label: "CPUs busy on average"},
				{Key: "memory", Label: "Peak memory, MiB"}, {Key: "checksum", Label: "Checksum of results"},
				{Key: "state", Label: "State"},
			}},
			{ID: "ranking", Title: "Ranking by measured wall time", Columns: []lab.Column{
				{Key: "rank", Label: "Rank"}, {Key: "strategy", Label: "Strategy"},
				{Key: "wall", Label: "Wall time, ms (median)"}, {Key: "vs", Label: "× the fastest"},
				{Key: "cpu", Label: "CPU time, ms"}, {Key: "memory", Label: "Peak memory, MiB"},
				{Key: "note", Label: "Note"},
			}},
		},
		Limit: 2 * time.Minute,
		Run:   runWorkloadLab,
		Workers: map[string]func([]string) int{
			"server": serverWorker,
			"task":   taskWorker,
		},
	}
}

// tally is what the rounds measured for one strategy.
type tally struct {
	s        strategy
	walls    []float64 // ms, one per round
	cpus     []float64 // ms of CPU, one per round
	rss      int64     // largest peak resident memory of any round, bytes
	done     int       // fewest tasks done in any round
	sum      digest    // checksum of the first round
	mismatch bool      // a round's checksum differed from the first
	startups []float64 // pool: ms until the slowest worker was ready
	first    runStats  // the first round's own report
}

func (t *tally) wall() lab.Summary { return lab.Summarize(t.walls) }
func (t *tally) cpu() lab.Summary  { return lab.Summarize(t.cpus) }

// labRun is one run of the lab.
type labRun struct {
	out    *lab.Emitter
	env    *labEnv
	w      workload
	rounds int
	tally  map[string]*tally
	steps  int // strategy runs finished, for the progress bar
}

func runWorkloadLab(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	host := probe.ReadHost()
	env := &labEnv{cpus: cpus, workers: max(1, min(host.EffectiveCPUs(), len(cpus))), gomaxprocs: runtime.GOMAXPROCS(0)}
	cpuMs, ioMs := p.Float("cpu_ms"), p.Float("io_ms")
	if env.workers < 2 {
		out.Log("Only one CPU is usable here: goroutines on all CPUs and the pools run on that one CPU, so nothing computes in parallel.")
	}

	// Calibrate before any worker process starts: kit.Calibrate ends its
	// OS thread, and a worker started from that thread would die with it
	// (lab.Worker sets Pdeathsig, which follows the thread, not the process).
	out.Progress("calibrating the computation", 0, 1)
	rate, err := calibrate(ctx, 15*time.Millisecond)
	if err != nil {
		return err
	}

	out.Progress("starting the I/O server", 0, 1)
	addr, stopServer, err := startServer(ctx)
	if err != nil {
		return err
	}
	defer stopServer()
	iters := int(math.Round(cpuMs * rate))
	if cpuMs > 0 {
		iters = max(iters, 1)
	}
	w := workload{n: p.Int("tasks"), addr: addr, delay: time.Duration(ioMs * float64(time.Millisecond)), iters: iters}
	out.Log(fmt.Sprintf("The I/O server listens on %s in a process of its own. Calibration: %.0f SHA-256 rounds per ms of CPU on one thread, so each task hashes %d rounds.", addr, rate, iters))
	if _, err := w.runTask(ctx, -1); err != nil { // warm up the server and the path to it
		return fmt.Errorf("warm-up task: %w", err)
	}

	rounds := p.Int("rounds")
	if est := estimate(w, cpuMs, ioMs, env.workers); rounds > 1 && time.Duration(rounds)*est > budget {
		fit := max(1, int(budget/est))
		out.Log(fmt.Sprintf("One round of this workload should take about %s; running %d round%s instead of %d to stay within the time limit.",
			est.Round(100*time.Millisecond), fit, format.Pick(fit, "", "s"), rounds))
		rounds = fit
	}

	r := &labRun{out: out, env: env, w: w, rounds: rounds, tally: map[string]*tally{}}
	for _, s := range strategies {
		r.tally[s.key] = &tally{s: s, done: w.n}
		out.Row("strategies", s.key, map[string]any{"strategy": s.name, "units": s.units(env, w), "done": fmt.Sprintf("0 / %d", w.n), "state": "waiting"})
	}
	for round := range rounds {
		// Later rounds start with a different strategy, so none always
		// runs first (or right after the heaviest one).
		for i := range strategies {
			s := strategies[(i+round)%len(strategies)]
			if err := r.measure(ctx, s, round); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	out.Progress("done", r.steps*w.n, r.steps*w.n)
	return r.finish(cpuMs, ioMs, rate)
}

// startServer starts the I/O server process and returns its address and
// the function that stops it.
func startServer(ctx context.Context) (string, func(), error) {
	cmd, err := lab.Worker(ctx, ID, "server")
	if err != nil {
		return "", nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := lab.Start(cmd); err != nil {
		return "", nil, fmt.Errorf("start the I/O server: %w", err)
	}
	stop := func() {
		in.Close() // the server exits when its stdin closes
		io.Copy(io.Discard, outPipe)
		cmd.Wait()
	}
	line, err := bufio.NewReader(outPipe).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		stop()
		return "", nil, fmt.Errorf("the I/O server did not start: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// estimate is about how long one round takes: the sum of what each
// strategy should need, plus a little per task and per process.
func estimate(w workload, cpuMs, ioMs float64, workers int) time.Duration {
	n, c, io, p := float64(w.n), cpuMs, ioMs, float64(workers)
	ms := n*(c+io) + (n*c + io) + 2*(n*c/p+io) + n*(c+io)/p + 30*p + 5*n*0.3
	return time.Duration(ms * float64(time.Millisecond))
}

// measure runs one strategy once, with the clock and getrusage around it
// and a sampler that draws its progress.
func (r *labRun) measure(ctx context.Context, s strategy, round int) error {
	t := r.tally[s.key]
	phase := fmt.Sprintf("round %d of %d: %s", round+1, r.rounds, s.name)
	total := r.rounds * len(strategies) * r.w.n
	base := r.steps * r.w.n
	r.out.Row("strategies", s.key, r.cells(t, "running"))
	r.out.Progress(phase, base, total)

	restore := func() error { return nil }
	if s.prepare != nil {
		undo, err := s.prepare(r.env)
		if err != nil {
			return err
		}
		restore = undo
	}
	var done atomic.Int64
	smp := startSampler(r.out, s.label, round == 0, phase, &done, base, total, r.w.n)
	before := probe.ProcessUsage()
	start := time.Now()
	st, err := s.run(ctx, r.env, r.w, &done)
	wall := time.Since(start)
	usage := probe.ProcessUsage().Sub(before)
	peak := smp.stop(wall, st.done)
	if err := errors.Join(err, restore()); err != nil {
		return err
	}

	t.walls = append(t.walls, format.Ms(wall))
	t.cpus = append(t.cpus, format.Ms(usage.CPU()+st.children.CPU()))
	t.rss = max(t.rss, peak+st.childRSS)
	t.done = min(t.done, st.done)
	if round == 0 {
		t.sum, t.first = st.sum, st
	} else if st.sum != t.sum {
		t.mismatch = true
	}
	if s.key == kProcesses {
		t.startups = append(t.startups, format.Ms(st.startup))
	}
	r.steps++

	w, c := t.wall(), t.cpu()
	r.out.Bar("wall", "", s.label, w.P50, w.Min, w.Max)
	r.out.Bar("cpu", "", s.label, c.P50, c.Min, c.Max)
	state := fmt.Sprintf("round %d of %d done", round+1, r.rounds)
	if len(t.walls) == r.rounds {
		state = "finished"
	}
	r.out.Row("strategies", s.key, r.cells(t, state))
	return nil
}

// cells is a strategies-table row for what a strategy measured so far.
func (r *labRun) cells(t *tally, state string) map[string]any {
	c := map[string]any{"strategy": t.s.name, "units": t.s.units(r.env, r.w), "state": state}
	if len(t.walls) == 0 {
		c["done"] = fmt.Sprintf("0 / %d", r.w.n)
		return c
	}
	w, cpu := t.wall(), t.cpu()
	c["done"] = fmt.Sprintf("%d / %d", t.done, r.w.n)
	c["wall"] = format.Sig(w.P50, 3)
	c["cpu"] = format.Sig(cpu.P50, 3)
	c["busy"] = format.Sig(cpu.P50/max(w.P50, 1e-9), 3)
	c["memory"] = format.Sig(float64(t.rss)/(1<<20), 3)
	c["checksum"] = t.sum.short()
	if t.mismatch {
		c["checksum"] = t.sum.short() + " (a later round differed!)"
	}
	return c
}

// workloadPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var workloadPredictions = []lab.Prediction{
	{Claim: 0, Question: "Which strategy finishes your workload first?", Kind: lab.PredictChoice, Choices: []string{"sequential", "goroutines on one CPU", "goroutines on all CPUs", "a pool of processes", "goroutines for the I/O, a pool for the computing"}, Answer: fastestAnswer},
}

// strategyWalls are the choices of the workload prediction and the
// metrics of their wall times.
var strategyWalls = []struct{ choice, key string }{
	{"sequential", "wall.sequential"}, {"goroutines on one CPU", "wall.one_cpu"}, {"goroutines on all CPUs", "wall.all_cpus"},
	{"a pool of processes", "wall.processes"}, {"goroutines for the I/O, a pool for the computing", "wall.mixed"},
}

// fastestAnswer is the strategy with the shortest wall time.
func fastestAnswer(ms []lab.Metric) (string, bool) {
	best, bestWall := "", 0.0
	for _, s := range strategyWalls {
		m, ok := lab.FindMetric(ms, s.key)
		if !ok {
			return "", false
		}
		if best == "" || m.Value < bestWall {
			best, bestWall = s.choice, m.Value
		}
	}
	return best, best != ""
}
