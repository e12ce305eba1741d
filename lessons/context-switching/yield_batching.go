package contextswitching

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

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
	run        func(ctx context.Context, cpu, items, batch int, deadline time.Time) (done int, wall time.Duration)
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
	items, budget := p.Int("items"), time.Duration(p.Int("budget"))*time.Millisecond
	rates := map[string][]float64{}
	var metrics []lab.Metric
	step, steps := 0, len(yieldKinds)*len(batchSizes)
	for _, k := range yieldKinds {
		for _, b := range batchSizes {
			out.Progress(fmt.Sprintf("%s, B = %d", k.label, b), step, steps)
			step++
			done, wall := k.run(ctx, cpus[0], items, b, time.Now().Add(budget))
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rate := float64(done) / wall.Seconds()
			rates[k.key] = append(rates[k.key], rate)
			out.Point("rate", k.label, float64(b), rate)
			m := lab.Metric{Name: fmt.Sprintf("%s, B = %d", k.label, b), Value: rate, Unit: "items/s", N: done,
				Note: fmt.Sprintf("%d items in %s", done, wall.Round(time.Microsecond))}
			if done < items {
				m.Note += fmt.Sprintf(" (stopped at the %s limit)", budget)
			}
			metrics = append(metrics, m)
		}
	}
	out.Progress("done", steps, steps)

	// Cost of one yield: time per item at B = 1 minus time per item with
	// the largest batch, where yields are rare.
	last := len(batchSizes) - 1
	var measured []string
	holds := true
	for _, k := range yieldKinds {
		r := rates[k.key]
		perYield := (1/r[0] - 1/r[last]) * 1e9
		metrics = append(metrics, lab.Metric{Name: "Cost of one yield, " + k.label, Value: math.Round(perYield), Unit: "ns",
			Note: "time per item at B = 1 minus time per item at B = 10,000"})
		ratio := r[3] / r[0] // B = 1000 vs B = 1
		measured = append(measured, fmt.Sprintf("%s: %.0f× (%.3g vs %.3g items/s)", k.label, ratio, r[3], r[0]))
		if ratio < 10 {
			holds = false
		}
	}
	claim := claimBatching.Judge("B = 1,000 vs B = 1 — "+joinSemi(measured), lab.Holds, "")
	if !holds {
		claim = claimBatching.Judge(claim.Measured, lab.Differs,
			"For at least one kind, batching gained less than 10×. That happens when a yield is cheap next to the work of one item, or when the other worker was not ready to run, so the yield came straight back.")
	}
	out.Result(metrics, []lab.Claim{claim})
	return nil
}

func joinSemi(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += "; "
		}
		out += v
	}
	return out
}

// item is one tiny piece of work.
func item(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }

// yieldGoroutines runs two goroutines with GOMAXPROCS=1 on one CPU; each
// yields with runtime.Gosched after every batch items.
func yieldGoroutines(ctx context.Context, cpu, items, batch int, deadline time.Time) (int, time.Duration) {
	allowed, _ := probe.AllowedCPUs()
	probe.PinProcess(cpu)
	prev := runtime.GOMAXPROCS(1)
	defer func() {
		runtime.GOMAXPROCS(prev)
		if len(allowed) > 0 {
			probe.PinProcess(allowed...)
		}
	}()
	return twoWorkers(items, batch, deadline, false, cpu, runtime.Gosched)
}

// yieldThreads runs two OS threads pinned to one CPU; each yields with
// sched_yield after every batch items.
func yieldThreads(ctx context.Context, cpu, items, batch int, deadline time.Time) (int, time.Duration) {
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)
	return twoWorkers(items, batch, deadline, true, cpu, func() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) })
}

// twoWorkers splits items between two workers that yield after every batch
// items and stop early at the deadline. It returns the items done and the
// wall time.
func twoWorkers(items, batch int, deadline time.Time, locked bool, cpu int, yield func()) (int, time.Duration) {
	var wg sync.WaitGroup
	counts := make([]int, 2)
	start := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if locked {
				runtime.LockOSThread() // exits locked: the pinned thread goes with it
				probe.PinThread(cpu)
			}
			ready.Done()
			<-start
			x := uint64(w)
			n, share := 0, items/2
			for n < share {
				end := min(n+batch, share)
				for ; n < end; n++ {
					x = item(x)
				}
				yield()
				if n&0x3ff < batch && time.Now().After(deadline) {
					break
				}
			}
			counts[w] = n
			sink.Add(x)
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	return counts[0] + counts[1], time.Since(t0)
}
