package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/protocol"
)

// RunFunc executes one run; Runner.Run is the real one.
type RunFunc func(ctx context.Context, exp *Experiment, p Params, emit func(Event)) Outcome

// Config bounds what a scheduler lets people do to the machine. A zero
// field takes its default.
type Config struct {
	// Parallel is how many runs measure at once (default 1: two runs
	// racing for the CPUs would both measure noise).
	Parallel int
	// Queue is how many runs may wait (default 32); past it, Start
	// refuses.
	Queue int
	// PerViewer is how many queued or running runs one viewer (one
	// websocket connection) may have asked for (default 2).
	PerViewer int
	// Keep is how many finished runs stay watchable (default 200).
	Keep int
	// Pace is the shortest time between two deliveries of a run's events
	// to its viewers (default 20 ms). Events that arrive closer together
	// go out in one batch, so a burst costs each viewer one wake-up, and
	// the fan-out takes little CPU from the run it is reporting on.
	Pace time.Duration
	// IdleGrace is how long a run nobody watches lives on before it is
	// cancelled (default 10 s), so that a page that lost its connection
	// can reconnect and watch again.
	IdleGrace time.Duration
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
	if c.Pace <= 0 {
		c.Pace = 20 * time.Millisecond
	}
	if c.IdleGrace <= 0 {
		c.IdleGrace = 10 * time.Second
	}
	return c
}

// Errors Start, Watch and Cancel return; their messages are for people.
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
// and enforces the limits of Config. It is the one owner of which runs
// exist and where each is in its life; a Run only keeps its own events
// and viewers.
type Scheduler struct {
	run RunFunc
	cfg Config
	log *slog.Logger

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu        sync.Mutex // taken before any Run's lock, never after
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

// NewScheduler starts cfg.Parallel workers that take runs from the queue,
// and a janitor that cancels runs nobody watches.
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
	s.wg.Add(1)
	go s.janitor()
	return s
}

// Start asks for a run of exp with validated params on behalf of v, and
// makes v watch it, in one step: v is sent an Accepted message, then the
// run's events so far, then each new one. An identical run that is queued
// or running is joined instead of starting another (joined is true).
func (s *Scheduler) Start(exp *Experiment, p Params, v Viewer) (r *Run, joined bool, err error) {
	key := exp.ID + " " + p.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	if r = s.active[key]; r != nil {
		r.accept(v, true)
		return r, true, nil
	}
	if n := s.countForLocked(v); n >= s.cfg.PerViewer {
		return nil, false, fmt.Errorf("%w: you already have %d runs queued or running; wait for one to finish or cancel it", ErrTooMany, n)
	}
	if len(s.queue) >= s.cfg.Queue {
		return nil, false, fmt.Errorf("%w: %d runs are already waiting; try again when some have finished", ErrQueueFull, len(s.queue))
	}
	r = newRun(newID(), exp, p, key, s.cfg.Pace)
	s.active[key] = r
	s.byID[r.ID] = r
	s.queue = append(s.queue, r)
	r.setQueued(len(s.queue), 0)
	r.accept(v, false)
	s.announceLocked(r, v)
	s.cond.Signal()
	return r, false, nil
}

// countForLocked counts the queued or running runs v asked for.
func (s *Scheduler) countForLocked(v Viewer) int {
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
func (s *Scheduler) Watch(id string, v Viewer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byID[id]
	if r == nil {
		return ErrUnknownRun
	}
	r.watch(v)
	return nil
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
	asked, others, finished := r.withdraw(v)
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
	defer s.mu.Unlock()
	delete(s.followers, v)
	for _, r := range s.active {
		r.unwatch(v)
	}
}

// Follow sends v a Live message for each run of this lesson's experiments
// queued or running now, and for each one queued from now on, so that
// everyone on a lesson page can watch an instructor's run.
func (s *Scheduler) Follow(lesson string, v Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followers[v] = lesson
	var msgs [][]byte
	for _, r := range s.queue {
		if r.Exp.Lesson == lesson {
			msgs = append(msgs, liveMsg(r))
		}
	}
	for _, r := range s.active {
		if r.Exp.Lesson == lesson && r.Info().State == Running {
			msgs = append(msgs, liveMsg(r))
		}
	}
	if len(msgs) > 0 && !v.Send(msgs) {
		delete(s.followers, v)
	}
}

func liveMsg(r *Run) []byte {
	return protocol.Encode(protocol.Live{Run: r.ID, Experiment: r.Exp.ID, Params: r.Params})
}

// announceLocked tells the lesson's followers, but the one who asked, of
// a new run.
func (s *Scheduler) announceLocked(r *Run, asker Viewer) {
	msg := liveMsg(r)
	for v, lesson := range s.followers {
		if v != asker && lesson == r.Exp.Lesson && !v.Send([][]byte{msg}) {
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
	queued := append([]*Run(nil), s.queue...)
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
	queued := false
	for i, q := range s.queue {
		if q == r {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			queued = true
			break
		}
	}
	if queued {
		// Gone from the queue and from what a new request may join, at once.
		if s.active[r.key] == r {
			delete(s.active, r.key)
		}
		s.updatePositionsLocked()
	}
	s.mu.Unlock()
	if !queued {
		r.stop(cause)
		return
	}
	msg := "the run was cancelled before it started: " + cause.Error()
	r.publish(Event{Type: "done", JSON: protocol.Encode(protocol.Done{Status: StatusCancelled, Error: msg, TS: time.Now().UnixMilli()})})
	s.finish(r, Outcome{Status: StatusCancelled, Error: msg})
}

func (s *Scheduler) updatePositionsLocked() {
	for i, q := range s.queue {
		q.setQueued(i+1, 0)
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
		r.begin(cancel)
		s.updatePositionsLocked()
		s.mu.Unlock()

		s.started.Add(1)
		out := s.run(ctx, r.Exp, r.Params, r.publish)
		cancel(nil)
		s.finish(r, out)
	}
}

// janitor cancels the runs that nobody has watched for the idle grace.
func (s *Scheduler) janitor() {
	defer s.wg.Done()
	every := min(max(s.cfg.IdleGrace/4, 5*time.Millisecond), time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			var idle []*Run
			for _, r := range s.active {
				if r.idleFor(now) >= s.cfg.IdleGrace {
					idle = append(idle, r)
				}
			}
			s.mu.Unlock()
			for _, r := range idle {
				s.cancelRun(r, errNobody)
			}
		}
	}
}

// finish records a run's outcome and keeps it watchable for a while.
func (s *Scheduler) finish(r *Run, out Outcome) {
	if !r.finish(out) {
		return
	}
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
