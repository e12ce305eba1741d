package lab

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"conclab/internal/protocol"
)

// Viewer receives the messages of the runs it watches. Send must never
// block: it returns false when the viewer cannot keep up, and the run
// drops it rather than slow down for it; a viewer that refuses is expected
// to go away (its connection closes, and the web layer calls
// Scheduler.Leave). Messages are JSON objects; one call may carry several,
// in order.
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

// Run is one execution of an experiment with fixed parameters, and the hub
// for its events: it keeps them all, replays them to whoever starts
// watching late, and fans each new one out to every viewer.
//
// Its state changes only through its own methods, under its own lock. The
// scheduler decides when to call them (queue, start, finish, cancel); the
// run never calls back into the scheduler.
type Run struct {
	ID      string
	Exp     *Experiment
	Params  Params
	Created time.Time

	key    string
	prefix []byte        // `{"run":"ID",` spliced in front of each event
	pace   time.Duration // see Config.Pace
	owner  string        // the learner who first asked for it
	tape   Tape          // its record beyond this process (see Recorder)

	// presenter is true for a run the instructor asked for: it goes first
	// and plays on every follower's page. It is written under both the
	// scheduler's lock and the run's, so either may read it.
	presenter bool

	mu         sync.Mutex
	state      State
	position   int     // 1-based place in the queue while queued
	eta        float64 // estimated wait in seconds while queued
	held       bool    // queued, and waiting for the instructor to resume students' runs
	log        [][]byte
	seq        int
	dropped    bool
	viewers    map[Viewer]int      // viewer → how much of log it has been sent
	requesters map[string]struct{} // learners who asked for this run
	cancel     context.CancelCauseFunc
	outcome    Outcome
	ended      time.Time
	began      time.Time // when it started running
	idleSince  time.Time // when the last viewer left; zero while watched or once finished
	lastFlush  time.Time
	flushTimer *time.Timer
	done       chan struct{}
}

func newRun(id string, exp *Experiment, p Params, key string, pace time.Duration, owner string, presenter bool) *Run {
	prefix, _ := json.Marshal(id)
	now := time.Now()
	return &Run{
		ID: id, Exp: exp, Params: p, Created: now, key: key, pace: pace, owner: owner, presenter: presenter,
		prefix:     append(append([]byte(`{"run":`), prefix...), ','),
		state:      Queued,
		tape:       nopTape{},
		viewers:    map[Viewer]int{},
		requesters: map[string]struct{}{},
		idleSince:  now,
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
	Owner      string    `json:"-"` // the learner who first asked for it
	Presenter  bool      `json:"presenter,omitempty"`
	Created    time.Time `json:"created"`
	Began      time.Time `json:"began,omitzero"`
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
		Params: r.Params, Owner: r.owner, Presenter: r.presenter,
		Created: r.Created, Began: r.began, Ended: r.ended, Result: r.outcome.Result,
	}
}

// ---- Life cycle: queued → running → finished.

// setQueued updates the run's place in the queue and tells its viewers.
func (r *Run) setQueued(pos int, eta float64, held bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != Queued || (r.position == pos && r.eta == eta && r.held == held) {
		return
	}
	r.position, r.eta, r.held = pos, eta, held
	r.sendLocked([][]byte{r.queuedMsgLocked()})
}

// begin moves a queued run to running; cancel stops it.
func (r *Run) begin(cancel context.CancelCauseFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.position, r.eta, r.cancel, r.began = Running, 0, 0, cancel, time.Now()
}

// markPresenter makes it the instructor's run; the scheduler's lock is held.
func (r *Run) markPresenter() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.presenter = true
}

// stop cancels a running run: the runner kills its processes and it
// finishes as cancelled.
func (r *Run) stop(cause error) {
	r.mu.Lock()
	cancel := r.cancel
	running := r.state == Running
	r.mu.Unlock()
	if running && cancel != nil {
		cancel(cause)
	}
}

// finish records the outcome, delivers what is pending and lets the
// viewers go. It reports false when the run had already finished.
func (r *Run) finish(out Outcome) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == Finished {
		return false
	}
	r.state, r.outcome, r.ended = Finished, out, time.Now()
	r.tape.End(out)
	r.flushLocked() // the done event goes out now; nothing is left pending
	r.viewers = map[Viewer]int{}
	r.idleSince = time.Time{}
	close(r.done)
	return true
}

// idleFor is how long a run that has not finished has had no viewer.
func (r *Run) idleFor(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == Finished || r.idleSince.IsZero() {
		return 0
	}
	return now.Sub(r.idleSince)
}

// ---- Events.

// publish stamps an event with the run id and its sequence number, keeps
// it, and has it delivered: at once when the run has been quiet, or with
// the next batch within the pace. Its tape is handed the event as it came
// (the tape never blocks: see Recorder).
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
	r.tape.Event(ev)
	switch {
	case ev.Type == "done" || time.Since(r.lastFlush) >= r.pace:
		r.flushLocked()
	case r.flushTimer == nil:
		r.flushTimer = time.AfterFunc(r.pace-time.Since(r.lastFlush), func() {
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

func (r *Run) queuedMsgLocked() []byte {
	return protocol.Encode(protocol.Queued{Run: r.ID, Position: r.position, ETA: r.eta, Paused: r.held})
}

// ---- Viewers and requesters.

// accept makes learner a requester of the run and v its viewer in one
// step: v is sent the Accepted answer, then every event so far, then each
// new one.
func (r *Run) accept(v Viewer, learner string, joined bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.requesters[learner]; !ok && joined {
		r.tape.Asked(learner)
	}
	r.requesters[learner] = struct{}{}
	viewers := len(r.viewers)
	if _, ok := r.viewers[v]; !ok {
		viewers++
	}
	accepted := protocol.Encode(protocol.Accepted{Run: r.ID, Experiment: r.Exp.ID, Joined: joined, Params: r.Params, Viewers: viewers})
	r.watchLocked(v, accepted)
}

// watch adds a viewer: it gets first, then every event so far, then each
// new one.
func (r *Run) watch(v Viewer, first ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watchLocked(v, first...)
}

// watchLocked sends v first, the replay, and registers it, under one lock,
// so nothing is missed or sent twice.
func (r *Run) watchLocked(v Viewer, first ...[]byte) {
	snap := make([][]byte, 0, len(first)+len(r.log)+1)
	snap = append(snap, first...)
	if r.state == Queued {
		snap = append(snap, r.queuedMsgLocked())
	}
	snap = append(snap, r.log...)
	if !v.Send(snap) {
		r.removeViewerLocked(v)
		return
	}
	if r.state != Finished {
		r.viewers[v] = len(r.log)
		r.idleSince = time.Time{}
	}
}

// unwatch removes a viewer. A learner's request stays when one of their
// tabs closes: another may still watch, and a run nobody watches is
// cancelled after the idle grace anyway.
func (r *Run) unwatch(v Viewer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeViewerLocked(v)
}

// withdraw takes back learner's request. It reports whether they had
// asked, how many others still ask, and whether the run had finished.
func (r *Run) withdraw(learner string) (asked bool, others int, finished bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, asked = r.requesters[learner]
	finished = r.state == Finished
	if asked && !finished {
		delete(r.requesters, learner)
	}
	return asked, len(r.requesters), finished
}

// removeViewerLocked drops a viewer; when none is left, the run's idle
// time starts (the scheduler cancels it after its grace).
func (r *Run) removeViewerLocked(v Viewer) {
	if _, ok := r.viewers[v]; !ok {
		return
	}
	delete(r.viewers, v)
	if len(r.viewers) == 0 && r.state != Finished {
		r.idleSince = time.Now()
	}
}

func (r *Run) viewerCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.viewers)
}

func (r *Run) isRequester(learner string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.requesters[learner]
	return ok
}

func (r *Run) isViewer(v Viewer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.viewers[v]
	return ok
}
