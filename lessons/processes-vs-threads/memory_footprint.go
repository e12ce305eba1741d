package processesvsthreads

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimProcMemory = lab.Claim{
		Claim:    "A process costs far more memory than a thread.",
		Expected: "a process's own memory at least 10× what a thread adds",
	}
	claimStackReserved = lab.Claim{
		Claim:    "A thread's stack is reserved but mostly not resident.",
		Expected: "megabytes of address space reserved per stack, a few KiB of it in RAM",
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
		Claims: []lab.Claim{claimProcMemory, claimStackReserved},
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
	var metrics []lab.Metric
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
	mems, err := procMemory(ctx, out, "processes (this program)", nProc, func() (int, error) { return workers.startHeld(ctx, r) })
	r.Close()
	if err != nil {
		return err
	}
	proc := summarizeProcs(mems)
	workers.stop()
	bar("process, resident", proc.rss.P50)
	bar("process, own", proc.private.P50)
	out.Row("units", "process", proc.row("process (this program)", len(mems)))
	metrics = append(metrics, proc.metrics("this program")...)

	// The same for a small C program, as a reference.
	out.Progress("processes (/bin/sleep)", 1, 4)
	var ref *procSummary
	if path, err := exec.LookPath("sleep"); err == nil {
		sleeps := &heldProcs{kill: true}
		defer sleeps.stop()
		mems, err := procMemory(ctx, out, "processes (/bin/sleep)", nProc, func() (int, error) { return sleeps.startSleep(ctx, path) })
		if err != nil {
			return err
		}
		s := summarizeProcs(mems)
		ref = &s
		sleeps.stop()
		bar("/bin/sleep, resident", s.rss.P50)
		bar("/bin/sleep, own", s.private.P50)
		out.Row("units", "sleep", s.row("process (/bin/sleep)", len(mems)))
		metrics = append(metrics, s.metrics("/bin/sleep")...)
	} else {
		out.Log("There is no sleep program on this machine, so the small C process used as a reference cannot be measured.")
	}

	// OS threads inside this process.
	out.Progress("OS threads", 2, 4)
	th, err := threadMemory(ctx, out, p.Int("threads"))
	if err != nil {
		return err
	}
	bar("thread, resident", th.rss)
	bar("thread, reserved", th.vm)
	out.Row("units", "thread", map[string]any{
		"kind": "OS thread", "alive": th.n, "ids": th.distinct,
		"resident": human(th.rss), "reserved": human(th.vm),
		"note": fmt.Sprintf("this process went from %d to %d threads; growth of VmRSS and VmSize ÷ %d", th.before, th.peak, th.n),
	})
	metrics = append(metrics,
		lab.Metric{Name: "Resident per thread", Value: th.rss / kib, Unit: "KiB", N: th.n, Note: "growth of this process's VmRSS ÷ threads added"},
		lab.Metric{Name: "Virtual memory reserved per thread", Value: th.vm / kib, Unit: "KiB", N: th.n,
			Note: "growth of VmSize ÷ threads added: the stack and whatever else was reserved for them, such as C library memory pools"},
		lab.Metric{Name: "Threads in this process before", Value: float64(th.before), Unit: "threads"},
		lab.Metric{Name: "Threads in this process with all alive", Value: float64(th.peak), Unit: "threads", Note: "Threads in /proc/self/status"},
	)
	if th.stacks > 0 {
		metrics = append(metrics,
			lab.Metric{Name: "Thread stack reserved", Value: th.stackSize / kib, Unit: "KiB", N: th.stacks, Note: "size of each new stack mapping in /proc/self/smaps"},
			lab.Metric{Name: "Thread stack resident", Value: th.stackRSS / kib, Unit: "KiB", N: th.stacks, Note: "mean Rss of those mappings"},
		)
	}

	// Goroutines.
	out.Progress("goroutines", 3, 4)
	g, err := goroutineMemory(ctx, out, p.Int("goroutines"))
	if err != nil {
		return err
	}
	bar("goroutine, resident", g.rss)
	bar("goroutine, stack", g.stack)
	out.Row("units", "goroutine", map[string]any{
		"kind": "goroutine", "alive": g.n, "ids": "–", "resident": human(g.rss), "reserved": human(g.stack) + " of stack",
		"note": "growth of VmRSS, and of the Go runtime's StackInuse, ÷ goroutines added",
	})
	metrics = append(metrics,
		lab.Metric{Name: "Stack in use per goroutine", Value: g.stack / kib, Unit: "KiB", N: g.n, Note: "growth of runtime.MemStats.StackInuse ÷ goroutines"},
		lab.Metric{Name: "Resident per goroutine", Value: g.rss / kib, Unit: "KiB", N: g.n, Note: "growth of VmRSS ÷ goroutines"},
		lab.Metric{Name: "Ratio own memory per process / resident per thread", Value: proc.private.P50 / th.rss, Unit: "×"},
	)
	out.Progress("done", 4, 4)
	out.Result(metrics, []lab.Claim{judgeProcMemory(proc, ref, th, g), judgeStacks(th)})
	return nil
}

// procSummary is what N processes held alive measured.
type procSummary struct {
	rss, pss, private, tables, threads lab.Summary
	distinct                           int
}

func summarizeProcs(mems []probe.Memory) procSummary {
	var rss, pss, priv, tab, thr []float64
	for _, m := range mems {
		rss = append(rss, float64(m.RSS))
		pss = append(pss, float64(m.PSS))
		priv = append(priv, float64(m.Private))
		tab = append(tab, float64(m.PageTables))
		thr = append(thr, float64(m.Threads))
	}
	return procSummary{rss: lab.Summarize(rss), pss: lab.Summarize(pss), private: lab.Summarize(priv),
		tables: lab.Summarize(tab), threads: lab.Summarize(thr), distinct: len(mems)}
}

func (s procSummary) row(kind string, n int) map[string]any {
	return map[string]any{
		"kind": kind, "alive": n, "ids": s.distinct,
		"resident": fmt.Sprintf("%s (own %s, fair share %s)", human(s.rss.P50), human(s.private.P50), human(s.pss.P50)),
		"reserved": "–",
		"note":     fmt.Sprintf("/proc/<pid>/smaps_rollup of each, all alive; medians; %.0f threads each", s.threads.P50),
	}
}

func (s procSummary) metrics(what string) []lab.Metric {
	m := func(name string, sum lab.Summary, note string) lab.Metric {
		sum.Min, sum.P50, sum.P99, sum.Max = sum.Min/kib, sum.P50/kib, sum.P99/kib, sum.Max/kib
		x := sum.Named(name, "KiB")
		x.Note = note
		return x
	}
	return []lab.Metric{
		m("Resident per process ("+what+")", s.rss, "VmRSS: every page it maps that is in RAM, shared ones included"),
		m("Own memory per process ("+what+")", s.private, "Private_Clean + Private_Dirty: pages no other process maps"),
		m("Fair share per process ("+what+")", s.pss, "Pss: shared pages divided among the processes that map them"),
		m("Page tables per process ("+what+")", s.tables, "VmPTE: kernel memory that maps its address space"),
	}
}

func judgeProcMemory(p procSummary, ref *procSummary, th threadMem, g goroutineMem) lab.Claim {
	r := p.private.P50 / th.rss
	m := fmt.Sprintf("a copy of this program: %s of its own (%s resident); a thread: %s resident — %s; a goroutine: %s",
		human(p.private.P50), human(p.rss.P50), human(th.rss), ratio(p.private.P50, th.rss), human(g.rss))
	if ref != nil {
		m += fmt.Sprintf("; /bin/sleep: %s of its own", human(ref.private.P50))
	}
	switch {
	case th.rss <= 0:
		return claimProcMemory.Judge(m, lab.Inconclusive,
			"This process's resident memory did not grow while the threads were added, so the cost of a thread is lost in the noise. Try more threads.")
	case r >= 10:
		return claimProcMemory.Judge(m, lab.Holds, "")
	default:
		return claimProcMemory.Judge(m, lab.Differs, fmt.Sprintf(
			"A process came out only %s a thread here. A process's own memory is mostly its runtime and libraries' private data; a tiny program shares nearly everything and costs little.", ratio(p.private.P50, th.rss)))
	}
}

func judgeStacks(th threadMem) lab.Claim {
	if th.stacks == 0 {
		m := fmt.Sprintf("no separate stack regions appeared; per thread, virtual memory grew by %s and resident memory by %s", human(th.vm), human(th.rss))
		return claimStackReserved.Judge(m, lab.Inconclusive,
			"This program was built without the C library's threads (no cgo), so Go gives each thread a small stack from its own heap and there is no big per-thread reservation to see. Built with cgo, each thread gets a C library stack as large as `ulimit -s`.")
	}
	frac := th.stackRSS / th.stackSize
	m := fmt.Sprintf("%d new stacks of %s reserved each; %s of each resident on average (%.2f%%)", th.stacks, human(th.stackSize), human(th.stackRSS), 100*frac)
	if frac < 0.10 {
		return claimStackReserved.Judge(m, lab.Holds, "")
	}
	return claimStackReserved.Judge(m, lab.Differs,
		"A large part of each stack was resident. Something touched the stacks deeply, or the stacks are small here; the reservation is still address space, not RAM, until it is touched.")
}

// runtimeStack reads the Go runtime's stack memory in use.
func runtimeStack() float64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.StackInuse)
}
