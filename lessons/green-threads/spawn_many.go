package greenthreads

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var claimMillion = lab.Claim{
	Claim:    "A million green threads fit comfortably in one process; a million OS threads would not.",
	Expected: "a goroutine costs a few KB, an OS thread many times more, and a million threads exceed the host's memory or thread limit",
}

const million = 1_000_000

// goMaxThreads is the Go runtime's default cap on a program's OS threads
// (debug.SetMaxThreads); past it the program dies.
const goMaxThreads = 10_000

func spawnMany() *lab.Experiment {
	return &lab.Experiment{
		ID:     "spawn-many",
		Lesson: Slug,
		Title:  "A million goroutines, a few thousand threads",
		Summary: "First M OS threads are started and parked, each a goroutine locked to its own thread and blocked on a channel; " +
			"then N goroutines are started and parked the same way. The kernel's thread count, the runtime's goroutine count and the " +
			"process's resident memory are read as they pile up. Everything is released at the end.",
		Params: []lab.Param{
			lab.Int("goroutines", "Goroutines (N)", million, 1_000, million,
				"How many goroutines to park. A million takes a few GB on most machines.").WithQuick(20_000),
			lab.Int("threads", "OS threads (M)", 2_000, 10, 5_000,
				"How many OS threads to park. Capped below the host's thread limits.").WithQuick(200),
			lab.Int("budget", "Time budget for goroutines", 5, 1, 30,
				"Goroutines stop being added when this runs out; slow machines then report how far they got.").WithUnit("s").WithQuick(20),
		},
		Claims: []lab.Claim{claimMillion},
		Charts: []lab.Chart{
			{ID: "memory", Kind: "line", Title: "Resident memory as they pile up", X: "parked so far", Y: "resident memory added (MB)", LogX: true, LogY: true,
				Note: "Growth of VmRSS in /proc/self/status since the phase began. On log scales, equal cost per unit draws parallel lines; the gap between them is the ratio."},
			{ID: "time", Kind: "line", Title: "How fast they are made", X: "seconds since the phase began", Y: "parked so far", LogY: true,
				Note: "Each point is read after a batch has started and parked."},
			{ID: "per", Kind: "bars", Title: "Memory for each one", Y: "KB each", LogY: true,
				Note: "Growth at the peak divided by the count. Kernel stacks come from /proc/meminfo and cover the whole machine."},
		},
		Tables: []lab.Table{
			{ID: "counted", Title: "What the OS and the runtime counted", Columns: []lab.Column{
				{Key: "kind", Label: "Kind"}, {Key: "target", Label: "Asked for"}, {Key: "reached", Label: "Parked"},
				{Key: "before", Label: "Counted before"}, {Key: "peak", Label: "Counted at the peak"}, {Key: "how", Label: "Counted by"}, {Key: "seconds", Label: "Seconds"},
				{Key: "rate", Label: "Made per second"}, {Key: "faults", Label: "Page faults"}, {Key: "left", Label: "Left after release"},
			}},
			{ID: "limits", Title: "What caps the number of threads here", Columns: []lab.Column{
				{Key: "limit", Label: "Limit"}, {Key: "value", Label: "Value"}, {Key: "meaning", Label: "What it means"},
			}},
		},
		Limit: 120 * time.Second,
		Run:   runSpawnMany,
	}
}

func runSpawnMany(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	limits := probe.ReadThreadLimits()
	mem := probe.ReadMachineMemory()
	showLimits(out, limits, mem)

	// Threads: stay well inside whatever limit is nearest, and inside Go's
	// own cap, because failing to start a thread kills a Go program.
	m := p.Int("threads")
	room, roomName := limits.Headroom(probe.Threads(), true)
	safe := int(min(room/2, int64(goMaxThreads-probe.Threads()-200)))
	if m > safe {
		out.Log(fmt.Sprintf("Asked for %d OS threads, but the nearest limit (%s) leaves room for %d more on this machine right now; using %d, half of that, so nothing else on the machine is starved.", m, roomName, room, max(safe, 0)))
		m = max(safe, 0)
	}
	var th grown
	if m >= 10 {
		var err error
		out.Progress("parking OS threads", 0, m)
		if th, err = growThreads(ctx, m, out); err != nil {
			return err
		}
		showPhase(out, "threads", "OS threads", th, "/proc/self/status")
	} else {
		out.Log("Too little room for threads on this machine right now; the thread phase is skipped.")
	}

	// Goroutines: at most half of the memory that is free, and 4 GB.
	allow := min(int64(4)<<30, probe.ReadMachineMemory().Usable()/2)
	out.Log(fmt.Sprintf("This run may use up to %s for goroutines (half of the memory free now, at most 4 GB); it stops adding them before that.", mib(allow)))
	n := p.Int("goroutines")
	budget := time.Duration(p.Int("budget")) * time.Second
	out.Progress("parking goroutines", 0, n)
	gr, err := growGoroutines(ctx, n, budget, allow, out)
	if err != nil {
		return err
	}
	out.Progress("done", 1, 1)

	showPhase(out, "goroutines", "goroutines", gr, "runtime.NumGoroutine")
	c := costsOf(gr, th)
	showPer(out, c)
	metrics, claim := judgeSpawnMany(gr, th, c, limits, mem)
	out.Result(metrics, []lab.Claim{claim})
	return nil
}

func showPhase(out *lab.Emitter, key, kind string, g grown, how string) {
	rate := 0.0
	if g.wall > 0 {
		rate = float64(g.reached) / g.wall.Seconds()
	}
	out.Row("counted", key, map[string]any{
		"kind": kind, "target": g.target, "reached": g.reached, "before": g.before, "peak": g.peak, "how": how,
		"seconds": g.wall.Seconds(), "rate": rate, "faults": g.faults, "left": g.left,
	})
}

func showLimits(out *lab.Emitter, l probe.ThreadLimits, mem probe.MachineMemory) {
	row := func(key, limit string, v int64, meaning string) {
		val := any(v)
		if v == probe.Unlimited {
			val = "none"
		} else if v < 0 {
			val = "unreadable"
		}
		out.Row("limits", key, map[string]any{"limit": limit, "value": val, "meaning": meaning})
	}
	row("threads-max", "kernel.threads-max", l.ThreadsMax, "threads and processes the whole machine may have")
	row("tasks", "tasks running now", l.Tasks, "threads and processes on the machine at the start of this run")
	row("pid_max", "kernel.pid_max", l.PidMax, "every thread takes a process id")
	row("pids.max", "cgroup pids.max", l.PidsMax, "threads and processes this container or service may have")
	nproc := "threads and processes one user may have"
	if l.Root {
		nproc += " (not enforced: this runs as root)"
	}
	row("nproc", "ulimit -u", l.NProc, nproc)
	row("max_map_count", "vm.max_map_count", l.MaxMapCount, "memory mappings per process; a thread made by pthread_create uses two")
	row("go", "Go's debug.SetMaxThreads", goMaxThreads, "a Go program that needs more OS threads than this crashes")
	row("mem", "memory available (MB)", mem.Available>>20, "MemAvailable in /proc/meminfo at the start")
	if mem.CgroupLimit != probe.Unlimited {
		row("memcg", "cgroup memory limit (MB)", mem.CgroupLimit>>20, "memory this container or service may use")
	}
}

// costs are the per-unit figures of spawn-many, in bytes.
type costs struct {
	perG, stackG  float64 // resident memory and stack per goroutine
	perT, kT, vmT float64 // resident memory, kernel stack and address space per OS thread
	pthreads      bool    // each thread got a reserved C stack (a binary linked with cgo)
	gMillion      float64 // a million goroutines, bytes
	tMillion      float64 // a million OS threads, resident memory and kernel stacks, bytes
}

func costsOf(gr, th grown) costs {
	c := costs{perG: float64(gr.rss) / float64(max(gr.reached, 1)), stackG: float64(gr.stacks) / float64(max(gr.reached, 1))}
	c.gMillion = c.perG * million
	if th.reached > 0 {
		n := float64(th.reached)
		c.perT, c.vmT, c.kT = float64(th.rss)/n, float64(th.vm)/n, float64(th.kstack)/n
		c.pthreads = c.vmT >= 1<<20
		per := c.perT
		// The kernel's figure covers the whole machine; count it only when
		// it is believable for one thread.
		if c.kT > 0 && c.kT < 256<<10 {
			per += c.kT
		}
		c.tMillion = per * million
	}
	return c
}

// showPer draws the per-unit bars.
func showPer(out *lab.Emitter, c costs) {
	bar := func(label string, b float64) {
		if b > 0 {
			out.Bar("per", "", label, b/1024, b/1024, b/1024)
		}
	}
	bar("goroutine, resident", c.perG)
	bar("goroutine, stack", c.stackG)
	bar("OS thread, resident", c.perT)
	bar("OS thread, kernel stack", c.kT)
	bar("OS thread, address space", c.vmT)
}

// judgeSpawnMany turns the two phases into metrics and the verdict.
func judgeSpawnMany(gr, th grown, c costs, limits probe.ThreadLimits, mem probe.MachineMemory) ([]lab.Metric, lab.Claim) {
	kb := func(b float64) float64 { return b / 1024 }
	metrics := []lab.Metric{
		{Name: "Goroutines counted at the peak", Value: float64(gr.peak), Unit: "goroutines", Note: fmt.Sprintf("runtime.NumGoroutine; %d before", gr.before)},
		{Name: "Memory per goroutine, resident", Value: kb(c.perG), Unit: "KB", N: gr.reached, Note: fmt.Sprintf("VmRSS grew by %s for %d goroutines", mib(gr.rss), gr.reached)},
		{Name: "Stack per goroutine", Value: kb(c.stackG), Unit: "KB", Note: "growth of the runtime's stack memory (runtime/metrics)"},
		{Name: "Goroutines made per second", Value: float64(gr.reached) / gr.wall.Seconds(), Unit: "per s", Note: fmt.Sprintf("%d in %s, one goroutine starting them all", gr.reached, gr.wall.Round(time.Millisecond))},
		{Name: "Goroutines left after release", Value: float64(gr.left), Unit: "goroutines"},
	}
	usable := float64(mem.Usable())
	cpm := fmt.Sprintf("%d goroutines: %.2f KB each (%s in all)", gr.reached, kb(c.perG), mib(gr.rss))
	if th.reached == 0 {
		return metrics, claimMillion.Judge(cpm, lab.Inconclusive,
			"There was no room to start OS threads on this machine during the run, so there is nothing to compare the goroutines with.")
	}
	capN, capName := limits.Cap(c.pthreads)
	ratio := c.perT / c.perG
	metrics = append(metrics,
		lab.Metric{Name: "OS threads counted at the peak", Value: float64(th.peak), Unit: "threads", Note: fmt.Sprintf("Threads in /proc/self/status; %d before", th.before)},
		lab.Metric{Name: "Distinct thread ids of the parked threads", Value: float64(th.distinct), Unit: "threads", Note: "gettid, answered by each locked goroutine"},
		lab.Metric{Name: "Memory per OS thread, resident", Value: kb(c.perT), Unit: "KB", N: th.reached, Note: fmt.Sprintf("VmRSS grew by %s for %d threads", mib(th.rss), th.reached)},
		lab.Metric{Name: "Kernel stack per OS thread", Value: kb(c.kT), Unit: "KB", Note: "KernelStack in /proc/meminfo (whole machine); not part of the process's resident memory"},
		lab.Metric{Name: "Address space reserved per OS thread", Value: kb(c.vmT), Unit: "KB", Note: "growth of VmSize: mostly a stack reserved but never touched"},
		lab.Metric{Name: "OS threads made per second", Value: float64(th.reached) / th.wall.Seconds(), Unit: "per s", Note: fmt.Sprintf("%d in %s", th.reached, th.wall.Round(time.Millisecond))},
		lab.Metric{Name: "OS threads left after release", Value: float64(th.left), Unit: "threads"},
		lab.Metric{Name: "OS thread vs goroutine, resident memory", Value: ratio, Unit: "×"},
		lab.Metric{Name: "A million goroutines would take", Value: c.gMillion / (1 << 30), Unit: "GB", Note: extrapolated(gr.reached)},
		lab.Metric{Name: "A million OS threads would take", Value: c.tMillion / (1 << 30), Unit: "GB", Note: fmt.Sprintf("extrapolated from %d threads: resident memory and kernel stacks", th.reached)},
	)

	measured := fmt.Sprintf("%s; %d OS threads: %.1f KB each resident + %.1f KB kernel stack, %s of address space reserved: %.1f× a goroutine's resident memory. "+
		"A million goroutines: %s (%s); a million OS threads: %s, and this host caps a process at %d threads (%s)",
		cpm, th.reached, kb(c.perT), kb(c.kT), mib(int64(c.vmT)), ratio, mib(int64(c.gMillion)), extrapolated(gr.reached), mib(int64(c.tMillion)), capN, capName)
	gFits := c.gMillion <= usable/2
	tFits := c.tMillion <= usable && capN >= million
	switch {
	case gFits && !tFits && ratio >= 3:
		return metrics, claimMillion.Judge(measured, lab.Holds, "")
	case !gFits:
		return metrics, claimMillion.Judge(measured, lab.Differs, fmt.Sprintf(
			"Even goroutines would not fit comfortably: a million would need %s and this machine has %s free. Small as a goroutine is, a million of anything adds up on a small machine.",
			mib(int64(c.gMillion)), mib(int64(usable))))
	case tFits:
		return metrics, claimMillion.Judge(measured, lab.Differs, fmt.Sprintf(
			"This machine could hold a million threads: it has %s free and lets a process have %d threads. They would still cost %.0f× the memory of goroutines, and Go itself would refuse more than %d.",
			mib(int64(usable)), capN, ratio, goMaxThreads))
	default:
		return metrics, claimMillion.Judge(measured, lab.Differs, fmt.Sprintf(
			"An OS thread cost only %.1f× a goroutine here. Threads still run into the host's limit of %d, but memory alone does not make the case.", ratio, capN))
	}
}

func extrapolated(reached int) string {
	if reached >= million {
		return "measured"
	}
	return fmt.Sprintf("extrapolated from %d", reached)
}
