package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"conclab/internal/engine"
	"conclab/internal/lab"
)

// Hosts is what the coordinator needs of the scheduler.
type Hosts interface {
	AddHost(h engine.Host) error
	HostGone(name, why string)
}

// CoordinatorOptions configure a Coordinator.
type CoordinatorOptions struct {
	// Memory keeps the streams in memory (the embedded server without a
	// data directory).
	Memory bool
	// Replicas is how many servers of a cluster keep each stream (1 on one
	// server; 3 survives the loss of one of three).
	Replicas int
	// Log receives what happens to hosts and runs.
	Log *slog.Logger
}

// Coordinator is the server's side of the measuring hosts: it learns of
// hosts from their hellos, makes each a Host of the scheduler, hands them
// their runs over JetStream and relays their events back.
type Coordinator struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	hosts Hosts
	log   *slog.Logger

	ctx        context.Context
	stop       context.CancelFunc
	wg         sync.WaitGroup
	subs       []*nats.Subscription
	cc         jetstream.ConsumeContext
	runsStream jetstream.Stream // to take back a run its host never finished

	mu      sync.Mutex
	remotes map[string]*remoteHost // by name
	runs    map[string]*remoteRun  // by assignment id, while the server waits for them
	relayed int64                  // events relayed, for the benchmark
}

// NewCoordinator sets up the streams on nc's server and starts listening
// for hosts.
func NewCoordinator(nc *nats.Conn, hosts Hosts, o CoordinatorOptions) (*Coordinator, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{nc: nc, js: js, hosts: hosts, log: o.Log, remotes: map[string]*remoteHost{}, runs: map[string]*remoteRun{}}
	c.ctx, c.stop = context.WithCancel(context.Background())
	if err := c.streams(o); err != nil {
		return nil, err
	}
	for subj, h := range map[string]nats.MsgHandler{subjHello + "*": c.onHello, subjEnded + "*": c.onEnded} {
		sub, err := nc.Subscribe(subj, h)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.subs = append(c.subs, sub)
	}
	cons, err := js.CreateOrUpdateConsumer(c.ctx, EventsStream, jetstream.ConsumerConfig{
		Durable: "coordinator", AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverNewPolicy,
		FilterSubject: subjEvents + ">", Replicas: o.Replicas})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("the events' consumer: %w", err)
	}
	if c.cc, err = cons.Consume(c.onEvent, consumeAlive...); err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(1)
	go c.reap()
	return c, nil
}

// streams makes the two streams, and empties the runs' one: runs asked
// for before this server started are not this server's (its store marks
// them interrupted, and their workers are told to stop).
func (c *Coordinator) streams(o CoordinatorOptions) error {
	storage, size := jetstream.FileStorage, int64(1<<30)
	if o.Memory {
		storage, size = jetstream.MemoryStorage, 128<<20
	}
	r := max(o.Replicas, 1)
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	runs, err := c.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: RunsStream, Subjects: []string{subjRuns + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: storage, Replicas: r, MaxAge: time.Hour})
	if err != nil {
		return fmt.Errorf("the runs' stream: %w", err)
	}
	if err := runs.Purge(ctx); err != nil {
		return fmt.Errorf("emptying the runs' stream: %w", err)
	}
	c.runsStream = runs
	_, err = c.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: EventsStream, Subjects: []string{subjEvents + ">"},
		Storage: storage, Replicas: r, MaxAge: time.Hour, MaxBytes: size, Duplicates: 2 * time.Minute, Discard: jetstream.DiscardOld})
	if err != nil {
		return fmt.Errorf("the events' stream: %w", err)
	}
	return nil
}

// Close stops listening; the hosts stay the scheduler's until it closes.
func (c *Coordinator) Close() {
	c.stop()
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	if c.cc != nil {
		c.cc.Stop()
	}
	c.wg.Wait()
}

// Relayed is how many events the coordinator has relayed from hosts.
func (c *Coordinator) Relayed() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.relayed
}

// onHello takes a worker's heartbeat: a new host joins the scheduler, a
// known one is seen; the reply names the runs it should stop.
func (c *Coordinator) onHello(m *nats.Msg) {
	var h Hello
	reply := func(r HelloReply) {
		b, _ := json.Marshal(r)
		m.Respond(b)
	}
	if err := json.Unmarshal(m.Data, &h); err != nil || !ValidName(h.Name) || h.Instance == "" {
		reply(HelloReply{Error: "a malformed hello: a host's name is letters, digits, - and _, at most 63"})
		return
	}
	if strings.TrimPrefix(m.Subject, subjHello) != h.Name {
		reply(HelloReply{Error: "a hello on another host's subject"})
		return
	}
	if h.Bye {
		c.mu.Lock()
		rh := c.remotes[h.Name]
		c.mu.Unlock()
		if rh != nil && rh.instance == h.Instance {
			c.gone(rh, "it left")
		}
		reply(HelloReply{})
		return
	}
	rh, err := c.host(h)
	switch {
	case err != nil:
		reply(HelloReply{Error: err.Error()})
	default:
		reply(HelloReply{Stop: rh.stale(h.Run)})
	}
}

// host is the remote host of a hello: known, or joining now — anew, when
// it was taken for gone (cut off, then back). A new instance under a name
// that is up means the worker restarted: the old one is gone, and its run
// with it.
func (c *Coordinator) host(h Hello) (*remoteHost, error) {
	c.mu.Lock()
	rh := c.remotes[h.Name]
	c.mu.Unlock()
	if rh != nil && rh.instance == h.Instance && !rh.isGone() {
		rh.saw(h.Host)
		return rh, nil
	}
	if rh != nil && !rh.isGone() {
		if time.Since(rh.Seen()) < HostTimeout/2 {
			return nil, fmt.Errorf("a host named %q is already measuring for this course: give this one another --name", h.Name)
		}
		c.gone(rh, "it restarted")
	}
	nh := newRemoteHost(c, h)
	if err := c.hosts.AddHost(nh); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.remotes[h.Name] = nh
	c.mu.Unlock()
	c.log.Info("a measuring host joined", "host", h.Name, "cpus", h.Host.EffectiveCPUs(), "cpu", h.Host.CPUModel)
	return nh, nil
}

// gone makes a host gone: the scheduler gives it no more runs, and the
// run it had ends interrupted.
func (c *Coordinator) gone(rh *remoteHost, why string) {
	if !rh.markGone() {
		return
	}
	c.hosts.HostGone(rh.name, why)
	if r := rh.current(); r != nil {
		r.interrupt(fmt.Sprintf("the host %s went away (%s) while it measured this run; what it had sent is kept", rh.name, why))
	}
}

// reap calls the hosts that have not said hello for HostTimeout gone.
func (c *Coordinator) reap() {
	defer c.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			c.mu.Lock()
			var late []*remoteHost
			for _, rh := range c.remotes {
				if !rh.isGone() && time.Since(rh.Seen()) > HostTimeout {
					late = append(late, rh)
				}
			}
			c.mu.Unlock()
			for _, rh := range late {
				c.gone(rh, fmt.Sprintf("no word from it for %s", HostTimeout))
			}
		}
	}
}

// onEnded answers a worker asking whether it may let a run go: yes once
// its end is here, or when the server no longer waits for it. A run whose
// end is still on its way (its done event and this question race) is
// answered as soon as the end arrives, within endWait, so that the host
// is free for its next run at once rather than after asking again.
func (c *Coordinator) onEnded(m *nats.Msg) {
	var e Ended
	json.Unmarshal(m.Data, &e)
	c.mu.Lock()
	r := c.runs[e.Run]
	c.mu.Unlock()
	respond := func(done bool) {
		b, _ := json.Marshal(EndedReply{Done: done})
		m.Respond(b)
	}
	if r == nil || r.ended() {
		respond(true)
		return
	}
	go func() {
		t := time.NewTimer(endWait)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
		case <-c.ctx.Done():
		}
		respond(r.ended())
	}()
}

// onEvent relays one event of a host's run to it. An event whose key is
// not its run's came from a host that was not given the run: it is
// dropped, and logged.
func (c *Coordinator) onEvent(m jetstream.Msg) {
	id := strings.TrimPrefix(m.Subject(), subjEvents)
	c.mu.Lock()
	r := c.runs[id]
	if r != nil {
		c.relayed++
	}
	c.mu.Unlock()
	if r == nil {
		return // a run this server no longer waits for: its end came, or its host went
	}
	if !equal(m.Headers().Get(hdrKey), r.key) {
		c.log.Warn("dropped an event published for a run its host was not given", "run", id)
		return
	}
	r.event(m.Headers().Get(hdrSeq), m.Data())
}

// assign hands a run to a host over JetStream.
func (c *Coordinator) assign(rh *remoteHost, r *remoteRun, exp *lab.Experiment, p lab.Params) error {
	c.mu.Lock()
	c.runs[r.id] = r
	c.mu.Unlock()
	b, _ := json.Marshal(Assignment{ID: r.id, Experiment: exp.ID, Params: p, Key: r.key})
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	ack, err := c.js.Publish(ctx, subjRuns+rh.name, b, jetstream.WithMsgID(r.id))
	if err != nil {
		c.forget(r, false)
		return err
	}
	r.seq = ack.Sequence
	return nil
}

// forget stops waiting for a run; takeBack also takes its assignment out
// of the runs' stream, for a run that ended without its host (a host that
// comes back must not find it there).
func (c *Coordinator) forget(r *remoteRun, takeBack bool) {
	c.mu.Lock()
	delete(c.runs, r.id)
	c.mu.Unlock()
	if !takeBack || r.seq == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.runsStream.DeleteMsg(ctx, r.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		c.log.Debug("taking back an assignment", "run", r.id, "err", err)
	}
}

// tell asks a host to stop a run now (its hellos are told again).
func (c *Coordinator) tell(host, run, why string) {
	b, _ := json.Marshal(Stop{Run: run, Why: why})
	c.nc.Publish(subjCtl+host, b)
}
