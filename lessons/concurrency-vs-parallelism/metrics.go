package concurrencyvsparallelism

import (
	"fmt"
	"math"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// timelineMeasured is everything a cpu-timeline run measured: the
// functions below turn it into metrics and verdicts without measuring
// anything.
type timelineMeasured struct {
	phases     map[string]*phaseResult // by mode; a mode not run is absent
	host       verdictContext
	sampleCost time.Duration // one getcpu call
	chunk      time.Duration // one chunk of work, between two samples
}

// keySpeedupOverConcurrent is the key of the parallel timeline's speedup
// over the concurrent one: the course recap's CPU-bound speedup.
const keySpeedupOverConcurrent = "speedup.parallel_over_concurrent"

// timelineConditional are the keys a run has only when what they measure
// happened: a turn length needs a task to have lost its CPU to another,
// which tasks with a CPU each may never do.
func timelineConditional() []string {
	keys := make([]string, len(modes))
	for i, m := range modes {
		keys[i] = "turn_length." + m
	}
	return keys
}

// timelineResult turns the timelines into metrics and verdicts.
func timelineResult(tm timelineMeasured) ([]lab.Metric, []lab.Claim) {
	var metrics []lab.Metric
	for _, m := range modes {
		if r := tm.phases[m]; r != nil {
			metrics = append(metrics, phaseMetrics(r, tm.host.alone)...)
		}
	}
	conc, par := tm.phases["concurrent"], tm.phases["parallel"]
	metrics = append(metrics, lab.Metric{Key: "work.per_task", Name: "One task's work, timed alone", Value: round2(format.Ms(tm.host.alone)), Unit: "ms", Note: "CPU time the calibrated work takes one thread alone on one CPU"})
	if conc != nil && par != nil && par.wall > 0 {
		metrics = append(metrics, lab.Metric{Key: keySpeedupOverConcurrent, Name: "Speedup, parallel over concurrent", Value: float64(conc.wall) / float64(par.wall), Unit: "×",
			Note: "wall time of the concurrent timeline ÷ wall time of the parallel one: the same tasks, one CPU vs one CPU each"})
	}
	metrics = append(metrics, lab.Metric{Key: "getcpu_cost", Name: "Cost of one getcpu sample", Value: us(tm.sampleCost), Unit: "µs",
		Note: fmt.Sprintf("mean of 20,000 calls; one sample per %.1f µs chunk of work", us(tm.chunk))})
	claims := []lab.Claim{judgeTurns(conc, tm.host.load), judgeOverlap(tm.phases, tm.host)}
	return metrics, claims
}

// phaseMetrics are one timeline's figures, each keyed by what it is and
// then the timeline's mode.
func phaseMetrics(r *phaseResult, alone time.Duration) []lab.Metric {
	cpu := make([]float64, len(r.tasks))
	for i, t := range r.tasks {
		cpu[i] = format.Ms(t.usage.CPU())
	}
	inv, vol := r.switches()
	m := r.mode
	out := []lab.Metric{
		{Key: "wall_time." + m, Name: "Wall time, " + m, Value: format.Ms(r.wall), Unit: "ms", Note: "from the start signal to the end of the last task"},
		lab.Summarize(cpu).Metric("cpu_time.per_task."+m, "CPU time per task, "+m, "ms"),
		{Key: "cpu_time.sum." + m, Name: "Sum of CPU times, " + m, Value: format.Ms(r.cpuTime()), Unit: "ms", Note: "getrusage(RUSAGE_THREAD) of each task's thread, added up"},
		{Key: "speedup." + m, Name: "Speedup over one CPU, " + m, Value: round2(r.speedup(alone)), Unit: "×",
			Note: fmt.Sprintf("by the wall clock: the time one CPU needs for all %d tasks' work, one after another (%.0f ms each, timed alone), ÷ the wall time", len(r.tasks), format.Ms(alone))},
		{Key: "cpus_busy." + m, Name: "CPUs busy, " + m, Value: round2(r.busyCPUs()), Unit: "CPUs", Note: "sum of the tasks' CPU times ÷ wall time: how many CPUs' worth of work ran at once, which is not a speedup (two hyper-threads of one core are two busy CPUs)"},
		{Key: "turn_changes." + m, Name: "Turn changes, " + m, Value: float64(turnChanges(r)), Unit: "", Note: "times a CPU went from one task to another, from the getcpu samples"},
		{Key: "overlap." + m, Name: "Time two or more tasks ran at once, " + m, Value: format.Ms(r.overlap()), Unit: "ms", Note: "from the spans of every task"},
		{Key: "cpus_seen." + m, Name: "CPUs the tasks ran on, " + m, Value: float64(len(r.cpusSeen())), Unit: "", Note: "distinct answers of getcpu"},
		{Key: "involuntary_switches." + m, Name: "Involuntary switches, " + m, Value: float64(inv), Unit: "", Note: "getrusage: the kernel took the CPU away (time slice over)"},
		{Key: "voluntary_switches." + m, Name: "Voluntary switches, " + m, Value: float64(vol), Unit: "", Note: "getrusage: the thread gave up the CPU itself. The tasks never wait, so these come from the Go runtime, which parks a locked thread for a moment when it preempts a goroutine that has run for 10 ms"},
	}
	if lens := r.turnLengths(); len(lens) > 0 {
		met := lab.Summarize(lens).Metric("turn_length."+m, "Length of a turn, "+m, "ms")
		met.Note = "turns that ended because another task took the CPU"
		out = append(out, met)
	}
	return out
}

// round2 rounds to two decimals for the page.
func round2(f float64) float64 { return math.Round(f*100) / 100 }
