package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// ErrRefused is a worker turned away by the course: a wrong token, or a
// name already in use. Trying again will not help.
var ErrRefused = errors.New("the course refused this measuring host")

// Worker is a measuring host on this machine, joined to a course over
// NATS: it measures the runs it is given, one at a time, and streams
// their events back.
type Worker struct {
	Name     string
	Registry *lab.Registry
	// Measure measures one run (a runner.Local's, in conclab worker).
	Measure engine.RunFunc
	Facts   probe.Host
	Log     *slog.Logger

	nc       *nats.Conn
	js       jetstream.JetStream
	instance string

	mu      sync.Mutex
	current string             // the assignment it measures
	taken   []string           // the runs it took, oldest first (at most rememberRuns)
	cancel  context.CancelFunc // stops it
}

// Dial connects to the course's NATS server. A wrong token is
// ErrRefused; a server that is not there yet is tried again until ctx
// ends.
func Dial(ctx context.Context, urls, token, name string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.Token(token), nats.Name("conclab worker "+name), nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second), nats.PingInterval(2*time.Second), nats.MaxPingsOutstanding(3))
	wait := 500 * time.Millisecond
	for {
		nc, err := nats.Connect(urls, opts...)
		switch {
		case err == nil:
			return nc, nil
		case errors.Is(err, nats.ErrAuthorization):
			return nil, fmt.Errorf("%w: its token is not the one the course printed (check --token or CONCLAB_WORKER_TOKEN)", ErrRefused)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot reach the course at %s: %v", urls, err)
		case <-time.After(wait):
			wait = min(wait*2, 5*time.Second)
		}
	}
}

// Run joins the course over nc and measures until ctx ends. Then it stops
// the run in progress — its host says so in the run's done, and the
// server measures it again elsewhere — says goodbye, and returns once
// nothing of it is left running.
func (w *Worker) Run(ctx context.Context, nc *nats.Conn) error {
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.nc, w.instance = nc, NewToken()
	var err error
	if w.js, err = jetstream.New(nc); err != nil {
		return err
	}
	if err := w.hello(ctx, false); err != nil {
		return err
	}
	stops, err := nc.Subscribe(subjCtl+w.Name, w.onStop)
	if err != nil {
		return err
	}
	defer stops.Unsubscribe()
	hctx, stopHello := context.WithCancel(context.Background())
	helloDone := make(chan struct{})
	go func() { defer close(helloDone); w.hellos(hctx) }()
	err = w.serve(ctx)
	stopHello()
	<-helloDone
	bye, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	w.hello(bye, true)
	return err
}

// hello says hello once (or goodbye), and stops the runs the reply names.
func (w *Worker) hello(ctx context.Context, bye bool) error {
	w.mu.Lock()
	h := Hello{Name: w.Name, Instance: w.instance, Host: w.Facts, Run: w.current, Bye: bye}
	w.mu.Unlock()
	b, _ := json.Marshal(h)
	ctx, cancel := context.WithTimeout(ctx, HelloEvery)
	defer cancel()
	m, err := w.nc.RequestWithContext(ctx, subjHello+w.Name, b)
	if err != nil {
		return fmt.Errorf("the course did not answer: %w", err)
	}
	var r HelloReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return fmt.Errorf("the course answered something else: %w", err)
	}
	if r.Error != "" {
		return fmt.Errorf("%w: %s", ErrRefused, r.Error)
	}
	for _, id := range r.Stop {
		w.stop(id, "the course no longer wants it")
	}
	return nil
}

// hellos says hello every HelloEvery until ctx ends; a refusal (the
// course took this host for gone and gave its name to another) is logged.
func (w *Worker) hellos(ctx context.Context) {
	tick := time.NewTicker(HelloEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := w.hello(ctx, false); err != nil && ctx.Err() == nil {
				w.Log.Warn("hello", "err", err)
			}
		}
	}
}

func (w *Worker) onStop(m *nats.Msg) {
	var s Stop
	if json.Unmarshal(m.Data, &s) == nil {
		w.stop(s.Run, s.Why)
	}
}

// stop stops the run with this id if it is the one measuring.
func (w *Worker) stop(id, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current == id && w.cancel != nil {
		w.Log.Info("stopping a run", "run", id, "why", why)
		w.cancel()
	}
}

// serve takes this host's runs from JetStream, one at a time.
func (w *Worker) serve(ctx context.Context) error {
	cons, err := w.js.CreateOrUpdateConsumer(ctx, RunsStream, jetstream.ConsumerConfig{
		Durable: "host-" + w.Name, FilterSubject: subjRuns + w.Name, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: ackWait, MaxAckPending: 1, InactiveThreshold: time.Hour})
	if err != nil {
		return fmt.Errorf("cannot take runs from the course: %w", err)
	}
	it, err := cons.Messages(append([]jetstream.PullMessagesOpt{jetstream.PullMaxMessages(1)}, messagesAlive...)...)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			w.Log.Warn("taking a run", "err", err)
			continue
		}
		w.take(ctx, m)
	}
}

// take measures one assignment and acks it once the course has its end.
// One offered again that this worker took before (it was cut off while it
// measured, so its ack came late) is not measured twice: the course gave
// up on it when this host went away. One offered again that never reached
// this worker (its first delivery went to a pull lost with a cluster's
// node) is measured now; were it a run the course no longer waits for, the
// course drops its events and tells this host to stop it.
func (w *Worker) take(ctx context.Context, m jetstream.Msg) {
	var a Assignment
	if err := json.Unmarshal(m.Data(), &a); err != nil || !w.first(a.ID) {
		m.Ack()
		return
	}
	exp, ok := w.Registry.Lookup(a.Experiment)
	p, err := lab.Params(nil), error(nil)
	if ok {
		p, err = exp.Validate(a.Params, false)
	}
	rctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	w.current, w.cancel = a.ID, cancel
	w.mu.Unlock()
	// Ctrl+C stops the run too, once the course knows this host is
	// leaving: it then ends the run as interrupted and measures it again
	// on another host, never this one.
	stopped := context.AfterFunc(ctx, func() {
		bye, done := context.WithTimeout(context.Background(), HelloEvery)
		defer done()
		w.hello(bye, true)
		cancel()
	})
	pub := &publisher{js: w.js, id: a.ID, key: a.Key, log: w.Log}
	// Until it is acked, the assignment is in progress; the acks stop
	// with it.
	busy, acked := time.NewTicker(ackWait/3), make(chan struct{})
	defer busy.Stop()
	go func() {
		for {
			select {
			case <-acked:
				return
			case <-busy.C:
				m.InProgress()
			}
		}
	}()
	switch {
	case !ok || err != nil:
		pub.fail(fmt.Sprintf("this host cannot run %s: %v", a.Experiment, err))
	default:
		out := w.Measure(rctx, exp, p, pub.emit)
		if ctx.Err() != nil && out.Status == protocol.StatusCancelled {
			pub.handBack(w.Name) // never sent: Measure's own done said cancelled
		}
	}
	stopped()
	cancel()
	pub.flush()
	w.mu.Lock()
	w.current, w.cancel = "", nil
	w.mu.Unlock()
	w.awaitEnd(a.ID)
	close(acked)
	m.Ack()
}

// first reports whether this worker has not taken the run before, and
// remembers it (the last rememberRuns it took).
func (w *Worker) first(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.taken, id) {
		return false
	}
	w.taken = append(w.taken, id)
	if len(w.taken) > rememberRuns {
		w.taken = slices.Delete(w.taken, 0, len(w.taken)-rememberRuns)
	}
	return true
}

// awaitEnd waits, for a while, until the course has the run's end.
func (w *Worker) awaitEnd(id string) {
	b, _ := json.Marshal(Ended{Run: id})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m, err := w.nc.Request(subjEnded+w.Name, b, HelloEvery)
		var r EndedReply
		if err == nil && json.Unmarshal(m.Data, &r) == nil && r.Done {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.Log.Warn("the course did not confirm a run's end; letting it go", "run", id)
}

// publisher sends a run's events to the course, in order, each with the
// run's key and its seq; it never blocks the reader of the run's events
// for long.
type publisher struct {
	js  jetstream.JetStream
	id  string
	key string
	log *slog.Logger

	seq  int
	held *runlog.Event // a cancelled run's done, held while Ctrl+C hands it back
}

func (p *publisher) emit(ev runlog.Event) {
	if ev.Type == protocol.EventDone && p.held == nil {
		var d struct{ Status string }
		if json.Unmarshal(ev.JSON, &d) == nil && d.Status == protocol.StatusCancelled {
			p.held = &ev // handBack may replace it
			return
		}
	}
	p.send(ev.JSON)
}

func (p *publisher) send(body []byte) {
	p.seq++
	m := nats.NewMsg(subjEvents + p.id)
	m.Data = body
	m.Header.Set(hdrKey, p.key)
	m.Header.Set(hdrSeq, strconv.Itoa(p.seq))
	if _, err := p.js.PublishMsgAsync(m, jetstream.WithMsgID(p.id+"."+strconv.Itoa(p.seq))); err != nil {
		p.log.Warn("sending an event", "run", p.id, "err", err)
	}
}

// handBack replaces a run's cancelled done, when this host is stopping,
// with one that says so: the course measures the run again elsewhere.
func (p *publisher) handBack(host string) {
	p.held = nil
	p.send(protocol.Encode(protocol.Done{Status: protocol.StatusInterrupted,
		Error: "the host " + host + " was stopped while it measured this run (Ctrl+C)", TS: time.Now().UnixMilli()}))
}

// fail ends a run this host could not start.
func (p *publisher) fail(why string) {
	p.send(protocol.Encode(protocol.Done{Status: protocol.StatusFailed, Error: why, TS: time.Now().UnixMilli()}))
}

// flush sends a held done, and waits for the course to have every event.
func (p *publisher) flush() {
	if p.held != nil {
		p.send(p.held.JSON)
		p.held = nil
	}
	select {
	case <-p.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		p.log.Warn("the course did not take every event of a run in time", "run", p.id)
	}
}
