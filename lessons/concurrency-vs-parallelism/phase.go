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

// reportEvery is how often the reporter sends the spans closed so far.
const reportEvery = 50 * time.Millisecond

// runPhase starts the phase's tasks together, streams their spans to the
// two lanes charts of the mode while they run, and returns what they did.
func runPhase(ctx context.Context, ph phase, gap time.Duration, out *lab.Emitter, progress func(done, total int64)) (*phaseResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := newPhaseRun(ph, out, progress)
	finished, err := r.start(ctx, cancel, gap)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(reportEvery)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			return r.finish(ctx)
		case <-tick.C:
			r.report(false)
		}
	}
}

// phaseRun is one phase under way: its tasks, the spans they have
// reported so far, and where the reporter is.
type phaseRun struct {
	ph       phase
	out      *lab.Emitter
	progress func(done, total int64)
	res      *phaseResult
	order    map[string]int // a task's place in the phase, by name
	total    int64          // the chunks of work of all the tasks
	t0       time.Time      // when the tasks were let go
	ticks    int            // reports sent so far
}

func newPhaseRun(ph phase, out *lab.Emitter, progress func(done, total int64)) *phaseRun {
	r := &phaseRun{
		ph: ph, out: out, progress: progress,
		res:   &phaseResult{mode: ph.mode, cpus: ph.cpus, tasks: ph.tasks, spans: map[string][]span{}},
		order: map[string]int{},
	}
	for i, t := range ph.tasks {
		r.order[t.name] = i
		r.total += t.chunks
	}
	return r
}

// start pins every task to its CPUs, then lets them all go at once; the
// channel it returns closes when the last one has ended.
func (r *phaseRun) start(ctx context.Context, cancel context.CancelFunc, gap time.Duration) (<-chan struct{}, error) {
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	ready.Add(len(r.ph.tasks))
	for _, t := range r.ph.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx, ready.Done, start, &r.t0, gap)
		}()
	}
	ready.Wait()
	for _, t := range r.ph.tasks {
		if t.err != nil {
			cancel() // the others stop at their next check
			close(start)
			wg.Wait()
			return nil, fmt.Errorf("pinning task %s to CPUs %v: %w", t.name, t.cpus, t.err)
		}
	}
	r.t0 = time.Now()
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	return finished, nil
}

// finish sends the last report once every task has ended and returns the
// phase's result, or the first error.
func (r *phaseRun) finish(ctx context.Context) (*phaseResult, error) {
	for _, t := range r.ph.tasks {
		r.res.wall = max(r.res.wall, t.end)
	}
	r.report(true)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, t := range r.ph.tasks {
		if t.err != nil {
			return nil, fmt.Errorf("task %s: %w", t.name, t.err)
		}
	}
	return r.res, nil
}

// taskSpan is a span closed by a task, waiting to be sent.
type taskSpan struct {
	task string
	s    span
}

// report sends the spans closed since the last report to both lanes
// charts, the progress, and every fourth time (and the last) the tasks
// table and the count of turn changes.
func (r *phaseRun) report(final bool) {
	var batch []taskSpan
	for _, t := range r.ph.tasks {
		for _, s := range t.take() {
			batch = append(batch, taskSpan{t.name, s})
			r.res.spans[t.name] = append(r.res.spans[t.name], s)
		}
	}
	r.sendSpans(batch)
	var done int64
	for _, t := range r.ph.tasks {
		done += t.done.Load()
	}
	r.progress(done, r.total)
	if final || r.ticks%4 == 0 {
		for _, t := range r.ph.tasks {
			r.out.Row("tasks", r.ph.mode+"/"+t.name, taskRow(r.ph.mode, t, r.res.spans[t.name], final))
		}
		r.out.Gauge("Turn changes, "+r.ph.mode, float64(turnChanges(r.res)), "")
	}
	r.ticks++
}

// sendSpans draws a batch of spans on the mode's two lanes charts: by CPU
// and by task. Each is sorted by lane so lanes appear in order (CPU 0 above
// CPU 1, task A above task B), then by task, so that colours are handed
// out in task order: A gets the first colour in both runs.
func (r *phaseRun) sendSpans(batch []taskSpan) {
	byTask := func(a, b taskSpan) int {
		if r.order[a.task] != r.order[b.task] {
			return r.order[a.task] - r.order[b.task]
		}
		return cmp.Compare(a.s.start, b.s.start)
	}
	slices.SortFunc(batch, func(a, b taskSpan) int {
		if a.s.cpu != b.s.cpu {
			return a.s.cpu - b.s.cpu
		}
		return byTask(a, b)
	})
	for _, it := range batch {
		r.out.Span("cpu-"+r.ph.mode, cpuName(it.s.cpu), format.Ms(it.s.start), format.Ms(it.s.end), it.task)
	}
	slices.SortFunc(batch, byTask)
	for _, it := range batch {
		r.out.Span("task-"+r.ph.mode, it.task, format.Ms(it.s.start), format.Ms(it.s.end), cpuName(it.s.cpu))
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
