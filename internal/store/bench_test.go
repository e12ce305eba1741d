package store

import (
	"fmt"
	"testing"
	"time"

	"conclab/internal/lab"
)

// BenchmarkRunEnd is what storing a run adds to its end: from the run's
// End to its record committed (status, result, the learner's progress,
// pruning), with its 1,000 events written while it ran.
func BenchmarkRunEnd(b *testing.B) {
	s := open(b, Options{Dir: b.TempDir(), Serve: true, Keep: 1000})
	defer s.Close()
	point := lab.Event{Type: "point", JSON: []byte(`{"type":"point","chart":"batches","series":"threads","x":12,"y":4.25,"t":1234.5,"ts":1700000001234.5}`)}
	var total time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		tape := s.Record(lab.RunRecord{ID: fmt.Sprintf("%012x", i), Experiment: "switch-cost", Lesson: "context-switching", Learner: "ann", Params: lab.Params{"batches": 300}})
		i++
		for range 1000 {
			tape.Event(point)
		}
		tape.Event(lab.Event{Type: "result", JSON: []byte(testResult)})
		tape.Event(lab.Event{Type: "done", JSON: []byte(`{"type":"done","status":"ok","t":13,"ts":1700000000013}`)})
		s.Flush()
		b.StartTimer()
		start := time.Now()
		tape.End(lab.Outcome{Status: lab.StatusOK, Result: []byte(testResult)})
		s.Flush()
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/end")
}

// BenchmarkTapeEvent is what recording costs the goroutine that reads a
// run's events: one call per event, which never touches the disk.
func BenchmarkTapeEvent(b *testing.B) {
	s := open(b, Options{Dir: b.TempDir(), MaxEvents: 1 << 30, Buffer: 1 << 30})
	defer s.Close()
	tape := s.Record(lab.RunRecord{ID: "bench0000001", Experiment: "switch-cost", Lesson: "context-switching"})
	point := lab.Event{Type: "point", JSON: []byte(`{"type":"point","chart":"batches","series":"threads","x":12,"y":4.25,"t":1234.5,"ts":1700000001234.5}`)}
	for b.Loop() {
		tape.Event(point)
	}
}
