package cpuvsiobound

import (
	"fmt"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// Keys of python-gil's figures that the page shows.
const (
	keyPythonFound         = "python.found"
	keyFreeThreadedFound   = "python.free_threaded.found"
	keySpeedupThreads      = "speedup.threads"
	keySpeedupProcesses    = "speedup.processes"
	keySpeedupFreeThreaded = "speedup.free_threaded.threads"
)

// pythonUnavailable ends the run when there is no Python to measure:
// status ok, every claim inconclusive, and why in plain words.
func pythonUnavailable(out *lab.Emitter, found float64, why string) error {
	metrics := []lab.Metric{
		{Key: keyPythonFound, Name: "python3 found", Value: found, Unit: "", Note: "1 when python3 is on the PATH, 0 when it is not"},
		{Key: keyFreeThreadedFound, Name: "Free-threaded CPython found", Value: 0, Unit: "", Note: "python3.14t or python3.13t on the PATH"},
	}
	out.Result(metrics, judgeNoPython(why))
	return nil
}

func gilResult(out *lab.Emitter, m gilMeasured, info pyLine) error {
	found := 0.0
	if info.Event != "" {
		found = 1
	}
	metrics := []lab.Metric{{Key: keyPythonFound, Name: "python3 found", Value: found, Note: fmt.Sprintf("%s %s", info.Implementation, info.Version)}}
	ftFound := lab.Metric{Key: keyFreeThreadedFound, Name: "Free-threaded CPython found", Note: "python3.14t or python3.13t on the PATH, or a python3 without a GIL"}
	if m.ft != nil {
		ftFound.Value, ftFound.Note = 1, fmt.Sprintf("%s, CPython %s", m.ft.exe, m.ft.version)
	}
	metrics = append(metrics, ftFound)
	if m.measured {
		metrics = append(metrics,
			lab.Metric{Key: keySpeedupThreads, Name: fmt.Sprintf("Speedup with %d threads", m.n), Value: format.Round(m.threadSpeedup(), 2), Unit: "×", Note: "time with 1 thread ÷ time with N, fastest rounds"},
			lab.Metric{Key: keySpeedupProcesses, Name: fmt.Sprintf("Speedup with %d processes", m.n), Value: format.Round(m.processSpeedup(), 2), Unit: "×", Note: "time with 1 process ÷ time with N, fastest rounds"},
		)
		for _, v := range []struct {
			metric, label string
			t             variantTimes
		}{{"threads.one", "1 thread", m.t1}, {"threads.many", fmt.Sprintf("%d threads", m.n), m.tn}, {"processes.one", "1 process", m.p1}, {"processes.many", fmt.Sprintf("%d processes", m.n), m.pn}} {
			metrics = append(metrics, lab.Metric{Key: "wall." + v.metric, Name: "Wall time, " + v.label, Value: format.Round(format.Ms(v.t.best), 3), Unit: "ms", Note: "fastest round"})
		}
		metrics = append(metrics,
			lab.Metric{Key: "cpus_busy.threads.many", Name: fmt.Sprintf("CPUs busy, %d threads", m.n), Value: format.Round(m.tn.busy(), 2), Unit: "CPUs", Note: "CPU time of the workers (time.thread_time) ÷ wall time"},
			lab.Metric{Key: "cpus_busy.processes.many", Name: fmt.Sprintf("CPUs busy, %d processes", m.n), Value: format.Round(m.pn.busy(), 2), Unit: "CPUs", Note: "CPU time of the workers (time.thread_time) ÷ wall time"},
		)
	}
	if ft := m.ft; ft != nil {
		metrics = append(metrics,
			lab.Metric{Key: keySpeedupFreeThreaded, Name: fmt.Sprintf("Free-threaded build: speedup with %d threads", m.n), Value: format.Round(ft.t1.best.Seconds()/ft.tn.best.Seconds(), 2), Unit: "×", Note: "time with 1 thread ÷ time with N, fastest rounds"},
			lab.Metric{Key: "wall.free_threaded.threads.one", Name: "Free-threaded build: wall time, 1 thread", Value: format.Round(format.Ms(ft.t1.best), 3), Unit: "ms", Note: "fastest round"},
			lab.Metric{Key: "wall.free_threaded.threads.many", Name: fmt.Sprintf("Free-threaded build: wall time, %d threads", m.n), Value: format.Round(format.Ms(ft.tn.best), 3), Unit: "ms", Note: "fastest round"},
			lab.Metric{Key: "cpus_busy.free_threaded.threads.many", Name: fmt.Sprintf("Free-threaded build: CPUs busy, %d threads", m.n), Value: format.Round(ft.tn.busy(), 2), Unit: "CPUs", Note: "CPU time of the workers ÷ wall time"},
		)
	}
	out.Result(metrics, judgeGIL(m))
	return nil
}
