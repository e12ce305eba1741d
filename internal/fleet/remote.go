package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// remoteHost is a worker as the scheduler sees it: an engine.Host that
// measures by handing the run over NATS and waiting for its events.
type remoteHost struct {
	c        *Coordinator
	name     string
	instance string

	mu    sync.Mutex
	facts probe.Host
	seen  time.Time
	gone  bool
	run   *remoteRun // the run it measures now
}

var _ engine.Seer = (*remoteHost)(nil)

func newRemoteHost(c *Coordinator, h Hello) *remoteHost {
	h.Host.Name = h.Name
	return &remoteHost{c: c, name: h.Name, instance: h.Instance, facts: h.Host, seen: time.Now()}
}

func (h *remoteHost) Name() string { return h.name }

func (h *remoteHost) Facts() probe.Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.facts
}

func (h *remoteHost) Seen() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}

func (h *remoteHost) saw(facts probe.Host) {
	facts.Name = h.name
	h.mu.Lock()
	defer h.mu.Unlock()
	h.facts, h.seen = facts, time.Now()
}

func (h *remoteHost) isGone() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gone
}

// markGone reports whether the host was up until now.
func (h *remoteHost) markGone() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := !h.gone
	h.gone = true
	return was
}

func (h *remoteHost) current() *remoteRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.run
}

// stale is the runs a worker reports measuring that the server does not
// want from it (none, or another).
func (h *remoteHost) stale(run string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if run == "" || (h.run != nil && h.run.id == run) {
		return nil
	}
	return []string{run}
}

// Measure hands the run to the worker and relays its events until its
// done, its cancel, or its host going away.
func (h *remoteHost) Measure(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	r := &remoteRun{id: engine.NewID(), key: NewToken(), host: h.name, emit: emit, next: 1, done: make(chan struct{})}
	h.mu.Lock()
	if h.gone {
		h.mu.Unlock()
		return r.endNow(protocol.StatusInterrupted, "the host "+h.name+" went away before the run could start")
	}
	h.run = r
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.run = nil
		h.mu.Unlock()
		out := r.outcome()
		h.c.forget(r, out.Status == protocol.StatusInterrupted || out.Status == protocol.StatusCancelled)
	}()
	if err := h.c.assign(h, r, exp, p); err != nil {
		return r.endNow(protocol.StatusInterrupted, fmt.Sprintf("the run could not be handed to the host %s: %v", h.name, err))
	}
	limit := time.NewTimer(exp.TimeLimit() + overtime)
	defer limit.Stop()
	select {
	case <-r.done:
	case <-limit.C:
		r.interrupt(fmt.Sprintf("the host %s did not finish the run within its time limit of %s and more", h.name, exp.TimeLimit()))
	case <-ctx.Done():
		h.c.tell(h.name, r.id, "cancelled")
		select { // its own done, cancelled, with all it measured
		case <-r.done:
		case <-time.After(HostTimeout):
			r.finish(protocol.StatusCancelled, "the run was cancelled; its host "+h.name+" did not confirm")
		}
	}
	return r.outcome()
}

// remoteRun is one run a host measures, as the server waits for it.
type remoteRun struct {
	id, key, host string
	emit          func(runlog.Event)
	seq           uint64 // its assignment's place in the runs' stream

	mu     sync.Mutex
	next   int // the seq of the event expected next
	result []byte
	out    *runlog.Outcome
	done   chan struct{}
}

// event relays one event in order; one out of order or seen already is
// dropped (JetStream keeps a run's events in order; a repeat is a host
// sending again after a reconnect).
func (r *remoteRun) event(seqText string, body []byte) {
	seq, _ := strconv.Atoi(seqText)
	var head struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(body, &head) != nil || head.Type == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out != nil || seq != r.next {
		return
	}
	r.next++
	r.emit(runlog.Event{Type: head.Type, JSON: body})
	switch head.Type {
	case protocol.EventResult:
		r.result = body
	case protocol.EventDone:
		r.out = &runlog.Outcome{Status: head.Status, Error: head.Error, Result: r.result, Events: seq}
		close(r.done)
	}
}

// interrupt ends the run as interrupted, keeping what it delivered.
func (r *remoteRun) interrupt(why string) { r.finish(protocol.StatusInterrupted, why) }

// finish ends the run here with a done event of the server's own, unless
// its host's done came first.
func (r *remoteRun) finish(status protocol.Status, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out != nil {
		return
	}
	r.emit(runlog.Event{Type: protocol.EventDone, JSON: protocol.Encode(protocol.Done{Status: status, Error: why, TS: time.Now().UnixMilli()})})
	r.out = &runlog.Outcome{Status: status, Error: why, Result: nil, Events: r.next}
	close(r.done)
}

func (r *remoteRun) endNow(status protocol.Status, why string) runlog.Outcome {
	r.finish(status, why)
	return r.outcome()
}

func (r *remoteRun) ended() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out != nil
}

func (r *remoteRun) outcome() runlog.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.out
}
