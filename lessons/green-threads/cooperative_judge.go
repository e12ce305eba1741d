package greenthreads

import (
	"fmt"

	"conclab/internal/lab"
)

// The figures and verdict rules of cooperative: what the three workers
// reported goes in, metrics and claims come out. Nothing here measures
// (cooperative_judge_test.go tries every branch).

// coopMeasured is what the three runs of cooperative measured.
type coopMeasured struct {
	runs  map[string]coopRun // by coopMode key: off, yield, on
	every int                // K: rounds between the yields of the second run
	tick  int                // the heartbeat's interval, ms
	load  lab.Load           // what other programs used of the CPUs meanwhile
}

// yieldBound is the longest gap "bounded by the work between two yields"
// allows, in ms: the heartbeat's own interval, plus one stretch of work
// for a heartbeat that falls due just after a yield to wait for the next,
// plus one more for its own write to get the thread back — the write is a
// system call, and the one thread is the spinner's again by the time it
// returns.
func yieldBound(tick int, workMs float64) float64 { return float64(tick) + 2*workMs }

// coopStretches is how many parts of the spin the yielding claim takes the
// longest gap of.
const coopStretches = 5

// longestOf splits gaps, in the order they came, into parts runs of about
// the same length (one gap each when there are fewer) and returns the
// longest gap of each.
func longestOf(gaps []float64, parts int) []float64 {
	parts = min(parts, len(gaps))
	out := make([]float64, 0, parts)
	for i := range parts {
		lo, hi := i*len(gaps)/parts, (i+1)*len(gaps)/parts
		m := gaps[lo]
		for _, g := range gaps[lo+1 : hi] {
			m = max(m, g)
		}
		out = append(out, m)
	}
	return out
}

// judgeCooperative holds the three claims against the three runs.
func judgeCooperative(cm coopMeasured) ([]lab.Metric, []lab.Claim) {
	runs, every, tick := cm.runs, cm.every, cm.tick
	off, yield, on := runs["off"], runs["yield"], runs["on"]
	var metrics []lab.Metric
	for _, m := range coopModes {
		r := runs[m.key]
		metrics = append(metrics,
			lab.Metric{Key: "heartbeat.longest_gap." + m.metric, Name: "Longest heartbeat gap, " + m.label, Value: r.longest, Unit: "ms",
				Note: fmt.Sprintf("%d heartbeats; the spinner ran %.0f ms", len(r.beats), r.spinMs())},
			lab.Metric{Key: "heartbeat.beats_during_spin." + m.metric, Name: "Heartbeats while the spinner ran, " + m.label, Value: float64(r.beatsDuring), Unit: "beats",
				Note: fmt.Sprintf("one every %d ms would make about %.0f", tick, r.spinMs()/float64(tick))},
		)
		if len(r.during) > 0 {
			s := lab.Summarize(r.during)
			metrics = append(metrics, s.Metric("heartbeat.gap_during_spin."+m.metric, "Gap while the spinner ran, "+m.label, "ms"))
		}
	}
	metrics = append(metrics, lab.Metric{Key: "spinner.yields", Name: "Yields the spinner made, yields every K", Value: float64(yield.yields), Unit: "yields",
		Note: fmt.Sprintf("runtime.Gosched every %d rounds", every)})
	if on.longest > 0 {
		metrics = append(metrics, lab.Metric{Key: "heartbeat.longest_gap.off_over_on", Name: "Longest gap, preemption off ÷ preemption on", Value: off.longest / on.longest, Unit: "×"})
	}

	var claims []lab.Claim
	om := fmt.Sprintf("longest gap %.0f ms while the spinner ran %.0f ms; heartbeats during the spin: %d", off.longest, off.spinMs(), off.beatsDuring)
	if len(off.beats) < 2 || off.spinMs() <= 0 {
		claims = append(claims, claimStarves.Judge(om, lab.Inconclusive,
			"Fewer than two heartbeats were recorded, or the spinner did not run, so there is no gap to hold against the spin."))
	} else {
		// "Waits for as long as it runs": the longest gap about the whole
		// spin (the rule's quarter below it). Starving is not a matter of
		// timing: with nothing to preempt the spinner, no other program can
		// let the heartbeat in sooner.
		claims = append(claims, claimStarves.Decided(om, lab.Decide(lab.Once(off.longest/off.spinMs(), ""), lab.AtLeast(1).About(), lab.NotTimed),
			"The heartbeat got the CPU while the spinner ran, so something preempted it after all. Check the GODEBUG column: the setting only works when the process starts with it."))
	}

	yMax := lab.Summarize(yield.during).Max
	work := float64(every) * yield.ready.NsPerIter / 1e6
	bound := yieldBound(tick, work)
	stretches := lab.BandOfValues(longestOf(yield.during, coopStretches), "ms")
	ym := fmt.Sprintf("longest gap %.1f ms while the spinner ran %.0f ms, yielding %d times (every %d rounds, about %.2f ms of work); the longest in each fifth of the spin: %s; the bound: the %d ms tick plus two stretches of work, %.1f ms",
		yMax, yield.spinMs(), yield.yields, every, work, stretches, tick, bound)
	switch {
	case len(yield.during) == 0:
		claims = append(claims, claimYield.Judge(ym, lab.Inconclusive, "No heartbeat was recorded around the spin, so there is nothing to judge."))
	case yield.yields <= 1:
		// The bound is then longer than the spin itself: true, and empty.
		claims = append(claims, claimYield.Judge(ym, lab.Inconclusive,
			"K was so large that the spinner finished before it ever yielded, so it behaved like the task that never yields and there was no stretch between two yields to measure. Choose a smaller K."))
	default:
		// A bound is about the longest gap, so the figure is the longest
		// gap of each fifth of the spin, read as a band like any other: one
		// stall that another program caused, in one fifth, does not decide
		// alone. The bound moves with K, so no setting makes it hold by
		// itself: what decides is whether the heartbeat got in at the next
		// yield.
		claims = append(claims, claimYield.Decided(ym, lab.Decide(stretches, lab.AtMost(bound).About(), cm.load), fmt.Sprintf(
			"The heartbeat waited longer than the work between two yields accounts for (%.1f ms against %.1f ms): other programs on this machine took the CPU from the spinner mid-stretch, or the runtime did more than a hand-over at a yield.", yMax, bound)))
	}

	onGaps := lab.Summarize(on.during)
	pm := fmt.Sprintf("while the spinner ran %.0f ms with no yields: longest gap %.1f ms, median %.1f ms, middle half %.1f–%.1f ms (n = %d)", on.spinMs(), onGaps.Max, onGaps.P50, onGaps.P25, onGaps.P75, onGaps.N)
	if onGaps.N == 0 {
		claims = append(claims, claimPreempt.Judge(pm, lab.Inconclusive, "No heartbeat was recorded around the spin, so there is nothing to judge."))
		return metrics, claims
	}
	// "Typically after about 10 ms": the runtime's monitor checks at most
	// every 10 ms and preempts a goroutine that has run 10 ms, so a gap
	// is about 10–20 ms (the rule's quarter) in the middle half of them.
	// Preemption is best effort, not a promise, so "however long the
	// spinner runs" is read like the yielding claim's bound: the longest
	// gap of each fifth of the spin, as a band, about 20 ms at most — one
	// stall in one fifth (the kernel ran something else on the CPU) does
	// not decide alone, and a spin five times as long changes nothing.
	typical := lab.Decide(lab.BandOf(onGaps, "ms"), lab.Between(10, 20).About(), cm.load)
	fifths := lab.BandOfValues(longestOf(on.during, coopStretches), "ms")
	bounded := lab.Decide(fifths, lab.AtMost(20).About(), cm.load)
	pm += fmt.Sprintf("; the longest in each fifth of the spin: %s", fifths)
	var why string
	switch {
	case onGaps.Max >= 0.9*on.spinMs():
		why = "The heartbeat starved even with preemption on. Asynchronous preemption needs a signal to reach the thread; a platform or build without it behaves like preemption off."
	case typical.Side == lab.Below:
		why = "The gaps were shorter than 10 ms: the heartbeat got in more often than the runtime's 10 ms preemption would let it. A Go version that preempts sooner, or a spinner that makes calls the scheduler can stop at, does that."
	case typical.Verdict == lab.Differs:
		why = "Preemption let the heartbeat in, but the typical gap was longer than the runtime's 10–20 ms. The worker shares its CPU with the rest of the machine, and while the kernel runs something else there, neither goroutine runs."
	default:
		why = fmt.Sprintf("The typical gap was what preemption gives, about 10–20 ms, but in most fifths of the spin the heartbeat once waited longer (up to %.0f ms). Preemption is best effort: the monitor thread itself must get a CPU to notice the spinner, and while the kernel runs something else there, neither goroutine runs.", onGaps.Max)
	}
	claims = append(claims, claimPreempt.Decided(pm, lab.All(typical, bounded), why))
	return metrics, claims
}
