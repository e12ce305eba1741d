package greenthreads

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

var (
	claimCheapest = lab.Claim{
		Claim:    "A switch between coroutines is the cheapest of the three: cheaper than between goroutines, far cheaper than between OS threads.",
		Expected: "coroutine < goroutine < OS thread, per switch",
	}
	claimOneCPU = lab.Claim{
		Claim:    "Coroutines on one thread cannot use more than one CPU; goroutines can use them all.",
		Expected: "coroutines keep about 1 CPU busy; goroutines about as many as there are CPUs",
	}
)

// switchKind is one kind of party in the switch ping-pong.
type switchKind struct {
	key, label string
	per        int // round trips per timed batch
	run        func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error)
	where      string
}

// Every kind runs on one CPU, so every hand-off really is a switch.
var switchKinds = []switchKind{
	{"coroutine", "coroutines (iter.Pull)", 20_000, pingpong.Coroutines, "user space: the runtime swaps stacks directly"},
	{"goroutine", "goroutines (channels)", 5_000, func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
		return pingpong.Goroutines(ctx, cpu, cpu, batches, per, tick)
	}, "user space: through the Go scheduler"},
	{"thread", "OS threads (pipes)", 200, func(ctx context.Context, cpu, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
		return pingpong.Threads(ctx, cpu, cpu, batches, per, tick)
	}, "the kernel: sleep in read, wake on write"},
}

func coroutineSwitch() *lab.Experiment {
	return &lab.Experiment{
		ID:     "coroutine-switch",
		Lesson: Slug,
		Title:  "The cheapest switch, and its limit",
		Summary: "Two coroutines, two goroutines and two OS threads hand control back and forth, all on one CPU, in timed batches; " +
			"one switch is half a round trip. Then T tasks of pure computation run twice: as coroutines resumed in turn by one loop " +
			"on one thread, and as goroutines on every CPU the runtime may use.",
		Params: []lab.Param{
			lab.Int("batches", "Timed batches per kind", 200, 10, 2000,
				"More batches give a steadier median.").WithQuick(20),
			lab.Int("tasks", "Tasks (T)", 8, 2, 64, "How many CPU-bound tasks share the work.").WithQuick(4),
			lab.Int("work", "Work in all", 1200, 50, 5000,
				"CPU time the tasks need together, calibrated on this CPU.").WithUnit("ms").WithQuick(150),
		},
		Claims: []lab.Claim{claimCheapest, claimOneCPU},
		Charts: []lab.Chart{
			{ID: "switch", Kind: "bars", Title: "Cost of one switch", Y: "ns per switch", LogY: true,
				Note: "Median of the timed batches, all on one CPU; whiskers from the 10th to the 90th percentile."},
			{ID: "batches", Kind: "line", Title: "Every batch as it was timed", X: "batch", Y: "ns per switch", LogY: true},
			{ID: "cpus", Kind: "line", Title: "CPUs kept busy by the same work", X: "ms since the work began", Y: "CPUs busy",
				Note: "The process's CPU time (getrusage) gained in each 100 ms, divided by 100 ms."},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "Where each switch happens: what the kernel counted (getrusage)", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "rounds", Label: "Round trips"}, {Key: "ns", Label: "ns per switch (median)"},
			{Key: "voluntary", Label: "Kernel switches, voluntary"}, {Key: "involuntary", Label: "Kernel switches, involuntary"}, {Key: "where", Label: "Who switches"},
		}}},
		Limit: 90 * time.Second,
		Run:   runCoroutineSwitch,
	}
}

func runCoroutineSwitch(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	cpu := cpus[0]
	batches := p.Int("batches")
	steps := len(switchKinds) + 2
	runs := map[string]pingpong.Result{}
	for i, k := range switchKinds {
		out.Progress(k.label, i, steps)
		r, err := k.run(ctx, cpu, batches, k.per, pingpong.Live(out, "batches", k.label, 1))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", k.label, err)
		}
		runs[k.key] = r
		s := lab.Summarize(r.PerSwitch)
		out.Bar("switch", "", k.label, s.P50, s.P10, s.P90)
		out.Row("evidence", k.key, map[string]any{
			"kind": k.label, "rounds": r.Rounds, "ns": s.P50, "voluntary": r.Kernel.Voluntary,
			"involuntary": r.Kernel.Involuntary, "where": k.where,
		})
	}

	// The same computation two ways.
	tasks := p.Int("tasks")
	slice := sliceCost()
	slices := max(1, int(time.Duration(p.Int("work"))*time.Millisecond/slice)/tasks)
	out.Log(fmt.Sprintf("One slice of work takes %s here; each of the %d tasks does %d slices.", slice.Round(100*time.Nanosecond), tasks, slices))
	out.Progress("tasks as coroutines on one thread", len(switchKinds), steps)
	coro := timeWork(out, "coroutines, one thread", func() { onCoroutines(ctx, tasks, slices) })
	out.Progress("tasks as goroutines on all CPUs", len(switchKinds)+1, steps)
	goro := timeWork(out, "goroutines, all CPUs", func() { onGoroutines(ctx, tasks, slices) })
	if err := ctx.Err(); err != nil {
		return err
	}
	out.Progress("done", steps, steps)

	metrics, claims := judgeCoroutineSwitch(runs, coro, goro, probe.ReadHost().EffectiveCPUs())
	out.Result(metrics, claims)
	return nil
}

func judgeCoroutineSwitch(runs map[string]pingpong.Result, coro, goro workRun, usable int) ([]lab.Metric, []lab.Claim) {
	var metrics []lab.Metric
	for _, k := range switchKinds {
		r := runs[k.key]
		m := lab.Summarize(r.PerSwitch).Named("Switch, "+k.label, "ns")
		m.Note = fmt.Sprintf("%d batches of %d round trips on one CPU; per switch = round trip / 2", len(r.PerSwitch), k.per)
		metrics = append(metrics, m,
			lab.Metric{Name: "Kernel switches during the run, " + k.label, Value: float64(r.Kernel.Switches()), Unit: "switches",
				Note: fmt.Sprintf("voluntary %d + involuntary %d, for %d round trips", r.Kernel.Voluntary, r.Kernel.Involuntary, r.Rounds)})
	}
	metrics = append(metrics,
		lab.Metric{Name: "Wall time, coroutines on one thread", Value: ms(coro.wall), Unit: "ms"},
		lab.Metric{Name: "Wall time, goroutines on all CPUs", Value: ms(goro.wall), Unit: "ms"},
		lab.Metric{Name: "CPUs busy, coroutines on one thread", Value: coro.cpusUsed(), Unit: "CPUs", Note: "CPU time ÷ wall time"},
		lab.Metric{Name: "CPUs busy, goroutines on all CPUs", Value: goro.cpusUsed(), Unit: "CPUs", Note: "CPU time ÷ wall time"},
	)

	c := lab.Summarize(runs["coroutine"].PerSwitch)
	g := lab.Summarize(runs["goroutine"].PerSwitch)
	t := lab.Summarize(runs["thread"].PerSwitch)
	var claims []lab.Claim
	sm := fmt.Sprintf("coroutine %.0f ns, goroutine %.0f ns, OS thread %.0f ns per switch (medians of %d batches): a coroutine switch is %.1f× cheaper than a goroutine switch and %.0f× cheaper than a thread switch",
		c.P50, g.P50, t.P50, c.N, g.P50/c.P50, t.P50/c.P50)
	switch {
	case c.P50 < g.P50 && c.P50 < t.P50 && c.P75 < g.P25 && c.P75 < t.P25:
		claims = append(claims, claimCheapest.Judge(sm, lab.Holds, ""))
	case c.P50 < g.P50 && c.P50 < t.P50:
		claims = append(claims, claimCheapest.Judge(sm, lab.Inconclusive,
			"The coroutine median is the lowest, but its batches overlap the others', so the gap is within this machine's noise. Run it again with more batches."))
	default:
		claims = append(claims, claimCheapest.Judge(sm, lab.Differs,
			"A coroutine switch was not the cheapest here. Both coroutines and goroutines switch in user space; if the goroutine switch won, the runtime's direct hand-off between a sender and a parked receiver was as quick as the coroutine's stack swap on this CPU."))
	}

	om := fmt.Sprintf("coroutines kept %.2f CPUs busy (%.0f ms of wall time); goroutines kept %.2f busy (%.0f ms): %.2f× faster, with %d usable CPUs",
		coro.cpusUsed(), ms(coro.wall), goro.cpusUsed(), ms(goro.wall), coro.wall.Seconds()/goro.wall.Seconds(), usable)
	switch {
	case usable < 2:
		claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
			"Only one CPU is usable here, so goroutines cannot use more than one either: the difference cannot be shown on this machine."))
	case coro.cpusUsed() > 1.15:
		claims = append(claims, claimOneCPU.Judge(om, lab.Differs,
			"The process kept more than one CPU busy while the coroutines ran. The coroutines themselves share one thread, so the extra time went to something else in the process, such as the garbage collector."))
	case goro.cpusUsed() < 1.4:
		claims = append(claims, claimOneCPU.Judge(om, lab.Inconclusive,
			"The goroutines did not get more than one CPU either, which means the machine's other CPUs were busy with other work during the run. Run it again when the machine is quieter."))
	default:
		claims = append(claims, claimOneCPU.Judge(om, lab.Holds, ""))
	}
	return metrics, claims
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
