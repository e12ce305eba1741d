package lab

import (
	"fmt"
	"sync"
	"testing"
)

// recorder remembers what the scheduler told it, run by run.
type recorder struct {
	mu   sync.Mutex
	runs map[string]*tapeLog
}

type tapeLog struct {
	rec   RunRecord
	log   []string // event types, "asked:<learner>", "end:<status>"
	owner *recorder
}

func (r *recorder) Record(rec RunRecord) Tape {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &tapeLog{rec: rec, owner: r}
	r.runs[rec.ID] = t
	return t
}

func (t *tapeLog) add(s string) {
	t.owner.mu.Lock()
	defer t.owner.mu.Unlock()
	t.log = append(t.log, s)
}
func (t *tapeLog) Event(ev Event)       { t.add(ev.Type) }
func (t *tapeLog) Asked(learner string) { t.add("asked:" + learner) }
func (t *tapeLog) End(out Outcome)      { t.add("end:" + out.Status) }

func (r *recorder) of(id string) (RunRecord, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.runs[id]
	if t == nil {
		return RunRecord{}, ""
	}
	return t.rec, fmt.Sprint(t.log)
}

// The scheduler records every run: its events in order, the learners who
// join it, and its end — a finished run and one cancelled in the queue.
func TestSchedulerRecordsEveryRun(t *testing.T) {
	t.Parallel()
	rec := &recorder{runs: map[string]*tapeLog{}}
	s, f, e := newTestScheduler(t, Config{Recorder: rec})
	v1, v2, v3 := newViewer(), newViewer(), newViewer()
	p1, p2 := params(t, e, 1), params(t, e, 2)
	r1 := submit(t, s, e, p1, v1)
	v1.waitFor(t, "the run to start", isType("started"))
	submit(t, s, e, p1, v2) // joins
	r2 := submit(t, s, e, p2, v3)
	if _, err := s.Cancel(r2.ID, learnerOf(v3), false, v3); err != nil {
		t.Fatal(err)
	}
	f.finish(p1)
	v1.waitFor(t, "the run to finish", isType("done"))
	<-r1.Done() // the done event goes out as the child ends; the run's end, and its record's, come after

	got, log := rec.of(r1.ID)
	if got.Experiment != e.ID || got.Learner != learnerOf(v1) || got.Params.Key() != p1.Key() || got.Created.IsZero() {
		t.Errorf("record of the run: %+v", got)
	}
	if want := fmt.Sprintf("[started asked:%s result done end:ok]", learnerOf(v2)); log != want {
		t.Errorf("tape of the run: %s, want %s", log, want)
	}
	if _, log := rec.of(r2.ID); log != "[done end:cancelled]" {
		t.Errorf("tape of the run cancelled in the queue: %s", log)
	}
}
