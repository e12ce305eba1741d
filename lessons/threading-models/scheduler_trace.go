package threadingmodels

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Claims of scheduler-trace, as the lesson states them.
var (
	claimSchedAtMost = lab.Claim{
		Claim:    "At most GOMAXPROCS goroutines run at any instant, yet over a run they run on more OS threads than that.",
		Expected: "never more goroutines running at once than GOMAXPROCS; more threads than GOMAXPROCS over the run",
	}
	claimSchedSyscall = lab.Claim{
		Claim:    "A goroutine blocked in a system call keeps its thread, while its P moves to another thread and the other goroutines keep running.",
		Expected: "every read() comes back on the thread it entered on; meanwhile its P runs another goroutine on another thread, within about 20 ms (the runtime's monitor looks at least every 10 ms and takes the P at a later look)",
	}
	claimSchedPreempt = lab.Claim{
		Claim:    "A goroutine that never yields is preempted, in slices of about 10 ms.",
		Expected: "the spinner preempted while other goroutines wait for a P, its slices 10–20 ms: 10 ms of running, noticed at the monitor's next look",
	}
	claimSchedParked = lab.Claim{
		Claim:    "Goroutines waiting on a channel hold no thread.",
		Expected: "the waiting goroutines seen parked, and fewer threads in the process than GOMAXPROCS + the goroutines parked at once: what a thread each would take",
	}
)

// schedGODEBUG makes the runtime cut its trace into a generation every
// 200 ms rather than every second (a documented runtime setting): a
// generation is the smallest piece the trace reader can hand out, so this
// is how often the chart grows.
const schedGODEBUG = "traceadvanceperiod=200000000"

func schedulerTrace() *lab.Experiment {
	return &lab.Experiment{
		ID:     "scheduler-trace",
		Lesson: Slug,
		Title:  "Go's scheduler, seen from its own execution trace",
		Summary: "Goroutines compute in chunks, one spins without ever calling a function, one sits in read() on a pipe the lab writes to now and then, and more wait on a channel. " +
			"The workload runs first with the runtime's execution trace off, then with it on; the trace is read in this process while it is written and drawn as it comes: one lane per P, each span a goroutine running there on a thread.",
		Params: []lab.Param{
			lab.Int("procs", "GOMAXPROCS", 2, 1, 8, "How many Ps: goroutines that may run Go code at once.").WithQuick(2),
			lab.Int("computing", "Computing goroutines", 3, 1, 16, "Goroutines that compute in chunks, besides the spinner.").WithQuick(2),
			lab.Int("waiting", "Waiting goroutines", 32, 16, 128, "Goroutines parked on a channel, one woken at every write.").WithQuick(16),
			lab.Int("block", "Time between writes", 100, 30, 500, "How long each read() waits for its byte; one waiting goroutine is woken each time too.").WithUnit("ms").WithQuick(50),
			lab.Int("duration", "Length of each run", 2000, 300, 4000, "How long the workload runs with the trace off, then on.").WithUnit("ms").WithQuick(400),
		},
		Claims:      []lab.Claim{claimSchedAtMost, claimSchedSyscall, claimSchedPreempt, claimSchedParked},
		Predictions: schedPredictions,
		Charts: []lab.Chart{
			{ID: "sched", Kind: "sched", Title: "Goroutines on Ps, as the runtime traced them", X: "ms since the trace began",
				Note: "One lane per P. A span is a goroutine running on that P, coloured by its role and labelled G (goroutine) · M (the OS thread, by its kernel id). Marks: a goroutine entering read(), its P handed to another thread, read() returning, the spinner preempted, a waiting goroutine parked or woken. The runtime cuts its trace into pieces every 200 ms; each piece is drawn once it is complete."},
			{ID: "cost", Kind: "bars", Title: "What the trace costs: the same workload with the trace off and on", Y: "chunks per second, per computing goroutine",
				Note: "The median over the computing goroutines; whiskers from the slowest to the fastest. The traced run also reads its trace and draws it, in the same process."},
		},
		Tables: []lab.Table{{ID: "roles", Title: "Who ran, by role (trace on)", Columns: []lab.Column{
			{Key: "role", Label: "Role"}, {Key: "goroutines", Label: "Goroutines"}, {Key: "running", Label: "Running (ms)"},
			{Key: "runnable", Label: "Waiting for a P (ms)"}, {Key: "syscall", Label: "In a system call (ms)"}, {Key: "parked", Label: "Parked (ms)"},
			{Key: "preempted", Label: "Preempted"}, {Key: "syscalls", Label: "System calls"}, {Key: "parks", Label: "Parks"},
		}}},
		Limit: 40 * time.Second,
		Child: func(p lab.Params) lab.ChildSpec {
			return lab.ChildSpec{GOMAXPROCS: p.Int("procs"), GODEBUG: schedGODEBUG}
		},
		Run: runSchedulerTrace,
	}
}

func runSchedulerTrace(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	gmp := runtime.GOMAXPROCS(0)
	d := time.Duration(p.Int("duration")) * time.Millisecond
	w := &schedWork{computing: p.Int("computing"), waiters: p.Int("waiting"), block: time.Duration(p.Int("block")) * time.Millisecond}
	out.Log(fmt.Sprintf("GOMAXPROCS is %d: %d P%s, so at most %d goroutine%s run Go code at once.", gmp, gmp, format.Plural(gmp), gmp, format.Plural(gmp)))

	out.Progress("the workload with the trace off", 0, 3)
	off, err := w.run(ctx, d, nil)
	if err != nil {
		return err
	}
	costBar(out, "trace off", off.rates())

	out.Progress("the same workload with the trace on", 1, 3)
	on, err := runTraced(ctx, w, d, out)
	if err != nil {
		return err
	}
	costBar(out, "trace on", on.rates())
	out.Progress("judging", 2, 3)
	for _, r := range roleRows(on.st) {
		out.Row("roles", r["role"].(string), r)
	}
	out.Log(fmt.Sprintf("The trace: %s KiB in %d part%s for the download, %s events read over %s.",
		format.Number(float64(on.file.Bytes)/1024), on.file.Parts, format.Plural(on.file.Parts), format.Number(float64(on.events)), format.Figure(on.st.window(), "ms")))
	crossCheck(out, on.st)
	m := schedMeasured{
		gomaxprocs: gmp, computing: w.computing, waiters: w.waiters, block: float64(p.Int("block")),
		window: on.st.window(), spans: on.st.spans, runningPeak: on.st.runningPeak, executingPeak: on.st.executingPeak,
		threadsRan: len(on.st.threads), lanes: len(on.st.lanes), episodes: on.st.episodes,
		spinnerRan: on.st.ranMs(roleSpinner), slices: on.st.slices, preempts: on.st.preempts, contended: on.st.contended, parks: on.st.parks, wakes: on.st.wakes, parkedPeak: on.st.parkedPeak,
		parkedShare: on.st.parkedShare(), threads: on.threads, off: off.rates(), on: on.rates(),
		traceBytes: on.file.Bytes, traceCut: on.file.Cut, load: out.Load(),
	}
	if m.load.Busy() {
		out.Log("Other programs kept this machine busy during the two runs, so the difference in work between them is partly theirs, not the trace's.")
	}
	out.Progress("done", 3, 3)
	out.Result(schedMetrics(m), judgeSched(m))
	return nil
}

// crossCheck holds the trace's threads against the kernel's: the trace
// names each thread by its kernel id, so each should be in
// /proc/self/task (Go does not end its threads, bar those a goroutine
// left locked).
func crossCheck(out *lab.Emitter, st *schedTrace) {
	tids, err := probe.TaskIDs()
	if err != nil {
		out.Log("The trace's threads could not be held against /proc/self/task: " + err.Error())
		return
	}
	found := 0
	for m := range st.threads {
		if slices.Contains(tids, int(m)) {
			found++
		}
	}
	out.Log(fmt.Sprintf("The trace names its threads by their kernel ids: %d of the %d that ran goroutines are listed in /proc/self/task, among the process's %d threads.",
		found, len(st.threads), len(tids)))
}

// costBar draws one run's chunks per second: the median over the
// computing goroutines, with the slowest and the fastest.
func costBar(out *lab.Emitter, label string, rates []float64) {
	s := lab.Summarize(rates)
	out.Bar("cost", "", label, s.P50, s.Min, s.Max)
}

// schedPredictions are what a learner may guess before a run, beside the
// claims they belong to (see lab.Prediction).
var schedPredictions = []lab.Prediction{
	{Claim: 0, Question: "Over the run, on how many different OS threads do goroutines run?", Kind: lab.PredictNumber, Unit: "threads", Min: 1, Max: 1000, Log: true, Key: "threads.ran_goroutines"},
	{Claim: 1, Question: "A goroutine blocks in read(). How long until its P runs another goroutine on another thread?", Kind: lab.PredictNumber, Unit: "ms", Min: 0.001, Max: 1000, Log: true, Key: "syscall.handoff_delay"},
	{Claim: 2, Question: "A goroutine spins without ever yielding. How long does it run before the runtime preempts it?", Kind: lab.PredictNumber, Unit: "ms", Min: 0.01, Max: 10000, Log: true, Key: "spinner.slice"},
	{Claim: 3, Question: "While goroutines wait on a channel, how many OS threads do they hold?", Kind: lab.PredictChoice,
		Choices: []string{parkedOneEach, parkedNone}, Answer: parkedAnswer},
}
