package contextswitching

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var claimBatching = lab.Claim{
	Claim:    "Switching after every tiny task costs far more than switching after a batch of them.",
	Expected: "at least 10× the throughput when yielding every 1,000 items instead of after each",
}

// batchSizes are the B values of yield-batching: yield after every B items.
var batchSizes = []int{1, 10, 100, 1000, 10000}

// yieldKind is one way to give the CPU to the other worker.
type yieldKind struct {
	key, label string
	run        func(cpu, items, batch int, deadline time.Time) (done int, wall time.Duration, err error)
}

var yieldKinds = []yieldKind{
	{"goroutine", "goroutines (runtime.Gosched)", yieldGoroutines},
	{"thread", "OS threads (sched_yield)", yieldThreads},
}

func yieldBatching() *lab.Experiment {
	return &lab.Experiment{
		ID:     "yield-batching",
		Lesson: Slug,
		Title:  "Yield after every item, or after a batch?",
		Summary: "Two workers share one CPU and process tiny items (a few arithmetic operations each). After every B items a worker " +
			"yields the CPU to the other. With goroutines the yield is runtime.Gosched, a switch inside the Go runtime; with OS threads " +
			"it is sched_yield, a switch by the kernel. Throughput is items per second for both workers together.",
		Params: []lab.Param{
			lab.Int("items", "Items per setting", 1_000_000, 10_000, 5_000_000, "Items both workers process together for each batch size.").WithQuick(40_000),
			lab.Int("budget", "Time limit per setting", 2000, 100, 5000, "A setting that has not finished its items by then stops, and its rate is computed from the items it did.").WithUnit("ms").WithQuick(150),
		},
		Claims: []lab.Claim{claimBatching},
		Charts: []lab.Chart{
			{ID: "rate", Kind: "line", Title: "Throughput against batch size", X: "items per yield (B)", Y: "items per second", LogX: true, LogY: true,
				Note: "Each point: both workers pinned to one CPU, yielding after every B items."},
		},
		Limit: 90 * time.Second,
		Run:   runYieldBatching,
	}
}

func runYieldBatching(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	m := yieldMeasured{items: p.Int("items"), budget: time.Duration(p.Int("budget")) * time.Millisecond, settings: map[string][]yieldSetting{}}
	step, steps := 0, len(yieldKinds)*len(batchSizes)
	for _, k := range yieldKinds {
		for _, b := range batchSizes {
			out.Progress(fmt.Sprintf("%s, B = %d", k.label, b), step, steps)
			step++
			done, wall, err := k.run(cpus[0], m.items, b, time.Now().Add(m.budget))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("%s, B = %d: %w", k.label, b, err)
			}
			s := yieldSetting{batch: b, done: done, wall: wall}
			m.settings[k.key] = append(m.settings[k.key], s)
			out.Point("rate", k.label, float64(b), s.rate())
		}
	}
	out.Progress("done", steps, steps)
	metrics, claim := yieldResult(m)
	out.Result(metrics, []lab.Claim{claim})
	return nil
}
