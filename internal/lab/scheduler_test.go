package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// viewer records what it is sent; with room > 0 it refuses once it holds
// that many messages, like a connection that cannot keep up, and counts
// the sends it was offered after it refused.
type viewer struct {
	mu      sync.Mutex
	msgs    []map[string]any
	room    int
	refused int // sends refused
	after   int // sends offered after the first refusal
	note    chan struct{}
}

func newViewer() *viewer { return &viewer{note: make(chan struct{}, 1)} }

func (v *viewer) Send(msgs [][]byte) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.refused > 0 {
		v.after++
	}
	if v.room > 0 && len(v.msgs)+len(msgs) > v.room {
		v.refused++
		return false
	}
	for _, b := range msgs {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("message is not JSON: %s", b))
		}
		v.msgs = append(v.msgs, m)
	}
	select {
	case v.note <- struct{}{}:
	default:
	}
	return true
}

func (v *viewer) types() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, m := range v.msgs {
		out = append(out, m["type"].(string))
	}
	return out
}

// waitFor waits until the viewer has a message matching ok.
func (v *viewer) waitFor(t *testing.T, what string, ok func(m map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		v.mu.Lock()
		for _, m := range v.msgs {
			if ok(m) {
				v.mu.Unlock()
				return m
			}
		}
		v.mu.Unlock()
		select {
		case <-v.note:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %v", what, v.types())
		}
	}
}

func isType(typ string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ }
}

// fakeRuns is a RunFunc whose runs emit "started", then wait until the
// test releases them (or they are cancelled).
type fakeRuns struct {
	mu      sync.Mutex
	started int
	order   []string                 // params keys, in the order they started
	release map[string]chan struct{} // by params key
}

func (f *fakeRuns) run(ctx context.Context, exp *Experiment, p Params, emit func(Event)) Outcome {
	f.mu.Lock()
	f.started++
	f.order = append(f.order, p.Key())
	ch := f.release[p.Key()]
	if ch == nil {
		ch = make(chan struct{})
		f.release[p.Key()] = ch
	}
	f.mu.Unlock()
	emit(Event{Type: "started", JSON: []byte(`{"type":"started"}`)})
	select {
	case <-ch:
		f.mu.Lock()
		if f.release[p.Key()] == ch {
			delete(f.release, p.Key()) // the next run with these parameters waits again
		}
		f.mu.Unlock()
		emit(Event{Type: "result", JSON: []byte(`{"type":"result","metrics":[],"claims":[]}`)})
		emit(Event{Type: "done", JSON: []byte(`{"type":"done","status":"ok"}`)})
		return Outcome{Status: StatusOK, Result: []byte(`{"type":"result"}`)}
	case <-ctx.Done():
		emit(Event{Type: "done", JSON: []byte(`{"type":"done","status":"cancelled"}`)})
		return Outcome{Status: StatusCancelled}
	}
}

// finish lets the run with these parameters (running, or the next to
// start) finish ok.
func (f *fakeRuns) finish(p Params) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.release[p.Key()]
	if ch == nil {
		ch = make(chan struct{})
		f.release[p.Key()] = ch
	}
	select {
	case <-ch: // already let go: let the next one go too
		ch = make(chan struct{})
		f.release[p.Key()] = ch
	default:
	}
	close(ch)
}

func newTestScheduler(t *testing.T, cfg Config) (*Scheduler, *fakeRuns, *Experiment) {
	f := &fakeRuns{release: map[string]chan struct{}{}}
	s := NewScheduler(f.run, cfg, nil)
	t.Cleanup(s.Close)
	return s, f, testExperiment()
}

func params(t *testing.T, e *Experiment, workers int) Params {
	p, err := e.Validate(map[string]any{"workers": float64(workers)}, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// submit asks for a run as learner "v<address of v>" unless said otherwise.
func submit(t *testing.T, s *Scheduler, e *Experiment, p Params, v Viewer) *Run {
	t.Helper()
	st, err := s.Start(Request{Exp: e, Params: p, Learner: learnerOf(v)}, v)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return st.Run
}

// learnerOf gives each test viewer a learner id of its own.
func learnerOf(v Viewer) string { return fmt.Sprintf("learner-%p", v) }

func start(s *Scheduler, e *Experiment, p Params, v Viewer) (*Run, bool, error) {
	st, err := s.Start(Request{Exp: e, Params: p, Learner: learnerOf(v)}, v)
	return st.Run, st.Joined, err
}

func TestQueueIsFIFOWithLivePositions(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, Config{})
	v1, v2, v3 := newViewer(), newViewer(), newViewer()
	p1, p2, p3 := params(t, e, 1), params(t, e, 2), params(t, e, 3)
	submit(t, s, e, p1, v1)
	v1.waitFor(t, "first run to start", isType("started"))
	submit(t, s, e, p2, v2)
	submit(t, s, e, p3, v3)
	v3.waitFor(t, "position 2", func(m map[string]any) bool { return m["type"] == "queued" && m["position"] == 2.0 })

	f.finish(p1)
	v2.waitFor(t, "second run to start", isType("started"))
	v3.waitFor(t, "position 1", func(m map[string]any) bool { return m["type"] == "queued" && m["position"] == 1.0 })
	if got := v3.types(); slices.Contains(got, "started") {
		t.Errorf("third run started before the second finished: %v", got)
	}
	f.finish(p2)
	f.finish(p3)
	v3.waitFor(t, "third run to finish", isType("done"))
}

func TestIdenticalRequestsJoin(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, Config{})
	p := params(t, e, 7)
	var viewers []*viewer
	var first *Run
	for i := range 20 {
		v := newViewer()
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
		if acc := v.waitFor(t, "accepted", isType("accepted")); acc["joined"] != (i > 0) || acc["viewers"] != float64(i+1) {
			t.Errorf("request %d: accepted %v, want joined=%v viewers=%d", i, acc, i > 0, i+1)
		}
	}
	viewers[19].waitFor(t, "the run to start", isType("started"))
	if n := first.viewerCount(); n != 20 {
		t.Errorf("%d viewers, want 20", n)
	}
	f.finish(p)
	for _, v := range viewers {
		v.waitFor(t, "done", isType("done"))
	}
	if f.started != 1 {
		t.Errorf("%d runs started for 20 identical requests, want 1", f.started)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, Config{Queue: 2, PerLearner: 2})
	a, b := newViewer(), newViewer()
	submit(t, s, e, params(t, e, 1), a)
	a.waitFor(t, "start", isType("started"))
	submit(t, s, e, params(t, e, 2), a)
	if _, _, err := start(s, e, params(t, e, 3), a); !errors.Is(err, ErrTooMany) {
		t.Errorf("third run of one viewer: err = %v, want ErrTooMany", err)
	}
	submit(t, s, e, params(t, e, 4), b)
	_, _, err := start(s, e, params(t, e, 5), b)
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("submit to a full queue: err = %v, want ErrQueueFull", err)
	}
	if want := "2 runs are already waiting"; !strings.Contains(err.Error(), want) {
		t.Errorf("queue-full message %q does not say %q", err, want)
	}
	// Joining an identical run is not refused by a full queue.
	if _, joined, err := start(s, e, params(t, e, 4), newViewer()); err != nil || !joined {
		t.Errorf("joining with a full queue: joined=%v err=%v", joined, err)
	}
	for i := 1; i <= 4; i++ {
		f.finish(params(t, e, i))
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	s, _, e := newTestScheduler(t, Config{})
	owner, other, watcher := newViewer(), newViewer(), newViewer()
	running := submit(t, s, e, params(t, e, 1), owner)
	owner.waitFor(t, "start", isType("started"))
	queued := submit(t, s, e, params(t, e, 2), owner)
	s.Watch(running.ID, watcher)

	if _, err := s.Cancel(running.ID, learnerOf(watcher), false, watcher); !errors.Is(err, ErrNotYours) {
		t.Errorf("a watcher cancelled: err = %v, want ErrNotYours", err)
	}
	// Someone else asked for the queued one too: cancelling leaves it to them.
	if r, joined, err := start(s, e, params(t, e, 2), other); err != nil || !joined || r != queued {
		t.Fatalf("the second request for the queued run: joined=%v err=%v", joined, err)
	}
	if res, err := s.Cancel(queued.ID, learnerOf(owner), false, owner); err != nil || res != Left {
		t.Errorf("cancel a shared run: %v, %v; want Left", res, err)
	}
	if res, err := s.Cancel(queued.ID, learnerOf(other), false, other); err != nil || res != Cancelled {
		t.Errorf("cancel by the last requester: %v, %v; want Cancelled", res, err)
	}
	other.waitFor(t, "the queued run cancelled", func(m map[string]any) bool { return m["type"] == "done" && m["status"] == "cancelled" })
	if res, err := s.Cancel(running.ID, learnerOf(owner), false, owner); err != nil || res != Cancelled {
		t.Errorf("cancel the running run: %v, %v", res, err)
	}
	watcher.waitFor(t, "the running run cancelled", func(m map[string]any) bool { return m["type"] == "done" && m["status"] == "cancelled" })
	if _, err := s.Cancel("nope", learnerOf(owner), false, owner); !errors.Is(err, ErrUnknownRun) {
		t.Errorf("cancel unknown: %v", err)
	}
}

func TestLateViewerGetsReplay(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, Config{})
	a := newViewer()
	p := params(t, e, 1)
	r := submit(t, s, e, p, a)
	a.waitFor(t, "start", isType("started"))
	late := newViewer()
	s.Watch(r.ID, late)
	late.waitFor(t, "replayed start", isType("started"))
	f.finish(p)
	late.waitFor(t, "done", isType("done"))
	afterEnd := newViewer()
	s.Watch(r.ID, afterEnd)
	if got := afterEnd.types(); len(got) != 3 || got[0] != "started" || got[2] != "done" {
		t.Errorf("a viewer of a finished run got %v, want started, result, done", got)
	}
	var seqs []float64
	for _, m := range afterEnd.msgs {
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
	s, f, e := newTestScheduler(t, Config{})
	fast, slow := newViewer(), newViewer()
	slow.room = 1 // the replay (accepted or queued) fits; the next batch does not
	p := params(t, e, 1)
	r := submit(t, s, e, p, fast)
	if err := s.Watch(r.ID, slow); err != nil {
		t.Fatal(err)
	}
	fast.waitFor(t, "start", isType("started"))
	f.finish(p)
	fast.waitFor(t, "done", isType("done"))
	slow.mu.Lock()
	refused, after := slow.refused, slow.after
	slow.mu.Unlock()
	if refused != 1 {
		t.Errorf("the slow viewer refused %d sends, want 1", refused)
	}
	if after != 0 {
		t.Errorf("the run went on sending to a viewer that could not keep up: %d sends after it refused", after)
	}
	if fast.types()[len(fast.types())-1] != "done" {
		t.Errorf("the fast viewer did not get every event: %v", fast.types())
	}
}

func TestUnwatchedRunIsCancelled(t *testing.T) {
	t.Parallel()
	s, _, e := newTestScheduler(t, Config{IdleGrace: 10 * time.Millisecond})
	v := newViewer()
	r := submit(t, s, e, params(t, e, 1), v)
	v.waitFor(t, "start", isType("started"))
	s.Leave(v)
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a run nobody watches was not cancelled")
	}
	if st := r.Info().Status; st != StatusCancelled {
		t.Errorf("status %q, want cancelled", st)
	}
}

func TestLatestAndFollow(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, Config{})
	follower := newViewer()
	s.Follow(e.Lesson, "student", follower)
	v := newViewer()
	s.Follow(e.Lesson, "teacher", v) // the one who asks is not told of their own run
	p := params(t, e, 1)
	st, err := s.Start(Request{Exp: e, Params: p, Learner: "teacher", Instructor: true}, v)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Run
	follower.waitFor(t, "announcement", func(m map[string]any) bool { return m["type"] == "live" && m["run"] == r.ID })
	v.waitFor(t, "start", isType("started"))
	if slices.Contains(v.types(), "live") {
		t.Errorf("the one who asked was told of their own run: %v", v.types())
	}
	late := newViewer()
	s.Follow(e.Lesson, "late", late)
	late.waitFor(t, "the running run announced on follow", func(m map[string]any) bool { return m["type"] == "live" && m["run"] == r.ID })
	if _, ok := s.Latest(e.ID); ok {
		t.Error("Latest before any run finished")
	}
	f.finish(p)
	<-r.Done()
	info, ok := s.Latest(e.ID)
	if !ok || info.ID != r.ID || info.Status != StatusOK {
		t.Errorf("Latest = %+v, %v", info, ok)
	}
}
