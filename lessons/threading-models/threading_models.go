package threadingmodels

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Claims of threading-models, as the lesson states them.
var (
	claimOneCPU = lab.Claim{
		Claim:    "N:1 cannot use more than one CPU: all its user threads share one kernel thread, while 1:1 and M:N use every CPU.",
		Expected: "every N:1 task on one kernel thread, about one CPU busy; 1:1 and M:N about as many CPUs busy as this machine lets the run use " + lab.NeedsTwoCPUs,
	}
	claimStall = lab.Claim{
		Claim:    "Under N:1, one blocking system call stalls every user thread.",
		Expected: "no other task makes any progress while the read is pending",
	}
	claimKeepGoing = lab.Claim{
		Claim:    "Under 1:1 and M:N, the other tasks keep going during the blocking call.",
		Expected: "the other tasks keep most of their pace (half of it or more) while the read is pending",
	}
	claimFewer = lab.Claim{
		Claim:    "M:N uses far fewer kernel threads than 1:1 for the same tasks.",
		Expected: "1:1: one kernel thread per task; M:N: about GOMAXPROCS, at most a fifth as many",
	}
	claimSwitch = lab.Claim{
		Claim:    "A switch between user-level threads costs far less than a switch between kernel threads.",
		Expected: "the N:1 scheduler's switch at least 5× cheaper than a kernel thread switch",
	}
)

// models are the three mappings, in the order they run and appear.
var models = []struct{ key, name, chart string }{
	{"1to1", "1:1", "lane-1to1"},
	{"nto1", "N:1", "lane-nto1"},
	{"mton", "M:N", "lane-mton"},
}

// tasksPerCPU is the default number of computing tasks per usable CPU.
const tasksPerCPU = 16

// chunkTime is the CPU work in one chunk: a task reports progress (and,
// under N:1, yields) this often.
const chunkTime = 100 * time.Microsecond

func threadingModels() *lab.Experiment {
	lane := func(key, title, more string) lab.Chart {
		return lab.Chart{ID: "lane-" + key, Kind: "line", Title: title, X: "ms since this model started", Y: "chunks of work done",
			Note: "One line per task, read every 20 ms from each task's counter by a goroutine outside the model. A flat line is a task that is not running; the marks show when the reader's read() started and when its data arrived." + more}
	}
	return &lab.Experiment{
		ID:     "threading-models",
		Lesson: Slug,
		Title:  "One workload, three threading models",
		Summary: "Several tasks compute in small chunks while one more task, the reader, computes too and then makes a read() on a pipe that stays empty for a set time. " +
			"The same tasks run as kernel threads of their own (1:1), as coroutines of a small scheduler on one kernel thread (N:1), and as goroutines (M:N). " +
			"A sampler outside the model records each task's progress, the process's threads and the CPUs it keeps busy.",
		Params: []lab.Param{
			// "Far fewer" (lab.Far) needs many more tasks than M:N has
			// threads, about GOMAXPROCS: 16 tasks per CPU puts M:N's
			// share under a tenth on any machine, so the claim can hold
			// or fail on a 64-CPU server as on a laptop.
			lab.Int("tasks", "Computing tasks", 6, 2, 64, "Tasks that only compute; the reader comes on top. The claim about kernel threads needs many more tasks than CPUs.").PerCPU(tasksPerCPU, 64).WithQuick(3),
			lab.Int("block", "Pipe stays empty for", 600, 100, 3000, "How long the reader's read() waits for its byte.").WithUnit("ms").WithQuick(200),
			lab.Int("batches", "Timed batches per switch kind", 30, 5, 300, "Batches of switches timed for each kind of switch.").WithQuick(5),
		},
		Claims:      []lab.Claim{claimOneCPU, claimStall, claimKeepGoing, claimFewer, claimSwitch},
		Predictions: modelPredictions,
		Charts: []lab.Chart{
			lane("1to1", "1:1 — every task on a kernel thread of its own", ""),
			lane("nto1", "N:1 — every task a coroutine on one kernel thread",
				" The scheduler gives every task one chunk per turn, so their lines lie on top of one another."),
			lane("mton", "M:N — every task a goroutine", ""),
			{ID: "blocking", Kind: "lanes", Title: "While read() was pending", X: "ms since the model started",
				Note: "Reader: when it computed and when it sat in read(). Others: the stretches of 10 ms or more when not one of the other tasks finished a chunk. On a busy machine, other programs cause short stalls under every model."},
			{ID: "threads", Kind: "line", Title: "Kernel threads the tasks are on", X: "ms since the model started", Y: "kernel threads",
				Note: "Every 20 ms, the distinct thread ids (gettid) the tasks reported; a task waiting for its turn counts the thread it last ran on."},
			{ID: "cpus", Kind: "line", Title: "CPUs kept busy", X: "ms since the model started", Y: "CPUs busy",
				Note: "The process's CPU time (getrusage) divided by wall time, over 100 ms windows."},
			{ID: "switch", Kind: "bars", Title: "Cost of one switch", Y: "µs per switch", LogY: true,
				Note: "Median of the timed batches; whiskers span the 10th to 90th percentile. One switch is half a round trip."},
		},
		Tables: []lab.Table{{ID: "models", Title: "The three models side by side", Columns: []lab.Column{
			{Key: "model", Label: "Model"}, {Key: "atonce", Label: "Kernel threads in use at once"}, {Key: "threads", Label: "Kernel threads the tasks ran on"},
			{Key: "peak", Label: "Threads in the process (peak)"}, {Key: "added", Label: "Threads added"},
			{Key: "cpus", Label: "CPUs the tasks ran on"}, {Key: "busy", Label: "CPUs busy (peak)"},
			{Key: "pace", Label: "Others' pace during read()"}, {Key: "still", Label: "All others stood still"},
		}}},
		Limit: 60 * time.Second,
		Run:   runThreadingModels,
	}
}

func runThreadingModels(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	k := p.Int("tasks")
	block := time.Duration(p.Int("block")) * time.Millisecond
	steps := len(models) + 2

	out.Progress("calibrating a chunk of work", 0, steps)
	unit, err := calibrate(chunkTime)
	if err != nil {
		return err
	}
	gap := max(3*time.Millisecond, 3*time.Duration(k+1)*chunkTime)
	out.Log(fmt.Sprintf("A chunk of work is %d rounds of integer mixing, about %v of CPU here. A task that finishes no chunk for %v counts as stalled.", unit, chunkTime, gap))
	if usable := min(len(allowed), probe.ReadHost().EffectiveCPUs()); usable < 2 {
		out.Log("Only one CPU is usable here, so no model can run two tasks at the same instant; the stall under N:1 still shows.")
	}

	results := map[string]*modelResult{}
	for i, d := range models {
		out.Progress(fmt.Sprintf("%s: %d tasks, the reader blocks for %v", d.name, k+1, block), i+1, steps)
		m := newModel(d.key, d.name, k, unit, block)
		m.gap = gap
		m.onMark = func(x float64, label string) { out.Mark(d.chart, x, label) }
		r, err := runModel(ctx, m, out, d.chart)
		if err != nil {
			return err
		}
		results[d.key] = r
	}

	out.Progress("timing switches", len(models)+1, steps)
	batches := p.Int("batches")
	co, err := coroutineSwitch(ctx, batches, allowed[0])
	if err != nil {
		return err
	}
	gr, err := goroutineSwitch(ctx, batches, allowed[0])
	if err != nil {
		return err
	}
	th, usage, err := threadSwitch(ctx, batches, allowed[0])
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	sw := []struct {
		key, label string
		vals       []float64
		note       string
	}{
		{"switch.coroutine.same_cpu", "coroutines, N:1 scheduler", co, fmt.Sprintf("iter.Pull on one thread pinned to CPU %d: resume and yield, both in user space", allowed[0])},
		{"switch.goroutine.same_cpu", "goroutines, M:N", gr, "two goroutines and unbuffered channels, GOMAXPROCS=1"},
		{"switch.thread.same_cpu", "kernel threads, 1:1", th, fmt.Sprintf("two locked threads pinned to CPU %d, a byte through two pipes", allowed[0])},
	}
	var metrics []lab.Metric
	for _, d := range models {
		metrics = append(metrics, results[d.key].metrics()...)
	}
	for _, s := range sw {
		sum := lab.Summarize(s.vals)
		out.Bar("switch", "", s.label, sum.P50, sum.P10, sum.P90)
		m := sum.Metric(s.key, "Switch, "+s.label, "µs")
		m.Note = fmt.Sprintf("%s; %d batches", s.note, sum.N)
		metrics = append(metrics, m)
	}
	metrics = append(metrics, lab.Metric{Key: "kernel_switches.thread.same_cpu", Name: "Kernel switches counted, kernel threads, 1:1", Value: float64(usage.Switches()), Unit: "switches",
		Note: fmt.Sprintf("getrusage of both threads: %d voluntary + %d involuntary, for %d round trips", usage.Voluntary, usage.Involuntary, 500*len(th))})
	out.Progress("done", steps, steps)

	load := out.Load()
	claims := judgeModels(modelsMeasured{one: *results["1to1"], n1: *results["nto1"], mn: *results["mton"],
		usable: min(len(allowed), probe.ReadHost().EffectiveCPUs()), gomaxprocs: runtime.GOMAXPROCS(0), load: load})
	claims = append(claims, judgeSwitch(switchMeasured{co: lab.Summarize(co), gr: lab.Summarize(gr), th: lab.Summarize(th), load: load}))
	out.Result(metrics, claims)
	return nil
}

// runModel runs one model with a sampler watching it, then reports what
// it measured: a row, the stalls as spans, and the figures.
func runModel(ctx context.Context, m *model, out *lab.Emitter, chart string) (*modelResult, error) {
	if m.key == "1to1" {
		before := probe.Threads()
		retireThreads(before)
		out.Log(fmt.Sprintf("Before the 1:1 run the process had %d threads; idle ones were retired (%d left), so the threads the 1:1 tasks need show up as new.", before, probe.Threads()))
		prev := runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(max(prev, len(m.tasks)+3))
		defer runtime.GOMAXPROCS(prev)
	}
	out.Row("models", m.key, map[string]any{"model": m.name, "threads": "running…"})
	s, err := newSampler(m, out, chart)
	if err != nil {
		return nil, err
	}
	m.t0 = time.Now()
	s.start()
	err = m.run(ctx)
	s.stop()
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, fmt.Errorf("%s: counting the process's threads: %w", m.name, s.err)
	}
	if m.readTo.IsZero() {
		return nil, fmt.Errorf("%s: the reader never made its read", m.name)
	}
	if m.readErr != nil {
		return nil, fmt.Errorf("%s: the reader's read() failed, so it never blocked: %w", m.name, m.readErr)
	}
	r := summarise(m, s)
	out.Row("models", m.key, r.row())
	r.spans(out)
	return r, nil
}

// modelPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var modelPredictions = []lab.Prediction{
	{Claim: 0, Question: "Under N:1, how many CPUs can the tasks keep busy at most?", Kind: lab.PredictNumber, Unit: "CPUs", Min: 0.1, Max: 64, Log: true, Key: "cpus_busy.peak.nto1"},
	{Claim: 1, Question: "Under N:1, while one task waits in a blocking read, the other tasks…", Kind: lab.PredictChoice, Choices: []string{"keep going", "stop"}, Answer: nto1Answer},
	{Claim: 2, Question: "Under 1:1, while one task waits in a blocking read, the other tasks…", Kind: lab.PredictChoice, Choices: []string{"keep going", "stop"}, Answer: oneToOneAnswer},
	{Claim: 3, Question: "Under M:N, how many kernel threads do the tasks use at once?", Kind: lab.PredictNumber, Unit: "threads", Min: 1, Max: 10000, Log: true, Key: "kernel_threads.at_once.mton"},
	{Claim: 4, Question: "One switch between two user-level threads of the N:1 scheduler costs about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.0001, Max: 1000, Log: true, Key: "switch.coroutine.same_cpu"},
}

// keptGoing says from a model's pace during the read (percent of its pace
// before) whether the other tasks kept going: at a tenth of their pace or
// more.
func keptGoing(ms []lab.Metric, key string) (string, bool) {
	m, ok := lab.FindMetric(ms, key)
	if !ok {
		return "", false
	}
	if m.Value >= 10 {
		return "keep going", true
	}
	return "stop", true
}

func nto1Answer(ms []lab.Metric) (string, bool) { return keptGoing(ms, "others.pace_during_read.nto1") }

func oneToOneAnswer(ms []lab.Metric) (string, bool) {
	return keptGoing(ms, "others.pace_during_read.1to1")
}
