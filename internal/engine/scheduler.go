package engine

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

	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Config bounds what a scheduler lets people do to the machines. A zero
// field takes its default.
type Config struct {
	// Queue is how many students' runs may wait (default 32); past it, a
	// request is offered a finished run of the experiment, or refused.
	Queue int
	// PerLearner is how many queued or running runs one learner may have
	// asked for, across all their tabs and reconnects (default 2). The
	// instructor is not limited by it.
	PerLearner int
	// Keep is how many finished runs stay in memory, ready to be watched
	// and offered at once (default 200); the archive holds the rest.
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
	// Recent is how long a finished run is offered to a request identical
	// to it instead of measuring again (default 10 minutes).
	Recent time.Duration
	// Guess is the duration expected of an experiment that has not run
	// yet, for queue waits (default 10 s); after a run, its recent
	// durations are used.
	Guess time.Duration
	// Archive keeps every run beyond this process (default nil: runs live
	// in memory only, Keep of them). See Archive.
	Archive Archive
	// Registry finds the experiment of a run the archive holds; nil
	// replays such runs under their experiment's id alone.
	Registry *lab.Registry
	// Class is told of the runs' named moments (see Class); nil tells
	// nobody.
	Class Class
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Queue, 32)
	def(&c.PerLearner, 2)
	def(&c.Keep, 200)
	dur(&c.Pace, 20*time.Millisecond)
	dur(&c.IdleGrace, 10*time.Second)
	dur(&c.Recent, 10*time.Minute)
	dur(&c.Guess, 10*time.Second)
	if c.Class == nil {
		c.Class = noClass{}
	}
	return c
}

// Errors Start, Watch and Cancel return; their messages are for people.
var (
	ErrQueueFull    = errors.New("the queue is full")
	ErrTooMany      = errors.New("too many runs")
	ErrPaused       = errors.New("the instructor has paused runs")
	ErrUnknownRun   = errors.New("no such run")
	ErrNotYours     = errors.New("only someone who asked for this run can cancel it")
	ErrClosed       = errors.New("the server is shutting down")
	errNobody       = errors.New("nobody was watching it any more")
	errLeftByOwner  = errors.New("everyone who asked for it cancelled")
	errByInstructor = errors.New("the instructor cancelled it")
)

// Request is one ask for a run.
type Request struct {
	Exp    *lab.Experiment
	Params lab.Params // validated
	// Learner is who asks: the anonymous learner id (limits and
	// cancelling are per learner, across tabs and reconnects).
	Learner string
	// Instructor marks the instructor's request: it goes first, and plays
	// live on every follower's page.
	Instructor bool
	// Fresh skips the offer of a recent identical run.
	Fresh bool
	// Host names the measuring host the run must be measured on ("" for
	// whichever the scheduler picks).
	Host string
}

// Started says how Start answered a request.
type Started struct {
	Run    *Run
	Joined bool   // an identical run was queued or running: the request joined it
	Offer  string // not "": a finished run was offered instead, for this reason (protocol.Offer*)
}

// Scheduler queues runs, hands each to a free measuring host, joins
// identical requests, offers finished runs, and enforces the limits of
// Config. It is the one owner of which runs exist and where each is in
// its life; a Run only keeps its own events and viewers, and the
// classroom hears of it all through Class.
type Scheduler struct {
	cfg   Config
	log   *slog.Logger
	class Class

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex // taken before any Run's lock and the classroom's, never after
	cond     *sync.Cond
	closed   bool
	paused   bool // students' runs wait
	queue    *queue
	slots    []*slot
	active   map[string]*Run // queued or running, by key
	byID     map[string]*Run // active, and the finished ones kept
	finished []*Run          // kept in memory, oldest first
	latest   map[string]*Run // newest ok run of each experiment measured by this process
	took     map[string][]time.Duration
	affinity map[string]string // learner → the host that measures their runs

	started atomic.Int64 // runs handed to hosts
}

// NewScheduler starts a scheduler that measures on hosts, each one run at
// a time, with a janitor that cancels runs nobody watches.
func NewScheduler(hosts []Host, cfg Config, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	s := &Scheduler{
		cfg: cfg, log: log, class: cfg.Class, queue: newQueue(),
		active: map[string]*Run{}, byID: map[string]*Run{}, latest: map[string]*Run{},
		took: map[string][]time.Duration{}, affinity: map[string]string{},
	}
	s.cond = sync.NewCond(&s.mu)
	s.ctx, s.stop = context.WithCancel(context.Background())
	for _, h := range hosts {
		sl := &slot{host: h, state: HostIdle, seen: time.Now(), alive: true}
		s.slots = append(s.slots, sl)
		s.wg.Add(1)
		go s.measure(sl)
	}
	s.wg.Add(1)
	go s.janitor()
	return s
}

// Start answers a request for a run and makes v watch what it answers
// with, in one step. An identical run that is queued or running is joined
// (v is sent Accepted with joined, then its events); an identical run that
// finished recently, or when the queue is full or students' runs are
// paused the newest run of the experiment, is offered (v is sent Offer,
// then its replay); otherwise a new run is queued (Accepted, its place in
// the queue, then its events as they come).
func (s *Scheduler) Start(req Request, v Viewer) (Started, error) {
	key := runKey(req.Exp, req.Params, req.Host)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Started{}, ErrClosed
	}
	if err := s.checkPinLocked(req.Host); err != nil {
		return Started{}, err
	}
	s.class.Requested(req.Exp, req.Instructor)
	if r := s.active[key]; r != nil {
		presented := req.Instructor && !r.Presenter()
		if presented {
			s.queue.promote(r) // to the front, when it is still waiting
			r.markPresenter()
			s.updatePositionsLocked()
			s.cond.Broadcast()
		}
		r.accept(v, req.Learner, true)
		s.class.Joined(r, req.Learner, v, presented)
		return Started{Run: r, Joined: true}, nil
	}
	student := !req.Instructor
	if student && !req.Fresh {
		if f := s.recentLocked(key); f != nil {
			return s.offerLocked(f, protocol.OfferRecent, req.Learner, v), nil
		}
	}
	if student && s.paused {
		if f := s.newestLocked(key, req.Exp); f != nil {
			return s.offerLocked(f, protocol.OfferPaused, req.Learner, v), nil
		}
		return Started{}, fmt.Errorf("%w: the instructor has paused students' runs for now; there is no earlier run of this experiment to show you yet", ErrPaused)
	}
	if n := s.countForLocked(req.Learner); student && n >= s.cfg.PerLearner {
		return Started{}, fmt.Errorf("%w: you already have %d runs queued or running; wait for one to finish or cancel it", ErrTooMany, n)
	}
	if waiting := s.queue.len(); waiting >= s.cfg.Queue && (student || len(s.queue.first) >= s.cfg.Queue) {
		if f := s.newestLocked(key, req.Exp); student && f != nil {
			return s.offerLocked(f, protocol.OfferQueueFull, req.Learner, v), nil
		}
		wait := s.waitLocked()
		return Started{}, fmt.Errorf("%w: %d runs are already waiting, and no earlier run of this experiment can be shown instead; a new one could start in about %s — try again then", ErrQueueFull, waiting, wait.Round(time.Second))
	}
	r := s.newRunLocked(req, key)
	s.queue.push(r)
	s.updatePositionsLocked()
	r.accept(v, req.Learner, false)
	s.class.Queued(r, req.Learner, v)
	s.cond.Broadcast()
	return Started{Run: r}, nil
}

// runKey is what makes two requests identical: the experiment, its
// parameters, and the host named, if any.
func runKey(exp *lab.Experiment, p lab.Params, host string) string {
	key := exp.ID + " " + p.Key()
	if host != "" {
		key += " @" + host
	}
	return key
}

// newRunLocked makes a run for req, recorded and counted active.
func (s *Scheduler) newRunLocked(req Request, key string) *Run {
	r := newRun(NewID(), req.Exp, req.Params, key, s.cfg.Pace, req.Learner, req.Instructor)
	r.pin = req.Host
	if s.cfg.Archive != nil {
		r.setTape(s.cfg.Archive.Record(runlog.Record{ID: r.ID, Experiment: r.Exp.ID, Lesson: r.Exp.Lesson, Params: r.Params,
			Learner: req.Learner, Instructor: req.Instructor, Created: r.Created}, r.Log))
	}
	s.active[key] = r
	s.byID[r.ID] = r
	return r
}

// offerLocked makes v watch a finished run, after an Offer that says why.
func (s *Scheduler) offerLocked(f *Run, reason, learner string, v Viewer) Started {
	info := f.Info()
	f.Watch(v, protocol.Encode(protocol.Offer{Run: f.ID, Experiment: f.Exp.ID, Params: f.Params,
		FinishedAt: info.Ended.UTC().Format(time.RFC3339), Reason: reason}))
	s.class.Offered(f, learner)
	return Started{Run: f, Offer: reason}
}

// countForLocked counts the queued or running runs learner asked for.
func (s *Scheduler) countForLocked(learner string) int {
	n := 0
	for _, r := range s.active {
		if r.isRequester(learner) {
			n++
		}
	}
	return n
}

// Watch makes v a viewer of a run: it gets every event so far, then the
// new ones. The run may be one this process has, or one the archive
// holds (its replay, then nothing more).
func (s *Scheduler) Watch(id string, v Viewer) error {
	r, ok := s.Find(id)
	if !ok {
		return ErrUnknownRun
	}
	r.Watch(v)
	return nil
}

// CancelResult says what a cancel request did.
type CancelResult int

// What Cancel can do.
const (
	Cancelled       CancelResult = iota // the run was stopped and its processes killed
	Left                                // others asked for it too: it goes on, without this learner
	AlreadyFinished                     // nothing to do
)

// Cancel withdraws learner's request for a run, and v stops watching it.
// When nobody else asked for it, the run is cancelled (its processes
// killed); otherwise it goes on for the others. The instructor may cancel
// any run.
func (s *Scheduler) Cancel(id, learner string, instructor bool, v Viewer) (CancelResult, error) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r == nil {
		return 0, ErrUnknownRun
	}
	asked, others, finished := r.withdraw(learner)
	switch {
	case finished:
		return AlreadyFinished, nil
	case instructor:
		s.cancelRun(r, errByInstructor)
		return Cancelled, nil
	case !asked:
		return 0, ErrNotYours
	case others > 0:
		r.Unwatch(v)
		return Left, nil
	}
	s.cancelRun(r, errLeftByOwner)
	return Cancelled, nil
}

// Leave stops v watching every run: called when a connection closes.
func (s *Scheduler) Leave(v Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.active {
		r.Unwatch(v)
	}
}

// Pause holds students' runs in the queue (and answers their new requests
// with an offer or ErrPaused) until it is called with false.
func (s *Scheduler) Pause(paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == paused {
		return
	}
	s.paused = paused
	s.updatePositionsLocked()
	s.cond.Broadcast()
}

// Stats counts what the scheduler is doing.
type Stats struct {
	Queued   int   `json:"queued"`
	Running  int   `json:"running"`
	Started  int64 `json:"started"` // runs started since the server started
	Viewers  int   `json:"viewers"` // viewers of queued and running runs
	Finished int   `json:"finished_kept"`
	Paused   bool  `json:"students_paused"`
	Hosts    int   `json:"hosts"` // measuring hosts that are not gone
}

// Stats returns the scheduler's counts now.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Queued: s.queue.len(), Started: s.started.Load(), Finished: len(s.finished), Paused: s.paused}
	for _, sl := range s.slots {
		if sl.state != HostGone {
			st.Hosts++
		}
		if sl.run != nil {
			st.Running++
		}
	}
	for _, r := range s.active {
		st.Viewers += r.viewerCount()
	}
	return st
}

// Close cancels every queued and running run, kills their processes and
// waits for the hosts' loops to stop.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.closed = true
	queued := s.queue.all()
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
// one is stopped by its host.
func (s *Scheduler) cancelRun(r *Run, cause error) {
	s.mu.Lock()
	queued := s.queue.remove(r)
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
	r.publish(runlog.Event{Type: protocol.EventDone, JSON: protocol.Encode(protocol.Done{Status: protocol.StatusCancelled, Error: msg, TS: time.Now().UnixMilli()})})
	s.finish(r, runlog.Outcome{Status: protocol.StatusCancelled, Error: msg})
}

// NewID makes a new run id: 12 lower-case hex digits.
func NewID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
