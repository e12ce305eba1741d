package contextswitching

import (
	"fmt"
	"strings"

	"conclab/internal/lab"
)

// switchCostMeasured is everything a switch-cost run measured: the rules
// below turn it into metrics and verdicts without measuring anything.
type switchCostMeasured struct {
	kinds   []pingKind           // the kinds measured, in order
	results map[string]measured  // by pingKind.key, µs per switch
	rounds  map[string][]float64 // by pingKind.key: the same-CPU kinds' median in each round, µs per switch
	perf    perfMeasured
	load    lab.Load // what other programs used of the CPUs meanwhile
}

// perfMeasured is what came of running perf bench sched pipe.
type perfMeasured struct {
	ref       *perfRef // nil when perf did not run
	err       error    // why perf, installed, could not run
	cpu       int      // the CPU it was pinned to
	loops     int      // round trips it was asked for
	pcid, pti bool     // this CPU's TLB facts, which explain the direct cost
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
		if strings.HasPrefix(k.kind, "bare") {
			met.Note += "; nothing but a raw write and read between switches"
		}
		metrics = append(metrics, met)
		metrics = append(metrics, lab.Metric{Key: k.countKey(), Name: "Switches the kernel counted, " + k.label, Value: float64(res.Kernel.Switches()), Unit: "switches",
			Note: fmt.Sprintf("voluntary %d + involuntary %d, for %d round trips", res.Kernel.Voluntary, res.Kernel.Involuntary, res.Rounds)})
	}
	same := sameCPU{load: m.load, rounds: m.rounds}
	for _, k := range []string{"goroutine", "thread", "process", "bare_thread", "bare_process"} {
		same.set(k, lab.BandOfValues(m.results[k].PerSwitch, "µs"))
	}
	claims := judgeSwitchCost(same, m.perf)
	if ref := m.perf.ref; ref != nil {
		note := fmt.Sprintf("median of %d runs, one per round in turn with the ping-pongs, %d round trips in all, pinned to CPU %d; per switch = perf's usecs/op / 2", len(ref.processRuns), m.perf.loops, m.perf.cpu)
		proc, thr := lab.Summarize(ref.processRuns).Metric(keyPerfProcess, "Reference: perf bench sched pipe, processes", "µs"),
			lab.Summarize(ref.threadRuns).Metric(keyPerfThread, "Reference: perf bench sched pipe -T, threads", "µs")
		proc.Note, thr.Note = note, note
		metrics = append(metrics, proc, thr)
	}
	if b, t := same.bareProcess, same.bareThread; b.N > 0 && t.N > 0 && t.Mid > 0 {
		metrics = append(metrics, lab.Metric{Key: "ratio.bare.process_thread", Name: "Direct cost: bare process switch ÷ bare thread switch", Value: b.Mid / t.Mid, Unit: "×", Note: "medians"})
	}
	if p, t := same.process, same.thread; p.N > 0 && t.N > 0 && t.Mid > 0 {
		metrics = append(metrics, lab.Metric{Key: "ratio.go.process_thread", Name: "A Go program: process switch ÷ thread switch", Value: p.Mid / t.Mid, Unit: "×", Note: "medians"})
	}
	return metrics, claims
}

// sameCPU are the same-CPU figures the claims are held against, in µs
// per switch, and the machine's load while they were taken.
type sameCPU struct {
	goroutine, thread, process lab.Band
	bareThread, bareProcess    lab.Band
	load                       lab.Load
	// rounds are each kind's median in each round, µs per switch, when
	// the kinds took turns round after round; nil when they did not.
	rounds map[string][]float64
}

// ratio is kind a's figure over kind b's as the comparison claims read
// it: round by round when both took turns in the same rounds, from their
// bands otherwise.
func (s sameCPU) ratio(a, b string) lab.Band {
	return lab.RoundByRound(s.rounds[a], s.rounds[b], s.of(a), s.of(b))
}

func (s *sameCPU) set(key string, b lab.Band) {
	switch key {
	case "goroutine":
		s.goroutine = b
	case "thread":
		s.thread = b
	case "process":
		s.process = b
	case "bare_thread":
		s.bareThread = b
	case "bare_process":
		s.bareProcess = b
	}
}

// of returns the band of a kind, by its evidence key.
func (s sameCPU) of(key string) lab.Band {
	switch key {
	case "goroutine":
		return s.goroutine
	case "thread":
		return s.thread
	case "process":
		return s.process
	case "bare_thread":
		return s.bareThread
	}
	return s.bareProcess
}

// kindWords are the kinds as the reasons name them.
var kindWords = map[string]string{
	"goroutine": "goroutine", "thread": "thread", "process": "process",
	"bare_thread": "bare thread", "bare_process": "bare process",
}

// notTimed is the reason a claim about these kinds cannot be judged, or
// "" when every one of them has timed batches.
func (s sameCPU) notTimed(kinds ...string) string {
	var u []string
	for _, k := range kinds {
		if s.of(k).N == 0 {
			u = append(u, kindWords[k])
		}
	}
	switch len(u) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("No batch of the %s ping-pong was timed, so there is no figure to judge. Run it again.", u[0])
	}
	return fmt.Sprintf("No batch of the %s ping-pongs was timed, so there is no figure to judge. Run it again.", strings.Join(u, " or "))
}

// judgeSwitchCost holds the six claims, in the experiment's order.
func judgeSwitchCost(s sameCPU, perf perfMeasured) []lab.Claim {
	return []lab.Claim{judgeThread(s), judgeProcess(s), judgeProcVsThread(s, perf), judgeGoroutine(s), judgePerf(perf, s), judgeDirect(s, perf)}
}

func judgeThread(s sameCPU) lab.Claim {
	if why := s.notTimed("thread"); why != "" {
		return claimThread.Judge("not measured", lab.Inconclusive, why)
	}
	m := s.thread.String()
	if s.bareThread.N > 0 {
		m += "; the bare ping-pong " + s.bareThread.String()
	}
	d := lab.Decide(s.thread, lab.Between(1, 10).About(), s.load)
	why := "Faster than the textbook range. The figure dates from older hardware; here a pinned core hands one byte between two threads with warm caches, and a real program would also pay for refilling caches after each switch."
	if d.Side == lab.Above {
		why = "Slower than the textbook range. Virtual machines, busy hosts and power-saving CPUs all slow a switch down; check the host panel and run it again when the machine is idle."
	}
	return claimThread.Decided(m, d, why)
}

func judgeProcess(s sameCPU) lab.Claim {
	if why := s.notTimed("process"); why != "" {
		return claimProcess.Judge("not measured", lab.Inconclusive, why)
	}
	m := s.process.String()
	if s.bareProcess.N > 0 {
		m += "; the bare ping-pong " + s.bareProcess.String()
	}
	d := lab.Decide(s.process, lab.Between(10, 100).About(), s.load)
	why := "Far below 10 µs, even for a Go program whose runtime touches memory between two switches. The textbook's 10–100 µs counts what a real process loses afterwards — the caches and TLB (the CPU's cache of address translations) it must refill after another address space has pushed its data out — and a one-byte ping-pong has little data to lose."
	if d.Side == lab.Above {
		why = "Above 100 µs, which points at a slow or heavily virtualised host rather than the switch itself; check the host panel."
	}
	return claimProcess.Decided(m, d, why)
}

func judgeProcVsThread(s sameCPU, perf perfMeasured) lab.Claim {
	if why := s.notTimed("thread", "process"); why != "" {
		return claimProcVsThread.Judge("not measured", lab.Inconclusive, why)
	}
	r := s.ratio("process", "thread")
	m := fmt.Sprintf("a Go program: process %s vs thread %s per switch, a ratio of %s", fig(s.process), fig(s.thread), r)
	if b := s.ratio("bare_process", "bare_thread"); b.N > 0 {
		m += fmt.Sprintf("; the bare ping-pong: %s", b)
	}
	// "Costs more": a ratio above 1 (lab.More), round by round, beyond the
	// spread of the rounds' ratios.
	d := lab.Decide(r, lab.AtLeast(lab.More), s.load)
	return claimProcVsThread.Decided(m, d, fmt.Sprintf(
		"A Go program's process switch did not cost clearly more than its thread switch here (%s). %s", fmtRatio(r), tlbWords(perf)))
}

func judgeGoroutine(s sameCPU) lab.Claim {
	if why := s.notTimed("goroutine", "thread", "process"); why != "" {
		return claimGoroutine.Judge("not measured", lab.Inconclusive, why)
	}
	g, t, p := s.goroutine, s.thread, s.process
	rt, rp := s.ratio("goroutine", "thread"), s.ratio("goroutine", "process")
	m := fmt.Sprintf("goroutine %s; thread %s: %.1f× cheaper (goroutine ÷ thread: %s); process %s: %.1f× cheaper (%s)",
		g, fig(t), t.Mid/g.Mid, rt, fig(p), p.Mid/g.Mid, rp)
	// "Far less than either": lab.Far times cheaper than each, round by
	// round where they took turns.
	d := lab.All(lab.Decide(rt, lab.AtMost(1/lab.Far), s.load), lab.Decide(rp, lab.AtMost(1/lab.Far), s.load))
	return claimGoroutine.Decided(m, d, fmt.Sprintf(
		"The goroutine switch was not five times cheaper than the thread switch here (%.1f×). A goroutine switch stays in user space and saves only what a function call would, so it should be; a very fast kernel switch (a microsecond) or an interrupted goroutine batch narrows the gap. Run it again.", t.Mid/g.Mid))
}

// judgePerf holds the bare figures against perf's. Without perf there is
// nothing to compare with, and the verdict says so.
func judgePerf(p perfMeasured, s sameCPU) lab.Claim {
	switch {
	case p.ref == nil && p.err != nil:
		return claimPerf.Judge("no reference: perf was not run", lab.Inconclusive, "perf is installed but could not run here: "+p.err.Error())
	case p.ref == nil:
		return claimPerf.Judge("no reference: perf was not run", lab.Inconclusive,
			"perf is not installed on this machine (on Debian it is the linux-perf package), so there is no reference to compare with.")
	}
	if why := s.notTimed("bare_thread", "bare_process"); why != "" {
		return claimPerf.Judge("no bare figure to compare", lab.Inconclusive, why)
	}
	ref := p.ref
	rt := s.againstPerf("bare_thread", ref.threadRuns, ref.thread)
	rp := s.againstPerf("bare_process", ref.processRuns, ref.process)
	m := fmt.Sprintf("bare threads %s vs perf %.2f µs (%s); bare processes %s vs perf %.2f µs (%s)",
		s.bareThread, ref.thread, pctOff(rt), s.bareProcess, ref.process, pctOff(rp))
	if s.thread.N > 0 && s.process.N > 0 {
		m += fmt.Sprintf(". The Go ping-pongs against perf: threads %s, processes %s", pctOff(lab.Ratio(s.thread, lab.Once(ref.thread, "µs"))), pctOff(lab.Ratio(s.process, lab.Once(ref.process, "µs"))))
	}
	within := lab.Between(0.75, 1.25)
	d := lab.All(lab.Decide(rt, within, s.load), lab.Decide(rp, within, s.load))
	return claimPerf.Decided(m, d,
		"The bare ping-pong and perf do the same two system calls on the same CPU in the same run, yet their figures are more than 25% apart. perf times whole runs and reports their mean; the bare figure is a median of short batches, so a run with a few long stalls pulls perf up and not the median. Run it again when the machine is idle.")
}

// againstPerf is a bare kind's figure over perf's: round by round when
// perf ran once in each of the kind's rounds, else against perf's rounds
// as a band, or its one figure.
func (s sameCPU) againstPerf(kind string, runs []float64, v float64) lab.Band {
	perf := lab.Once(v, "µs")
	if len(runs) > 0 {
		perf = lab.BandOfValues(runs, "µs")
	}
	return lab.RoundByRound(s.rounds[kind], runs, s.of(kind), perf)
}

// judgeDirect holds the bare process ping-pong against the bare thread
// one: the direct cost of changing address space.
func judgeDirect(s sameCPU, perf perfMeasured) lab.Claim {
	if why := s.notTimed("bare_thread", "bare_process"); why != "" {
		return claimDirect.Judge("not measured", lab.Inconclusive, why)
	}
	r := s.ratio("bare_process", "bare_thread")
	m := fmt.Sprintf("bare: process %s vs thread %s per switch, a ratio of %s", fig(s.bareProcess), fig(s.bareThread), r)
	goRatio := ""
	if s.process.N > 0 && s.thread.N > 0 {
		goRatio = fmt.Sprintf(" A Go program's process ping-pong, whose runtime works between switches, paid %.2f× its thread ping-pong: that extra is the indirect cost, the data each side finds evicted after the other address space ran.", s.process.Mid/s.thread.Mid)
		m += fmt.Sprintf("; a Go program: %.2f×", s.process.Mid/s.thread.Mid)
	}
	// "Costs more": above 1 (lab.More), round by round, beyond the spread.
	d := lab.Decide(r, lab.AtLeast(lab.More), s.load)
	return claimDirect.Decided(m, d, fmt.Sprintf(
		"The switch itself cost no more between processes than between threads here (%s), beyond the noise of the rounds. %s%s", fmtRatio(r), tlbWords(perf), goRatio))
}

// tlbWords says what changing address space costs this CPU. With PCID
// (process-context identifiers, which tag TLB entries by address space) a
// switch to another process loads its page tables without flushing the
// TLB, whether or not page-table isolation is on: isolation's cost is a
// page-table switch on every entry to and exit from the kernel, which
// thread switches pay as much as process switches. Without PCID, every
// change of address space flushes the TLB.
func tlbWords(p perfMeasured) string {
	if p.pcid {
		s := "This CPU has PCID (process-context identifiers, which tag TLB entries by address space), so a switch to another process loads its page tables without flushing the TLB: the translations each process cached survive the other's turn."
		if p.pti {
			s += " Page-table isolation is on, which switches page tables on every entry to and exit from the kernel — but thread switches pay that as much as process switches, so it does not set them apart."
		}
		return s
	}
	s := "This CPU has no PCID, so every switch to another address space flushes the TLB (the CPU's cache of address translations), and each process refills it afterwards"
	if p.pti {
		s += "; page-table isolation, on here, also switches page tables on every system call, which makes every switch, of threads or of processes, dearer"
	}
	return s + "."
}

// fig is a band's median with its unit.
func fig(b lab.Band) string { return lab.Once(b.Mid, b.Unit).String() }

// fmtRatio is a ratio's median with its spread, briefly.
func fmtRatio(r lab.Band) string {
	return fmt.Sprintf("%.2f×, between %.2f× and %.2f× across the spreads", r.Mid, r.Lo, r.Hi)
}

// pctOff says how far a ratio's median is from 1: "+12%".
func pctOff(r lab.Band) string { return fmt.Sprintf("%+.0f%%", 100*(r.Mid-1)) }
