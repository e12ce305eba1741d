package contextswitching

import (
	"fmt"
	"math"
	"strings"

	"conclab/internal/lab"
)

// switchCostMeasured is everything a switch-cost run measured: the rules
// below turn it into metrics and verdicts without measuring anything.
type switchCostMeasured struct {
	kinds   []pingKind          // the kinds measured, in order
	results map[string]measured // by pingKind.key, µs per switch
	perf    perfMeasured
}

// perfMeasured is what came of running perf bench sched pipe.
type perfMeasured struct {
	ref       *perfRef // nil when perf did not run
	err       error    // why perf, installed, could not run
	cpu       int      // the CPU it was pinned to
	loops     int      // round trips it was asked for
	pcid, pti bool     // this CPU's TLB facts, which explain a gap to perf
}

// switchCostResult turns a run's measurements into its metrics and claims.
func switchCostResult(m switchCostMeasured) ([]lab.Metric, []lab.Claim) {
	var metrics []lab.Metric
	for _, k := range m.kinds {
		res := m.results[k.key]
		name := "Switch, " + k.label
		if k.cross {
			name = "Wake-up latency, " + k.label
		}
		met := lab.Summarize(res.PerSwitch).Metric(k.metricKey(), name, "µs")
		met.Note = fmt.Sprintf("%d batches of %d round trips, pinned to CPU %d and %d; per switch = round trip / 2", len(res.PerSwitch), k.per, res.pinned[0], res.pinned[1])
		metrics = append(metrics, met)
		metrics = append(metrics, lab.Metric{Key: k.countKey(), Name: "Switches the kernel counted, " + k.label, Value: float64(res.Kernel.Switches()), Unit: "switches",
			Note: fmt.Sprintf("voluntary %d + involuntary %d, for %d round trips", res.Kernel.Voluntary, res.Kernel.Involuntary, res.Rounds)})
	}
	same := sameCPU{
		goroutine: lab.Summarize(m.results["goroutine"].PerSwitch),
		thread:    lab.Summarize(m.results["thread"].PerSwitch),
		process:   lab.Summarize(m.results["process"].PerSwitch),
	}
	claims := judgeSwitchCost(same)
	claims = append(claims, judgePerf(m.perf, same))
	if ref := m.perf.ref; ref != nil {
		note := fmt.Sprintf("%d round trips pinned to CPU %d; per switch = perf's usecs/op / 2", m.perf.loops, m.perf.cpu)
		metrics = append(metrics,
			lab.Metric{Key: keyPerfProcess, Name: "Reference: perf bench sched pipe, processes", Value: ref.process, Unit: "µs", N: m.perf.loops, Note: note},
			lab.Metric{Key: keyPerfThread, Name: "Reference: perf bench sched pipe -T, threads", Value: ref.thread, Unit: "µs", N: m.perf.loops, Note: note})
	}
	return metrics, claims
}

// sameCPU are the same-CPU distributions the four claims are held
// against, in µs per switch.
type sameCPU struct {
	goroutine, thread, process lab.Summary
}

// of returns the kind's distribution.
func (s sameCPU) of(kind string) lab.Summary {
	switch kind {
	case "goroutine":
		return s.goroutine
	case "thread":
		return s.thread
	}
	return s.process
}

// untimed lists, of these kinds, those that have no timed batch.
func (s sameCPU) untimed(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		if s.of(k).N == 0 {
			out = append(out, k)
		}
	}
	return out
}

// notTimed is the reason a claim about these kinds cannot be judged, or
// "" when every one of them has timed batches.
func (s sameCPU) notTimed(kinds ...string) string {
	u := s.untimed(kinds...)
	switch len(u) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("No batch of the %s ping-pong was timed, so there is no figure to judge. Run it again.", u[0])
	}
	return fmt.Sprintf("No batch of the %s ping-pongs was timed, so there is no figure to judge. Run it again.", strings.Join(u, " or "))
}

// judgeSwitchCost holds the four claims against the same-CPU medians.
func judgeSwitchCost(s sameCPU) []lab.Claim {
	g, t, p := s.goroutine, s.thread, s.process
	var claims []lab.Claim

	tm := fmt.Sprintf("%.2f µs (median of %d batches, p10–p90 %.2f–%.2f µs)", t.P50, t.N, t.P10, t.P90)
	switch {
	case t.N == 0:
		claims = append(claims, claimThread.Judge("not measured", lab.Inconclusive, s.notTimed("thread")))
	case t.P50 >= 1 && t.P50 <= 10:
		claims = append(claims, claimThread.Judge(tm, lab.Holds, ""))
	case t.P50 < 1:
		claims = append(claims, claimThread.Judge(tm, lab.Differs,
			"Faster than the textbook range. The figure dates from older hardware; here a pinned core hands one byte between two threads with warm caches, and a real program would also pay for refilling caches after each switch."))
	default:
		claims = append(claims, claimThread.Judge(tm, lab.Differs,
			"Slower than the textbook range. Virtual machines, busy hosts and power-saving CPUs all slow a switch down; check the host panel and run it again when the machine is idle."))
	}

	pm := fmt.Sprintf("%.2f µs (median of %d batches, p10–p90 %.2f–%.2f µs)", p.P50, p.N, p.P10, p.P90)
	switch {
	case p.N == 0:
		claims = append(claims, claimProcess.Judge("not measured", lab.Inconclusive, s.notTimed("process")))
	case p.P50 >= 10 && p.P50 <= 100:
		claims = append(claims, claimProcess.Judge(pm, lab.Holds, ""))
	case p.P50 < 10:
		claims = append(claims, claimProcess.Judge(pm, lab.Differs,
			"Far below 10 µs. The switch itself is cheap on a modern kernel: changing address space no longer has to flush the TLB (CPUs tag its entries by process). The 10–100 µs figure counts the caches and TLB a real process must refill afterwards, which a one-byte ping-pong hardly uses."))
	default:
		claims = append(claims, claimProcess.Judge(pm, lab.Differs,
			"Above 100 µs, which points at a slow or heavily virtualised host rather than the switch itself; check the host panel."))
	}

	cm := fmt.Sprintf("process %.2f µs vs thread %.2f µs: %.2f×", p.P50, t.P50, p.P50/t.P50)
	switch {
	case s.notTimed("thread", "process") != "":
		claims = append(claims, claimProcVsThread.Judge("not measured", lab.Inconclusive, s.notTimed("thread", "process")))
	case p.P50 > t.P50*1.05 && p.P25 > t.P75:
		claims = append(claims, claimProcVsThread.Judge(cm, lab.Holds, ""))
	case p.P50 > t.P50*1.05:
		claims = append(claims, claimProcVsThread.Judge(cm, lab.Inconclusive,
			"The process median is higher, but the two distributions overlap, so the gap is within this machine's noise. Run it again with more batches."))
	default:
		claims = append(claims, claimProcVsThread.Judge(cm, lab.Differs,
			"Here the two cost about the same. What a process switch adds — a new page table — is one register write on a CPU that tags TLB entries by process; the big extra cost appears only when the next process has to refill caches it lost."))
	}

	gm := fmt.Sprintf("%.3f µs, %.0f× cheaper than a thread switch", g.P50, t.P50/g.P50)
	switch {
	case s.notTimed("goroutine", "thread") != "":
		claims = append(claims, claimGoroutine.Judge("not measured", lab.Inconclusive, s.notTimed("goroutine", "thread")))
	case g.P50 < 1 && g.P50*5 < t.P50:
		claims = append(claims, claimGoroutine.Judge(gm, lab.Holds, ""))
	default:
		claims = append(claims, claimGoroutine.Judge(gm, lab.Differs,
			"The goroutine switch was not far below the thread switch here; that usually means the process was interrupted during the goroutine batches. Run it again."))
	}
	return claims
}

// judgePerf compares the same-CPU medians with perf's. Without perf there
// is nothing to compare with, and the verdict says so.
func judgePerf(m perfMeasured, s sameCPU) lab.Claim {
	thread, process := s.thread, s.process
	switch {
	case m.ref == nil && m.err != nil:
		return claimPerf.Judge("no reference: perf was not run", lab.Inconclusive, "perf is installed but could not run here: "+m.err.Error())
	case m.ref == nil:
		return claimPerf.Judge("no reference: perf was not run", lab.Inconclusive,
			"perf is not installed on this machine (on Debian it is the linux-perf package), so there is no reference to compare with.")
	case s.notTimed("thread", "process") != "":
		return claimPerf.Judge("no figure of our own to compare", lab.Inconclusive, s.notTimed("thread", "process"))
	}
	ref := m.ref
	dt, dp := thread.P50/ref.thread-1, process.P50/ref.process-1
	measured := fmt.Sprintf("threads %.2f µs vs perf %.2f µs (%+.0f%%); processes %.2f µs vs perf %.2f µs (%+.0f%%)",
		thread.P50, ref.thread, 100*dt, process.P50, ref.process, 100*dp)
	if math.Abs(dt) <= 0.25 && math.Abs(dp) <= 0.25 {
		return claimPerf.Judge(measured, lab.Holds, "")
	}
	why := "The figures differ by more than 25%. Both sides ran pinned to the same CPU in the same run, so the difference is in what each side does per switch."
	if dp > 0.25 {
		why = "The process figure is above perf's. perf's two processes are tiny C loops; these are Go programs whose runtime touches more memory on each system call, and the next process has to bring that memory back into the TLB and caches."
		if !m.pcid || m.pti {
			why += " On this CPU every switch between processes flushes the TLB (no PCID, or page-table isolation is on), which makes that refill cost more."
		}
	}
	return claimPerf.Judge(measured, lab.Differs, why)
}
