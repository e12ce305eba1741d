package concurrencyvsparallelism

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Modes of cpu-timeline, in the order "all" runs them.
var modes = []string{"concurrent", "parallel", "combined"}

var (
	claimTurns = lab.Claim{
		Claim:    "On one CPU the tasks take turns, and the wall time is about the sum of their CPU times.",
		Expected: "the tasks interleave on one CPU; wall time about the sum of their CPU times (within a quarter)",
	}
	claimOverlap = lab.Claim{
		Claim:    "On N CPUs the tasks overlap in time, and the wall time drops toward 1/N of what one CPU needs.",
		Expected: "tasks running at the same instants on different CPUs for most of the time; by the wall clock, about N times as fast as one CPU, within a quarter " + lab.NeedsTwoCPUs,
	}
)

func cpuTimeline() *lab.Experiment {
	charts := make([]lab.Chart, 0, 2*len(modes))
	for _, m := range modes {
		charts = append(charts,
			lab.Chart{ID: "cpu-" + m, Kind: "lanes", Title: chartTitles[m][0], X: "ms since the tasks started",
				Note: "One lane per CPU, coloured by the task running on it. Each task asked which CPU it was on (getcpu) after every 20–40 µs of work; a pause of many samples' length means it was off the CPU."},
			lab.Chart{ID: "task-" + m, Kind: "lanes", Title: chartTitles[m][1], X: "ms since the tasks started",
				Note: "The same samples, one lane per task, coloured by the CPU it ran on. A gap is time the task was ready to run but had no CPU."},
		)
	}
	return &lab.Experiment{
		ID:     "cpu-timeline",
		Lesson: Slug,
		Title:  "Who ran where, and when",
		Summary: "Tasks that only compute, each with the same fixed amount of work, run on one CPU, then one CPU each, then more tasks than CPUs. " +
			"Every task is an OS thread that keeps asking the kernel which CPU it is on; the lanes below are drawn from those answers as they arrive.",
		Params: []lab.Param{
			lab.Choice("mode", "Timeline", "all", append([]string{"all"}, modes...),
				"concurrent: the tasks share one CPU; parallel: one CPU each; combined: twice as many tasks as CPUs; all: the three in turn."),
			lab.Int("work", "Work per task", 300, 20, 2000, "CPU time one task needs on its own.").WithUnit("ms").WithQuick(40),
			lab.Int("cpus", "CPUs", 2, 1, 8, "CPUs for the parallel and combined timelines (and tasks in the first two). More than this machine has means all of them.").PerCPU(1, 1),
		},
		Claims:      []lab.Claim{claimTurns, claimOverlap},
		Predictions: timelinePredictions,
		Charts:      charts,
		Tables: []lab.Table{{ID: "tasks", Title: "Every task", Columns: []lab.Column{
			{Key: "mode", Label: "Timeline"}, {Key: "task", Label: "Task"}, {Key: "allowed", Label: "May run on CPU"},
			{Key: "seen", Label: "Ran on CPU"}, {Key: "samples", Label: "getcpu samples"}, {Key: "spans", Label: "Spans"},
			{Key: "cpu_ms", Label: "CPU time (ms)"}, {Key: "end_ms", Label: "Finished at (ms)"},
			{Key: "involuntary", Label: "Involuntary switches"}, {Key: "voluntary", Label: "Voluntary switches"}, {Key: "state", Label: "State"},
		}}},
		Conditional: timelineConditional(),
		Limit:       90 * time.Second,
		Run:         runCPUTimeline,
	}
}

// chartTitles are the titles of each mode's two charts.
var chartTitles = map[string][2]string{
	"concurrent": {"Concurrent only: what the one CPU ran (colour = task)", "Concurrent only: when each task ran (colour = CPU)"},
	"parallel":   {"Parallel: what each CPU ran (colour = task)", "Parallel: when each task ran (colour = CPU)"},
	"combined":   {"Combined: what each CPU ran (colour = task)", "Combined: when each task ran (colour = CPU)"},
}

// modeLabels name the timelines in prose and tables.
var modeLabels = map[string]string{"concurrent": "Concurrent only", "parallel": "Parallel", "combined": "Combined"}

func runCPUTimeline(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	host := probe.ReadHost()
	usable := min(len(allowed), host.EffectiveCPUs())
	n := p.Int("cpus")
	if n > usable {
		out.Log(fmt.Sprintf("Asked for %d CPUs; %s, so %d %s used.", n, usableWhy(len(allowed), host.Quota), usable, format.Pick(usable, "is", "are")))
		n = usable
	}
	// One CPU per physical core first: n tasks "on n CPUs" should not land
	// on two hyper-threads of one core while another core sits idle.
	cpus := probe.SpreadOverCores(allowed)[:n]
	cores := probe.Cores(cpus)
	if cores < n {
		out.Log(fmt.Sprintf("The %d CPUs sit on %d physical cores: the others are hyper-threads, second threads of a core that share its units.", n, cores))
	}
	if n == 1 {
		out.Log("With one CPU the parallel and combined timelines cannot run in parallel: their tasks will take turns just like the concurrent ones. They still run, to show it.")
	}
	run := modes
	if m := p.String("mode"); m != "all" {
		run = []string{m}
	}
	nTasks := max(n, 2)

	// Every task thread gets a P of its own, so that the kernel, not the Go
	// scheduler, decides which task runs.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 2*nTasks+2))
	defer runtime.GOMAXPROCS(prev)

	out.Progress("calibrating the work", 0, 1)
	perMs, chunk, err := calibrate(cpus[0])
	if err != nil {
		return err
	}
	chunks := max(1, int64(float64(p.Int("work"))*perMs))
	gap := max(200*time.Microsecond, 10*chunk)
	cost := sampleCost()
	out.Log(fmt.Sprintf("A chunk of work (%d rounds of xorshift) takes %.1f µs of CPU here; each task does %d chunks, about %d ms. "+
		"A task counts as off its CPU when two samples are more than %.0f µs apart.",
		chunkIters, us(chunk), chunks, p.Int("work"), us(gap)))
	out.Log(fmt.Sprintf("One getcpu call costs %.2f µs here, so sampling after every chunk adds about %.0f%% to each task's work.",
		us(cost), 100*float64(cost)/float64(chunk)))

	results := map[string]*phaseResult{}
	for i, m := range run {
		ph := buildPhase(m, cpus, nTasks, chunks)
		out.Log(describe(ph))
		label := fmt.Sprintf("%s (%d of %d)", m, i+1, len(run))
		res, err := runPhase(ctx, ph, gap, out, func(done, total int64) {
			out.Progress(label, int(100*done/max(total, 1)), 100)
		})
		if err != nil {
			return err
		}
		results[m] = res
		out.Log(fmt.Sprintf("%s finished: wall %.0f ms, CPU time of the tasks %.0f ms in all, %d turn changes.",
			m, format.Ms(res.wall), format.Ms(res.cpuTime()), turnChanges(res)))
	}
	out.Progress("done", 100, 100)
	metrics, claims := timelineResult(timelineMeasured{
		phases: results,
		host: verdictContext{cpus: n, cores: cores, alone: time.Duration(float64(chunks) / perMs * float64(time.Millisecond)),
			allowed: len(allowed), quota: host.Quota, asked: p.Int("cpus"), load: out.Load()},
		sampleCost: cost,
		chunk:      chunk,
	})
	out.Result(metrics, claims)
	return nil
}

// us turns a duration into microseconds.
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// usableWhy says why fewer CPUs than asked are usable.
func usableWhy(allowed int, quota float64) string {
	if quota > 0 && int(quota+0.5) < allowed {
		return fmt.Sprintf("this process may run on %d CPU%s, but a cgroup quota gives it %.1f CPUs' worth of time", allowed, format.Pick(allowed, "", "s"), quota)
	}
	return fmt.Sprintf("this process may run on %d CPU%s (its affinity mask)", allowed, format.Pick(allowed, "", "s"))
}

// timelinePredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var timelinePredictions = []lab.Prediction{
	{Claim: 0, Question: "On one CPU, how many times do the two tasks change turns?", Kind: lab.PredictNumber, Unit: "turn changes", Min: 1, Max: 100000, Log: true, Key: "turn_changes.concurrent"},
	{Claim: 1, Question: "On every CPU this machine has, the tasks finish how many times sooner than on one?", Kind: lab.PredictNumber, Unit: "×", Min: 0.25, Max: 64, Log: true, Key: "speedup.parallel_over_concurrent"},
}
