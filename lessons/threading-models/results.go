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
	name       string
	tasks      int
	tids, cpus []int   // kernel threads and CPUs the tasks ran on, from the tasks themselves
	base, peak int     // threads in the process before the model and at most while it ran
	busy       float64 // most CPUs busy over a 100 ms window
	atOnce     float64 // kernel threads the tasks were on at one moment, median
	read       interval
	total      float64
	work       int64   // chunks the other tasks finished while read() was pending
	pace       float64 // their pace during read() as a % of their pace before it
	still      float64 // ms of read() during which not one other task finished a chunk
	pause      float64 // longest pause of another task during read(), ms
	stalled    []interval
}

func summarise(m *model, s *sampler) *modelResult {
	r := &modelResult{name: m.name, tasks: len(m.tasks), base: s.base, peak: s.peak, busy: s.busyPeak, total: m.ms(time.Now())}
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
	r.work = m.after - m.before
	pending := r.read.to - r.read.from
	if r.read.from > 0 && m.before > 0 && pending > 0 {
		r.pace = 100 * (float64(r.work) / pending) / (float64(m.before) / r.read.from)
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

func (r *modelResult) metrics() []lab.Metric {
	n := r.name + ", "
	return []lab.Metric{
		{Name: n + "kernel threads in use at once", Value: r.atOnce, Unit: "threads",
			Note: "distinct threads the tasks were on (a waiting task: the one it last ran on), every 20 ms; median"},
		{Name: n + "kernel threads the tasks ran on", Value: float64(len(r.tids)), Unit: "threads",
			Note: fmt.Sprintf("distinct gettid() values seen by %d tasks over the whole run, one per chunk of work", r.tasks)},
		{Name: n + "threads in the process, peak", Value: float64(r.peak), Unit: "threads",
			Note: fmt.Sprintf("/proc/self/status every 20 ms; %d just before the model started", r.base)},
		{Name: n + "threads added while it ran", Value: float64(r.peak - r.base), Unit: "threads", Note: "peak minus the count just before"},
		{Name: n + "CPUs busy, peak", Value: r.busy, Unit: "CPUs",
			Note: fmt.Sprintf("process CPU time ÷ wall time, best 100 ms window; tasks seen on CPUs %s", joinInts(r.cpus))},
		{Name: n + "read() pending", Value: r.pending(), Unit: "ms", Note: "from entering read() to its return"},
		{Name: n + "other tasks' pace while read() was pending", Value: r.pace, Unit: "% of before",
			Note: fmt.Sprintf("%d chunks done by the others during read(), per ms, against their pace before it", r.work)},
		{Name: n + "time every other task stood still during read()", Value: r.still, Unit: "ms",
			Note: "stretches of read() in which not one other task finished a chunk"},
		{Name: n + "longest pause of another task during read()", Value: r.pause, Unit: "ms",
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

// judgeModels holds the model claims against the three runs.
func judgeModels(r map[string]*modelResult, usable, gomaxprocs int) []lab.Claim {
	one, n1, mn := r["1to1"], r["nto1"], r["mton"]
	var claims []lab.Claim

	m := fmt.Sprintf("N:1 ran %d tasks on %s and kept at most %.2f CPUs busy; 1:1 reached %.2f and M:N %.2f",
		n1.tasks, plural(len(n1.tids), "kernel thread"), n1.busy, one.busy, mn.busy)
	switch {
	case len(n1.tids) != 1:
		claims = append(claims, claimOneCPU.Judge(m, lab.Differs,
			"The N:1 tasks were seen on more than one kernel thread, so they were not confined to one; that should not happen with coroutines on a locked thread."))
	case usable < 2:
		claims = append(claims, claimOneCPU.Judge(m, lab.Inconclusive,
			"Only one CPU is usable here, so no model could keep more than one busy. The N:1 tasks did all share one kernel thread."))
	case n1.busy > 1.3:
		claims = append(claims, claimOneCPU.Judge(m, lab.Inconclusive,
			"The N:1 tasks shared one kernel thread, yet the process used more than one CPU: the rest of the program (the sampler, the garbage collector) ran beside it."))
	case max(one.busy, mn.busy) < 1.3:
		claims = append(claims, claimOneCPU.Judge(m, lab.Inconclusive,
			"N:1 stayed on one CPU, but so did 1:1 and M:N: something else on this machine was keeping the other CPUs busy. Run it again when the machine is quieter."))
	default:
		claims = append(claims, claimOneCPU.Judge(m, lab.Holds, ""))
	}

	m = fmt.Sprintf("while read() was pending for %.0f ms, the other N:1 tasks finished %d chunks and all stood still for %.0f ms", n1.pending(), n1.work, n1.still)
	switch {
	case n1.work == 0 && n1.still >= 0.9*n1.pending():
		claims = append(claims, claimStall.Judge(m, lab.Holds, ""))
	default:
		claims = append(claims, claimStall.Judge(m, lab.Differs,
			"The other tasks got work done while the read was pending, so the blocking call did not hold their thread."))
	}

	m = fmt.Sprintf("during read(), the other tasks kept %.0f%% of their pace under 1:1 and %.0f%% under M:N (longest pause of one task: %.0f and %.0f ms)",
		one.pace, mn.pace, one.pause, mn.pause)
	switch low := min(one.pace, mn.pace); {
	case low >= 50:
		claims = append(claims, claimKeepGoing.Judge(m, lab.Holds, ""))
	case one.work > 0 && mn.work > 0:
		claims = append(claims, claimKeepGoing.Judge(m, lab.Inconclusive,
			"The other tasks kept going, but well below their usual pace: something else on this machine took the CPUs during the read. Run it again."))
	default:
		claims = append(claims, claimKeepGoing.Judge(m, lab.Differs,
			"Under 1:1 or M:N the other tasks made no progress while the read was pending, as if they shared the reader's thread."))
	}

	m = fmt.Sprintf("%d tasks: 1:1 had them on %.0f kernel threads at once, M:N on %.0f (GOMAXPROCS %d; over the whole run the goroutines visited %d threads)",
		one.tasks, one.atOnce, mn.atOnce, gomaxprocs, len(mn.tids))
	switch {
	case 2*mn.atOnce <= one.atOnce:
		claims = append(claims, claimFewer.Judge(m, lab.Holds, ""))
	case mn.atOnce < one.atOnce:
		claims = append(claims, claimFewer.Judge(m, lab.Inconclusive,
			"M:N used fewer threads, but with this few tasks the gap is small: 1:1 needs one per task, M:N about GOMAXPROCS plus one per blocked call. Run it with more tasks."))
	default:
		claims = append(claims, claimFewer.Judge(m, lab.Differs,
			"M:N ran on as many kernel threads as 1:1. With GOMAXPROCS as large as the task count, Go's scheduler gives every goroutine a thread of its own."))
	}
	return claims
}

// judgeSwitch holds the switch claim against the medians.
func judgeSwitch(co, gr, th lab.Summary) lab.Claim {
	m := fmt.Sprintf("coroutine switch %.3f µs, goroutine switch %.3f µs, kernel thread switch %.2f µs (medians of %d batches): %.0f× between coroutine and thread",
		co.P50, gr.P50, th.P50, th.N, th.P50/co.P50)
	if co.P50 > 0 && 10*co.P50 <= th.P50 {
		return claimSwitch.Judge(m, lab.Holds, "")
	}
	return claimSwitch.Judge(m, lab.Differs,
		"The user-level switch was not ten times cheaper here. That usually means the process was interrupted while the coroutine batches ran; run it again.")
}

// plural writes a count and a noun, adding an s when the count is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
