package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RunFunc executes one run; Runner.Run is the real one.
type RunFunc func(ctx context.Context, exp *Experiment, p Params, emit func(Event)) Outcome

// Config bounds what a scheduler lets people do to the machine.
type Config struct {
	// Parallel is how many runs measure at once (default 1: two runs
	// racing for the CPUs would both measure noise).
	Parallel int
	// Queue is how many runs may wait (default 32); past it, Submit
	// refuses.
	Queue int
	// PerViewer is how many queued or running runs one viewer (one
	// websocket connection) may have asked for (default 2).
	PerViewer int
	// Keep is how many finished runs stay watchable (default 200).
	Keep int
}

func (c Config) withDefaults() Config {
	if c.Parallel <= 0 {
		c.Parallel = 1
	}
	if c.Queue <= 0 {
		c.Queue = 32
	}
	if c.PerViewer <= 0 {
		c.PerViewer = 2
	}
	if c.Keep <= 0 {
		c.Keep = 200
	}
	return c
}

// Errors Submit, Watch and Cancel return; their messages are for people.
var (
	ErrQueueFull   = errors.New("the queue is full")
	ErrTooMany     = errors.New("too many runs")
	ErrUnknownRun  = errors.New("no such run")
	ErrNotYours    = errors.New("only someone who asked for this run can cancel it")
	ErrClosed      = errors.New("the server is shutting down")
	errNobody      = errors.New("nobody was watching it any more")
	errLeftByOwner = errors.New("everyone who asked for it cancelled")
)

// Scheduler queues runs, starts them in order, joins identical requests,
// and enforces the limits of Config.
type Scheduler struct {
	run RunFunc
	cfg Config
	log *slog.Logger

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu        sync.Mutex
	cond      *sync.Cond
	closed    bool
	queue     []*Run
	active    map[string]*Run // queued or running, by key
	byID      map[string]*Run // every run still kept
	finished  []*Run          // oldest first
	latest    map[string]*Run // newest ok run of each experiment
	followers map[Viewer]string

	started atomic.Int64 // runs handed to RunFunc
}

// NewScheduler starts cfg.Parallel workers that take runs from the queue.
func NewScheduler(run RunFunc, cfg Config, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	s := &Scheduler{
		run: run, cfg: cfg.withDefaults(), log: log,
		active: map[string]*Run{}, byID: map[string]*Run{}, latest: map[string]*Run{},
		followers: map[Viewer]string{},
	}
	s.cond = sync.NewCond(&s.mu)
	s.ctx, s.stop = context.WithCancel(context.Background())
	for range s.cfg.Parallel {
		s.wg.Add(1)
		go s.worker()
	}
	return s
}

// Submit asks for a run of exp with validated params on behalf of v, who
// should Watch it next. An identical run that is queued or running is
// joined instead of starting another (joined is true).
func (s *Scheduler) Submit(exp *Experiment, p Params, v Viewer) (r *Run, joined bool, err error) {
	key := exp.ID + " " + p.Key()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, ErrClosed
	}
	if r = s.active[key]; r != nil {
		s.mu.Unlock()
		r.mu.Lock()
		r.requesters[v] = struct{}{}
		r.mu.Unlock()
		return r, true, nil
	}
	if n := s.countFor(v); n >= s.cfg.PerViewer {
		s.mu.Unlock()
		return nil, false, fmt.Errorf("%w: you already have %d runs queued or running; wait for one to finish or cancel it", ErrTooMany, n)
	}
	if len(s.queue) >= s.cfg.Queue {
		s.mu.Unlock()
		return nil, false, fmt.Errorf("%w: %d runs are already waiting; try again when some have finished", ErrQueueFull, len(s.queue))
	}
	r = newRun(newID(), exp, p, key)
	r.requesters[v] = struct{}{}
	r.onIdle = func() { s.cancelRun(r, errNobody) }
	s.active[key] = r
	s.byID[r.ID] = r
	s.queue = append(s.queue, r)
	r.position = len(s.queue)
	s.cond.Signal()
	s.announceLocked(r)
	s.mu.Unlock()
	return r, false, nil
}

// countFor counts the queued or running runs v asked for; s.mu is held.
func (s *Scheduler) countFor(v Viewer) int {
	n := 0
	for _, r := range s.active {
		if r.isRequester(v) {
			n++
		}
	}
	return n
}

// Watch makes v a viewer of a run: it gets every event so far, then the
// new ones.
func (s *Scheduler) Watch(id string, v Viewer) (*Run, error) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r == nil {
		return nil, ErrUnknownRun
	}
	r.watch(v)
	return r, nil
}

// Unwatch stops sending a run's events to v.
func (s *Scheduler) Unwatch(id string, v Viewer) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r != nil {
		r.unwatch(v)
	}
}

// CancelResult says what a cancel request did.
type CancelResult int

// What Cancel can do.
const (
	Cancelled       CancelResult = iota // the run was stopped and its processes killed
	Left                                // others asked for it too: it goes on, without v
	AlreadyFinished                     // nothing to do
)

// Cancel withdraws v's request for a run. When nobody else asked for it,
// the run is cancelled (its processes killed); otherwise it goes on for
// the others and v stops watching it.
func (s *Scheduler) Cancel(id string, v Viewer) (CancelResult, error) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r == nil {
		return 0, ErrUnknownRun
	}
	r.mu.Lock()
	finished := r.state == Finished
	_, asked := r.requesters[v]
	if asked && !finished {
		delete(r.requesters, v)
	}
	others := len(r.requesters)
	r.mu.Unlock()
	switch {
	case finished:
		return AlreadyFinished, nil
	case !asked:
		return 0, ErrNotYours
	case others > 0:
		r.unwatch(v)
		return Left, nil
	}
	s.cancelRun(r, errLeftByOwner)
	return Cancelled, nil
}

// Leave forgets v everywhere: called when a connection closes.
func (s *Scheduler) Leave(v Viewer) {
	s.mu.Lock()
	delete(s.followers, v)
	runs := make([]*Run, 0, len(s.active))
	for _, r := range s.active {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.unwatch(v)
	}
}

// Follow sends v a {"type":"live"} message whenever a run of this lesson's
// experiments is queued, so that everyone on a lesson page can watch an
// instructor's run. It returns the lesson's runs queued or running now.
func (s *Scheduler) Follow(lesson string, v Viewer) []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followers[v] = lesson
	var out []Info
	for _, r := range s.active {
		if r.Exp.Lesson == lesson {
			out = append(out, r.Info())
		}
	}
	return out
}

func (s *Scheduler) announceLocked(r *Run) {
	msg, _ := json.Marshal(map[string]any{"type": "live", "run": r.ID, "experiment": r.Exp.ID, "params": r.Params})
	for v, lesson := range s.followers {
		if lesson == r.Exp.Lesson && !v.Send([][]byte{msg}) {
			delete(s.followers, v)
		}
	}
}

// Lookup returns a run that is still kept.
func (s *Scheduler) Lookup(id string) (*Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	return r, ok
}

// Latest returns the newest run of an experiment that finished ok since
// the server started.
func (s *Scheduler) Latest(experiment string) (Info, bool) {
	s.mu.Lock()
	r := s.latest[experiment]
	s.mu.Unlock()
	if r == nil {
		return Info{}, false
	}
	return r.Info(), true
}

// Stats counts what the scheduler is doing.
type Stats struct {
	Queued   int   `json:"queued"`
	Running  int   `json:"running"`
	Started  int64 `json:"started"` // runs started since the server started
	Viewers  int   `json:"viewers"` // viewers of queued and running runs
	Finished int   `json:"finished_kept"`
}

// Stats returns the scheduler's counts now.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Queued: len(s.queue), Started: s.started.Load(), Finished: len(s.finished)}
	st.Running = len(s.active) - len(s.queue)
	for _, r := range s.active {
		st.Viewers += r.viewerCount()
	}
	return st
}

// Close cancels every queued and running run, kills their processes and
// waits for the workers to stop.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.closed = true
	queued := s.queue
	s.mu.Unlock()
	for _, r := range queued {
		s.cancelRun(r, ErrClosed)
	}
	s.stop()
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

// cancelRun ends a run: a queued one leaves the queue at once, a running
// one has its processes killed by the runner.
func (s *Scheduler) cancelRun(r *Run, cause error) {
	s.mu.Lock()
	r.mu.Lock()
	state, cancel := r.state, r.cancel
	r.mu.Unlock()
	if state == Queued {
		for i, q := range s.queue {
			if q == r {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
		s.updatePositionsLocked()
		s.mu.Unlock()
		msg := "the run was cancelled before it started: " + cause.Error()
		b, _ := json.Marshal(map[string]any{"type": "done", "status": StatusCancelled, "error": msg, "ts": time.Now().UnixMilli()})
		r.publish(Event{Type: "done", JSON: b})
		s.finish(r, Outcome{Status: StatusCancelled, Error: msg})
		return
	}
	s.mu.Unlock()
	if state == Running && cancel != nil {
		cancel(cause)
	}
}

func (s *Scheduler) updatePositionsLocked() {
	for i, q := range s.queue {
		q.setPosition(i + 1)
	}
}

func (s *Scheduler) worker() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		r := s.queue[0]
		s.queue = s.queue[1:]
		ctx, cancel := context.WithCancelCause(s.ctx)
		r.mu.Lock()
		r.state, r.position, r.cancel = Running, 0, cancel
		r.mu.Unlock()
		s.updatePositionsLocked()
		s.mu.Unlock()

		s.started.Add(1)
		out := s.run(ctx, r.Exp, r.Params, r.publish)
		cancel(nil)
		s.finish(r, out)
	}
}

// finish records a run's outcome and keeps it watchable for a while.
func (s *Scheduler) finish(r *Run, out Outcome) {
	r.mu.Lock()
	if r.state == Finished {
		r.mu.Unlock()
		return
	}
	r.state, r.outcome, r.ended = Finished, out, time.Now()
	r.flushLocked() // the done event has gone out; nothing is pending
	r.viewers = map[Viewer]int{}
	if r.idle != nil {
		r.idle.Stop()
	}
	r.mu.Unlock()
	close(r.done)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active[r.key] == r {
		delete(s.active, r.key)
	}
	if out.Status == StatusOK {
		s.latest[r.Exp.ID] = r
	}
	s.finished = append(s.finished, r)
	for len(s.finished) > s.cfg.Keep {
		old := s.finished[0]
		s.finished = s.finished[1:]
		if s.latest[old.Exp.ID] != old {
			delete(s.byID, old.ID)
		}
	}
	s.log.Info("run finished", "run", r.ID, "experiment", r.Exp.ID, "status", out.Status, "error", out.Error)
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
