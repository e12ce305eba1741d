package lab

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// streamRun emits n progress events, a few at a time with short pauses,
// then a result: a run whose events keep arriving while viewers join.
func streamRun(n int) RunFunc {
	return func(ctx context.Context, exp *Experiment, p Params, emit func(Event)) Outcome {
		emit(Event{Type: "started", JSON: []byte(`{"type":"started"}`)})
		for i := range n {
			emit(Event{Type: "progress", JSON: fmt.Appendf(nil, `{"type":"progress","done":%d,"total":%d}`, i, n)})
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		emit(Event{Type: "result", JSON: []byte(`{"type":"result","metrics":[],"claims":[]}`)})
		emit(Event{Type: "done", JSON: []byte(`{"type":"done","status":"ok"}`)})
		return Outcome{Status: StatusOK, Result: []byte(`{"type":"result"}`)}
	}
}

// follower is a page on a lesson: when it is told of a live run it asks
// to watch it, from another goroutine, as a page answers a message.
type followingPage struct {
	*viewer
	s    *Scheduler
	once sync.Once
}

func (f *followingPage) Send(msgs [][]byte) bool {
	ok := f.viewer.Send(msgs)
	for _, m := range f.viewer.snapshot() {
		if m["type"] == "live" {
			run := m["run"].(string)
			f.once.Do(func() { go f.s.Watch(run, f) })
		}
	}
	return ok
}

func (v *viewer) snapshot() []map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]map[string]any(nil), v.msgs...)
}

// Every page that follows a lesson and watches the instructor's run when
// it is announced gets every event of that run exactly once, in order,
// wherever in the run it joined.
func TestFollowersGetEveryEventOnce(t *testing.T) {
	t.Parallel()
	const events = 400
	s := NewScheduler(streamRun(events), Config{Pace: time.Millisecond}, nil)
	t.Cleanup(s.Close)
	e := testExperiment()
	var followers []*followingPage
	for range 30 {
		f := &followingPage{viewer: newViewer(), s: s}
		s.Follow(e.Lesson, "page", f)
		followers = append(followers, f)
	}
	starter := newViewer()
	p := params(t, e, 1)
	st, err := s.Start(Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, starter)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Run
	// Some pages arrive while the run goes: they are told of it on Follow.
	for range 10 {
		time.Sleep(2 * time.Millisecond)
		f := &followingPage{viewer: newViewer(), s: s}
		s.Follow(e.Lesson, "page", f)
		followers = append(followers, f)
	}
	<-r.Done()
	want := events + 3 // started, the progress events, result, done
	for i, f := range followers {
		f.waitFor(t, "done", isType("done"))
		var seqs []int
		for _, m := range f.snapshot() {
			if m["run"] == r.ID && m["seq"] != nil {
				seqs = append(seqs, int(m["seq"].(float64)))
			}
		}
		if len(seqs) != want {
			t.Errorf("follower %d got %d events, want %d", i, len(seqs), want)
			continue
		}
		for j, q := range seqs {
			if q != j+1 {
				t.Errorf("follower %d: event %d has seq %d, want %d (lost, repeated or out of order)", i, j, q, j+1)
				break
			}
		}
	}
}
