package engine_test

import (
	"fmt"

	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/runlog"
	"sync"
	"testing"
)

// recorder remembers what the scheduler told it, run by run.
type recorder struct {
	mu   sync.Mutex
	runs map[string]*tapeLog
}

type tapeLog struct {
	rec    runlog.Record
	events *runlog.Log
	log    []string // "asked:<learner>", then the log's event types and "end:<status>" at the end
	owner  *recorder
}

func (r *recorder) Record(rec runlog.Record, log *runlog.Log) engine.Tape {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &tapeLog{rec: rec, events: log, owner: r}
	r.runs[rec.ID] = t
	return t
}

func (r *recorder) Find(string) (engine.Archived, bool) { return engine.Archived{}, false }
func (r *recorder) Latest() map[string]engine.Archived  { return nil }

func (t *tapeLog) add(s string) {
	t.owner.mu.Lock()
	defer t.owner.mu.Unlock()
	t.log = append(t.log, s)
}
func (t *tapeLog) Asked(learner string) { t.add("asked:" + learner) }
func (t *tapeLog) End(out runlog.Outcome) {
	for _, e := range t.events.Entries(0) {
		t.add(e.Type)
	}
	t.add("end:" + out.Status)
}

func (r *recorder) of(id string) (runlog.Record, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.runs[id]
	if t == nil {
		return runlog.Record{}, ""
	}
	return t.rec, fmt.Sprint(t.log)
}

// The scheduler records every run: the learners who join it, its events
// in order from its log, and its end — a finished run and one cancelled in the queue.
func TestSchedulerRecordsEveryRun(t *testing.T) {
	t.Parallel()
	rec := &recorder{runs: map[string]*tapeLog{}}
	s, f, e := enginetest.Scheduler(t, engine.Config{Archive: rec})
	v1, v2, v3 := enginetest.NewViewer(), enginetest.NewViewer(), enginetest.NewViewer()
	p1, p2 := enginetest.Params(t, e, 1), enginetest.Params(t, e, 2)
	r1 := submit(t, s, e, p1, v1)
	v1.WaitFor(t, "the run to start", enginetest.IsType("started"))
	submit(t, s, e, p1, v2) // joins
	r2 := submit(t, s, e, p2, v3)
	if _, err := s.Cancel(r2.ID, learnerOf(v3), false, v3); err != nil {
		t.Fatal(err)
	}
	f.Finish(p1)
	v1.WaitFor(t, "the run to finish", enginetest.IsType("done"))
	<-r1.Done() // the done event goes out as the child ends; the run's end, and its record's, come after

	got, log := rec.of(r1.ID)
	if got.Experiment != e.ID || got.Learner != learnerOf(v1) || got.Params.Key() != p1.Key() || got.Created.IsZero() {
		t.Errorf("record of the run: %+v", got)
	}
	if want := fmt.Sprintf("[asked:%s started result done end:ok]", learnerOf(v2)); log != want {
		t.Errorf("tape of the run: %s, want %s", log, want)
	}
	if _, log := rec.of(r2.ID); log != "[done end:cancelled]" {
		t.Errorf("tape of the run cancelled in the queue: %s", log)
	}
}
