package greenthreads

import (
	"fmt"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/pingpong"
)

// The figures and verdict rules of coroutine-switch: the three ping-pongs
// and the two ways of running the work go in, metrics and claims come
// out. Nothing here measures (coroutine_switch_judge_test.go tries every
// branch).

// coroMeasured is what coroutine-switch measured.
type coroMeasured struct {
	switches   map[string]pingpong.Result // by switchKind key: coroutine, goroutine, thread
	coro, goro workRun                    // the work as coroutines on one thread, as goroutines on all CPUs
	usable     int                        // CPUs the process may use
	tasks      int                        // tasks the work was split into
	load       lab.Load                   // what other programs used of the CPUs meanwhile
}

func judgeCoroutineSwitch(m coroMeasured) ([]lab.Metric, []lab.Claim) {
	runs, coro, goro, usable := m.switches, m.coro, m.goro, m.usable
	var metrics []lab.Metric
	for _, k := range switchKinds {
		r := runs[k.key]
		sw := lab.Summarize(r.PerSwitch).Metric("switch."+k.key+".same_cpu", "Switch, "+k.label, "ns")
		sw.Note = fmt.Sprintf("%d batches of %d round trips on one CPU; per switch = round trip / 2", len(r.PerSwitch), k.per)
		metrics = append(metrics, sw,
			lab.Metric{Key: "kernel_switches." + k.key + ".same_cpu", Name: "Kernel switches during the run, " + k.label, Value: float64(r.Kernel.Switches()), Unit: "switches",
				Note: fmt.Sprintf("voluntary %d + involuntary %d, for %d round trips", r.Kernel.Voluntary, r.Kernel.Involuntary, r.Rounds)})
	}
	metrics = append(metrics,
		lab.Metric{Key: "work.wall.coroutines_one_thread", Name: "Wall time, coroutines on one thread", Value: format.Ms(coro.wall), Unit: "ms"},
		lab.Metric{Key: "work.wall.goroutines_all_cpus", Name: "Wall time, goroutines on all CPUs", Value: format.Ms(goro.wall), Unit: "ms"},
		lab.Metric{Key: "work.cpus_busy.coroutines_one_thread", Name: "CPUs busy, coroutines on one thread", Value: coro.cpusUsed(), Unit: "CPUs", Note: "CPU time ÷ wall time"},
		lab.Metric{Key: "work.cpus_busy.goroutines_all_cpus", Name: "CPUs busy, goroutines on all CPUs", Value: goro.cpusUsed(), Unit: "CPUs", Note: "CPU time ÷ wall time"},
	)

	c := lab.Summarize(runs["coroutine"].PerSwitch)
	g := lab.Summarize(runs["goroutine"].PerSwitch)
	t := lab.Summarize(runs["thread"].PerSwitch)
	var claims []lab.Claim
	sm := fmt.Sprintf("coroutine %.0f ns, goroutine %.0f ns, OS thread %.0f ns per switch (medians of %d batches): a coroutine switch is %.1f× cheaper than a goroutine switch and %.0f× cheaper than a thread switch",
		c.P50, g.P50, t.P50, c.N, g.P50/c.P50, t.P50/c.P50)
	if c.N == 0 || g.N == 0 || t.N == 0 {
		claims = append(claims, claimCheapest.Judge(sm, lab.Inconclusive,
			"Not every kind of switch was timed: at least one ping-pong finished no batch, so there is nothing to compare."))
	} else {
		bc, bg, bt := lab.BandOf(c, "ns"), lab.BandOf(g, "ns"), lab.BandOf(t, "ns")
		// "Cheaper than between goroutines": below 1 (lab.More), beyond the
		// noise of both; "far cheaper than between OS threads": lab.Far.
		claims = append(claims, claimCheapest.Decided(sm, lab.All(lab.Compare(bc, bg, lab.AtMost(1/lab.More), m.load), lab.Compare(bc, bt, lab.AtMost(1/lab.Far), m.load)),
			"A coroutine switch was not the cheapest here, or not five times cheaper than a thread switch. Both coroutines and goroutines switch in user space; if the goroutine switch won, the runtime's direct hand-off between a sender and a parked receiver was as quick as the coroutine's stack swap on this CPU."))
	}

	om := fmt.Sprintf("coroutines kept %.2f CPUs busy (%.0f ms of wall time); goroutines kept %.2f busy (%.0f ms): %.2f× faster, with %d usable CPUs",
		coro.cpusUsed(), format.Ms(coro.wall), goro.cpusUsed(), format.Ms(goro.wall), coro.wall.Seconds()/goro.wall.Seconds(), usable)
	if coro.wall <= 0 || goro.wall <= 0 {
		claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
			"The work was not timed both ways, so there is no use of CPUs to compare."))
		return metrics, claims
	}
	// One timed run each way, read as CPU time over wall time: "cannot use
	// more than one CPU" is about one (the rule's quarter, for the garbage
	// collector and the sampler beside the one thread); "can use them all"
	// is about as many as the CPUs this run may use, on any machine.
	one := lab.Decide(lab.Once(coro.cpusUsed(), "CPUs"), lab.AtMost(1).About(), m.load)
	all := lab.Decide(lab.Once(goro.cpusUsed(), "CPUs"), lab.AtLeast(float64(usable)).About(), m.load)
	if usable < 2 {
		all = lab.Unable("Only one CPU is usable here, so goroutines cannot use more than one either: the difference cannot be shown on this machine.")
	}
	why := "The process kept more than one CPU busy while the coroutines ran. The coroutines themselves share one thread, so the extra time went to something else in the process, such as the garbage collector."
	if one.Verdict != lab.Differs {
		why = fmt.Sprintf("The goroutines kept %.2f of the %d CPUs busy, not about all of them, and other programs were not counted using the rest: %d tasks may be too few to fill them, or a CPU quota holds the process back (see the host panel).",
			goro.cpusUsed(), usable, m.tasks)
	}
	claims = append(claims, claimOneCPU.Decided(om, lab.All(one, all), why))
	return metrics, claims
}
