package engine

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
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

// Run is one execution of an experiment with fixed parameters, and the hub
// for its events: it fans each new event of its log out to every viewer,
// and replays the log to whoever starts watching late.
//
// Its state changes only through its own methods, under its own lock. The
// scheduler decides when to call them (queue, start, finish, cancel); the
// run never calls back into the scheduler, and nothing else reads its
// fields.
type Run struct {
	ID      string
	Exp     *lab.Experiment
	Params  lab.Params
	Created time.Time
	// Log is the run's one record of its events (see runlog).
	Log *runlog.Log

	key   string
	pace  time.Duration // see Config.Pace
	owner string        // the learner who first asked for it
	pin   string        // the host it must run on ("" for any)
	group string        // the instructor's run on every host it belongs to, if any
	retry string        // the run it measures again, after its host went away

	mu         sync.Mutex
	presenter  bool // the instructor asked for it: it goes first and plays on followers' pages
	state      State
	host       string              // the host measuring or that measured it
	position   int                 // 1-based place in the queue while queued
	eta        float64             // estimated wait in seconds while queued
	held       bool                // queued, and waiting for the instructor to resume students' runs
	viewers    map[Viewer]int      // viewer → how much of the log it has been sent
	requesters map[string]struct{} // learners who asked for this run
	tape       Tape                // its record beyond this process (see Archive)
	cancel     context.CancelCauseFunc
	outcome    runlog.Outcome
	ended      time.Time
	began      time.Time // when it started running
	idleSince  time.Time // when the last viewer left; zero while watched or once finished
	lastFlush  time.Time
	flushTimer *time.Timer
	done       chan struct{}
}

func newRun(id string, exp *lab.Experiment, p lab.Params, key string, pace time.Duration, owner string, presenter bool) *Run {
	now := time.Now()
	return &Run{
		ID: id, Exp: exp, Params: p, Created: now, Log: runlog.New(id), key: key, pace: pace, owner: owner,
		presenter:  presenter,
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
	ID         string          `json:"run"`
	Experiment string          `json:"experiment"`
	Lesson     string          `json:"lesson"`
	State      State           `json:"state"`
	Status     protocol.Status `json:"status,omitempty"` // once finished
	Host       string          `json:"host,omitempty"`   // the host measuring it, or that measured it
	Position   int             `json:"position,omitempty"`
	Viewers    int             `json:"viewers"`
	Params     lab.Params      `json:"params"`
	Owner      string          `json:"-"` // the learner who first asked for it
	Presenter  bool            `json:"presenter,omitempty"`
	Created    time.Time       `json:"created"`
	Began      time.Time       `json:"began,omitzero"`
	Ended      time.Time       `json:"ended,omitzero"`
	// Result is the result event of a run that finished ok.
	Result []byte `json:"result,omitempty"`
}

// Info returns a snapshot of the run.
func (r *Run) Info() Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Info{
		ID: r.ID, Experiment: r.Exp.ID, Lesson: r.Exp.Lesson, State: r.state, Host: r.host,
		Status: r.outcome.Status, Position: r.position, Viewers: len(r.viewers),
		Params: r.Params, Owner: r.owner, Presenter: r.presenter,
		Created: r.Created, Began: r.began, Ended: r.ended, Result: r.outcome.Result,
	}
}

// Group is the id of the instructor's run on every host this run belongs
// to ("" for none).
func (r *Run) Group() string { return r.group }

// Pin is the host the run must be measured on ("" for any).
func (r *Run) Pin() string { return r.pin }

// Presenter reports whether the instructor asked for the run.
func (r *Run) Presenter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.presenter
}

// Requesters are the learners who asked for the run.
func (r *Run) Requesters() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Collect(maps.Keys(r.requesters))
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

// begin moves a queued run to running on a host; cancel stops it.
func (r *Run) begin(host string, cancel context.CancelCauseFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.host, r.position, r.eta, r.cancel, r.began = Running, host, 0, 0, cancel, time.Now()
}

// markPresenter makes it the instructor's run.
func (r *Run) markPresenter() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.presenter = true
}

// stop cancels a running run: its host kills its processes and it
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
func (r *Run) finish(out runlog.Outcome) bool {
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

// publish appends an event to the run's log and has it delivered: at
// once when the run has been quiet, or with the next batch within the
// pace.
func (r *Run) publish(ev runlog.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == Finished {
		return // a host that delivers late is not heard
	}
	r.Log.Append(ev)
	switch {
	case ev.Type == protocol.EventDone || time.Since(r.lastFlush) >= r.pace:
		r.flushLocked()
	case r.flushTimer == nil:
		r.flushTimer = time.AfterFunc(r.pace-time.Since(r.lastFlush), func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.flushLocked()
		})
	}
}

// flushLocked sends every viewer the events it has not been sent yet, as
// one batch, dropping the viewers that cannot keep up.
func (r *Run) flushLocked() {
	r.lastFlush = time.Now()
	if r.flushTimer != nil {
		r.flushTimer.Stop()
		r.flushTimer = nil
	}
	n := r.Log.Len()
	for v, sent := range r.viewers {
		if sent >= n {
			continue
		}
		if v.Send(r.Log.Messages(sent)) {
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
	accepted := protocol.Encode(protocol.Accepted{Run: r.ID, Experiment: r.Exp.ID, Joined: joined, Params: r.Params, Viewers: viewers,
		Host: r.pin, RetryOf: r.retry})
	r.watchLocked(v, accepted)
}

// Watch adds a viewer: it gets first, then every event so far, then each
// new one.
func (r *Run) Watch(v Viewer, first ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.watchLocked(v, first...)
}

// watchLocked sends v first, the replay, and registers it, under one lock,
// so nothing is missed or sent twice.
func (r *Run) watchLocked(v Viewer, first ...[]byte) {
	log := r.Log.Messages(0)
	snap := make([][]byte, 0, len(first)+len(log)+1)
	snap = append(snap, first...)
	if r.state == Queued {
		snap = append(snap, r.queuedMsgLocked())
	}
	snap = append(snap, log...)
	if !v.Send(snap) {
		r.removeViewerLocked(v)
		return
	}
	if r.state != Finished {
		r.viewers[v] = len(log)
		r.idleSince = time.Time{}
	}
}

// Unwatch removes a viewer. A learner's request stays when one of their
// tabs closes: another may still watch, and a run nobody watches is
// cancelled after the idle grace anyway.
func (r *Run) Unwatch(v Viewer) {
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

// viewerList is who watches the run now.
func (r *Run) viewerList() []Viewer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Collect(maps.Keys(r.viewers))
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

// ask makes learners requesters of a run nobody watches yet.
func (r *Run) ask(learners []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range learners {
		r.requesters[l] = struct{}{}
	}
}

// setTape gives the run its record beyond this process.
func (r *Run) setTape(t Tape) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tape = t
}
