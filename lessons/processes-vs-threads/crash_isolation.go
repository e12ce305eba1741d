package processesvsthreads

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
)

var (
	claimProcCrash = lab.Claim{
		Claim:    "When one process crashes, the other processes keep running.",
		Expected: "the chosen worker dies; every other worker finishes all its steps",
	}
	claimThreadCrash = lab.Claim{
		Claim:    "When one thread crashes, it takes the whole process down with all its threads.",
		Expected: "the process dies; no thread finishes its steps; no thread is left",
	}
)

func crashIsolation() *lab.Experiment {
	return &lab.Experiment{
		ID:     "crash-isolation",
		Lesson: Slug,
		Title:  "One crash: a process alone, or every thread with it",
		Summary: "First N worker processes work through their steps side by side, and half way through one of them commits a real fault. " +
			"Then one process runs N threads doing the same, and one thread commits the same fault. " +
			"Each worker and each thread has a live row; this experiment's own process watches from outside and reports what is left.",
		Params: []lab.Param{
			lab.Int("workers", "Workers", 4, 2, 12, "How many worker processes, and how many threads in the one process."),
			lab.Int("victim", "Which one crashes", 2, 1, 12, "The number of the worker, and of the thread, that commits the fault."),
			lab.Choice("fault", "Fault", "nil-pointer", []string{"nil-pointer", "sigkill"},
				"nil-pointer reads through a nil pointer: the CPU faults, the kernel sends SIGSEGV, Go panics and the process exits. "+
					"sigkill ends the process with the one signal nothing can catch, as the out-of-memory killer does."),
			lab.Int("steps", "Steps per worker", 16, 4, 100, "How many steps of work each worker and thread does.").WithQuick(6),
			lab.Int("step", "Time per step", 100, 10, 500, "How long one step takes.").WithUnit("ms").WithQuick(40),
		},
		Claims:      []lab.Claim{claimProcCrash, claimThreadCrash},
		Predictions: crashPredictions,
		Charts: []lab.Chart{
			{ID: "timeline", Kind: "lanes", Title: "Who ran until when", X: "ms since the run started",
				Note: "One bar per worker process, then per thread of the one process, from its start until it ended."},
		},
		Tables: []lab.Table{
			{ID: "processes", Title: "Worker processes", Columns: []lab.Column{
				{Key: "worker", Label: "Worker"}, {Key: "pid", Label: "PID"}, {Key: "state", Label: "State"},
				{Key: "steps", Label: "Steps done"}, {Key: "exit", Label: "How it ended"}, {Key: "detail", Label: "Detail"},
			}},
			{ID: "threads", Title: "Threads of one process", Columns: []lab.Column{
				{Key: "thread", Label: "Thread"}, {Key: "tid", Label: "Thread id"}, {Key: "state", Label: "State"},
				{Key: "steps", Label: "Steps done"}, {Key: "what", Label: "What happened"},
			}},
		},
		Limit: 120 * time.Second,
		Run:   runCrashIsolation,
		Workers: map[string]func([]string) int{
			"step":    stepWorker,
			"threads": threadsWorker,
		},
	}
}

func runCrashIsolation(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	n, victim := p.Int("workers"), p.Int("victim")
	if victim > n {
		out.Log(fmt.Sprintf("There are only %d workers, so worker %d crashes instead of worker %d.", n, n, victim))
		victim = n
	}
	a := crashArgs{steps: p.Int("steps"), step: time.Duration(p.Int("step")) * time.Millisecond, fault: p.String("fault")}
	a.crashAt = a.steps / 2

	out.Progress("worker processes", 0, 2)
	out.Log(fmt.Sprintf("Starting %d worker processes; worker %d will commit a %s fault at step %d of %d.", n, victim, a.fault, a.crashAt, a.steps))
	procs, _, err := runWorkerProcs(ctx, out, a, n, victim)
	if err != nil {
		return err
	}

	out.Progress("threads of one process", 1, 2)
	out.Log(fmt.Sprintf("Starting one process with %d threads; thread %d will commit a %s fault at step %d of %d.", n, victim, a.fault, a.crashAt, a.steps))
	th, err := runThreadProc(ctx, out, a, n, victim)
	if err != nil {
		return err
	}
	out.Log(fmt.Sprintf("The threads' process (PID %d) ended: %s. %s", th.pid, th.exit, th.detail))
	if th.zombieTasks >= 0 {
		out.Log(fmt.Sprintf("After it died and before it was reaped, /proc/%d/task listed %d task(s): a dead process keeps only its exit status until its parent collects it. After reaping, %d of its %d thread ids still existed.",
			th.pid, th.zombieTasks, th.aliveAfter, n))
	} else {
		out.Log(fmt.Sprintf("After it died, /proc/%d/task could not be read before it was reaped. After reaping, %d of its %d thread ids still existed.", th.pid, th.aliveAfter, n))
	}
	out.Progress("done", 2, 2)
	m := crashMeasured{n: n, victim: victim, steps: a.steps, procs: procs, th: th}
	out.Result(crashMetrics(m), judgeCrash(m))
	return nil
}

// crashPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var crashPredictions = []lab.Prediction{
	{Claim: 0, Question: "One worker process crashes in the middle of its work. Its sibling processes…", Kind: lab.PredictChoice, Choices: []string{"all finish", "all stop"}, Answer: siblingsAnswer},
	{Claim: 1, Question: "One thread of a process crashes. Its sibling threads…", Kind: lab.PredictChoice, Choices: []string{"keep running", "all stop"}, Answer: threadsCrashAnswer},
}

// siblingsAnswer says whether the crashed process's siblings finished.
func siblingsAnswer(ms []lab.Metric) (string, bool) {
	f, ok1 := lab.FindMetric(ms, "crash.processes.siblings_finished")
	n, ok2 := lab.FindMetric(ms, "crash.processes.distinct_pids")
	switch {
	case !ok1 || !ok2:
		return "", false
	case f.Value > 0 && f.Value == n.Value-1:
		return "all finish", true
	case f.Value == 0:
		return "all stop", true
	}
	return "", false
}

// threadsCrashAnswer says whether any thread was still running after one
// crashed.
func threadsCrashAnswer(ms []lab.Metric) (string, bool) {
	a, ok := lab.FindMetric(ms, "crash.threads.alive_after")
	if !ok {
		return "", false
	}
	if a.Value == 0 {
		return "all stop", true
	}
	return "keep running", true
}
