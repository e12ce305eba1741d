package processesvsthreads

import (
	"fmt"

	"conclab/internal/lab"
)

// memMeasured is what memory-footprint measured: N copies of this program
// held alive, the same for /bin/sleep (nil without it), N OS threads and N
// goroutines inside this process.
type memMeasured struct {
	proc procSummary
	ref  *procSummary
	th   threadMem
	g    goroutineMem
}

// memoryMetrics are the result's figures, keyed memory.<unit>.<what>.
// The recap's "memory per process" is memory.process.own, the pages only
// that process holds, which is what one more copy costs; "memory per OS
// thread" is memory.thread.resident, what one more thread adds to RAM.
// Those two are alike: each is what one more unit adds.
func memoryMetrics(m memMeasured) []lab.Metric {
	metrics := m.proc.metrics("process", "this program")
	if m.ref != nil {
		metrics = append(metrics, m.ref.metrics("bin_sleep", "/bin/sleep")...)
	}
	th, g := m.th, m.g
	metrics = append(metrics,
		lab.Metric{Key: "memory.thread.resident", Name: "Resident per thread", Value: th.rss / kib, Unit: "KiB", N: th.n, Note: "growth of this process's VmRSS ÷ threads added"},
		lab.Metric{Key: "memory.thread.reserved", Name: "Virtual memory reserved per thread", Value: th.vm / kib, Unit: "KiB", N: th.n,
			Note: "growth of VmSize ÷ threads added: the stack and whatever else was reserved for them, such as C library memory pools"},
		lab.Metric{Key: "threads.before", Name: "Threads in this process before", Value: float64(th.before), Unit: "threads"},
		lab.Metric{Key: "threads.all_alive", Name: "Threads in this process with all alive", Value: float64(th.peak), Unit: "threads", Note: "Threads in /proc/self/status"},
	)
	if th.stacks > 0 {
		metrics = append(metrics,
			lab.Metric{Key: "memory.thread_stack.reserved", Name: "Thread stack reserved", Value: th.stackSize / kib, Unit: "KiB", N: th.stacks, Note: "size of each new stack mapping in /proc/self/smaps"},
			lab.Metric{Key: "memory.thread_stack.resident", Name: "Thread stack resident", Value: th.stackRSS / kib, Unit: "KiB", N: th.stacks, Note: "mean Rss of those mappings"},
		)
	}
	metrics = append(metrics,
		lab.Metric{Key: "memory.goroutine.stack", Name: "Stack in use per goroutine", Value: g.stack / kib, Unit: "KiB", N: g.n, Note: "growth of runtime.MemStats.StackInuse ÷ goroutines"},
		lab.Metric{Key: "memory.goroutine.resident", Name: "Resident per goroutine", Value: g.rss / kib, Unit: "KiB", N: g.n, Note: "growth of VmRSS ÷ goroutines"},
	)
	if th.rss > 0 { // a ratio to nothing is no figure
		metrics = append(metrics, lab.Metric{Key: "memory.ratio.process_own_thread_resident", Name: "Ratio own memory per process / resident per thread", Value: m.proc.private.P50 / th.rss, Unit: "×"})
	}
	return metrics
}

// metrics are the figures of N processes held alive, keyed
// memory.<unit>.<what>, in KiB.
func (s procSummary) metrics(unit, what string) []lab.Metric {
	m := func(key, name string, sum lab.Summary, note string) lab.Metric {
		sum.Min, sum.P50, sum.P99, sum.Max = sum.Min/kib, sum.P50/kib, sum.P99/kib, sum.Max/kib
		x := sum.Metric("memory."+unit+"."+key, name, "KiB")
		x.Note = note
		return x
	}
	return []lab.Metric{
		m("resident", "Resident per process ("+what+")", s.rss, "VmRSS: every page it maps that is in RAM, shared ones included"),
		m("own", "Own memory per process ("+what+")", s.private, "Private_Clean + Private_Dirty: pages no other process maps"),
		m("fair_share", "Fair share per process ("+what+")", s.pss, "Pss: shared pages divided among the processes that map them"),
		m("page_tables", "Page tables per process ("+what+")", s.tables, "VmPTE: kernel memory that maps its address space"),
	}
}

// judgeMemory holds both claims of memory-footprint.
func judgeMemory(m memMeasured) []lab.Claim {
	return []lab.Claim{judgeProcMemory(m.proc, m.ref, m.th, m.g), judgeStacks(m.th)}
}

func judgeProcMemory(p procSummary, ref *procSummary, th threadMem, g goroutineMem) lab.Claim {
	m := fmt.Sprintf("a copy of this program: %s of its own (%s resident); a thread: %s resident — %s; a goroutine: %s",
		human(p.private.P50), human(p.rss.P50), human(th.rss), ratio(p.private.P50, th.rss), human(g.rss))
	if ref != nil {
		m += fmt.Sprintf("; /bin/sleep: %s of its own", human(ref.private.P50))
	}
	if th.rss <= 0 {
		return claimProcMemory.Judge(m, lab.Inconclusive,
			"This process's resident memory did not grow while the threads were added, so the cost of a thread is lost in the noise. Try more threads.")
	}
	// Memory is not time: other programs cannot move these figures, so the
	// machine's load does not enter the verdict.
	// "Far more": lab.Far times a thread's, beyond the spread of the copies.
	d := lab.Compare(lab.BandOf(p.private, "bytes"), lab.Once(th.rss, "bytes"), lab.AtLeast(lab.Far), lab.NotTimed)
	m += fmt.Sprintf("; own memory per process ÷ a thread's: %s", lab.Ratio(lab.BandOf(p.private, "bytes"), lab.Once(th.rss, "bytes")))
	return claimProcMemory.Decided(m, d, fmt.Sprintf(
		"A process came out only %s a thread here. A process's own memory is mostly its runtime and libraries' private data; a tiny program shares nearly everything and costs little.", ratio(p.private.P50, th.rss)))
}

func judgeStacks(th threadMem) lab.Claim {
	if th.mapsErr != nil {
		m := fmt.Sprintf("the address space could not be read; per thread, virtual memory grew by %s and resident memory by %s", human(th.vm), human(th.rss))
		return claimStackReserved.Judge(m, lab.Inconclusive,
			"This process's memory map (/proc/self/smaps) could not be read, so the threads' stacks could not be found in it: "+th.mapsErr.Error())
	}
	if th.stacks == 0 {
		m := fmt.Sprintf("no separate stack regions appeared; per thread, virtual memory grew by %s and resident memory by %s", human(th.vm), human(th.rss))
		return claimStackReserved.Judge(m, lab.Inconclusive,
			"This program was built without the C library's threads (no cgo), so Go gives each thread a small stack from its own heap and there is no big per-thread reservation to see. Built with cgo, each thread gets a C library stack as large as `ulimit -s`.")
	}
	frac := th.stackRSS / th.stackSize
	m := fmt.Sprintf("%d new stacks of %s reserved each; %s of each resident on average (%.2f%%)", th.stacks, human(th.stackSize), human(th.stackRSS), 100*frac)
	// "Mostly not resident": most of each stack (lab.Most) is not in RAM.
	return claimStackReserved.Decided(m, lab.Decide(lab.Once(frac, ""), lab.AtMost(1-lab.Most), lab.NotTimed),
		"A large part of each stack was resident. Something touched the stacks deeply, or the stacks are small here; the reservation is still address space, not RAM, until it is touched.")
}
