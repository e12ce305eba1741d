package processesvsthreads

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var claimSpawnOrder = lab.Claim{
	Claim:    "Creating a process costs more than creating a thread, and a thread more than a goroutine.",
	Expected: "process > thread > goroutine, each beyond the spread of both",
}

// A kind of unit that spawn-cost creates and finishes, one at a time.
type spawnKind struct {
	key, label string
	// one creates a unit, waits for it to finish and returns how long
	// that took and the unit's kernel id (a PID or thread id; 0 for a
	// goroutine, which has none).
	one func(ctx context.Context) (time.Duration, int, error)
}

func spawnCost() *lab.Experiment {
	return &lab.Experiment{
		ID:     "spawn-cost",
		Lesson: Slug,
		Title:  "Creating processes, threads and goroutines",
		Summary: "Creates N goroutines, N fresh OS threads and N processes, one after another, and times each from the moment it is asked for " +
			"until it has run and finished. A process is this very program started again; /bin/true, the smallest program there is, " +
			"shows what starting any process costs at the least.",
		Params: []lab.Param{
			lab.Int("count", "Units of each kind", 150, 10, 1000,
				"How many goroutines, threads and processes to create. More give a fuller distribution.").WithQuick(20),
		},
		Claims:      []lab.Claim{claimSpawnOrder},
		Predictions: spawnCostPredictions,
		// Only where /bin/true exists is there a bare process to compare with.
		Conditional: []string{"spawn.process.bin_true", "spawn.ratio.program_bin_true"},
		Charts: []lab.Chart{
			{ID: "each", Kind: "line", Title: "Every unit, as it was created", X: "unit", Y: "µs to create and finish", LogY: true,
				Note: "One point per unit, timed with the monotonic clock from the request to the moment it had finished."},
			{ID: "median", Kind: "bars", Title: "Cost to create and finish one unit", Y: "µs", LogY: true,
				Note: "Median; the whiskers run from the 10th to the 90th percentile."},
			{ID: "hist", Kind: "hist", Title: "Distribution of the timings", X: "µs to create and finish", Y: "units", LogX: true},
		},
		Tables: []lab.Table{{ID: "evidence", Title: "Proof that each unit was new: the kernel ids they ran under", Columns: []lab.Column{
			{Key: "kind", Label: "Kind"}, {Key: "units", Label: "Created"}, {Key: "distinct", Label: "Distinct ids"},
			{Key: "fresh", Label: "Ids new to this run"}, {Key: "note", Label: "How it was checked"},
		}}},
		Limit: 150 * time.Second, // 1,000 of each on a busy machine
		Run:   runSpawnCost,
		Workers: map[string]func([]string) int{
			"exit": func([]string) int { return 0 },
		},
	}
}

func spawnKinds(truePath string) []spawnKind {
	kinds := []spawnKind{
		{key: "goroutine", label: "goroutine", one: oneGoroutine},
		{key: "thread", label: "OS thread", one: oneThread},
		{key: "process", label: "process (this program)", one: oneWorker},
	}
	if truePath != "" {
		kinds = append(kinds, spawnKind{key: "true", label: "process (/bin/true)", one: func(ctx context.Context) (time.Duration, int, error) {
			cmd := exec.CommandContext(ctx, truePath)
			t0 := time.Now()
			err := cmd.Run()
			d := time.Since(t0)
			if err != nil {
				return d, 0, err
			}
			return d, cmd.Process.Pid, nil
		}})
	}
	return kinds
}

// snippet:spawn-cost

// oneGoroutine starts a goroutine that does nothing and waits for it.
func oneGoroutine(context.Context) (time.Duration, int, error) {
	done := make(chan struct{})
	t0 := time.Now()
	go func() { close(done) }()
	<-done
	return time.Since(t0), 0, nil
}

// oneThread runs a goroutine on an OS thread of its own. The goroutine
// locks itself to the thread it starts on and returns without unlocking,
// so the Go runtime ends that thread; the runtime must then create a new
// thread to go on, which is what this times (together with the ending).
// The thread ids prove every unit ran on a different thread.
func oneThread(context.Context) (time.Duration, int, error) {
	tid := make(chan int, 1)
	t0 := time.Now()
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		tid <- probe.Tid()
	}()
	id := <-tid
	return time.Since(t0), id, nil
}

// end snippet

// oneWorker starts this program again as the "exit" worker, which returns
// as soon as it has started, and waits for it.
func oneWorker(ctx context.Context) (time.Duration, int, error) {
	cmd, err := lab.Worker(ctx, "spawn-cost", "exit")
	if err != nil {
		return 0, 0, err
	}
	// snippet:spawn-process
	t0 := time.Now()
	err = lab.Start(cmd) // fork and exec: this program, started again in its "exit" mode
	if err == nil {
		err = cmd.Wait() // ...which returns at once; wait until it has ended
	}
	d := time.Since(t0)
	// end snippet
	if err != nil {
		return d, 0, fmt.Errorf("worker: %w", err)
	}
	return d, cmd.Process.Pid, nil
}

func runSpawnCost(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	n := p.Int("count")
	truePath, err := exec.LookPath("/bin/true")
	if err != nil {
		truePath = ""
		out.Log("/bin/true is missing on this machine, so there is no bare-process reference; only this program's own start is timed.")
	}
	startTids, err := probe.TaskIDs()
	if err != nil {
		return fmt.Errorf("listing this process's threads, to tell new thread ids from old: %w", err)
	}
	kinds := spawnKinds(truePath)
	m := spawnMeasured{n: n}
	for i, k := range kinds {
		out.Progress("creating: "+k.label, i*n, len(kinds)*n)
		s := out.Series("each", k.label)
		progress := lab.NewThrottle(lab.LiveEvery)
		ids := make([]int, 0, n)
		vals := make([]float64, 0, n)
		for j := range n {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			d, id, err := k.one(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("%s %d: %w", k.label, j+1, err)
			}
			us := float64(d.Nanoseconds()) / 1e3
			vals = append(vals, us)
			ids = append(ids, id)
			s.Add(float64(j+1), us)
			if progress.Due() {
				out.Progress("creating: "+k.label, i*n+j+1, len(kinds)*n)
			}
		}
		s.Flush()
		sum := lab.Summarize(vals)
		m.set(k.key, sum)
		out.Bar("median", "", k.label, sum.P50, sum.P10, sum.P90)
		out.Hist("hist", k.label, lab.Histogram(vals, 0.05, 1e6, 70, true))
		out.Row("evidence", k.key, evidenceRow(k, ids, startTids))
	}
	out.Progress("done", len(kinds)*n, len(kinds)*n)
	m.load = out.Load()
	out.Result(spawnMetrics(m), []lab.Claim{judgeSpawnCost(m)})
	return nil
}

// evidenceRow counts distinct kernel ids, and for threads those that did
// not exist when the run started: those threads were created by the run.
func evidenceRow(k spawnKind, ids, startTids []int) map[string]any {
	row := map[string]any{"kind": k.label, "units": len(ids)}
	if k.key == "goroutine" {
		row["distinct"], row["fresh"] = "–", "–"
		row["note"] = "Goroutines have no kernel id: the kernel never sees them."
		return row
	}
	seen := map[int]bool{}
	fresh := 0
	for _, id := range ids {
		if !seen[id] && !slices.Contains(startTids, id) {
			fresh++
		}
		seen[id] = true
	}
	row["distinct"], row["fresh"] = len(seen), fresh
	if k.key == "thread" {
		row["note"] = fmt.Sprintf("gettid() in each thread; this process had %d threads when the run started", len(startTids))
	} else {
		row["note"] = "the PID of each child, as the kernel gave it"
	}
	return row
}

// spawnCostPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var spawnCostPredictions = []lab.Prediction{
	{Claim: 0, Question: "Creating and finishing one process of this program takes how many times as long as one OS thread?", Kind: lab.PredictNumber, Unit: "×", Min: 1, Max: 100000, Log: true, Key: "spawn.ratio.process_thread"},
}
