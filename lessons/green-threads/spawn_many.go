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
	Expected: "a million goroutines in half the memory free or less; a million OS threads past a kernel limit or the memory free",
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
				"How many goroutines to park. A million takes a few GiB on most machines.").WithQuick(20_000),
			lab.Int("threads", "OS threads (M)", 2_000, 10, 5_000,
				"How many OS threads to park. Capped below the host's thread limits.").WithQuick(200),
			lab.Int("budget", "Time budget for goroutines", 5, 1, 30,
				"Goroutines stop being added when this runs out; slow machines then report how far they got.").WithUnit("s").WithQuick(20),
		},
		Claims:      []lab.Claim{claimMillion},
		Predictions: spawnManyPredictions,
		Charts: []lab.Chart{
			{ID: "memory", Kind: "line", Title: "Resident memory as they pile up", X: "parked so far", Y: "resident memory added (MiB)", LogX: true, LogY: true,
				Note: "Growth of VmRSS in /proc/self/status since the phase began. On log scales, equal cost per unit draws parallel lines; the gap between them is the ratio."},
			{ID: "time", Kind: "line", Title: "How fast they are made", X: "seconds since the phase began", Y: "parked so far", LogY: true,
				Note: "Each point is read after a batch has started and parked."},
			{ID: "per", Kind: "bars", Title: "Memory for each one", Y: "KiB each", LogY: true,
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
		// The thread phase runs only when the host leaves room for threads.
		Conditional: threadKeys,
		Limit:       120 * time.Second,
		Run:         runSpawnMany,
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

	// Goroutines: at most half of the memory that is free, and 4 GiB.
	allow := min(int64(4)<<30, probe.ReadMachineMemory().Usable()/2)
	out.Log(fmt.Sprintf("This run may use up to %s for goroutines (half of the memory free now, at most 4 GiB); it stops adding them before that.", mib(allow)))
	n := p.Int("goroutines")
	budget := time.Duration(p.Int("budget")) * time.Second
	out.Progress("parking goroutines", 0, n)
	gr, err := growGoroutines(ctx, n, budget, allow, out)
	if err != nil {
		return err
	}
	out.Progress("done", 1, 1)

	showPhase(out, "goroutines", "goroutines", gr, "runtime.NumGoroutine")
	showPer(out, costsOf(gr, th))
	metrics, claim := judgeSpawnMany(spawnMeasured{goroutines: gr, threads: th, limits: limits, mem: mem})
	out.Result(metrics, []lab.Claim{claim})
	return nil
}

// perSecond is a rate, 0 when no time was measured.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func showPhase(out *lab.Emitter, key, kind string, g grown, how string) {
	rate := perSecond(g.reached, g.wall)
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
	row("mem", "memory available (MiB)", mem.Available>>20, "MemAvailable in /proc/meminfo at the start")
	if mem.CgroupLimit != probe.Unlimited {
		row("memcg", "cgroup memory limit (MiB)", mem.CgroupLimit>>20, "memory this container or service may use")
	}
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

func extrapolated(reached int) string {
	if reached >= million {
		return "measured"
	}
	return fmt.Sprintf("extrapolated from %d", reached)
}

// spawnManyPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var spawnManyPredictions = []lab.Prediction{
	{Claim: 0, Question: "One parked goroutine, among many, takes about how much resident memory?", Kind: lab.PredictNumber, Unit: "KiB", Min: 0.1, Max: 10000, Log: true, Key: "memory.goroutine.resident"},
}
