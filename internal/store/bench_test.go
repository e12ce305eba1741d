package store

import (
	"fmt"
	"testing"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// BenchmarkRunEnd is what storing a run adds to its end: from the run's
// End to its record committed (status, result, the learner's progress,
// pruning), with its 1,000 events written while it ran.
func BenchmarkRunEnd(b *testing.B) {
	s := open(b, Options{Dir: b.TempDir(), Serve: true, Keep: 1000})
	defer s.Close()
	point := runlog.Event{Type: "point", JSON: []byte(`{"type":"point","chart":"batches","series":"threads","x":12,"y":4.25,"t":1234.5,"ts":1700000001234.5}`)}
	var total time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		tape := startRun(s, runlog.Record{ID: fmt.Sprintf("%012x", i), Experiment: "switch-cost", Lesson: "context-switching", Learner: "ann", Params: lab.Params{"batches": 300}})
		i++
		for range 1000 {
			tape.Event(point)
		}
		tape.Event(runlog.Event{Type: "result", JSON: []byte(testResult)})
		tape.Event(runlog.Event{Type: "done", JSON: []byte(`{"type":"done","status":"ok","t":13,"ts":1700000000013}`)})
		s.Flush()
		b.StartTimer()
		start := time.Now()
		tape.End(runlog.Outcome{Status: protocol.StatusOK, Result: []byte(testResult)})
		s.Flush()
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/end")
}

// BenchmarkLogAppend is what recording costs the goroutine that reads a
// run's events: appending each to the run's log, which wakes the store's
// writer and never touches the disk.
func BenchmarkLogAppend(b *testing.B) {
	s := open(b, Options{Dir: b.TempDir()})
	defer s.Close()
	point := runlog.Event{Type: "point", JSON: []byte(`{"type":"point","chart":"batches","series":"threads","x":12,"y":4.25,"t":1234.5,"ts":1700000001234.5}`)}
	for b.Loop() {
		run := startRun(s, runlog.Record{ID: engine.NewID(), Experiment: "switch-cost", Lesson: "context-switching"})
		for range 1000 {
			run.Event(point)
		}
		run.End(runlog.Outcome{Status: protocol.StatusCancelled})
	}
}
