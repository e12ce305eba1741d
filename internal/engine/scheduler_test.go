package engine_test

import (
	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// submit asks for a run as learner "v<address of v>" unless said otherwise.
func submit(t *testing.T, s *engine.Scheduler, e *lab.Experiment, p lab.Params, v engine.Viewer) *engine.Run {
	t.Helper()
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: learnerOf(v)}, v)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return st.Run
}

// learnerOf gives each test viewer a learner id of its own.
func learnerOf(v engine.Viewer) string { return fmt.Sprintf("learner-%p", v) }

func start(s *engine.Scheduler, e *lab.Experiment, p lab.Params, v engine.Viewer) (*engine.Run, bool, error) {
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: learnerOf(v)}, v)
	return st.Run, st.Joined, err
}

func TestQueueIsFIFOWithLivePositions(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{})
	v1, v2, v3 := enginetest.NewViewer(), enginetest.NewViewer(), enginetest.NewViewer()
	p1, p2, p3 := enginetest.Params(t, e, 1), enginetest.Params(t, e, 2), enginetest.Params(t, e, 3)
	submit(t, s, e, p1, v1)
	v1.WaitFor(t, "first run to start", enginetest.IsType("started"))
	submit(t, s, e, p2, v2)
	submit(t, s, e, p3, v3)
	v3.WaitFor(t, "position 2", func(m map[string]any) bool { return m["type"] == "queued" && m["position"] == 2.0 })

	f.Finish(p1)
	v2.WaitFor(t, "second run to start", enginetest.IsType("started"))
	v3.WaitFor(t, "position 1", func(m map[string]any) bool { return m["type"] == "queued" && m["position"] == 1.0 })
	if got := v3.Types(); slices.Contains(got, "started") {
		t.Errorf("third run started before the second finished: %v", got)
	}
	f.Finish(p2)
	f.Finish(p3)
	v3.WaitFor(t, "third run to finish", enginetest.IsType("done"))
}

func TestIdenticalRequestsJoin(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{})
	p := enginetest.Params(t, e, 7)
	var viewers []*enginetest.Viewer
	var first *engine.Run
	for i := range 20 {
		v := enginetest.NewViewer()
		viewers = append(viewers, v)
		r, joined, err := start(s, e, p, v)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = r
		} else if !joined || r != first {
			t.Fatalf("request %d: joined=%v, same run=%v; want it to join the first", i, joined, r == first)
		}
		if acc := v.WaitFor(t, "accepted", enginetest.IsType("accepted")); acc["joined"] != (i > 0) || acc["viewers"] != float64(i+1) {
			t.Errorf("request %d: accepted %v, want joined=%v viewers=%d", i, acc, i > 0, i+1)
		}
	}
	viewers[19].WaitFor(t, "the run to start", enginetest.IsType("started"))
	if n := first.Info().Viewers; n != 20 {
		t.Errorf("%d viewers, want 20", n)
	}
	f.Finish(p)
	for _, v := range viewers {
		v.WaitFor(t, "done", enginetest.IsType("done"))
	}
	if f.Started() != 1 {
		t.Errorf("%d runs started for 20 identical requests, want 1", f.Started())
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{Queue: 2, PerLearner: 2})
	a, b := enginetest.NewViewer(), enginetest.NewViewer()
	submit(t, s, e, enginetest.Params(t, e, 1), a)
	a.WaitFor(t, "start", enginetest.IsType("started"))
	submit(t, s, e, enginetest.Params(t, e, 2), a)
	if _, _, err := start(s, e, enginetest.Params(t, e, 3), a); !errors.Is(err, engine.ErrTooMany) {
		t.Errorf("third run of one viewer: err = %v, want ErrTooMany", err)
	}
	submit(t, s, e, enginetest.Params(t, e, 4), b)
	_, _, err := start(s, e, enginetest.Params(t, e, 5), b)
	if !errors.Is(err, engine.ErrQueueFull) {
		t.Fatalf("submit to a full queue: err = %v, want ErrQueueFull", err)
	}
	if want := "2 runs are already waiting"; !strings.Contains(err.Error(), want) {
		t.Errorf("queue-full message %q does not say %q", err, want)
	}
	// Joining an identical run is not refused by a full queue.
	if _, joined, err := start(s, e, enginetest.Params(t, e, 4), enginetest.NewViewer()); err != nil || !joined {
		t.Errorf("joining with a full queue: joined=%v err=%v", joined, err)
	}
	for i := 1; i <= 4; i++ {
		f.Finish(enginetest.Params(t, e, i))
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	s, _, e := enginetest.Scheduler(t, engine.Config{})
	owner, other, watcher := enginetest.NewViewer(), enginetest.NewViewer(), enginetest.NewViewer()
	running := submit(t, s, e, enginetest.Params(t, e, 1), owner)
	owner.WaitFor(t, "start", enginetest.IsType("started"))
	queued := submit(t, s, e, enginetest.Params(t, e, 2), owner)
	s.Watch(running.ID, watcher)

	if _, err := s.Cancel(running.ID, learnerOf(watcher), false, watcher); !errors.Is(err, engine.ErrNotYours) {
		t.Errorf("a watcher cancelled: err = %v, want ErrNotYours", err)
	}
	// Someone else asked for the queued one too: cancelling leaves it to them.
	if r, joined, err := start(s, e, enginetest.Params(t, e, 2), other); err != nil || !joined || r != queued {
		t.Fatalf("the second request for the queued run: joined=%v err=%v", joined, err)
	}
	if res, err := s.Cancel(queued.ID, learnerOf(owner), false, owner); err != nil || res != engine.Left {
		t.Errorf("cancel a shared run: %v, %v; want Left", res, err)
	}
	if res, err := s.Cancel(queued.ID, learnerOf(other), false, other); err != nil || res != engine.Cancelled {
		t.Errorf("cancel by the last requester: %v, %v; want Cancelled", res, err)
	}
	other.WaitFor(t, "the queued run cancelled", func(m map[string]any) bool { return m["type"] == "done" && m["status"] == "cancelled" })
	if res, err := s.Cancel(running.ID, learnerOf(owner), false, owner); err != nil || res != engine.Cancelled {
		t.Errorf("cancel the running run: %v, %v", res, err)
	}
	watcher.WaitFor(t, "the running run cancelled", func(m map[string]any) bool { return m["type"] == "done" && m["status"] == "cancelled" })
	if _, err := s.Cancel("nope", learnerOf(owner), false, owner); !errors.Is(err, engine.ErrUnknownRun) {
		t.Errorf("cancel unknown: %v", err)
	}
}

func TestLateViewerGetsReplay(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{})
	a := enginetest.NewViewer()
	p := enginetest.Params(t, e, 1)
	r := submit(t, s, e, p, a)
	a.WaitFor(t, "start", enginetest.IsType("started"))
	late := enginetest.NewViewer()
	s.Watch(r.ID, late)
	late.WaitFor(t, "replayed start", enginetest.IsType("started"))
	f.Finish(p)
	late.WaitFor(t, "done", enginetest.IsType("done"))
	afterEnd := enginetest.NewViewer()
	s.Watch(r.ID, afterEnd)
	if got := afterEnd.Types(); len(got) != 3 || got[0] != "started" || got[2] != "done" {
		t.Errorf("a viewer of a finished run got %v, want started, result, done", got)
	}
	var seqs []float64
	for _, m := range afterEnd.Messages() {
		seqs = append(seqs, m["seq"].(float64))
		if m["run"] != r.ID {
			t.Errorf("event not tagged with its run: %v", m)
		}
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[2] != 3 {
		t.Errorf("seq numbers %v, want 1 2 3", seqs)
	}
}

func TestSlowViewerIsDropped(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{})
	fast, slow := enginetest.NewViewer(), enginetest.NewViewer()
	slow.Room = 1 // the replay (accepted or queued) fits; the next batch does not
	p := enginetest.Params(t, e, 1)
	r := submit(t, s, e, p, fast)
	if err := s.Watch(r.ID, slow); err != nil {
		t.Fatal(err)
	}
	fast.WaitFor(t, "start", enginetest.IsType("started"))
	f.Finish(p)
	fast.WaitFor(t, "done", enginetest.IsType("done"))
	refused, after := slow.Refusals()
	if refused != 1 {
		t.Errorf("the slow viewer refused %d sends, want 1", refused)
	}
	if after != 0 {
		t.Errorf("the run went on sending to a viewer that could not keep up: %d sends after it refused", after)
	}
	if fast.Types()[len(fast.Types())-1] != "done" {
		t.Errorf("the fast viewer did not get every event: %v", fast.Types())
	}
}

func TestUnwatchedRunIsCancelled(t *testing.T) {
	t.Parallel()
	s, _, e := enginetest.Scheduler(t, engine.Config{IdleGrace: 10 * time.Millisecond})
	v := enginetest.NewViewer()
	r := submit(t, s, e, enginetest.Params(t, e, 1), v)
	v.WaitFor(t, "start", enginetest.IsType("started"))
	s.Leave(v)
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a run nobody watches was not cancelled")
	}
	if st := r.Info().Status; st != protocol.StatusCancelled {
		t.Errorf("status %q, want cancelled", st)
	}
}

func TestLatest(t *testing.T) {
	t.Parallel()
	s, f, e := enginetest.Scheduler(t, engine.Config{})
	v := enginetest.NewViewer()
	p := enginetest.Params(t, e, 1)
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Run
	v.WaitFor(t, "start", enginetest.IsType("started"))
	if _, ok := s.Latest()[e.ID]; ok {
		t.Error("Latest before any run finished")
	}
	f.Finish(p)
	<-r.Done()
	info, ok := s.Latest()[e.ID]
	if !ok || info.ID != r.ID || info.Status != protocol.StatusOK || info.Host != "test-host" {
		t.Errorf("Latest = %+v, %v", info, ok)
	}
}
