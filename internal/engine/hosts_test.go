package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// twoHosts is a scheduler measuring on hosts "a" and "b", each with runs
// of its own that wait for the test.
func twoHosts(t *testing.T) (*engine.Scheduler, map[string]*enginetest.Runs, *lab.Experiment) {
	runs := map[string]*enginetest.Runs{"a": enginetest.NewRuns(), "b": enginetest.NewRuns()}
	s := engine.NewScheduler([]engine.Host{runs["a"].Host("a"), runs["b"].Host("b")}, engine.Config{}, nil)
	t.Cleanup(s.Close)
	return s, runs, enginetest.Experiment()
}

// hostOf waits for the run's started event and says which host measured it.
func hostOf(t *testing.T, s *engine.Scheduler, v *enginetest.Viewer, r *engine.Run) string {
	t.Helper()
	v.WaitFor(t, "the run to start", enginetest.Of("started", r.ID))
	info, _ := s.Find(r.ID)
	return info.Info().Host
}

// A learner's runs stay on the host that measured their first while it is
// up; a request may name its host; a host that is not there is refused
// with the names of those that are.
func TestAffinityAndNamedHosts(t *testing.T) {
	t.Parallel()
	s, runs, e := twoHosts(t)
	v := enginetest.NewViewer()
	first, err := s.Start(engine.Request{Exp: e, Params: enginetest.Params(t, e, 1), Learner: "ann"}, v)
	if err != nil {
		t.Fatal(err)
	}
	h := hostOf(t, s, v, first.Run)
	other := map[string]string{"a": "b", "b": "a"}[h]
	second, err := s.Start(engine.Request{Exp: e, Params: enginetest.Params(t, e, 2), Learner: "ann"}, v)
	if err != nil {
		t.Fatal(err)
	}
	// The other host is free, yet ann's second run waits for hers.
	named, err := s.Start(engine.Request{Exp: e, Params: enginetest.Params(t, e, 3), Learner: "bob", Host: other}, v)
	if err != nil {
		t.Fatal(err)
	}
	if got := hostOf(t, s, v, named.Run); got != other {
		t.Errorf("bob's run naming %s ran on %s", other, got)
	}
	runs[other].Finish(enginetest.Params(t, e, 3))
	runs[h].Finish(enginetest.Params(t, e, 1))
	if got := hostOf(t, s, v, second.Run); got != h {
		t.Errorf("ann's second run went to %s, not %s where her first ran", got, h)
	}
	_, err = s.Start(engine.Request{Exp: e, Params: enginetest.Params(t, e, 4), Learner: "cy", Host: "nowhere"}, v)
	if !errors.Is(err, engine.ErrUnknownHost) || err.Error() != `no such host "nowhere": the hosts are a, b` {
		t.Errorf("a request naming a host that is not there: %v", err)
	}
}

// goneHost measures until the test says the host went away; then its run
// ends interrupted, as a host over the network does.
type goneHost struct {
	name string
	gone chan struct{}
}

func (g goneHost) Name() string      { return g.name }
func (g goneHost) Facts() probe.Host { return probe.Host{Name: g.name} }
func (g goneHost) Measure(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	emit(runlog.Event{Type: protocol.EventStarted, JSON: []byte(`{"type":"started"}`)})
	<-g.gone
	emit(runlog.Event{Type: protocol.EventDone, JSON: []byte(`{"type":"done","status":"interrupted","error":"the host went away"}`)})
	return runlog.Outcome{Status: protocol.StatusInterrupted, Error: "the host went away"}
}

// A run whose host goes away ends interrupted, keeping what it delivered,
// and is asked for again once, at the front of the queue, on another
// host, for whoever still watches it; its page is told the new run.
func TestAnInterruptedRunIsMeasuredAgainOnce(t *testing.T) {
	t.Parallel()
	g := goneHost{name: "flaky", gone: make(chan struct{})}
	s := engine.NewScheduler([]engine.Host{g}, engine.Config{}, nil)
	t.Cleanup(s.Close)
	e := enginetest.Experiment()
	p := enginetest.Params(t, e, 1)
	v := enginetest.NewViewer()
	st, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "ann"}, v)
	if err != nil {
		t.Fatal(err)
	}
	v.WaitFor(t, "the run to start", enginetest.Of("started", st.Run.ID))
	queued := enginetest.NewViewer()
	other, _ := s.Start(engine.Request{Exp: e, Params: enginetest.Params(t, e, 2), Learner: "bob"}, queued)
	s.HostGone("flaky", "test")
	close(g.gone)
	<-st.Run.Done()
	if info := st.Run.Info(); info.Status != protocol.StatusInterrupted || st.Run.Log.Len() != 2 {
		t.Errorf("the run whose host went: %s with %d events, want interrupted with its 2", info.Status, st.Run.Log.Len())
	}
	again := v.WaitFor(t, "the run asked for again", func(m map[string]any) bool { return m["type"] == "accepted" && m["retry_of"] == st.Run.ID })
	runs := enginetest.NewRuns()
	if err := s.AddHost(runs.Host("steady")); err != nil {
		t.Fatal(err)
	}
	v.WaitFor(t, "the new run to start on the other host", enginetest.Of("started", again["run"].(string)))
	if order := runs.Order(); len(order) == 0 || order[0] != p.Key() {
		t.Errorf("the other host started %v first, want the retried run (at the front, before bob's)", order)
	}
	runs.Finish(p)
	runs.Finish(enginetest.Params(t, e, 2))
	queued.WaitFor(t, "bob's run to finish", enginetest.Of("done", other.Run.ID))
	n := 0
	for _, m := range v.Messages() {
		if m["type"] == "accepted" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d accepted, want 2: the run and its one retry", n)
	}
	if hosts := s.Hosts(); !slices.ContainsFunc(hosts, func(h engine.HostInfo) bool { return h.Name == "flaky" && h.State == engine.HostGone }) {
		t.Errorf("hosts %+v, want flaky gone", hosts)
	}
}
