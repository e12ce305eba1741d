package classroom_test

import (
	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
	"context"
	"fmt"
	"testing"
	"time"
)

// streamRun emits n progress events, a few at a time with short pauses,
// then a result: a run whose events keep arriving while viewers join.
func streamRun(n int) engine.RunFunc {
	return func(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
		emit(runlog.Event{Type: "started", JSON: []byte(`{"type":"started"}`)})
		for i := range n {
			emit(runlog.Event{Type: "progress", JSON: fmt.Appendf(nil, `{"type":"progress","done":%d,"total":%d}`, i, n)})
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		emit(runlog.Event{Type: "result", JSON: []byte(`{"type":"result","metrics":[],"claims":[]}`)})
		emit(runlog.Event{Type: "done", JSON: []byte(`{"type":"done","status":"ok"}`)})
		return runlog.Outcome{Status: protocol.StatusOK, Result: []byte(`{"type":"result"}`)}
	}
}

// Every page that follows a lesson is made to watch the instructor's run
// when it is announced, in the same step, and gets every event of it
// exactly once, in order, wherever in the run it joined.
func TestFollowersGetEveryEventOnce(t *testing.T) {
	t.Parallel()
	const events = 400
	s := newRoom(t, engine.FuncHost("test-host", probe.Host{}, streamRun(events)), engine.Config{Pace: time.Millisecond})
	e := enginetest.Experiment()
	var followers []*enginetest.Viewer
	for range 30 {
		f := enginetest.NewViewer()
		s.Follow(e.Lesson, "page", f)
		followers = append(followers, f)
	}
	starter := enginetest.NewViewer()
	p := enginetest.Params(t, e, 1)
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, starter)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Run
	// Some pages arrive while the run goes: they are told of it on Follow.
	for i := range 10 {
		f := enginetest.NewViewer()
		s.Follow(e.Lesson, "page", f)
		followers = append(followers, f)
		if i%3 == 0 {
			followers[0].WaitFor(t, "more of the run", func(m map[string]any) bool {
				return m["type"] == "progress" && m["done"].(float64) >= float64(i*events/10)
			})
		}
	}
	<-r.Done()
	want := events + 3 // started, the progress events, result, done
	for i, f := range followers {
		f.WaitFor(t, "done", enginetest.IsType("done"))
		var seqs []int
		for _, m := range f.Messages() {
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

// A page that stops following gets nothing more of the instructor's run
// or moves; following again, it watches the run under way from its start.
func TestUnfollowingStopsTheInstructorsEvents(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", page)
	p := enginetest.Params(t, e, 1)
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, enginetest.NewViewer())
	if err != nil {
		t.Fatal(err)
	}
	page.WaitFor(t, "the run started", enginetest.Of("started", st.Run.ID))
	s.SetFollowing(page, false)
	before := len(page.Messages())
	s.c.Present(e.Lesson, "exp-demo")
	f.Finish(p)
	<-st.Run.Done()
	if got := page.Messages()[before:]; len(got) != 0 {
		t.Errorf("a page that stopped following was sent %v", got)
	}

	// Following again while a run of the instructor's goes on.
	p2 := enginetest.Params(t, e, 2)
	st2, err := s.Start(engine.Request{Exp: e, Params: p2, Learner: "teacher", Instructor: true}, enginetest.NewViewer())
	if err != nil {
		t.Fatal(err)
	}
	s.SetFollowing(page, true)
	page.WaitFor(t, "the run announced again", enginetest.Of("live", st2.Run.ID))
	page.WaitFor(t, "its start, replayed", enginetest.Of("started", st2.Run.ID))
	f.Finish(p2)
	page.WaitFor(t, "its end", enginetest.Of("done", st2.Run.ID))
}

// A page that comes back after the instructor's run ended (its connection
// dropped near the end) is played the whole run, done included: nothing
// it missed is lost.
func TestAReturningPageGetsTheEndItMissed(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", page)
	p := enginetest.Params(t, e, 1)
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, enginetest.NewViewer())
	if err != nil {
		t.Fatal(err)
	}
	page.WaitFor(t, "the run started", enginetest.Of("started", st.Run.ID))
	s.Leave(page) // the connection drops
	f.Finish(p)
	<-st.Run.Done()
	back := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", back)
	back.WaitFor(t, "the run announced again", enginetest.Of("live", st.Run.ID))
	back.WaitFor(t, "its done, which the page missed", enginetest.Of("done", st.Run.ID))
}
