package greenthreads

import (
	"fmt"
	"strings"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// The figures and verdict rule of spawn-many: what the two phases
// measured, and the host's limits, go in; metrics and the claim come out.
// Nothing here measures (spawn_many_judge_test.go tries every branch).

// spawnMeasured is what spawn-many measured.
type spawnMeasured struct {
	goroutines, threads grown // threads.reached is 0 when there was no room for threads
	limits              probe.ThreadLimits
	mem                 probe.MachineMemory // at the start of the run
}

// threadKeys are the metrics only a run with a thread phase has: with no
// room for threads there is nothing to weigh a goroutine against, not even
// a million of them.
var threadKeys = []string{
	"threads.peak", "threads.distinct_ids", "memory.thread.resident", "memory.thread.kernel_stack", "memory.thread.reserved",
	"spawn.thread.per_second", "threads.left", "memory.thread_vs_goroutine.resident", "memory.goroutine.million", "memory.thread.million",
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

// judgeSpawnMany turns the two phases into metrics and the verdict.
func judgeSpawnMany(m spawnMeasured) ([]lab.Metric, lab.Claim) {
	gr, th, limits, mem := m.goroutines, m.threads, m.limits, m.mem
	c := costsOf(gr, th)
	kb := func(b float64) float64 { return b / 1024 }
	metrics := []lab.Metric{
		{Key: "goroutines.peak", Name: "Goroutines counted at the peak", Value: float64(gr.peak), Unit: "goroutines", Note: fmt.Sprintf("runtime.NumGoroutine; %d before", gr.before)},
		{Key: "memory.goroutine.resident", Name: "Memory per goroutine, resident", Value: kb(c.perG), Unit: "KiB", N: gr.reached, Note: fmt.Sprintf("VmRSS grew by %s for %d goroutines", mib(gr.rss), gr.reached)},
		{Key: "memory.goroutine.stack", Name: "Stack per goroutine", Value: kb(c.stackG), Unit: "KiB", Note: "growth of the runtime's stack memory (runtime/metrics)"},
		{Key: "spawn.goroutine.per_second", Name: "Goroutines made per second", Value: perSecond(gr.reached, gr.wall), Unit: "per s", Note: fmt.Sprintf("%d in %s, one goroutine starting them all", gr.reached, gr.wall.Round(time.Millisecond))},
		{Key: "goroutines.left", Name: "Goroutines left after release", Value: float64(gr.left), Unit: "goroutines"},
	}
	usable := float64(mem.Usable())
	cpm := fmt.Sprintf("%d goroutines: %.2f KiB each (%s in all)", gr.reached, kb(c.perG), mib(gr.rss))
	if gr.reached == 0 || c.perG <= 0 {
		return metrics, claimMillion.Judge(cpm, lab.Inconclusive,
			"No goroutine was parked, or their memory did not register, so there is nothing to weigh.")
	}
	if th.reached == 0 {
		return metrics, claimMillion.Judge(cpm, lab.Inconclusive,
			"There was no room to start OS threads on this machine during the run, so there is nothing to compare the goroutines with.")
	}
	capN, capName := limits.Cap(c.pthreads)
	ratio := c.perT / c.perG
	metrics = append(metrics,
		lab.Metric{Key: "threads.peak", Name: "OS threads counted at the peak", Value: float64(th.peak), Unit: "threads", Note: fmt.Sprintf("Threads in /proc/self/status; %d before", th.before)},
		lab.Metric{Key: "threads.distinct_ids", Name: "Distinct thread ids of the parked threads", Value: float64(th.distinct), Unit: "threads", Note: "gettid, answered by each locked goroutine"},
		lab.Metric{Key: "memory.thread.resident", Name: "Memory per OS thread, resident", Value: kb(c.perT), Unit: "KiB", N: th.reached, Note: fmt.Sprintf("VmRSS grew by %s for %d threads", mib(th.rss), th.reached)},
		lab.Metric{Key: "memory.thread.kernel_stack", Name: "Kernel stack per OS thread", Value: kb(c.kT), Unit: "KiB", Note: "KernelStack in /proc/meminfo (whole machine); not part of the process's resident memory"},
		lab.Metric{Key: "memory.thread.reserved", Name: "Address space reserved per OS thread", Value: kb(c.vmT), Unit: "KiB", Note: "growth of VmSize: mostly a stack reserved but never touched"},
		lab.Metric{Key: "spawn.thread.per_second", Name: "OS threads made per second", Value: perSecond(th.reached, th.wall), Unit: "per s", Note: fmt.Sprintf("%d in %s", th.reached, th.wall.Round(time.Millisecond))},
		lab.Metric{Key: "threads.left", Name: "OS threads left after release", Value: float64(th.left), Unit: "threads"},
		lab.Metric{Key: "memory.thread_vs_goroutine.resident", Name: "OS thread vs goroutine, resident memory", Value: ratio, Unit: "×"},
		lab.Metric{Key: "memory.goroutine.million", Name: "A million goroutines would take", Value: c.gMillion / (1 << 30), Unit: "GiB", Note: extrapolated(gr.reached)},
		lab.Metric{Key: "memory.thread.million", Name: "A million OS threads would take", Value: c.tMillion / (1 << 30), Unit: "GiB", Note: fmt.Sprintf("extrapolated from %d threads: resident memory and kernel stacks", th.reached)},
	)

	// What stops a million threads first is a limit, and memory only
	// after it: the limit is measured, the memory of a million is not.
	stop := fmt.Sprintf("this host caps a process at %d threads (%s), which stops a million threads first", capN, capName)
	if capN >= million {
		stop = fmt.Sprintf("this host would let a process have %d threads (%s), so memory is what would stop them", capN, capName)
	}
	measured := fmt.Sprintf("%s; %d OS threads: %.1f KiB each resident + %.1f KiB kernel stack, %s of address space reserved: %.1f× a goroutine's resident memory. "+
		"%s. A million goroutines would take %s (%s); a million OS threads %s (extrapolated from %d threads, never measured: no machine here could start them)",
		cpm, th.reached, kb(c.perT), kb(c.kT), mib(int64(c.vmT)), ratio, capitalize(stop), mib(int64(c.gMillion)), extrapolated(gr.reached), mib(int64(c.tMillion)), th.reached)
	// Memory and counts, not timings: the machine's load does not enter.
	// "Fit comfortably": a million goroutines in at most half the memory
	// this process could still take (lab.Most). "Would not": the share of
	// a million threads the host could hold — its thread limit, or its
	// free memory — is below one.
	room := min(float64(capN)/million, usable/max(c.tMillion, 1))
	gFits := lab.Decide(lab.Once(c.gMillion, "bytes"), lab.AtMost(usable*lab.Most), lab.NotTimed)
	tFails := lab.Decide(lab.Once(room, "× a million"), lab.AtMost(1), lab.NotTimed)
	why := fmt.Sprintf("Even goroutines would not fit comfortably: a million would need %s and this machine has %s free. Small as a goroutine is, a million of anything adds up on a small machine.",
		mib(int64(c.gMillion)), mib(int64(usable)))
	if gFits.Verdict != lab.Differs {
		why = fmt.Sprintf("This machine could hold a million threads: it has %s free and lets a process have %d threads. They would still cost %.0f× the memory of goroutines, and Go itself would refuse more than %d.",
			mib(int64(usable)), capN, ratio, goMaxThreads)
	}
	return metrics, claimMillion.Decided(measured, lab.All(gFits, tFails), why)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
