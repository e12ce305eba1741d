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
		claims = append(claims, claimCheapest.Decided(sm, lab.All(lab.Compare(bc, bg, lab.AtMost(1), m.load), lab.Compare(bc, bt, lab.AtMost(1), m.load)),
			"A coroutine switch was not the cheapest here. Both coroutines and goroutines switch in user space; if the goroutine switch won, the runtime's direct hand-off between a sender and a parked receiver was as quick as the coroutine's stack swap on this CPU."))
	}

	om := fmt.Sprintf("coroutines kept %.2f CPUs busy (%.0f ms of wall time); goroutines kept %.2f busy (%.0f ms): %.2f× faster, with %d usable CPUs",
		coro.cpusUsed(), format.Ms(coro.wall), goro.cpusUsed(), format.Ms(goro.wall), coro.wall.Seconds()/goro.wall.Seconds(), usable)
	switch {
	case coro.wall <= 0 || goro.wall <= 0:
		claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
			"The work was not timed both ways, so there is no use of CPUs to compare."))
	case usable < 2:
		claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
			"Only one CPU is usable here, so goroutines cannot use more than one either: the difference cannot be shown on this machine."))
	default:
		// One timed run each way: the claim's own margins are the tolerance.
		one := lab.Decide(lab.Once(coro.cpusUsed(), "CPUs"), lab.AtMost(1.15), m.load)
		more := lab.Decide(lab.Once(goro.cpusUsed(), "CPUs"), lab.AtLeast(1.4), m.load)
		if one.Verdict != lab.Differs && more.Verdict == lab.Differs {
			claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
				"The goroutines did not get more than one CPU either, which means the machine's other CPUs were busy with other work during the run. Run it again when the machine is quieter."))
			break
		}
		claims = append(claims, claimOneCPU.Decided(om, lab.All(one, more),
			"The process kept more than one CPU busy while the coroutines ran. The coroutines themselves share one thread, so the extra time went to something else in the process, such as the garbage collector."))
	}
	return metrics, claims
}
