package cpuvsiobound

import (
	"fmt"

	"conclab/internal/lab"
)

// Keys of python-gil's figures that the page shows.
const (
	keyPythonFound      = "python.found"
	keySpeedupThreads   = "speedup.threads"
	keySpeedupProcesses = "speedup.processes"
)

// pythonUnavailable ends the run when there is no Python with a GIL to
// measure: status ok, both claims inconclusive, and why in plain words.
func pythonUnavailable(out *lab.Emitter, found float64, why string) error {
	metrics := []lab.Metric{{Key: keyPythonFound, Name: "python3 found", Value: found, Unit: "", Note: "1 when python3 is on the PATH, 0 when it is not"}}
	out.Result(metrics, judgeNoPython(why))
	return nil
}

func gilResult(out *lab.Emitter, vs []*variant, n, cores int, info pyLine) error {
	m := gilMeasured{t1: vs[0].variantTimes, tn: vs[1].variantTimes, p1: vs[2].variantTimes, pn: vs[3].variantTimes, n: n, cores: cores}
	metrics := []lab.Metric{
		{Key: keyPythonFound, Name: "python3 found", Value: 1, Note: fmt.Sprintf("%s %s", info.Implementation, info.Version)},
		{Key: keySpeedupThreads, Name: fmt.Sprintf("Speedup with %d threads", n), Value: round2(m.threadSpeedup()), Unit: "×", Note: "time with 1 thread ÷ time with N"},
		{Key: keySpeedupProcesses, Name: fmt.Sprintf("Speedup with %d processes", n), Value: round2(m.processSpeedup()), Unit: "×", Note: "time with 1 process ÷ time with N"},
	}
	for _, v := range vs {
		metrics = append(metrics, lab.Metric{Key: "wall." + v.metric, Name: "Wall time, " + v.label, Value: ms(v.best), Unit: "ms", Note: "fastest round"})
	}
	for _, v := range []*variant{vs[1], vs[3]} {
		metrics = append(metrics, lab.Metric{Key: "cpus_busy." + v.metric, Name: "CPUs busy, " + v.label, Value: round2(v.busy()), Unit: "CPUs",
			Note: "CPU time of the workers (time.thread_time) ÷ wall time"})
	}
	out.Result(metrics, judgeGIL(m))
	return nil
}
