package threadingmodels

import (
	"fmt"

	"conclab/internal/format"
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

// judgeOneCPU: N:1 stays on one kernel thread and about one CPU, while
// 1:1 and M:N keep every CPU the run may use busy.
func judgeOneCPU(m modelsMeasured) lab.Claim {
	one, n1, mn := m.one, m.n1, m.mn
	measured := fmt.Sprintf("N:1 ran %d tasks on %s and kept at most %.2f CPUs busy; 1:1 reached %.2f and M:N %.2f, with %s usable",
		n1.tasks, fmt.Sprintf("%d kernel thread%s", len(n1.tids), format.Plural(len(n1.tids))), n1.busy, one.busy, mn.busy, fmt.Sprintf("%d CPU%s", m.usable, format.Plural(m.usable)))
	// "Share one kernel thread": exactly one, a count the load cannot move.
	shared := lab.Decide(lab.Once(float64(len(n1.tids)), "kernel threads"), lab.AtMost(1), lab.NotTimed)
	if m.usable < 2 {
		return claimOneCPU.Decided(measured, lab.All(shared, lab.Unable(
			"Only one CPU is usable here, so no model could keep more than one busy and the difference the claim is about cannot show. The N:1 tasks did share one kernel thread.")),
			"The N:1 tasks were seen on more than one kernel thread, so they were not confined to one; that should not happen with coroutines on a locked thread.")
	}
	// Each busy figure is the process's busiest 100 ms window, so it
	// holds the sampler and the garbage collector beside the tasks:
	// "one CPU" and "every CPU" are read as about one and about all of
	// them (the rule's quarter), never as exact counts.
	d := lab.All(shared,
		lab.Decide(lab.Once(n1.busy, "CPUs"), lab.AtMost(1).About(), m.load),
		lab.Decide(lab.Once(min(one.busy, mn.busy), "CPUs"), lab.AtLeast(float64(m.usable)).About(), m.load))
	why := "The N:1 tasks were seen on more than one kernel thread, so they were not confined to one; that should not happen with coroutines on a locked thread."
	switch {
	case len(n1.tids) == 1 && n1.busy > 1.25:
		why = "The N:1 tasks shared one kernel thread, yet the process kept more than one CPU busy: the rest of the program (the sampler, the garbage collector) ran beside it, more than a quarter of a CPU's worth."
	case len(n1.tids) == 1:
		why = fmt.Sprintf("N:1 stayed on one CPU, but 1:1 or M:N did not keep the %d CPUs busy either (%.2f and %.2f) although they had %d tasks to run, and other programs were not counted using them: look at the host panel for a CPU quota or hyper-threads.",
			m.usable, one.busy, mn.busy, one.tasks)
	}
	return claimOneCPU.Decided(measured, d, why)
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
	// "No other task makes any progress": not one chunk. Tasks on a
	// thread stuck in read() cannot run whatever else the machine does,
	// so its load does not enter this verdict.
	return claimStall.Decided(measured, lab.Decide(lab.Once(float64(n1.work), "chunks"), lab.AtMost(0), lab.NotTimed),
		"The other tasks got work done while the read was pending, so the blocking call did not hold their thread.")
}

// judgeKeepGoing: under 1:1 and M:N the other tasks keep their pace while
// the reader sits in read().
func judgeKeepGoing(m modelsMeasured) lab.Claim {
	one, mn := m.one, m.mn
	measured := fmt.Sprintf("during read(), the other tasks kept %.0f%% of their pace under 1:1 and %.0f%% under M:N (longest pause of one task: %.0f and %.0f ms)",
		one.pace, mn.pace, one.pause, mn.pause)
	if one.ahead == 0 || mn.ahead == 0 {
		return claimKeepGoing.Judge(measured, lab.Inconclusive,
			"Under 1:1 or M:N the other tasks finished no chunk before the read began, so there is no pace before it to compare their pace during it with.")
	}
	// "Keep going" is read as going on at most of their pace (lab.Most:
	// half of it or more), against the N:1 tasks' "stall". The reader's
	// CPU is free during the read, so their pace should if anything rise.
	why := "Under 1:1 or M:N the other tasks made no progress while the read was pending, as if they shared the reader's thread."
	if one.work > 0 && mn.work > 0 {
		why = fmt.Sprintf("The other tasks kept going, but at %.0f%% and %.0f%% of their pace before the read, although the reader's CPU was free meanwhile.", one.pace, mn.pace)
	}
	return claimKeepGoing.Decided(measured, lab.Decide(lab.Once(min(one.pace, mn.pace), "%"), lab.AtLeast(100*lab.Most), m.load), why)
}

// judgeFewer: M:N has the tasks on far fewer kernel threads at once than
// 1:1 (lab.Far: a fifth as many or fewer).
func judgeFewer(m modelsMeasured) lab.Claim {
	one, mn := m.one, m.mn
	measured := fmt.Sprintf("%d tasks: 1:1 had them on %.0f kernel threads at once, M:N on %.0f (GOMAXPROCS %d; over the whole run the goroutines visited %d threads)",
		one.tasks, one.atOnce, mn.atOnce, m.gomaxprocs, len(mn.tids))
	if one.atOnce <= 0 || mn.atOnce <= 0 {
		return claimFewer.Judge(measured, lab.Inconclusive,
			"The sampler never saw the 1:1 or the M:N tasks on a kernel thread, so there are no thread counts to compare.")
	}
	// Thread counts are not timings: the machine's load does not move them.
	d := lab.Compare(lab.Once(mn.atOnce, "threads"), lab.Once(one.atOnce, "threads"), lab.AtMost(1/lab.Far), lab.NotTimed)
	why := fmt.Sprintf("M:N ran on %.0f kernel threads against 1:1's %.0f, not a fifth as many. M:N needs about GOMAXPROCS threads (%d) plus one per blocked call, whatever the number of tasks: with only %d tasks, that is not far fewer. Run it with more tasks.",
		mn.atOnce, one.atOnce, m.gomaxprocs, one.tasks)
	if mn.atOnce >= one.atOnce {
		why = "M:N ran on as many kernel threads as 1:1. With GOMAXPROCS as large as the task count, Go's scheduler gives every goroutine a thread of its own: run it with more tasks than CPUs."
	}
	return claimFewer.Decided(measured, d, why)
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
	// "Far less": lab.Far times cheaper, beyond the noise of both.
	return claimSwitch.Decided(m, lab.Compare(lab.BandOf(co, "µs"), lab.BandOf(th, "µs"), lab.AtMost(1/lab.Far), s.load),
		fmt.Sprintf("The user-level switch was only %.1f× cheaper than the kernel thread switch here, not five times. A coroutine switch is a few dozen instructions in user space; a kernel switch on a modern CPU is a microsecond or two, so a gap this small points at a very fast kernel path or an interrupted coroutine batch.", th.P50/co.P50))
}
