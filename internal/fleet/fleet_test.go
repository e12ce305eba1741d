package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
)

// course is a scheduler whose only hosts join over NATS: an embedded
// server listening on loopback, and the coordinator.
type course struct {
	e     *Embedded
	sched *engine.Scheduler
	coord *Coordinator
	url   string
	token string
	exp   *lab.Experiment
	reg   *lab.Registry
}

func quiet(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testLog struct{ t testing.TB }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newCourse(t testing.TB) *course { return newCourseWith(t, engine.Config{}) }

func newCourseWith(t testing.TB, cfg engine.Config) *course {
	t.Helper()
	c := &course{token: NewToken(), exp: enginetest.Experiment(), reg: lab.NewRegistry()}
	c.reg.Register(c.exp)
	var err error
	if c.e, err = StartEmbedded(ServerOptions{Listen: "127.0.0.1:0", Token: c.token, Log: quiet(t)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.e.Shutdown)
	nc, err := c.e.Connect("course")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	cfg.Registry = c.reg
	c.sched = engine.NewScheduler(nil, cfg, quiet(t))
	t.Cleanup(c.sched.Close)
	if c.coord, err = NewCoordinator(nc, c.sched, CoordinatorOptions{Memory: true, Log: quiet(t)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.coord.Close)
	c.url = c.e.ClientURL()
	return c
}

// host is a worker in this process whose runs wait for the test.
type host struct {
	w      *Worker
	nc     *nats.Conn
	runs   *enginetest.Runs
	cancel context.CancelFunc
	done   chan error
}

func (c *course) join(t testing.TB, name string) *host {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nc, err := Dial(ctx, c.url, c.token, name)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &host{nc: nc, runs: enginetest.NewRuns(), cancel: cancel, done: make(chan error, 1)}
	h.w = &Worker{Name: name, Registry: c.reg, Measure: h.runs.Run, Facts: probe.Host{CPUModel: "Test CPU " + name, Usable: 2}, Log: quiet(t)}
	go func() { h.done <- h.w.Run(ctx, nc) }()
	t.Cleanup(func() {
		cancel()
		nc.Close()
	})
	waitFor(t, "the host "+name+" to join", func() bool {
		st := hostState(c.sched, name)
		return st == engine.HostIdle || st == engine.HostMeasuring
	})
	return h
}

func hostState(s *engine.Scheduler, name string) engine.HostState {
	for _, h := range s.Hosts() {
		if h.Name == name {
			return h.State
		}
	}
	return ""
}

// waitFor polls cond until it holds, for at most enginetest.Wait plus
// a host's timeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(enginetest.Wait + HostTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A host joins with its facts, measures the run it is given, and its
// events reach the page in order, each once; when it leaves it is gone.
func TestAHostJoinsMeasuresAndLeaves(t *testing.T) {
	t.Parallel()
	c := newCourse(t)
	h := c.join(t, "lab-1")
	if hs := c.sched.Hosts(); len(hs) != 1 || hs[0].Host.CPUModel != "Test CPU lab-1" || hs[0].Host.Name != "lab-1" {
		t.Fatalf("hosts %+v, want lab-1 with its facts", hs)
	}
	v := enginetest.NewViewer()
	p := enginetest.Params(t, c.exp, 3)
	st, err := c.sched.Start(engine.Request{Exp: c.exp, Params: p, Learner: "ann"}, v)
	if err != nil {
		t.Fatal(err)
	}
	v.WaitFor(t, "the run to start on the host", enginetest.Of("started", st.Run.ID))
	h.runs.Finish(p)
	v.WaitFor(t, "its end", enginetest.Of("done", st.Run.ID))
	<-st.Run.Done()
	var seqs []int
	for _, m := range v.Messages() {
		if m["run"] == st.Run.ID && m["seq"] != nil {
			seqs = append(seqs, int(m["seq"].(float64)))
		}
	}
	if !slices.Equal(seqs, []int{1, 2, 3}) {
		t.Errorf("seqs %v, want 1 2 3: started, result, done, each once", seqs)
	}
	if info := st.Run.Info(); info.Host != "lab-1" || info.Status != protocol.StatusOK {
		t.Errorf("the run: host %q, status %q; want lab-1, ok", info.Host, info.Status)
	}
	h.cancel()
	if err := <-h.done; err != nil {
		t.Errorf("the worker ended with %v", err)
	}
	waitFor(t, "the host to be gone", func() bool { return hostState(c.sched, "lab-1") == engine.HostGone })
}

// A wrong token is refused at once, as is a second host under a name in
// use; a malformed hello is answered with why.
func TestHostsAreChecked(t *testing.T) {
	t.Parallel()
	c := newCourse(t)
	if _, err := Dial(context.Background(), c.url, "not-the-token-at-all", "x"); !errors.Is(err, ErrRefused) {
		t.Errorf("a wrong token: %v, want ErrRefused", err)
	}
	c.join(t, "twin")
	nc, err := Dial(context.Background(), c.url, c.token, "twin")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	w := &Worker{Name: "twin", Registry: c.reg, Measure: enginetest.NewRuns().Run, Log: quiet(t)}
	if err := w.Run(context.Background(), nc); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "another --name") {
		t.Errorf("a second host named twin: %v", err)
	}
	m, err := nc.Request(subjHello+"bad.name", []byte(`{"name":"bad.name","instance":"i"}`), time.Second)
	if err == nil {
		t.Errorf("a hello on a subject a host may not use was answered: %s", m.Data)
	}
}

// A worker may publish only on its own subjects: publishing a run to
// another host is refused by the server, and says so.
func TestAWorkerCannotHandOutRuns(t *testing.T) {
	t.Parallel()
	c := newCourse(t)
	refused := make(chan error, 1)
	nc, err := Dial(context.Background(), c.url, c.token, "rogue", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case refused <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Publish(subjRuns+"someone", []byte(`{}`))
	nc.Flush()
	select {
	case err := <-refused:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("refused with %v", err)
		}
	case <-time.After(enginetest.Wait):
		t.Error("publishing a run was not refused")
	}
}

// An event published with another key than its run's — a host publishing
// for a run it was not given — is dropped.
func TestEventsOfARunNotGivenAreDropped(t *testing.T) {
	t.Parallel()
	c := newCourse(t)
	h := c.join(t, "honest")
	v := enginetest.NewViewer()
	p := enginetest.Params(t, c.exp, 4)
	st, _ := c.sched.Start(engine.Request{Exp: c.exp, Params: p, Learner: "ann"}, v)
	v.WaitFor(t, "the run to start", enginetest.Of("started", st.Run.ID))
	var id string
	c.coord.mu.Lock()
	for k := range c.coord.runs {
		id = k
	}
	c.coord.mu.Unlock()
	m := nats.NewMsg(subjEvents + id)
	m.Data = []byte(`{"type":"log","message":"forged"}`)
	m.Header.Set(hdrKey, "a-key-of-its-own")
	m.Header.Set(hdrSeq, "2")
	if _, err := h.w.js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	h.runs.Finish(p)
	v.WaitFor(t, "its end", enginetest.Of("done", st.Run.ID))
	for _, m := range v.Messages() {
		if m["message"] == "forged" {
			t.Error("a forged event reached the page")
		}
	}
}

// A host that goes silent mid-run (its connection gone, no goodbye) is
// gone within the host timeout: the run ends interrupted, keeping the
// events it delivered, and is measured again, once, on another host for
// the learner still watching; what the silent host sends later is not
// delivered a second time.
func TestAHostThatGoesSilentLosesNothing(t *testing.T) {
	t.Parallel()
	c := newCourse(t)
	silent := c.join(t, "silent")
	v := enginetest.NewViewer()
	p := enginetest.Params(t, c.exp, 5)
	st, _ := c.sched.Start(engine.Request{Exp: c.exp, Params: p, Learner: "ann"}, v)
	v.WaitFor(t, "the run to start", enginetest.Of("started", st.Run.ID))
	silent.nc.Close() // as if killed: no goodbye
	began := time.Now()
	<-st.Run.Done()
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the run ended %s after its host went silent, want within 15 s", took)
	}
	info := st.Run.Info()
	if info.Status != protocol.StatusInterrupted || st.Run.Log.Len() != 2 {
		t.Errorf("the run: %s with %d events; want interrupted, keeping its started and its done", info.Status, st.Run.Log.Len())
	}
	again := v.WaitFor(t, "the run asked for again", func(m map[string]any) bool { return m["type"] == "accepted" && m["retry_of"] == st.Run.ID })
	steady := c.join(t, "steady")
	steady.runs.Finish(p)
	v.WaitFor(t, "the new run's end", enginetest.Of("done", again["run"].(string)))
	dones := 0
	for _, m := range v.Messages() {
		if m["type"] == "done" {
			dones++
		}
	}
	if dones != 2 {
		t.Errorf("%d done events, want 2: the interrupted run and its retry", dones)
	}
}

// A cluster of three NATS servers that loses one keeps handing out runs.
func TestAClusterLosingANodeKeepsDispatching(t *testing.T) {
	t.Parallel()
	internal, token := NewToken(), NewToken()
	var nodes []*Embedded
	ports := freePorts(t, 3)
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	for i, p := range ports {
		e, err := StartEmbedded(ServerOptions{Listen: "127.0.0.1:0", Token: token, Internal: internal, Name: fmt.Sprintf("n%d", i),
			Cluster: fmt.Sprintf("127.0.0.1:%d", p), Routes: routes, StoreDir: t.TempDir(), Log: quiet(t)})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, e)
	}
	stopped := map[int]bool{}
	t.Cleanup(func() {
		for i, e := range nodes {
			if !stopped[i] {
				e.Shutdown()
			}
		}
	})
	waitFor(t, "the cluster to elect its JetStream leader", func() bool {
		return slices.ContainsFunc(nodes, func(e *Embedded) bool { return e.ns.JetStreamIsLeader() })
	})
	var urls []string
	for _, e := range nodes {
		urls = append(urls, e.ClientURL())
	}
	all := strings.Join(urls, ",")
	nc, err := Dial(context.Background(), all, internal, "course")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	reg := lab.NewRegistry()
	exp := enginetest.Experiment()
	reg.Register(exp)
	sched := engine.NewScheduler(nil, engine.Config{Registry: reg}, quiet(t))
	t.Cleanup(sched.Close)
	// A leader may be elected before every peer is known to it; the
	// streams of three copies can be placed once all three are.
	var coord *Coordinator
	waitFor(t, "the cluster to place streams of three copies", func() bool {
		coord, err = NewCoordinator(nc, sched, CoordinatorOptions{Replicas: 3, Log: quiet(t)})
		if err != nil && !strings.Contains(err.Error(), "no suitable peers") {
			t.Fatal(err)
		}
		return err == nil
	})
	t.Cleanup(coord.Close)
	c := &course{sched: sched, coord: coord, url: all, token: token, exp: exp, reg: reg}
	h := c.join(t, "on-cluster")
	run := func(workers int) {
		t.Helper()
		v := enginetest.NewViewer()
		p := enginetest.Params(t, exp, workers)
		st, err := sched.Start(engine.Request{Exp: exp, Params: p, Learner: "ann", Fresh: true}, v)
		if err != nil {
			t.Fatal(err)
		}
		// After the loss, the cluster elects new leaders and an assignment
		// delivered to a pull lost with the node is offered again after
		// ackWait: a deadline well past both.
		v.WaitWithin(t, 10*ackWait, "the run to start", enginetest.Of("started", st.Run.ID))
		h.runs.Finish(p)
		<-st.Run.Done()
		if s := st.Run.Info().Status; s != protocol.StatusOK {
			t.Errorf("run %d ended %s", workers, s)
		}
	}
	run(1)
	// Lose the node the course's connection is not on, then one more run.
	lose := 0
	for i, u := range urls {
		if u != nc.ConnectedUrl() {
			lose = i
			break
		}
	}
	nodes[lose].Shutdown()
	stopped[lose] = true
	run(2)
}

// freePorts finds n ports free on loopback for the cluster's routes.
func freePorts(t testing.TB, n int) []int {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
