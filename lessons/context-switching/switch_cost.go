package contextswitching

import (
	"context"
	"fmt"
	"slices"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// Claims of switch-cost, as the lesson states them.
var (
	claimThread = lab.Claim{
		Claim:    "A switch between two threads of one process costs about 1–10 µs.",
		Expected: "1–10 µs per switch",
	}
	claimProcess = lab.Claim{
		Claim:    "A switch between two processes costs about 10–100 µs.",
		Expected: "10–100 µs per switch",
	}
	claimProcVsThread = lab.Claim{
		Claim:    "A process switch costs more than a thread switch.",
		Expected: "a Go program's process ping-pong dearer than its thread ping-pong, round by round, beyond the spread of the rounds",
	}
	claimGoroutine = lab.Claim{
		Claim:    "A goroutine switch costs far less than either.",
		Expected: "at least 5× cheaper than a thread switch and than a process switch, round by round",
	}
	claimPerf = lab.Claim{
		Claim:    "The bare ping-pong, which does only what perf bench sched pipe does, agrees with that standard tool within 25%.",
		Expected: "bare thread and process figures within ±25% of perf's, round by round in the same run",
	}
	claimDirect = lab.Claim{
		Claim:    "The switch itself costs more between processes than between threads, because the CPU has to change address space.",
		Expected: "the bare process ping-pong dearer than the bare thread one, round by round, beyond the spread of the rounds",
	}
)

// A kind of ping-pong in switch-cost.
type pingKind struct {
	key   string // row key in the evidence table: its kind, and _across for one across CPUs
	kind  string // goroutine, thread, process, bare_thread or bare_process: the middle of its metric keys
	label string
	cross bool // across two CPUs: a wake-up latency, not a switch
	per   int  // round trips per timed batch
	run   func(ctx context.Context, a, b int, batches, per int, tick pingpong.Tick) (pingpong.Result, error)
}

// pingKinds are measured in this order: the Go ping-pongs on one CPU, the
// bare ones (right before perf, which does the same), then across CPUs.
var pingKinds = []pingKind{
	{key: "goroutine", kind: "goroutine", label: "goroutines, same CPU", per: 2000, run: pingpong.Goroutines},
	{key: "thread", kind: "thread", label: "OS threads, same CPU", per: 100, run: pingpong.Threads},
	{key: "process", kind: "process", label: "processes, same CPU", per: 100, run: processPingPong},
	{key: "bare_thread", kind: "bare_thread", label: "bare: OS threads, same CPU", per: 100, run: bareThreads},
	{key: "bare_process", kind: "bare_process", label: "bare: processes, same CPU", per: 100, run: bareProcesses},
	{key: "goroutine_across", kind: "goroutine", label: "goroutines, across CPUs", cross: true, per: 100, run: pingpong.Goroutines},
	{key: "thread_across", kind: "thread", label: "OS threads, across CPUs", cross: true, per: 100, run: pingpong.Threads},
	{key: "process_across", kind: "process", label: "processes, across CPUs", cross: true, per: 100, run: processPingPong},
}

// metricKey is the key of the kind's figure per switch: a switch on one
// CPU, a wake-up across two (the page is careful not to call that a
// switch, and so is the key).
func (k pingKind) metricKey() string {
	if k.cross {
		return "wakeup." + k.kind + ".across_cpus"
	}
	return "switch." + k.kind + ".same_cpu"
}

// countKey is the key of the switches the kernel counted for the kind.
func (k pingKind) countKey() string {
	if k.cross {
		return "kernel_switches." + k.kind + ".across_cpus"
	}
	return "kernel_switches." + k.kind + ".same_cpu"
}

// Keys of the reference figures from perf bench sched pipe.
const (
	keyPerfProcess = "reference.perf.process.same_cpu"
	keyPerfThread  = "reference.perf.thread.same_cpu"
)

// switchCostConditional are the keys a run has only when the host can
// measure them: the across-CPU figures need two usable CPUs, the reference
// figures need perf.
func switchCostConditional() []string {
	var keys []string
	for _, k := range pingKinds {
		if k.cross {
			keys = append(keys, k.metricKey(), k.countKey())
		}
	}
	return append(keys, keyPerfProcess, keyPerfThread)
}

// costRounds is how many rounds switch-cost takes its same-CPU kinds and
// perf in turns; each round times a share of the batches of every kind.
const costRounds = 15

// measured is one kind's result, its figures in µs per switch.
type measured struct {
	pingpong.Result
	pinned [2]int // the CPUs the two parties were pinned to
}

func switchCost() *lab.Experiment {
	return &lab.Experiment{
		ID:     "switch-cost",
		Lesson: Slug,
		Title:  "What one context switch costs",
		Summary: "Two goroutines, two OS threads and two processes pass one byte back and forth, first pinned to the same CPU " +
			"so that every hand-off is a real switch, then on two CPUs, where each hand-off has to wake the other CPU. " +
			"A bare ping-pong of threads and of processes does the same with nothing but the two system calls, as perf bench sched pipe does. " +
			"Round trips are timed in batches; one switch is half a round trip. The same-CPU kinds and perf take turns in fifteen rounds, " +
			"so that a slow moment of the machine falls on all of them and the comparisons can be made round by round.",
		Params: []lab.Param{
			lab.Int("batches", "Timed batches per kind", 300, 10, 3000,
				"More batches give a steadier median and a fuller histogram.").WithQuick(20),
			lab.Bool("across", "Also measure across CPUs", true,
				"Put the two parties on different CPUs. That measures how long it takes to wake a thread on another CPU, which is not a switch."),
		},
		Claims:      []lab.Claim{claimThread, claimProcess, claimProcVsThread, claimGoroutine, claimPerf, claimDirect},
		Predictions: switchCostPredictions,
		Charts: []lab.Chart{
			{ID: "median", Kind: "bars", Title: "Cost per switch, by kind", Y: "µs per switch", LogY: true,
				Note: "Median of the timed batches; the whiskers run from the 10th to the 90th percentile."},
			{ID: "batches", Kind: "line", Title: "Every batch as it was timed", X: "batch", Y: "µs per switch", LogY: true,
				Note: "One point per batch of round trips, drawn while the run goes."},
			{ID: "hist", Kind: "hist", Title: "Distribution of batch timings", X: "µs per switch", Y: "batches", LogX: true},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "Proof that switches happened: what the kernel counted (getrusage)", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "rounds", Label: "Round trips"}, {Key: "voluntary", Label: "Voluntary switches"},
			{Key: "involuntary", Label: "Involuntary switches"}, {Key: "cpus", Label: "CPUs seen"},
		}}},
		Conditional: switchCostConditional(),
		Run:         runSwitchCost,
		Workers: map[string]func([]string) int{
			"echo": echoWorker,
			"bare": bareWorker,
		},
	}
}

func runSwitchCost(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	c, err := newCostRun(ctx, p, out)
	if err != nil {
		return err
	}
	// Everything else this process does — sampling, writing events, the Go
	// runtime's own threads — stays off CPU a while the ping-pongs and perf
	// take it in turns, so their figures are theirs alone.
	restore, err := probe.KeepOff(c.a)
	if err != nil {
		return err
	}
	defer restore()
	if err := c.sameCPU(p.Int("batches")); err != nil {
		return err
	}
	for _, k := range c.cross {
		c.progress(k.label)
		r, err := c.time(k, c.b, p.Int("batches"), nil, pingpong.Live(out, "batches", k.label, 1e-3))
		if err != nil {
			return err
		}
		c.keep(k, r, [2]int{c.a, c.b})
	}
	out.Progress("done", c.steps, c.steps)
	c.m.load = out.Load()
	metrics, claims := switchCostResult(c.m)
	out.Result(metrics, claims)
	return nil
}

// costRun is one run of switch-cost: the kinds it times, the CPUs it
// times them on, and what it has measured.
type costRun struct {
	ctx         context.Context
	out         *lab.Emitter
	same, cross []pingKind // the kinds on one CPU, and across two
	a, b        int        // the CPUs: all on a, and a and b across
	step, steps int
	m           switchCostMeasured
}

func newCostRun(ctx context.Context, p lab.Params, out *lab.Emitter) (*costRun, error) {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return nil, err
	}
	across := p.Bool("across")
	if across && len(cpus) < 2 {
		out.Log("Only one CPU is usable here, so the across-CPU figures cannot be measured; only same-CPU switches are.")
		across = false
	}
	c := &costRun{ctx: ctx, out: out, a: cpus[0], b: cpus[0]}
	if len(cpus) > 1 {
		c.b = cpus[1]
	}
	for _, k := range pingKinds {
		switch {
		case !k.cross:
			c.same = append(c.same, k)
		case across:
			c.cross = append(c.cross, k)
		}
	}
	c.steps = (len(c.same)+1)*costRounds + len(c.cross)
	c.m = switchCostMeasured{kinds: append(slices.Clone(c.same), c.cross...), results: map[string]measured{}, rounds: map[string][]float64{}}
	return c, nil
}

func (c *costRun) progress(what string) {
	c.out.Progress(what, c.step, c.steps)
	c.step++
}

// keep turns a kind's finished batches into µs per switch, records them,
// and draws its bar, histogram and the kernel's count.
func (c *costRun) keep(k pingKind, r pingpong.Result, pinned [2]int) {
	res := measured{Result: r, pinned: pinned}
	for i := range res.PerSwitch {
		res.PerSwitch[i] /= 1e3 // ns → µs
	}
	c.m.results[k.key] = res
	s := lab.Summarize(res.PerSwitch)
	c.out.Bar("median", "", k.label, s.P50, s.P10, s.P90)
	c.out.Hist("hist", k.label, lab.Histogram(res.PerSwitch, 0.01, 1000, 50, true))
	c.out.Row("evidence", k.key, map[string]any{
		"kind": k.label, "rounds": res.Rounds, "voluntary": res.Kernel.Voluntary,
		"involuntary": res.Kernel.Involuntary, "cpus": fmt.Sprintf("%d and %d", res.CPUs[0], res.CPUs[1]),
	})
}

// time times one kind's batches; prev are its batches so far, in ns, so
// that its live line goes on where the last round left it.
func (c *costRun) time(k pingKind, cpuB, batches int, prev []float64, tick pingpong.Tick) (pingpong.Result, error) {
	r, err := k.run(c.ctx, c.a, cpuB, batches, k.per, func(v []float64) { tick(append(slices.Clip(prev), v...)) })
	if err != nil {
		if c.ctx.Err() != nil {
			return r, c.ctx.Err()
		}
		return r, fmt.Errorf("%s: %w", k.label, err)
	}
	return r, nil
}

// sameCPU times the same-CPU kinds and perf in turns, round after round,
// so that a slow spell of the machine falls on all of them alike and the
// claims can compare them round by round (lab.Paired).
func (c *costRun) sameCPU(batches int) error {
	c.m.perf = perfMeasured{cpu: c.a, loops: batches * 100}
	c.m.perf.pcid, c.m.perf.pti = probe.TLBFacts()
	perf := probe.ReadHost().Perf
	if perf == "" {
		c.out.Log("perf is not installed here, so there is no reference figure from a standard tool.")
	}
	perRound := max(2, batches/costRounds)
	ticks := map[string]pingpong.Tick{}
	sums := map[string]pingpong.Result{}
	for _, k := range c.same {
		ticks[k.key] = pingpong.Live(c.out, "batches", k.label, 1e-3)
	}
	for r := range costRounds {
		for _, k := range c.same {
			c.progress(fmt.Sprintf("round %d of %d: %s", r+1, costRounds, k.label))
			res, err := c.time(k, c.a, perRound, sums[k.key].PerSwitch, ticks[k.key])
			if err != nil {
				return err
			}
			sums[k.key] = addRound(sums[k.key], res, r == 0)
			c.m.rounds[k.key] = append(c.m.rounds[k.key], lab.Summarize(res.PerSwitch).P50/1e3)
		}
		c.progress(fmt.Sprintf("round %d of %d: perf bench sched pipe", r+1, costRounds))
		if err := c.perfTurn(perf); err != nil {
			return err
		}
	}
	for _, k := range c.same {
		c.keep(k, sums[k.key], [2]int{c.a, c.a})
	}
	if ref := c.m.perf.ref; ref != nil {
		c.out.Bar("median", "", "perf: processes, same CPU", ref.process, ref.process, ref.process)
		c.out.Bar("median", "", "perf: threads, same CPU", ref.thread, ref.thread, ref.thread)
	}
	return nil
}

// addRound adds one round's batches to a kind's sum.
func addRound(sum, res pingpong.Result, first bool) pingpong.Result {
	if first {
		sum.CPUs = res.CPUs
	}
	sum.PerSwitch = append(sum.PerSwitch, res.PerSwitch...)
	sum.Rounds += res.Rounds
	sum.Kernel = sum.Kernel.Add(res.Kernel)
	return sum
}

// perfTurn is perf's turn in a round: a reference from a standard tool,
// on the same CPU. One that fails is said once, and left out after.
func (c *costRun) perfTurn(perf string) error {
	if perf == "" || c.m.perf.err != nil {
		return nil
	}
	proc, thr, err := perfRound(c.ctx, perf, c.a, c.m.perf.loops/costRounds)
	if c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	if err != nil {
		c.m.perf.err, c.m.perf.ref = err, nil
		c.out.Log("perf could not run: " + err.Error())
		return nil
	}
	if c.m.perf.ref == nil {
		c.m.perf.ref = &perfRef{}
	}
	c.m.perf.ref.add(proc, thr)
	return nil
}

// switchCostPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var switchCostPredictions = []lab.Prediction{
	{Claim: 0, Question: "One switch between two OS threads on the same CPU costs about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.01, Max: 1000, Log: true, Key: "switch.thread.same_cpu"},
	{Claim: 1, Question: "One switch between two processes on the same CPU costs about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.01, Max: 1000, Log: true, Key: "switch.process.same_cpu"},
	{Claim: 2, Question: "A process switch of a Go program costs how many times its thread switch?", Kind: lab.PredictNumber, Unit: "×", Min: 0.5, Max: 100, Log: true, Key: "ratio.go.process_thread"},
	{Claim: 3, Question: "One switch between two goroutines costs about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.001, Max: 100, Log: true, Key: "switch.goroutine.same_cpu"},
	{Claim: 5, Question: "Doing only the two system calls, a process switch costs how many times a thread switch?", Kind: lab.PredictNumber, Unit: "×", Min: 0.5, Max: 100, Log: true, Key: "ratio.bare.process_thread"},
}
