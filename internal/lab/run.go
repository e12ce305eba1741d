package lab

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Viewer receives the messages of the runs it watches. Send must never
// block: it returns false when the viewer cannot keep up, and the run drops
// it rather than slow down for it. Messages are JSON objects; one call may
// carry several, in order.
type Viewer interface {
	Send(msgs [][]byte) bool
}

// State is where a run is in its life.
type State string

// The states of a run.
const (
	Queued   State = "queued"
	Running  State = "running"
	Finished State = "finished"
)

// maxLog bounds how many events a run keeps. Experiments stay far below
// it; past it, events are dropped (the result and done never are) and the
// viewers are told once.
const maxLog = 50_000

// pace is the shortest time between two deliveries of a run's events to
// its viewers. Events that arrive closer together go out in one batch, so
// a burst of events costs each viewer one wake-up, not one per event, and
// the server's fan-out takes little CPU from the run it is reporting on.
var pace = 20 * time.Millisecond

// Run is one execution of an experiment with fixed parameters, and the hub
// for its events: it keeps them all, replays them to whoever starts
// watching late, and fans each new one out to every viewer.
type Run struct {
	ID      string
	Exp     *Experiment
	Params  Params
	Created time.Time

	key    string
	prefix []byte // `{"run":"ID",` spliced in front of each event

	mu         sync.Mutex
	state      State
	position   int // 1-based place in the queue while queued
	log        [][]byte
	seq        int
	dropped    bool
	viewers    map[Viewer]int      // viewer → how much of log it has been sent
	requesters map[Viewer]struct{} // viewers that asked for this run
	cancel     context.CancelCauseFunc
	outcome    Outcome
	ended      time.Time
	idle       *time.Timer
	onIdle     func()
	lastFlush  time.Time
	flushTimer *time.Timer
	done       chan struct{}
}

func newRun(id string, exp *Experiment, p Params, key string) *Run {
	prefix, _ := json.Marshal(id)
	return &Run{
		ID: id, Exp: exp, Params: p, Created: time.Now(), key: key,
		prefix:     append(append([]byte(`{"run":`), prefix...), ','),
		state:      Queued,
		viewers:    map[Viewer]int{},
		requesters: map[Viewer]struct{}{},
		done:       make(chan struct{}),
	}
}

// Done is closed when the run has finished.
func (r *Run) Done() <-chan struct{} { return r.done }

// Info is a snapshot of a run for listings.
type Info struct {
	ID         string    `json:"run"`
	Experiment string    `json:"experiment"`
	Lesson     string    `json:"lesson"`
	State      State     `json:"state"`
	Status     string    `json:"status,omitempty"` // once finished
	Position   int       `json:"position,omitempty"`
	Viewers    int       `json:"viewers"`
	Params     Params    `json:"params"`
	Created    time.Time `json:"created"`
	Ended      time.Time `json:"ended,omitzero"`
	// Result is the result event of a run that finished ok.
	Result json.RawMessage `json:"result,omitempty"`
}

// Info returns a snapshot of the run.
func (r *Run) Info() Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Info{
		ID: r.ID, Experiment: r.Exp.ID, Lesson: r.Exp.Lesson, State: r.state,
		Status: r.outcome.Status, Position: r.position, Viewers: len(r.viewers),
		Params: r.Params, Created: r.Created, Ended: r.ended, Result: r.outcome.Result,
	}
}

// publish stamps an event with the run id and its sequence number, keeps
// it, and has it delivered: at once when the run has been quiet, or with
// the next batch within pace.
func (r *Run) publish(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.log) >= maxLog && ev.Type != "result" && ev.Type != "done" {
		if !r.dropped {
			r.dropped = true
			r.appendLocked(Event{Type: "log", JSON: []byte(`{"type":"log","message":"This run sent more events than a page can keep; the rest of its live data is not shown."}`)})
		}
		return
	}
	r.appendLocked(ev)
	final := ev.Type == "done"
	switch {
	case final || time.Since(r.lastFlush) >= pace:
		r.flushLocked()
	case r.flushTimer == nil:
		r.flushTimer = time.AfterFunc(pace-time.Since(r.lastFlush), func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.flushLocked()
		})
	}
}

func (r *Run) appendLocked(ev Event) {
	r.seq++
	msg := make([]byte, 0, len(r.prefix)+len(ev.JSON)+16)
	msg = append(msg, r.prefix...)
	msg = append(msg, `"seq":`...)
	msg = strconv.AppendInt(msg, int64(r.seq), 10)
	msg = append(msg, ',')
	msg = append(msg, ev.JSON[1:]...)
	r.log = append(r.log, msg)
}

// flushLocked sends every viewer the events it has not been sent yet, as
// one batch, dropping the viewers that cannot keep up.
func (r *Run) flushLocked() {
	r.lastFlush = time.Now()
	if r.flushTimer != nil {
		r.flushTimer.Stop()
		r.flushTimer = nil
	}
	n := len(r.log)
	for v, sent := range r.viewers {
		if sent >= n {
			continue
		}
		if v.Send(r.log[sent:n:n]) {
			r.viewers[v] = n
		} else {
			r.removeViewerLocked(v)
		}
	}
}

// sendLocked sends msgs, which are not part of the log, to every viewer.
func (r *Run) sendLocked(msgs [][]byte) {
	for v := range r.viewers {
		if !v.Send(msgs) {
			r.removeViewerLocked(v)
		}
	}
}

// queuedMsg is the live queue position; it is not kept in the log.
func (r *Run) queuedMsgLocked() []byte {
	b, _ := json.Marshal(map[string]any{"type": "queued", "run": r.ID, "position": r.position})
	return b
}

// setPosition updates the queue position and tells the viewers.
func (r *Run) setPosition(pos int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != Queued || r.position == pos {
		return
	}
	r.position = pos
	r.sendLocked([][]byte{r.queuedMsgLocked()})
}

// watch adds a viewer: it gets every event so far, then each new one.
// Replay and registration happen under one lock, so nothing is missed or
// sent twice.
func (r *Run) watch(v Viewer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	snap := make([][]byte, 0, len(r.log)+1)
	if r.state == Queued {
		snap = append(snap, r.queuedMsgLocked())
	}
	snap = append(snap, r.log...)
	if len(snap) > 0 && !v.Send(snap) {
		return false
	}
	if r.state != Finished {
		r.viewers[v] = len(r.log)
		if r.idle != nil {
			r.idle.Stop()
			r.idle = nil
		}
	}
	return true
}

// unwatch removes a viewer (and its request, if it made one).
func (r *Run) unwatch(v Viewer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.requesters, v)
	r.removeViewerLocked(v)
}

// removeViewerLocked drops a viewer; when none is left, the run gets a
// grace period (for a reconnecting page) and is then cancelled.
func (r *Run) removeViewerLocked(v Viewer) {
	if _, ok := r.viewers[v]; !ok {
		return
	}
	delete(r.viewers, v)
	if len(r.viewers) == 0 && r.state != Finished && r.idle == nil && r.onIdle != nil {
		r.idle = time.AfterFunc(idleGrace, r.onIdle)
	}
}

// idleGrace is how long a run nobody watches lives on, so that a page that
// lost its connection can reconnect and watch again.
var idleGrace = 10 * time.Second

func (r *Run) viewerCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.viewers)
}

func (r *Run) isRequester(v Viewer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.requesters[v]
	return ok
}
