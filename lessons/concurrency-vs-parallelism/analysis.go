package concurrencyvsparallelism

import (
	"cmp"
	"conclab/internal/format"
	"slices"
	"time"
)

// distinctCPUs lists the CPUs the spans ran on, in order.
func distinctCPUs(spans []span) []int {
	var out []int
	for _, s := range spans {
		if !slices.Contains(out, s.cpu) {
			out = append(out, s.cpu)
		}
	}
	slices.Sort(out)
	return out
}

// owned is a span with the task that ran it.
type owned struct {
	task string
	span
}

// byCPU groups every span of the phase by CPU, each group in time order.
func (r *phaseResult) byCPU() map[int][]owned {
	out := map[int][]owned{}
	for name, spans := range r.spans {
		for _, s := range spans {
			out[s.cpu] = append(out[s.cpu], owned{name, s})
		}
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b owned) int { return cmp.Compare(a.start, b.start) })
	}
	return out
}

// turns merges each CPU's spans into turns: stretches in which one task
// held that CPU, whatever pieces it was reported in. A turn ends when a
// different task takes the CPU.
func (r *phaseResult) turns() map[int][]owned {
	out := map[int][]owned{}
	for cpu, list := range r.byCPU() {
		var merged []owned
		for _, s := range list {
			if n := len(merged); n > 0 && merged[n-1].task == s.task {
				merged[n-1].end = max(merged[n-1].end, s.end)
				continue
			}
			merged = append(merged, s)
		}
		out[cpu] = merged
	}
	return out
}

// turnChanges counts how often a CPU went from one of the phase's tasks to
// another, over every CPU.
func turnChanges(r *phaseResult) int {
	n := 0
	for _, list := range r.turns() {
		n += max(0, len(list)-1)
	}
	return n
}

// turnLengths are the lengths, in ms, of the turns that ended because
// another task took over (the last turn on each CPU ran out of work and
// says nothing about the time slice).
func (r *phaseResult) turnLengths() []float64 {
	var out []float64
	for _, list := range r.turns() {
		for i := 0; i+1 < len(list); i++ {
			out = append(out, format.Ms(list[i].end-list[i].start))
		}
	}
	return out
}

// busy is how long the phase's tasks ran on each CPU.
func (r *phaseResult) busy() map[int]time.Duration {
	out := map[int]time.Duration{}
	for cpu, list := range r.byCPU() {
		for _, s := range list {
			out[cpu] += s.end - s.start
		}
	}
	return out
}

// overlap is how long at least two of the phase's tasks were running at
// the same instant.
func (r *phaseResult) overlap() time.Duration {
	type edge struct {
		at    time.Duration
		delta int
	}
	var edges []edge
	for _, spans := range r.spans {
		for _, s := range spans {
			if s.end > s.start {
				edges = append(edges, edge{s.start, +1}, edge{s.end, -1})
			}
		}
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // ends before starts at the same instant
	})
	var total, last time.Duration
	running := 0
	for _, e := range edges {
		if running >= 2 {
			total += e.at - last
		}
		running += e.delta
		last = e.at
	}
	return total
}

// cpuTime is the sum of the tasks' CPU times.
func (r *phaseResult) cpuTime() time.Duration {
	var sum time.Duration
	for _, t := range r.tasks {
		sum += t.usage.CPU()
	}
	return sum
}

// switches sums the tasks' involuntary and voluntary context switches.
func (r *phaseResult) switches() (involuntary, voluntary int64) {
	for _, t := range r.tasks {
		involuntary += t.usage.Involuntary
		voluntary += t.usage.Voluntary
	}
	return involuntary, voluntary
}

// cpusSeen lists every CPU any task of the phase ran on.
func (r *phaseResult) cpusSeen() []int {
	var all []span
	for _, s := range r.spans {
		all = append(all, s...)
	}
	return distinctCPUs(all)
}

// busyCPUs is how many CPUs' worth of work ran at once on average: the
// tasks' CPU time over the wall time. It is not a speedup: two
// hyper-threads of one core are two busy CPUs, yet each computes slower
// beside the other, so the work does not finish twice as fast.
func (r *phaseResult) busyCPUs() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.cpuTime()) / float64(r.wall)
}

// speedup is how much sooner the phase finished than one CPU would have,
// by the wall clock: the time one CPU needs for all its tasks' work — each
// task's work as timed alone on one CPU (alone), one after another — over
// the phase's wall time.
func (r *phaseResult) speedup(alone time.Duration) float64 {
	if r.wall <= 0 || alone <= 0 {
		return 0
	}
	return float64(alone) * float64(len(r.tasks)) / float64(r.wall)
}
