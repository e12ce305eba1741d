package threadingmodels

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"conclab/internal/lab"
)

// modelResult is what one model measured.
type modelResult struct {
	key, name  string // "nto1", "N:1"
	tasks      int
	tids, cpus []int   // kernel threads and CPUs the tasks ran on, from the tasks themselves
	base, peak int     // threads in the process before the model and at most while it ran
	busy       float64 // most CPUs busy over a 100 ms window
	atOnce     float64 // kernel threads the tasks were on at one moment, median
	read       interval
	total      float64
	ahead      int64   // chunks the other tasks finished before read() started
	work       int64   // chunks the other tasks finished while read() was pending
	pace       float64 // their pace during read() as a % of their pace before it
	still      float64 // ms of read() during which not one other task finished a chunk
	pause      float64 // longest pause of another task during read(), ms
	stalled    []interval
}

func summarise(m *model, s *sampler) *modelResult {
	r := &modelResult{key: m.key, name: m.name, tasks: len(m.tasks), base: s.base, peak: s.peak, busy: s.busyPeak, total: m.ms(time.Now())}
	r.read = interval{m.ms(m.readFrom), m.ms(m.readTo)}
	r.atOnce = s.threadsAtOnce()
	var others []*task
	for _, t := range m.tasks {
		for _, id := range t.tids {
			if !slices.Contains(r.tids, id) {
				r.tids = append(r.tids, id)
			}
		}
		for _, c := range t.cpus {
			if !slices.Contains(r.cpus, c) {
				r.cpus = append(r.cpus, c)
			}
		}
		if !t.reader {
			others = append(others, t)
			r.pause = max(r.pause, longest(clip(t.gaps, r.read)))
		}
	}
	slices.Sort(r.cpus)
	r.ahead, r.work = m.before, m.after-m.before
	pending := r.read.to - r.read.from
	if r.read.from > 0 && r.ahead > 0 && pending > 0 {
		r.pace = 100 * (float64(r.work) / pending) / (float64(r.ahead) / r.read.from)
	}
	r.stalled = allStalled(others)
	r.still = length(clip(r.stalled, r.read))
	return r
}

func (r *modelResult) pending() float64 { return r.read.to - r.read.from }

func (r *modelResult) row() map[string]any {
	return map[string]any{
		"model": r.name, "atonce": r.atOnce, "threads": len(r.tids), "peak": r.peak, "added": r.peak - r.base,
		"cpus": joinInts(r.cpus), "busy": fmt.Sprintf("%.2f", r.busy),
		"pace":  fmt.Sprintf("%.0f%% (%d chunks)", r.pace, r.work),
		"still": fmt.Sprintf("%.0f of %.0f ms", r.still, r.pending()),
		"state": "finished",
	}
}

// maxSpans bounds the stall spans drawn per model.
const maxSpans = 150

// spans draws the reader's read() and the other tasks' common stalls on
// the lanes chart, in ms since the model started.
func (r *modelResult) spans(out *lab.Emitter) {
	reader, others := r.name+" reader", r.name+" others"
	out.Span("blocking", reader, 0, r.read.from, "computing")
	out.Span("blocking", reader, r.read.from, r.read.to, "blocked in read()")
	out.Span("blocking", reader, r.read.to, r.total, "computing")
	var shown []interval
	for _, v := range r.stalled {
		if v.to-v.from >= 10 && len(shown) < maxSpans {
			shown = append(shown, v)
		}
	}
	whole := interval{0, r.total}
	for _, v := range complement(shown, whole) {
		out.Span("blocking", others, v.from, v.to, "computing")
	}
	for _, v := range shown {
		out.Span("blocking", others, v.from, v.to, "all stalled")
	}
}

// metrics are the model's figures; their keys end in the model's key
// (1to1, nto1, mton), as the diagrams' script finds them.
func (r *modelResult) metrics() []lab.Metric {
	n, k := r.name+", ", "."+r.key
	return []lab.Metric{
		{Key: "kernel_threads.at_once" + k, Name: n + "kernel threads in use at once", Value: r.atOnce, Unit: "threads",
			Note: "distinct threads the tasks were on (a waiting task: the one it last ran on), every 20 ms; median"},
		{Key: "kernel_threads.ran_on" + k, Name: n + "kernel threads the tasks ran on", Value: float64(len(r.tids)), Unit: "threads",
			Note: fmt.Sprintf("distinct gettid() values seen by %d tasks over the whole run, one per chunk of work", r.tasks)},
		{Key: "threads.peak" + k, Name: n + "threads in the process, peak", Value: float64(r.peak), Unit: "threads",
			Note: fmt.Sprintf("/proc/self/status every 20 ms; %d just before the model started", r.base)},
		{Key: "threads.added" + k, Name: n + "threads added while it ran", Value: float64(r.peak - r.base), Unit: "threads", Note: "peak minus the count just before"},
		{Key: "cpus_busy.peak" + k, Name: n + "CPUs busy, peak", Value: r.busy, Unit: "CPUs",
			Note: fmt.Sprintf("process CPU time ÷ wall time, best 100 ms window; tasks seen on CPUs %s", joinInts(r.cpus))},
		{Key: "read.pending" + k, Name: n + "read() pending", Value: r.pending(), Unit: "ms", Note: "from entering read() to its return"},
		{Key: "others.pace_during_read" + k, Name: n + "other tasks' pace while read() was pending", Value: r.pace, Unit: "% of before",
			Note: fmt.Sprintf("%d chunks done by the others during read(), per ms, against their pace before it", r.work)},
		{Key: "others.still_during_read" + k, Name: n + "time every other task stood still during read()", Value: r.still, Unit: "ms",
			Note: "stretches of read() in which not one other task finished a chunk"},
		{Key: "others.longest_pause_during_read" + k, Name: n + "longest pause of another task during read()", Value: r.pause, Unit: "ms",
			Note: "the longest wait between two chunks of any one other task"},
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
