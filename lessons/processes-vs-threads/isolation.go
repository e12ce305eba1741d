package processesvsthreads

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// shared is the variable everybody changes. It is a package variable, so
// it sits at the same address in every copy of this program.
var shared int64

// startValue is what the variable holds before anybody changes it.
const startValue = 100

var (
	claimProcsIsolated = lab.Claim{
		Claim:    "Processes do not share memory: a child process's change to a variable is invisible to its parent.",
		Expected: "each child sees its own change; the parent still reads the old value",
	}
	claimThreadsShare = lab.Claim{
		Claim:    "Threads share memory: a change made by one thread is seen by the others.",
		Expected: "each thread sees the changes made before it; the parent reads them all",
	}
)

func isolation() *lab.Experiment {
	return &lab.Experiment{
		ID:     "isolation",
		Lesson: Slug,
		Title:  "Who sees whose changes",
		Summary: "One variable starts at 100. Child processes, one after another, each add 1 to it; then threads of this process, one after another, " +
			"each add 1 to it. Each says what it read right after its change, and the parent reads the variable after each group.",
		Params: []lab.Param{
			lab.Int("workers", "Child processes and threads", 3, 1, 8, "How many child processes, and how many threads, change the variable."),
			lab.Bool("mapping", "Also share a page on purpose", true,
				"Give the child processes a page of memory that both sides map (a memfd, an anonymous file that lives only in memory, mapped MAP_SHARED) and let them add 1 there too."),
		},
		Claims:      []lab.Claim{claimProcsIsolated, claimThreadsShare},
		Predictions: isolationPredictions,
		// The shared page is there only when the run asks for it.
		Conditional: []string{"parent.shared_page"},
		Tables: []lab.Table{{ID: "views", Title: "What each one read after its change", Columns: []lab.Column{
			{Key: "who", Label: "Who"}, {Key: "pid", Label: "PID"}, {Key: "tid", Label: "Thread id"},
			{Key: "address", Label: "Address of the variable"}, {Key: "value", Label: "Read"}, {Key: "note", Label: "What it means"},
		}}},
		Limit: 30 * time.Second,
		Run:   runIsolation,
		Workers: map[string]func([]string) int{
			"isolate": isolateWorker,
		},
	}
}

// address prints where the variable lives in the calling process.
func address() string { return fmt.Sprintf("%#x", uintptr(unsafe.Pointer(&shared))) }

func runIsolation(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	n := p.Int("workers")
	m := isoMeasured{n: n, mapping: p.Bool("mapping")}
	atomic.StoreInt64(&shared, startValue)
	runtime.LockOSThread() // the parent's row shows the thread it really ran on
	defer runtime.UnlockOSThread()
	m.pid = os.Getpid()
	pid, tid := m.pid, probe.Tid()
	out.Row("views", "parent-start", map[string]any{"who": "parent, at the start", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": startValue, "note": "this process, before anybody changes anything"})

	var page []byte
	var memfd *os.File
	if m.mapping {
		f, b, err := sharedPage()
		if err != nil {
			return err
		}
		memfd, page = f, b
		defer f.Close()
		defer unix.Munmap(b)
		atomic.StoreInt64(pageWord(page), startValue)
	}

	// Child processes.
	sameAddr := true
	for i := range n {
		out.Progress("child processes", i, 2*n)
		v, err := runIsolateWorker(ctx, memfd)
		if err != nil {
			return err
		}
		m.children = append(m.children, v)
		sameAddr = sameAddr && v.address == address()
		out.Row("views", fmt.Sprintf("process-%d", i+1), map[string]any{"who": fmt.Sprintf("child process %d", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
			"address": v.address, "value": v.value, "note": "added 1 to its own copy"})
		if m.mapping {
			out.Row("views", fmt.Sprintf("mapping-%d", i+1), map[string]any{"who": fmt.Sprintf("child process %d, shared page", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
				"address": "(its own mapping)", "value": v.mapped, "note": "added 1 in the page both processes map"})
		}
	}
	m.afterProcs = atomic.LoadInt64(&shared)
	out.Row("views", "parent-procs", map[string]any{"who": "parent, after the child processes", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": m.afterProcs, "note": fmt.Sprintf("%d processes added 1 each", n)})
	if m.mapping {
		m.mapped = atomic.LoadInt64(pageWord(page))
		out.Row("views", "parent-mapping", map[string]any{"who": "parent, the shared page", "pid": kid(pid), "tid": kid(tid),
			"address": "(its own mapping)", "value": m.mapped, "note": "the page the children changed on purpose"})
	}
	if sameAddr {
		out.Log(fmt.Sprintf("Every child found the variable at %s, the same address as the parent, and still changed only its own copy: an address means something only inside one process.", address()))
	} else {
		out.Log("The children found the variable at other addresses than the parent (this program was built position-independent), and each changed only its own copy.")
	}

	// Threads of this process, in turn.
	out.Progress("threads", n, 2*n)
	m.threads = threadChanges(n)
	for i, v := range m.threads {
		out.Row("views", fmt.Sprintf("thread-%d", i+1), map[string]any{"who": fmt.Sprintf("thread %d", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
			"address": v.address, "value": v.value, "note": "added 1 to the one variable of this process"})
	}
	m.afterThreads = atomic.LoadInt64(&shared)
	out.Row("views", "parent-threads", map[string]any{"who": "parent, after the threads", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": m.afterThreads, "note": fmt.Sprintf("%d threads added 1 each", n)})
	out.Progress("done", 2*n, 2*n)
	out.Result(isolationMetrics(m), judgeIsolation(m))
	return nil
}

// isolationPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var isolationPredictions = []lab.Prediction{
	{Claim: 0, Question: "Each child process adds 1 to a variable it got from the parent. Afterwards, the parent's variable…", Kind: lab.PredictChoice, Choices: []string{"has not changed", "has every child's change"}, Answer: processesAnswer},
	{Claim: 1, Question: "Each thread adds 1 to a variable of their process. Afterwards, the variable…", Kind: lab.PredictChoice, Choices: []string{"has not changed", "has every thread's change"}, Answer: threadsAnswer},
}

// processesAnswer says what the parent saw of its children's changes:
// none, when the threads' run (which shares) ended that many higher.
func processesAnswer(ms []lab.Metric) (string, bool) {
	p, ok1 := lab.FindMetric(ms, "parent.after_processes")
	t, ok2 := lab.FindMetric(ms, "parent.after_threads")
	n, ok3 := lab.FindMetric(ms, "threads.distinct_tids")
	if !ok1 || !ok2 || !ok3 {
		return "", false
	}
	if t.Value-p.Value == n.Value {
		return "has not changed", true
	}
	return "has every child's change", true
}

// threadsAnswer says whether the threads' changes reached the variable.
func threadsAnswer(ms []lab.Metric) (string, bool) {
	p, ok1 := lab.FindMetric(ms, "parent.after_processes")
	t, ok2 := lab.FindMetric(ms, "parent.after_threads")
	if !ok1 || !ok2 {
		return "", false
	}
	if t.Value > p.Value {
		return "has every thread's change", true
	}
	return "has not changed", true
}
