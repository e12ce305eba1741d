package contextswitching

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"conclab/internal/kit"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

var claimBatching = lab.Claim{
	Claim:    "Switching after every tiny task costs far more than switching after a batch of them.",
	Expected: "at least 5× the throughput when yielding every 1,000 items instead of after each, beyond the spread of the rounds",
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

// asyncioKind is the seed's own example, run by python3 when the host has
// it: two asyncio tasks that `await asyncio.sleep(0)` after every B items.
var asyncioKind = yieldKind{key: "asyncio", label: "Python asyncio tasks (await asyncio.sleep(0))"}

// yieldRounds is how many times each setting runs, each with a third of
// the items and the time: the spread between them is what the verdict
// reads as noise.
const yieldRounds = 3

// yieldRoundItems is how many items one round of a setting is asked to do
// when a setting is asked for items over its rounds: a third of them,
// shared equally by its two workers (each gets half, rounded down), so
// up to five fewer than items/3×3. A round that did fewer stopped at its
// time limit; the judge compares with this, not with items.
func yieldRoundItems(items int) int { return 2 * (max(2, items/yieldRounds) / 2) }

// yieldAsyncioScript is the asyncio variant's program.
//
//go:embed yield_asyncio.py
var yieldAsyncioScript string

func yieldBatching() *lab.Experiment {
	var conditional []string
	for _, b := range batchSizes {
		conditional = append(conditional, keyThroughput("asyncio", b))
	}
	return &lab.Experiment{
		ID:     "yield-batching",
		Lesson: Slug,
		Title:  "Yield after every item, or after a batch?",
		Summary: "Two workers share one CPU and process tiny items (a few arithmetic operations each). After every B items a worker " +
			"yields the CPU to the other. With goroutines the yield is runtime.Gosched, a switch inside the Go runtime; with OS threads " +
			"it is sched_yield, a switch by the kernel; with Python's asyncio (when python3 is installed) it is await asyncio.sleep(0), a turn of the event loop. " +
			"Throughput is items per second for both workers together; every setting runs three times.",
		Params: []lab.Param{
			lab.Int("items", "Items per setting", 1_000_000, 10_000, 5_000_000, "Items both workers process together for each batch size, over its three rounds.").WithQuick(40_000),
			lab.Int("budget", "Time limit per setting", 2000, 100, 5000, "A setting that has not finished its items by then stops, and its rate is computed from the items it did.").WithUnit("ms").WithQuick(150),
		},
		Claims:      []lab.Claim{claimBatching},
		Predictions: yieldPredictions,
		Charts: []lab.Chart{
			{ID: "rate", Kind: "line", Title: "Throughput against batch size", X: "items per yield (B)", Y: "items per second", LogX: true, LogY: true,
				Note: "Each point: the median of three rounds, both workers on one CPU, yielding after every B items."},
		},
		Conditional: append(conditional, keyYieldCost("asyncio")),
		Limit:       90 * time.Second,
		Run:         runYieldBatching,
	}
}

func runYieldBatching(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	m := yieldMeasured{perRound: yieldRoundItems(p.Int("items")), budget: time.Duration(p.Int("budget")) * time.Millisecond, settings: map[string][]yieldSetting{}}
	m.kinds = yieldKinds
	py := kit.Python3()
	if py != "" {
		m.kinds = append(m.kinds, asyncioKind)
	}
	step, steps := 0, len(m.kinds)*len(batchSizes)
	perRound, budget := m.perRound, m.budget/yieldRounds
	for _, k := range yieldKinds {
		for _, b := range batchSizes {
			out.Progress(fmt.Sprintf("%s, B = %d", k.label, b), step, steps)
			step++
			for range yieldRounds {
				done, wall, err := k.run(cpus[0], perRound, b, time.Now().Add(budget))
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					return fmt.Errorf("%s, B = %d: %w", k.label, b, err)
				}
				m.settings[k.key] = append(m.settings[k.key], yieldSetting{batch: b, done: done, wall: wall})
			}
			out.Point("rate", k.label, float64(b), m.rateAt(k.key, b))
		}
	}
	if py == "" {
		m.noPython = "python3 is not installed on this server (it is not on the PATH), so the asyncio variant was not run."
		out.Log(m.noPython)
	} else if err := yieldAsyncio(ctx, out, py, cpus[0], perRound, budget, &m, &step, steps); err != nil {
		return err
	}
	out.Progress("done", steps, steps)
	m.load = out.Load()
	metrics, claim := yieldResult(m)
	out.Result(metrics, []lab.Claim{claim})
	return nil
}

// yieldAsyncio runs the asyncio variant with python3 pinned to cpu, like
// the other workers, and adds its rounds to m.
func yieldAsyncio(ctx context.Context, out *lab.Emitter, py string, cpu, items int, budget time.Duration, m *yieldMeasured, step *int, steps int) error {
	args := []string{strconv.Itoa(items), strconv.Itoa(int(budget / time.Millisecond)), strconv.Itoa(yieldRounds)}
	for _, b := range batchSizes {
		args = append(args, strconv.Itoa(b))
	}
	// python3 inherits the CPU affinity of the thread that starts it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	if err := probe.PinThread(cpu); err != nil {
		return fmt.Errorf("pin python3 to CPU %d: %w", cpu, err)
	}
	defer probe.PinThread(allowed...)
	type line struct {
		Event, Version string
		Batch, Round   int
		Done           int
		Wall           float64
	}
	out.Progress(asyncioKind.label+", B = 1", *step, steps)
	err = kit.RunPython(ctx, py, yieldAsyncioScript, func(b []byte) error {
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("python3 printed %q, not a JSON line", b)
		}
		switch l.Event {
		case "probe":
			out.Log(fmt.Sprintf("python3 %s runs the asyncio variant: two tasks on one event loop, on CPU %d.", l.Version, cpu))
		case "round":
			m.settings[asyncioKind.key] = append(m.settings[asyncioKind.key], yieldSetting{batch: l.Batch, done: l.Done, wall: time.Duration(l.Wall * 1e9)})
			if l.Round == yieldRounds-1 {
				out.Point("rate", asyncioKind.label, float64(l.Batch), m.rateAt(asyncioKind.key, l.Batch))
				*step++
				if *step < steps {
					out.Progress(fmt.Sprintf("%s, B = %d", asyncioKind.label, batchSizes[min(len(batchSizes)-1, *step-len(yieldKinds)*len(batchSizes))]), *step, steps)
				}
			}
		}
		return nil
	}, args...)
	if err != nil && ctx.Err() == nil {
		m.noPython = fmt.Sprintf("python3 (%s) could not run the asyncio variant: %v", py, err)
		out.Log(m.noPython)
		m.kinds = yieldKinds
		delete(m.settings, asyncioKind.key)
		return nil
	}
	return err
}

// yieldPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var yieldPredictions = []lab.Prediction{
	{Claim: 0, Question: "One yield between two goroutines (runtime.Gosched) costs about how long?", Kind: lab.PredictNumber, Unit: "ns", Min: 0.1, Max: 1000000, Log: true, Key: "yield_cost.goroutine"},
}
