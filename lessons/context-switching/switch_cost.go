package contextswitching

import (
	"context"
	"fmt"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// Claims of switch-cost, as the lesson states them.
var (
	claimThread = lab.Claim{
		Claim:    "A switch between two threads of one process costs about 1–10 µs.",
		Expected: "1–10 µs per switch",
	}
	claimProcess = lab.Claim{
		Claim:    "A switch between two processes costs about 10–100 µs.",
		Expected: "10–100 µs per switch",
	}
	claimProcVsThread = lab.Claim{
		Claim:    "A process switch costs more than a thread switch.",
		Expected: "process switch clearly above thread switch",
	}
	claimGoroutine = lab.Claim{
		Claim:    "A goroutine switch costs far less than either.",
		Expected: "under 1 µs, at least 5× cheaper than a thread switch",
	}
)

// A kind of ping-pong in switch-cost.
type pingKind struct {
	key   string // series name in events
	label string
	cross bool // across two CPUs: a wake-up latency, not a switch
	per   int  // round trips per timed batch
	run   func(ctx context.Context, a, b int, batches, per int, tick pingpong.Tick) (pingpong.Result, error)
}

var pingKinds = []pingKind{
	{key: "goroutine", label: "goroutines, same CPU", per: 2000, run: pingpong.Goroutines},
	{key: "thread", label: "OS threads, same CPU", per: 100, run: pingpong.Threads},
	{key: "process", label: "processes, same CPU", per: 100, run: processPingPong},
	{key: "goroutine-x", label: "goroutines, across CPUs", cross: true, per: 100, run: pingpong.Goroutines},
	{key: "thread-x", label: "OS threads, across CPUs", cross: true, per: 100, run: pingpong.Threads},
	{key: "process-x", label: "processes, across CPUs", cross: true, per: 100, run: processPingPong},
}

// measured is one kind's result, its figures in µs per switch.
type measured struct {
	pingpong.Result
	pinned [2]int // the CPUs the two parties were pinned to
}

func switchCost() *lab.Experiment {
	return &lab.Experiment{
		ID:     "switch-cost",
		Lesson: Slug,
		Title:  "What one context switch costs",
		Summary: "Two goroutines, two OS threads and two processes pass one byte back and forth, first pinned to the same CPU " +
			"so that every hand-off is a real switch, then on two CPUs, where each hand-off has to wake the other CPU. " +
			"Round trips are timed in batches; one switch is half a round trip.",
		Params: []lab.Param{
			lab.Int("batches", "Timed batches per kind", 300, 10, 3000,
				"More batches give a steadier median and a fuller histogram.").WithQuick(20),
			lab.Bool("across", "Also measure across CPUs", true,
				"Put the two parties on different CPUs. That measures how long it takes to wake a thread on another CPU, which is not a switch."),
		},
		Claims: []lab.Claim{claimThread, claimProcess, claimProcVsThread, claimGoroutine, claimPerf},
		Charts: []lab.Chart{
			{ID: "median", Kind: "bars", Title: "Cost per switch, by kind", Y: "µs per switch", LogY: true,
				Note: "Median of the timed batches; the whiskers run from the 10th to the 90th percentile."},
			{ID: "batches", Kind: "line", Title: "Every batch as it was timed", X: "batch", Y: "µs per switch", LogY: true,
				Note: "One point per batch of round trips, drawn while the run goes."},
			{ID: "hist", Kind: "hist", Title: "Distribution of batch timings", X: "µs per switch", Y: "batches", LogX: true},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "Proof that switches happened: what the kernel counted (getrusage)", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "rounds", Label: "Round trips"}, {Key: "voluntary", Label: "Voluntary switches"},
			{Key: "involuntary", Label: "Involuntary switches"}, {Key: "cpus", Label: "CPUs seen"},
		}}},
		Run: runSwitchCost,
		Workers: map[string]func([]string) int{
			"echo": echoWorker,
		},
	}
}

func runSwitchCost(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	batches := p.Int("batches")
	kinds := pingKinds
	if !p.Bool("across") {
		kinds = kinds[:3]
	} else if len(cpus) < 2 {
		out.Log("Only one CPU is usable here, so the across-CPU figures cannot be measured; only same-CPU switches are.")
		kinds = kinds[:3]
	}
	a, b := cpus[0], cpus[0]
	if len(cpus) > 1 {
		b = cpus[1]
	}

	results := map[string]measured{}
	for i, k := range kinds {
		out.Progress(k.label, i, len(kinds))
		cpuB := a
		if k.cross {
			cpuB = b
		}
		r, err := k.run(ctx, a, cpuB, batches, k.per, pingpong.Live(out, "batches", k.label, 1e-3))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", k.label, err)
		}
		res := measured{Result: r, pinned: [2]int{a, cpuB}}
		for i := range res.PerSwitch {
			res.PerSwitch[i] /= 1e3 // ns → µs
		}
		results[k.key] = res
		s := lab.Summarize(res.PerSwitch)
		out.Bar("median", "", k.label, s.P50, s.P10, s.P90)
		out.Hist("hist", k.label, lab.Histogram(res.PerSwitch, 0.01, 1000, 50, true))
		out.Row("evidence", k.key, map[string]any{
			"kind": k.label, "rounds": res.Rounds, "voluntary": res.Kernel.Voluntary,
			"involuntary": res.Kernel.Involuntary, "cpus": fmt.Sprintf("%d and %d", res.CPUs[0], res.CPUs[1]),
		})
	}
	// A reference from a standard tool, measured now on the same CPU.
	var ref *perfRef
	var perfErr error
	if perf := probe.ReadHost().Perf; perf != "" {
		out.Progress("reference: perf bench sched pipe", len(kinds), len(kinds)+1)
		r, err := perfReference(ctx, perf, a, batches*100)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			perfErr = err
			out.Log("perf could not run: " + err.Error())
		} else {
			ref = &r
			out.Bar("median", "", "perf: processes, same CPU", r.process, r.process, r.process)
			out.Bar("median", "", "perf: threads, same CPU", r.thread, r.thread, r.thread)
		}
	} else {
		out.Log("perf is not installed here, so there is no reference figure from a standard tool.")
	}
	out.Progress("done", len(kinds)+1, len(kinds)+1)

	var metrics []lab.Metric
	for _, k := range kinds {
		res := results[k.key]
		name := "Switch, " + k.label
		if k.cross {
			name = "Wake-up latency, " + k.label
		}
		m := lab.Summarize(res.PerSwitch).Named(name, "µs")
		m.Note = fmt.Sprintf("%d batches of %d round trips, pinned to CPU %d and %d; per switch = round trip / 2", len(res.PerSwitch), k.per, res.pinned[0], res.pinned[1])
		metrics = append(metrics, m)
		metrics = append(metrics, lab.Metric{Name: "Switches the kernel counted, " + k.label, Value: float64(res.Kernel.Switches()), Unit: "switches",
			Note: fmt.Sprintf("voluntary %d + involuntary %d, for %d round trips", res.Kernel.Voluntary, res.Kernel.Involuntary, res.Rounds)})
	}
	claims := judgeSwitchCost(results)
	claims = append(claims, judgePerf(ref, perfErr, lab.Summarize(results["thread"].PerSwitch).P50, lab.Summarize(results["process"].PerSwitch).P50))
	if ref != nil {
		loops := batches * 100
		metrics = append(metrics,
			lab.Metric{Name: "Reference: perf bench sched pipe, processes", Value: ref.process, Unit: "µs", N: loops, Note: fmt.Sprintf("%d round trips pinned to CPU %d; per switch = perf's usecs/op / 2", loops, a)},
			lab.Metric{Name: "Reference: perf bench sched pipe -T, threads", Value: ref.thread, Unit: "µs", N: loops, Note: fmt.Sprintf("%d round trips pinned to CPU %d; per switch = perf's usecs/op / 2", loops, a)})
	}
	out.Result(metrics, claims)
	return nil
}

// judgeSwitchCost holds the four claims against the same-CPU medians.
func judgeSwitchCost(r map[string]measured) []lab.Claim {
	g := lab.Summarize(r["goroutine"].PerSwitch)
	t := lab.Summarize(r["thread"].PerSwitch)
	p := lab.Summarize(r["process"].PerSwitch)
	var claims []lab.Claim

	tm := fmt.Sprintf("%.2f µs (median of %d batches, p10–p90 %.2f–%.2f µs)", t.P50, t.N, t.P10, t.P90)
	switch {
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
	case p.P50 >= 10 && p.P50 <= 100:
		claims = append(claims, claimProcess.Judge(pm, lab.Holds, ""))
	case p.P50 < 10:
		claims = append(claims, claimProcess.Judge(pm, lab.Differs,
			"Far below 10 µs. The switch itself is cheap on a modern kernel: changing address space no longer has to flush the TLB (CPUs tag its entries by process). The 10–100 µs figure counts the caches and TLB a real process must refill afterwards, which a one-byte ping-pong hardly uses."))
	default:
		claims = append(claims, claimProcess.Judge(pm, lab.Differs,
			"Above 100 µs, which points at a slow or heavily virtualised host rather than the switch itself; check the host panel."))
	}

	ratio := p.P50 / t.P50
	cm := fmt.Sprintf("process %.2f µs vs thread %.2f µs: %.2f×", p.P50, t.P50, ratio)
	switch {
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
	case g.P50 < 1 && g.P50*5 < t.P50:
		claims = append(claims, claimGoroutine.Judge(gm, lab.Holds, ""))
	default:
		claims = append(claims, claimGoroutine.Judge(gm, lab.Differs,
			"The goroutine switch was not far below the thread switch here; that usually means the process was interrupted during the goroutine batches. Run it again."))
	}
	return claims
}
