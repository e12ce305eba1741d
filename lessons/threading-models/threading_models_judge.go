package threadingmodels

import (
	"fmt"

	"conclab/internal/lab"
)

// The verdict rules of threading-models: what the three model runs and the
// switch ping-pongs measured goes in, claims come out. Nothing here
// measures, so every branch can be tested with made-up figures
// (threading_models_judge_test.go).

// modelsMeasured is what the three model runs measured.
type modelsMeasured struct {
	one, n1, mn modelResult // 1:1, N:1 and M:N
	usable      int         // CPUs this process may use
	gomaxprocs  int         // GOMAXPROCS when the M:N model ran
	load        lab.Load    // what other programs used of the CPUs meanwhile
}

// judgeModels holds the model claims against the three runs, in the
// order the experiment declares them.
func judgeModels(m modelsMeasured) []lab.Claim {
	return []lab.Claim{judgeOneCPU(m), judgeStall(m), judgeKeepGoing(m), judgeFewer(m)}
}

// judgeOneCPU: N:1 stays on one kernel thread and one CPU, while 1:1 and
// M:N use more.
func judgeOneCPU(m modelsMeasured) lab.Claim {
	one, n1, mn := m.one, m.n1, m.mn
	measured := fmt.Sprintf("N:1 ran %d tasks on %s and kept at most %.2f CPUs busy; 1:1 reached %.2f and M:N %.2f",
		n1.tasks, plural(len(n1.tids), "kernel thread"), n1.busy, one.busy, mn.busy)
	switch {
	case len(n1.tids) != 1:
		return claimOneCPU.Judge(measured, lab.Differs,
			"The N:1 tasks were seen on more than one kernel thread, so they were not confined to one; that should not happen with coroutines on a locked thread.")
	case m.usable < 2:
		return claimOneCPU.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable here, so no model could keep more than one busy. The N:1 tasks did all share one kernel thread.")
	}
	// Each figure is the busiest 100 ms window of its model: one figure,
	// so the claim's own margin (1.3 CPUs) is its tolerance.
	confined := lab.Decide(lab.Once(n1.busy, "CPUs"), lab.AtMost(1.3), m.load)
	spread := lab.Decide(lab.Once(max(one.busy, mn.busy), "CPUs"), lab.AtLeast(1.3), m.load)
	switch {
	case confined.Verdict == lab.Differs:
		return claimOneCPU.Judge(measured, lab.Inconclusive,
			"The N:1 tasks shared one kernel thread, yet the process used more than one CPU: the rest of the program (the sampler, the garbage collector) ran beside it.")
	case spread.Verdict == lab.Differs:
		return claimOneCPU.Judge(measured, lab.Inconclusive,
			"N:1 stayed on one CPU, but so did 1:1 and M:N: something else on this machine was keeping the other CPUs busy. Run it again when the machine is quieter.")
	}
	return claimOneCPU.Decided(measured, lab.All(confined, spread), "")
}

// judgeStall: under N:1 the other tasks make no progress at all while the
// reader sits in read().
func judgeStall(m modelsMeasured) lab.Claim {
	n1 := m.n1
	measured := fmt.Sprintf("while read() was pending for %.0f ms, the other N:1 tasks finished %d chunks and all stood still for %.0f ms", n1.pending(), n1.work, n1.still)
	if n1.ahead == 0 {
		return claimStall.Judge(measured, lab.Inconclusive,
			"The other N:1 tasks had not finished a single chunk before the read began either, so their standing still during it does not show that the read stopped them.")
	}
	// Tasks on a thread stuck in read() cannot run whatever else the
	// machine does, so its load does not enter this verdict.
	still := n1.still / max(n1.pending(), 1e-9)
	d := lab.All(
		lab.Decide(lab.Once(float64(n1.work), "chunks"), lab.AtMost(0), lab.NotTimed),
		lab.Decide(lab.Once(still, ""), lab.AtLeast(0.9), lab.NotTimed),
	)
	return claimStall.Decided(measured, d,
		"The other tasks got work done while the read was pending, so the blocking call did not hold their thread.")
}

// judgeKeepGoing: under 1:1 and M:N the other tasks keep at least half
// their pace while the reader sits in read().
func judgeKeepGoing(m modelsMeasured) lab.Claim {
	one, mn := m.one, m.mn
	measured := fmt.Sprintf("during read(), the other tasks kept %.0f%% of their pace under 1:1 and %.0f%% under M:N (longest pause of one task: %.0f and %.0f ms)",
		one.pace, mn.pace, one.pause, mn.pause)
	if one.ahead == 0 || mn.ahead == 0 {
		return claimKeepGoing.Judge(measured, lab.Inconclusive,
			"Under 1:1 or M:N the other tasks finished no chunk before the read began, so there is no pace before it to compare their pace during it with.")
	}
	d := lab.Decide(lab.Once(min(one.pace, mn.pace), "%"), lab.AtLeast(50), m.load)
	if d.Verdict == lab.Differs && one.work > 0 && mn.work > 0 {
		return claimKeepGoing.Judge(measured, lab.Inconclusive,
			"The other tasks kept going, but well below their usual pace: something else on this machine took the CPUs during the read. Run it again.")
	}
	return claimKeepGoing.Decided(measured, d,
		"Under 1:1 or M:N the other tasks made no progress while the read was pending, as if they shared the reader's thread.")
}

// judgeFewer: M:N has the tasks on at most half as many kernel threads at
// once as 1:1.
func judgeFewer(m modelsMeasured) lab.Claim {
	one, mn := m.one, m.mn
	measured := fmt.Sprintf("%d tasks: 1:1 had them on %.0f kernel threads at once, M:N on %.0f (GOMAXPROCS %d; over the whole run the goroutines visited %d threads)",
		one.tasks, one.atOnce, mn.atOnce, m.gomaxprocs, len(mn.tids))
	if one.atOnce <= 0 || mn.atOnce <= 0 {
		return claimFewer.Judge(measured, lab.Inconclusive,
			"The sampler never saw the 1:1 or the M:N tasks on a kernel thread, so there are no thread counts to compare.")
	}
	// Thread counts are not timings: the machine's load does not move them.
	d := lab.Compare(lab.Once(mn.atOnce, "threads"), lab.Once(one.atOnce, "threads"), lab.AtMost(0.5), lab.NotTimed)
	if d.Verdict == lab.Differs && mn.atOnce < one.atOnce {
		return claimFewer.Judge(measured, lab.Inconclusive,
			"M:N used fewer threads, but with this few tasks the gap is small: 1:1 needs one per task, M:N about GOMAXPROCS plus one per blocked call. Run it with more tasks.")
	}
	return claimFewer.Decided(measured, d,
		"M:N ran on as many kernel threads as 1:1. With GOMAXPROCS as large as the task count, Go's scheduler gives every goroutine a thread of its own.")
}

// switchMeasured is what the three switch ping-pongs measured, µs per
// switch, one sample per timed batch.
type switchMeasured struct {
	co, gr, th lab.Summary // coroutines (N:1), goroutines (M:N), kernel threads (1:1)
	load       lab.Load    // what other programs used of the CPUs meanwhile
}

// judgeSwitch holds the switch claim against the medians.
func judgeSwitch(s switchMeasured) lab.Claim {
	co, gr, th := s.co, s.gr, s.th
	m := fmt.Sprintf("coroutine switch %.3f µs, goroutine switch %.3f µs, kernel thread switch %.2f µs (medians of %d batches): %.0f× between coroutine and thread",
		co.P50, gr.P50, th.P50, th.N, th.P50/co.P50)
	if co.N == 0 || th.N == 0 || co.P50 <= 0 {
		return claimSwitch.Judge(m, lab.Inconclusive,
			"The coroutine or the kernel thread switches were not timed (no batch finished, or the clock could not see one), so there is nothing to compare.")
	}
	return claimSwitch.Decided(m, lab.Compare(lab.BandOf(co, "µs"), lab.BandOf(th, "µs"), lab.AtMost(0.1), s.load),
		"The user-level switch was not ten times cheaper here. That usually means the process was interrupted while the coroutine batches ran; run it again.")
}
