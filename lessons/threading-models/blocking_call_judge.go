package threadingmodels

import (
	"fmt"

	"conclab/internal/lab"
)

// The figures and verdict rules of blocking-call: the thread counts of the
// three phases go in, metrics and claims come out. Nothing here measures
// (blocking_call_judge_test.go tries every branch).

// blockingMeasured is what blocking-call measured.
type blockingMeasured struct {
	gomaxprocs            int
	before                int   // threads in the process as the run began
	computing, blocking   int   // goroutines in the computing and the blocking phase
	compute, block, after peaks // thread counts while computing, while blocked in read(), after the release
}

// minSamples is the fewest readings of the thread count that can stand
// for a phase's peak.
const minSamples = 3

func blockingMetrics(m blockingMeasured) []lab.Metric {
	return []lab.Metric{
		{Key: "gomaxprocs", Name: "GOMAXPROCS", Value: float64(m.gomaxprocs), Unit: "", Note: "threads that may run Go code at once"},
		{Key: "threads.before", Name: "Threads before the run", Value: float64(m.before), Unit: "threads", Note: "the child process as it started, /proc/self/status"},
		{Key: "threads.computing.peak", Name: "Threads while goroutines compute, peak", Value: float64(m.compute.total), Unit: "threads",
			Note: fmt.Sprintf("%d computing goroutines; /proc/self/task every 20 ms", m.computing)},
		{Key: "threads.computing.running_peak", Name: "Threads running while goroutines compute, peak", Value: float64(m.compute.running), Unit: "threads",
			Note: "threads in state R (running or ready); the counting goroutine's thread is one of them"},
		{Key: "threads.blocking.peak", Name: "Threads while goroutines block, peak", Value: float64(m.block.total), Unit: "threads",
			Note: fmt.Sprintf("%d goroutines in read(); /proc/self/task every 20 ms", m.blocking)},
		{Key: "threads.blocking.running_peak", Name: "Threads running while goroutines block, peak", Value: float64(m.block.running), Unit: "threads",
			Note: "threads in state R; the ones in read() sleep (state S)"},
		{Key: "threads.added_per_blocked", Name: "Threads added per blocked goroutine", Value: float64(m.block.total-m.compute.total) / float64(max(m.blocking, 1)), Unit: "threads",
			Note: "(peak while blocked − peak while computing) ÷ blocked goroutines"},
		{Key: "threads.after_release.peak", Name: "Threads after release, peak", Value: float64(m.after.total), Unit: "threads", Note: "once every reader had returned"},
	}
}

func judgeBlocking(m blockingMeasured) []lab.Claim {
	return []lab.Claim{judgeComputeThreads(m), judgeBlockThreads(m)}
}

// band is a phase's per-sample counts as a band, less base: the verdicts
// read the middle half of the readings, so one reading that caught the
// runtime's helpers awake does not decide them.
func band(samples []float64, base float64) lab.Band {
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = s - base
	}
	return lab.BandOfValues(v, "threads")
}

// judgeComputeThreads: computing goroutines add (almost) no threads, and
// no more than GOMAXPROCS of them run at once.
func judgeComputeThreads(m blockingMeasured) lab.Claim {
	c := m.compute
	added, running := band(c.totals, float64(m.before)), band(c.runnings, 0)
	measured := fmt.Sprintf("%d computing goroutines: the process went from %d to at most %d threads, at most %d running at once (GOMAXPROCS %d); reading by reading, %s added and %s running",
		m.computing, m.before, c.total, c.running, m.gomaxprocs, added, running)
	if c.samples < minSamples {
		return claimComputeThreads.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The threads were counted only %d times while the goroutines computed: too few readings to stand for the phase's peak.", c.samples))
	}
	// "About GOMAXPROCS threads run them": the runtime needs at most one
	// new thread per P, so the threads added are about GOMAXPROCS at
	// most (the rule's quarter), however many goroutines compute; and no
	// more than GOMAXPROCS run at once, besides the runtime's monitor
	// thread (sysmon), which runs without a P. Thread counts are not
	// timings: the machine's load does not move them.
	d := lab.All(
		lab.Decide(added, lab.AtMost(float64(m.gomaxprocs)).About(), lab.NotTimed),
		lab.Decide(running, lab.AtMost(float64(m.gomaxprocs+1)), lab.NotTimed),
	)
	why := "The process had about as many threads as computing goroutines: Go's scheduler was not multiplexing them."
	if c.total < m.computing/2 {
		why = fmt.Sprintf("Still far fewer threads than goroutines, but the runtime started %d more or had more running than GOMAXPROCS allows Go code on, reading after reading: its own helpers (the garbage collector, the monitor thread) were busy too.",
			c.total-m.before)
	}
	return claimComputeThreads.Decided(measured, d, why)
}

// judgeBlockThreads: about one thread added per goroutine blocked in
// read().
func judgeBlockThreads(m blockingMeasured) lab.Claim {
	added := m.block.total - m.compute.total
	nb := float64(m.blocking)
	measured := fmt.Sprintf("%d goroutines blocked in read() took the process from %d to %d threads: %.2f added per blocked goroutine, while at most %d ran at once",
		m.blocking, m.compute.total, m.block.total, float64(added)/nb, m.block.running)
	if m.compute.samples < minSamples || m.block.samples < minSamples {
		return claimBlockThreads.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The threads were counted only %d times while the goroutines computed and %d times while they sat in read(): too few readings to stand for the peaks.",
			m.compute.samples, m.block.samples))
	}
	// The peaks, not the readings: threads are added as the monitor notices
	// each blocked call, so the phase's last readings are what it reached.
	// "About one more thread per goroutine": 1, less the rule's quarter.
	d := lab.Decide(lab.Once(float64(added)/nb, "threads per goroutine"), lab.AtLeast(1).About(), lab.NotTimed)
	why := "The thread count hardly grew while goroutines sat in read(): these reads did not hold a thread each, so the runtime must have waited for them some other way."
	if float64(added) >= 0.25*nb {
		why = "Threads grew, but by clearly fewer than one per blocked goroutine before the phase ended. The runtime replaces a blocked thread only when its monitor notices the block, and a thread that a read has returned to can take the next goroutine; a longer phase shows whether it catches up."
	}
	return claimBlockThreads.Decided(measured, d, why)
}
