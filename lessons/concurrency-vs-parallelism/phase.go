package concurrencyvsparallelism

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// phase is one timeline: a set of tasks with their CPUs, run together.
type phase struct {
	mode  string  // concurrent, parallel or combined
	cpus  []int   // the CPUs the phase may use
	tasks []*task // built by the caller
}

// phaseResult is what a phase measured.
type phaseResult struct {
	mode  string
	cpus  []int // CPUs the phase was given
	tasks []*task
	spans map[string][]span // every span of every task, by task name
	wall  time.Duration     // from the start signal to the last task's end
}

// cpuName is a CPU's lane label.
func cpuName(cpu int) string { return fmt.Sprintf("CPU %d", cpu) }

// ms turns a duration into milliseconds for events and metrics.

// reportEvery is how often the reporter sends the spans closed so far.
const reportEvery = 50 * time.Millisecond

// runPhase starts the phase's tasks together, streams their spans to the
// two lanes charts of the mode while they run, and returns what they did.
func runPhase(ctx context.Context, ph phase, gap time.Duration, out *lab.Emitter, progress func(done, total int64)) (*phaseResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		ready sync.WaitGroup
		t0    time.Time
	)
	start := make(chan struct{})
	ready.Add(len(ph.tasks))
	for _, t := range ph.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx, ready.Done, start, &t0, gap)
		}()
	}
	ready.Wait()
	for _, t := range ph.tasks {
		if t.err != nil {
			cancel() // the others stop at their next check
			close(start)
			wg.Wait()
			return nil, fmt.Errorf("pinning task %s to CPUs %v: %w", t.name, t.cpus, t.err)
		}
	}
	res := &phaseResult{mode: ph.mode, cpus: ph.cpus, tasks: ph.tasks, spans: map[string][]span{}}
	order := map[string]int{}
	var total int64
	for i, t := range ph.tasks {
		order[t.name] = i
		total += t.chunks
	}
	t0 = time.Now()
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	tick := time.NewTicker(reportEvery)
	defer tick.Stop()
	ticks := 0
	report := func(final bool) {
		// Sort each batch by lane so lanes appear in order (CPU 0 above
		// CPU 1, task A above task B), then by task, so that colours are
		// handed out in task order: A gets the first colour in both runs.
		type item struct {
			task string
			s    span
		}
		var batch []item
		for _, t := range ph.tasks {
			for _, s := range t.take() {
				batch = append(batch, item{t.name, s})
				res.spans[t.name] = append(res.spans[t.name], s)
			}
		}
		slices.SortFunc(batch, func(a, b item) int {
			if a.s.cpu != b.s.cpu {
				return a.s.cpu - b.s.cpu
			}
			if order[a.task] != order[b.task] {
				return order[a.task] - order[b.task]
			}
			return cmp.Compare(a.s.start, b.s.start)
		})
		for _, it := range batch {
			out.Span("cpu-"+ph.mode, cpuName(it.s.cpu), format.Ms(it.s.start), format.Ms(it.s.end), it.task)
		}
		slices.SortFunc(batch, func(a, b item) int {
			if order[a.task] != order[b.task] {
				return order[a.task] - order[b.task]
			}
			return cmp.Compare(a.s.start, b.s.start)
		})
		for _, it := range batch {
			out.Span("task-"+ph.mode, it.task, format.Ms(it.s.start), format.Ms(it.s.end), cpuName(it.s.cpu))
		}
		var done int64
		for _, t := range ph.tasks {
			done += t.done.Load()
		}
		progress(done, total)
		if final || ticks%4 == 0 {
			for _, t := range ph.tasks {
				out.Row("tasks", ph.mode+"/"+t.name, taskRow(ph.mode, t, res.spans[t.name], final))
			}
			out.Gauge("Turn changes, "+ph.mode, float64(turnChanges(res)), "")
		}
		ticks++
	}
	for {
		select {
		case <-finished:
			for _, t := range ph.tasks {
				res.wall = max(res.wall, t.end)
			}
			report(true)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for _, t := range ph.tasks {
				if t.err != nil {
					return nil, fmt.Errorf("task %s: %w", t.name, t.err)
				}
			}
			return res, nil
		case <-tick.C:
			report(false)
		}
	}
}

// taskRow is a task's row in the live tasks table.
func taskRow(mode string, t *task, spans []span, final bool) map[string]any {
	row := map[string]any{
		"mode": mode, "task": t.name,
		"allowed": cpuList(t.cpus),
		"seen":    cpuList(distinctCPUs(spans)),
		"spans":   len(spans),
		"state":   fmt.Sprintf("%.0f%% done", 100*float64(t.done.Load())/float64(t.chunks)),
	}
	if final {
		row["samples"] = t.samples
		row["cpu_ms"] = format.Ms(t.usage.CPU())
		row["involuntary"] = t.usage.Involuntary
		row["voluntary"] = t.usage.Voluntary
		row["end_ms"] = format.Ms(t.end)
		row["state"] = "finished"
	}
	return row
}
