package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// Keys of the scaling experiment's figures that the page or the recap
// show.
const (
	keyIOMost     = "speedup.io_bound.all_cpus.most_workers"
	keyCPUMost    = "speedup.cpu_bound.all_cpus.most_workers"
	keyCPUAtCores = "speedup.cpu_bound.all_cpus.core_count"
)

// scalingResult ends the run: the figures of every curve and the verdicts.
// answered is what the slow server counted over the whole run.
func scalingResult(out *lab.Emitter, curves []*curve, most int, host scalingHost, tasks int, answered int64) error {
	cores := host.cpus
	ioAll, ioOne, cpuAll, cpuOne := curves[0], curves[1], curves[2], curves[3]

	metrics := []lab.Metric{
		{Key: "io.queries_sent", Name: "I/O queries sent", Value: float64(ioAll.done + ioOne.done), Unit: "queries", Note: "every I/O-bound task of every round"},
		{Key: "io.queries_answered", Name: "Queries answered by the local server", Value: float64(answered), Unit: "queries", Note: "counted by the server itself"},
		{Key: "cpu.tasks_done", Name: "CPU-bound tasks completed", Value: float64(cpuAll.done + cpuOne.done), Unit: "tasks"},
	}
	for _, c := range curves {
		metrics = append(metrics, lab.Metric{Key: "speedup." + c.metric + ".most_workers", Name: fmt.Sprintf("Speedup with the most workers (%d), %s", most, c.label),
			Value: format.Round(c.speedup[most], 2), Unit: "×", Note: fmt.Sprintf("tasks done per second with %d workers ÷ with 1: %d tasks in %s against %d in %s", most, c.last.done, c.last.wall.Round(time.Millisecond/10), c.baseRun.done, c.lastBase.Round(time.Millisecond/10))})
	}
	if s, ok := cpuAll.speedup[cores]; ok {
		metrics = append(metrics, lab.Metric{Key: keyCPUAtCores, Name: fmt.Sprintf("Speedup at the core count (%d), CPU-bound, all CPUs", cores), Value: format.Round(s, 2), Unit: "×"})
	}
	for _, c := range curves {
		metrics = append(metrics, lab.Metric{Key: "cpus_busy." + c.metric + ".most_workers", Name: fmt.Sprintf("CPUs kept busy with %d workers, %s", most, c.label), Value: format.Round(c.last.busy(), 2), Unit: "CPUs",
			Note: "CPU time of the whole process ÷ wall time of the batch"})
	}

	claims := judgeScaling(scalingMeasured{ioAll: ioAll.curveFigures, ioOne: ioOne.curveFigures, cpuAll: cpuAll.curveFigures, cpuOne: cpuOne.curveFigures,
		most: most, cores: host.cores, cpus: host.cpus, tasks: tasks, load: out.Load()})
	out.Result(metrics, claims)
	return nil
}
