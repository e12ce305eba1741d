// Package enginetest has what the tests of the engine and the classroom
// share: a viewer that records what it is sent, a measuring host whose
// runs wait until the test lets them finish, and a small experiment.
package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Wait bounds every wait of a test: long enough for a loaded machine,
// short enough that a lost message fails the test instead of hanging it.
const Wait = 10 * time.Second

// Viewer records what it is sent. With Room > 0 it refuses once it holds
// that many messages, like a connection that cannot keep up, and counts
// the sends it was offered after it refused.
type Viewer struct {
	Room int

	mu      sync.Mutex
	msgs    []map[string]any
	refused int // sends refused
	after   int // sends offered after the first refusal
	note    chan struct{}
}

// NewViewer makes a Viewer.
func NewViewer() *Viewer { return &Viewer{note: make(chan struct{}, 1)} }

// Send records msgs (engine.Viewer).
func (v *Viewer) Send(msgs [][]byte) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.refused > 0 {
		v.after++
	}
	if v.Room > 0 && len(v.msgs)+len(msgs) > v.Room {
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

// Refusals are how many sends it refused, and how many it was offered
// after the first refusal.
func (v *Viewer) Refusals() (refused, after int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.refused, v.after
}

// Messages is every message so far.
func (v *Viewer) Messages() []map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.msgs)
}

// Types are the types of the messages so far.
func (v *Viewer) Types() []string {
	var out []string
	for _, m := range v.Messages() {
		out = append(out, m["type"].(string))
	}
	return out
}

// WaitFor waits until the viewer has a message matching ok.
func (v *Viewer) WaitFor(t testing.TB, what string, ok func(m map[string]any) bool) map[string]any {
	t.Helper()
	return v.WaitWithin(t, Wait, what, ok)
}

// WaitWithin is WaitFor with a deadline of its own, for a step that must
// first outlast a timeout of the code under test.
func (v *Viewer) WaitWithin(t testing.TB, d time.Duration, what string, ok func(m map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, m := range v.Messages() {
			if ok(m) {
				return m
			}
		}
		select {
		case <-v.note:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %v", what, v.Types())
		}
	}
}

// IsType matches a message of this type.
func IsType(typ string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ }
}

// Of matches a message of this type about this run.
func Of(typ, run string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ && m["run"] == run }
}

// Experiment is a small experiment with one parameter, "workers".
func Experiment() *lab.Experiment {
	return &lab.Experiment{
		ID: "demo", Lesson: "l", Title: "Demo",
		Params: []lab.Param{lab.Int("workers", "Workers", 4, 1, 64, "how many").WithQuick(2)},
		Run:    func(ctx context.Context, p lab.Params, e *lab.Emitter) error { return nil },
	}
}

// Params are e's parameters with this many workers.
func Params(t testing.TB, e *lab.Experiment, workers int) lab.Params {
	t.Helper()
	p, err := e.Validate(map[string]any{"workers": float64(workers)}, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Runs measures runs that emit "started", then wait until the test
// releases them with Finish (or they are cancelled). Result, when set,
// is the result event a released run ends with.
type Runs struct {
	Result []byte

	mu      sync.Mutex
	started int
	order   []string                 // params keys, in the order they started
	release map[string]chan struct{} // by params key
	note    chan struct{}            // a run started
}

// NewRuns makes a Runs.
func NewRuns() *Runs { return &Runs{release: map[string]chan struct{}{}, note: make(chan struct{}, 1)} }

// Host is a measuring host named name that measures with f.
func (f *Runs) Host(name string) engine.Host { return engine.FuncHost(name, probe.Host{}, f.Run) }

// Run measures one run (an engine.RunFunc).
func (f *Runs) Run(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	f.mu.Lock()
	f.started++
	f.order = append(f.order, p.Key())
	ch := f.release[p.Key()]
	if ch == nil {
		ch = make(chan struct{})
		f.release[p.Key()] = ch
	}
	result := f.Result
	if result == nil {
		result = []byte(`{"type":"result","metrics":[],"claims":[]}`)
	}
	f.mu.Unlock()
	select {
	case f.note <- struct{}{}:
	default:
	}
	emit(runlog.Event{Type: protocol.EventStarted, JSON: []byte(`{"type":"started"}`)})
	select {
	case <-ch:
		f.mu.Lock()
		if f.release[p.Key()] == ch {
			delete(f.release, p.Key()) // the next run with these parameters waits again
		}
		f.mu.Unlock()
		emit(runlog.Event{Type: protocol.EventResult, JSON: result})
		emit(runlog.Event{Type: protocol.EventDone, JSON: []byte(`{"type":"done","status":"ok"}`)})
		return runlog.Outcome{Status: protocol.StatusOK, Result: result}
	case <-ctx.Done():
		emit(runlog.Event{Type: protocol.EventDone, JSON: []byte(`{"type":"done","status":"cancelled"}`)})
		return runlog.Outcome{Status: protocol.StatusCancelled}
	}
}

// Finish lets the run with these parameters (running, or the next to
// start) finish ok.
func (f *Runs) Finish(p lab.Params) {
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

// Started is how many runs started.
func (f *Runs) Started() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started
}

// Order is the parameters' keys of the runs started, in order.
func (f *Runs) Order() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

// WaitStarted waits until a run with these parameters has started.
func (f *Runs) WaitStarted(t testing.TB, p lab.Params) {
	t.Helper()
	deadline := time.After(Wait)
	for !slices.Contains(f.Order(), p.Key()) {
		select {
		case <-f.note:
		case <-deadline:
			t.Fatalf("the run %s did not start; started %v", p.Key(), f.Order())
		}
	}
}

// Scheduler starts a scheduler measuring on one host with a fresh Runs.
func Scheduler(t testing.TB, cfg engine.Config) (*engine.Scheduler, *Runs, *lab.Experiment) {
	f := NewRuns()
	s := engine.NewScheduler([]engine.Host{f.Host("test-host")}, cfg, nil)
	t.Cleanup(s.Close)
	return s, f, Experiment()
}
