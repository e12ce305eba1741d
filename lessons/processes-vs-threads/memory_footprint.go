package processesvsthreads

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"conclab/internal/lab"
)

var (
	claimProcMemory = lab.Claim{
		Claim:    "A process costs far more memory than a thread.",
		Expected: "a process's own memory at least 5× what a thread adds",
	}
	claimStackReserved = lab.Claim{
		Claim:    "A thread's stack is reserved but mostly not resident.",
		Expected: "MiB of address space reserved per stack, half of it or less in RAM",
	}
)

func memoryFootprint() *lab.Experiment {
	return &lab.Experiment{
		ID:     "memory-footprint",
		Lesson: Slug,
		Title:  "What one more process, thread or goroutine weighs",
		Summary: "Keeps N processes alive at once and reads what each one holds in RAM, and what only it holds; then N OS threads and N goroutines " +
			"inside this process, and how much this process grew. For the threads it also finds their stacks in the address space and " +
			"compares what is reserved with what is resident.",
		Params: []lab.Param{
			lab.Int("processes", "Processes", 32, 2, 200, "How many copies of this program to keep alive at once.").WithQuick(6),
			lab.Int("threads", "OS threads", 200, 10, 2000, "How many OS threads to keep alive at once.").WithQuick(40),
			lab.Int("goroutines", "Goroutines", 10000, 100, 50000, "How many goroutines to keep alive at once.").WithQuick(2000),
		},
		Claims:      []lab.Claim{claimProcMemory, claimStackReserved},
		Predictions: memoryPredictions,
		// The /bin/sleep reference needs a sleep program; the stack figures
		// need the C library's thread stacks (a cgo build) and a readable
		// address space; the ratio needs a thread's memory that could be
		// seen to grow.
		Conditional: []string{
			"memory.bin_sleep.resident", "memory.bin_sleep.own", "memory.bin_sleep.fair_share", "memory.bin_sleep.page_tables",
			"memory.thread_stack.reserved", "memory.thread_stack.resident", "memory.ratio.process_own_thread_resident",
		},
		Charts: []lab.Chart{
			{ID: "growth", Kind: "line", Title: "Memory added as units come alive", X: "units alive", Y: "MiB added", LogX: true, LogY: true,
				Note: "Both axes are logarithmic: memory that grows in step with the count draws a straight line, and the higher the line, the more each unit weighs. " +
					"Processes: the sum of their private memory (smaps_rollup). Threads and goroutines: growth of this process's resident memory (VmRSS)."},
			{ID: "per-unit", Kind: "bars", Title: "Memory per unit", Y: "KiB per unit", LogY: true,
				Note: "Resident: in RAM. Own: a process's private pages. Reserved: address space set aside (VmSize growth), not RAM. Stack: the Go runtime's stack memory in use. " +
					"Processes: median over the N held alive; threads and goroutines: growth divided by N."},
		},
		Tables: []lab.Table{{ID: "units", Title: "What was held alive, and how it was counted", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "alive", Label: "Alive at once"}, {Key: "ids", Label: "Distinct kernel ids"},
			{Key: "resident", Label: "Resident per unit"}, {Key: "reserved", Label: "Reserved per unit"}, {Key: "note", Label: "How"},
		}}},
		Limit: 90 * time.Second,
		Run:   runMemoryFootprint,
		Workers: map[string]func([]string) int{
			"hold": holdWorker,
		},
	}
}

const kib = 1024.0

func runMemoryFootprint(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	var m memMeasured
	// One bar per label; the chart writes "a, b" labels on two lines.
	bar := func(label string, bytes float64) { out.Bar("per-unit", "", label, bytes/kib, bytes/kib, bytes/kib) }

	// Processes: this program held alive N times.
	out.Progress("processes", 0, 4)
	nProc := p.Int("processes")
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	workers := &heldProcs{release: w}
	defer workers.stop()
	mems, pids, err := procMemory(ctx, out, "processes (this program)", nProc, func() (int, error) { return workers.startHeld(ctx, r) })
	r.Close()
	if err != nil {
		return err
	}
	m.proc = summarizeProcs(mems, pids)
	workers.stop()
	bar("process, resident", m.proc.rss.P50)
	bar("process, own", m.proc.private.P50)
	out.Row("units", "process", m.proc.row("process (this program)", len(mems)))

	// The same for a small C program, as a reference.
	out.Progress("processes (/bin/sleep)", 1, 4)
	if path, err := exec.LookPath("sleep"); err == nil {
		sleeps := &heldProcs{kill: true}
		defer sleeps.stop()
		mems, pids, err := procMemory(ctx, out, "processes (/bin/sleep)", nProc, func() (int, error) { return sleeps.startSleep(ctx, path) })
		if err != nil {
			return err
		}
		s := summarizeProcs(mems, pids)
		m.ref = &s
		sleeps.stop()
		bar("/bin/sleep, resident", s.rss.P50)
		bar("/bin/sleep, own", s.private.P50)
		out.Row("units", "sleep", s.row("process (/bin/sleep)", len(mems)))
	} else {
		out.Log("There is no sleep program on this machine, so the small C process used as a reference cannot be measured.")
	}

	// OS threads inside this process.
	out.Progress("OS threads", 2, 4)
	if m.th, err = threadMemory(ctx, out, p.Int("threads")); err != nil {
		return err
	}
	th := m.th
	bar("thread, resident", th.rss)
	bar("thread, reserved", th.vm)
	out.Row("units", "thread", map[string]any{
		"kind": "OS thread", "alive": th.n, "ids": th.distinct,
		"resident": human(th.rss), "reserved": human(th.vm),
		"note": fmt.Sprintf("this process went from %d to %d threads; growth of VmRSS and VmSize ÷ %d", th.before, th.peak, th.n),
	})
	if th.mapsErr != nil {
		out.Log("The address space could not be read, so the threads' stacks cannot be found in it: " + th.mapsErr.Error())
	}

	// Goroutines.
	out.Progress("goroutines", 3, 4)
	if m.g, err = goroutineMemory(ctx, out, p.Int("goroutines")); err != nil {
		return err
	}
	bar("goroutine, resident", m.g.rss)
	bar("goroutine, stack", m.g.stack)
	out.Row("units", "goroutine", map[string]any{
		"kind": "goroutine", "alive": m.g.n, "ids": "–", "resident": human(m.g.rss), "reserved": human(m.g.stack) + " of stack",
		"note": "growth of VmRSS, and of the Go runtime's StackInuse, ÷ goroutines added",
	})
	out.Progress("done", 4, 4)
	out.Result(memoryMetrics(m), judgeMemory(m))
	return nil
}

// runtimeStack reads the Go runtime's stack memory in use.
func runtimeStack() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.StackInuse)
}

// memoryPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var memoryPredictions = []lab.Prediction{
	{Claim: 0, Question: "One more running copy of this program holds about how much memory of its own?", Kind: lab.PredictNumber, Unit: "KiB", Min: 1, Max: 1000000, Log: true, Key: "memory.process.own"},
	{Claim: 1, Question: "One more OS thread, parked, adds about how much resident memory?", Kind: lab.PredictNumber, Unit: "KiB", Min: 0.1, Max: 100000, Log: true, Key: "memory.thread.resident"},
}
