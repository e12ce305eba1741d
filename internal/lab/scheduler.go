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
	// Queue is how many students' runs may wait (default 32); past it, a
	// request is offered a finished run of the experiment, or refused.
	Queue int
	// PerLearner is how many queued or running runs one learner may have
	// asked for, across all their tabs and reconnects (default 2). The
	// instructor is not limited by it.
	PerLearner int
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
	// Recent is how long a finished run is offered to a request identical
	// to it instead of measuring again (default 10 minutes).
	Recent time.Duration
	// Guess is the duration expected of an experiment that has not run
	// yet, for queue waits (default 10 s); after a run, its recent
	// durations are used.
	Guess time.Duration
	// Guesses keeps learners' scored guesses (the store); nil keeps them
	// in memory only.
	Guesses GuessLog
	// Recorder keeps every run beyond this process (default nil: runs live
	// in memory only, Keep of them). See Recorder.
	Recorder Recorder
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
	def(&c.Parallel, 1)
	def(&c.Queue, 32)
	def(&c.PerLearner, 2)
	def(&c.Keep, 200)
	dur(&c.Pace, 20*time.Millisecond)
	dur(&c.IdleGrace, 10*time.Second)
	dur(&c.Recent, 10*time.Minute)
	dur(&c.Guess, 10*time.Second)
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
	Exp    *Experiment
	Params Params // validated
	// Learner is who asks: the anonymous learner id (limits and
	// cancelling are per learner, across tabs and reconnects).
	Learner string
	// Instructor marks the instructor's request: it goes first, and plays
	// live on every follower's page.
	Instructor bool
	// Fresh skips the offer of a recent identical run.
	Fresh bool
}

// Started says how Start answered a request.
type Started struct {
	Run    *Run
	Joined bool   // an identical run was queued or running: the request joined it
	Offer  string // not "": a finished run was offered instead, for this reason (protocol.Offer*)
}

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
	paused    bool // students' runs wait
	queue     *queue
	running   map[*Run]struct{}
	active    map[string]*Run // queued or running, by key
	byID      map[string]*Run // every run still kept
	finished  []*Run          // oldest first
	latest    map[string]*Run // newest ok run of each experiment
	took      map[string][]time.Duration
	followers map[Viewer]follower
	class     classWatch
	guesses   guessBook

	started atomic.Int64 // runs handed to RunFunc
}

// follower is a page on a lesson.
type follower struct{ lesson, learner string }

// NewScheduler starts cfg.Parallel workers that take runs from the queue,
// a janitor that cancels runs nobody watches, and the class view's
// updates.
func NewScheduler(run RunFunc, cfg Config, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	s := &Scheduler{
		run: run, cfg: cfg.withDefaults(), log: log, queue: newQueue(), running: map[*Run]struct{}{},
		active: map[string]*Run{}, byID: map[string]*Run{}, latest: map[string]*Run{},
		took: map[string][]time.Duration{}, followers: map[Viewer]follower{},
		class: classWatch{viewers: map[Viewer]struct{}{}}, guesses: newGuessBook(),
	}
	s.cond = sync.NewCond(&s.mu)
	s.ctx, s.stop = context.WithCancel(context.Background())
	for range s.cfg.Parallel {
		s.wg.Add(1)
		go s.worker()
	}
	s.wg.Add(2)
	go s.janitor()
	go s.classLoop()
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
	key := req.Exp.ID + " " + req.Params.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Started{}, ErrClosed
	}
	if req.Instructor {
		s.openRoundLocked(req.Exp)
	}
	if r := s.active[key]; r != nil {
		if req.Instructor && !r.presenter {
			s.presentLocked(r)
		}
		r.accept(v, req.Learner, true)
		if r.Info().State == Running {
			s.lockLocked(r, req.Learner) // the learner sees its numbers from now on
		}
		return Started{Run: r, Joined: true}, nil
	}
	student := !req.Instructor
	if student && !req.Fresh {
		if f := s.recentLocked(key); f != nil {
			return s.offerLocked(f, protocol.OfferRecent, req.Learner, v), nil
		}
	}
	if student && s.paused {
		if f := s.newestLocked(key, req.Exp.ID); f != nil {
			return s.offerLocked(f, protocol.OfferPaused, req.Learner, v), nil
		}
		return Started{}, fmt.Errorf("%w: the instructor has paused students' runs for now; there is no earlier run of this experiment to show you yet", ErrPaused)
	}
	if n := s.countForLocked(req.Learner); student && n >= s.cfg.PerLearner {
		return Started{}, fmt.Errorf("%w: you already have %d runs queued or running; wait for one to finish or cancel it", ErrTooMany, n)
	}
	if waiting := s.queue.len(); waiting >= s.cfg.Queue && (student || len(s.queue.first) >= s.cfg.Queue) {
		if f := s.newestLocked(key, req.Exp.ID); student && f != nil {
			return s.offerLocked(f, protocol.OfferQueueFull, req.Learner, v), nil
		}
		wait := s.waitLocked()
		return Started{}, fmt.Errorf("%w: %d runs are already waiting, and no earlier run of this experiment can be shown instead; a new one could start in about %s — try again then", ErrQueueFull, waiting, wait.Round(time.Second))
	}
	r := newRun(newID(), req.Exp, req.Params, key, s.cfg.Pace, req.Learner, req.Instructor)
	if s.cfg.Recorder != nil {
		r.tape = s.cfg.Recorder.Record(RunRecord{ID: r.ID, Experiment: r.Exp.ID, Lesson: r.Exp.Lesson, Params: r.Params,
			Learner: req.Learner, Instructor: req.Instructor, Created: r.Created})
	}
	s.active[key] = r
	s.byID[r.ID] = r
	s.queue.push(r)
	s.updatePositionsLocked()
	r.accept(v, req.Learner, false)
	if r.presenter {
		s.announceLocked(r, v)
	}
	s.class.dirty = true
	s.cond.Signal()
	return Started{Run: r}, nil
}

// presentLocked makes a student's run the instructor's: it moves to the
// front and is announced to the lesson's followers.
func (s *Scheduler) presentLocked(r *Run) {
	s.queue.promote(r) // when it is still waiting
	r.markPresenter()
	s.updatePositionsLocked()
	s.announceLocked(r, nil)
	s.class.dirty = true
	s.cond.Signal()
}

// offerLocked makes v watch a finished run, after an Offer that says why.
// The learner sees its numbers at once, so a guess they made is scored
// against it now.
func (s *Scheduler) offerLocked(f *Run, reason, learnerID string, v Viewer) Started {
	info := f.Info()
	f.watch(v, protocol.Encode(protocol.Offer{Run: f.ID, Experiment: f.Exp.ID, Params: f.Params,
		FinishedAt: info.Ended.UTC().Format(time.RFC3339), Reason: reason}))
	var gs []*guess
	for k, g := range s.guesses.open {
		if k.learner == learnerID && k.exp == f.Exp.ID {
			gs = append(gs, g)
			delete(s.guesses.open, k)
		}
	}
	if body, err := DecodeResult(info.Result); err == nil && len(gs) > 0 {
		s.scoreLocked(f, gs, body)
	}
	return Started{Run: f, Offer: reason}
}

// recentLocked is an identical run that finished ok within cfg.Recent.
func (s *Scheduler) recentLocked(key string) *Run {
	for i := len(s.finished) - 1; i >= 0; i-- {
		f := s.finished[i]
		info := f.Info()
		if time.Since(info.Ended) > s.cfg.Recent {
			return nil
		}
		if f.key == key && info.Status == StatusOK {
			return f
		}
	}
	return nil
}

// newestLocked is the newest identical run that finished ok, else the
// newest ok run of the experiment, else nil.
func (s *Scheduler) newestLocked(key, exp string) *Run {
	for i := len(s.finished) - 1; i >= 0; i-- {
		if f := s.finished[i]; f.key == key && f.Info().Status == StatusOK {
			return f
		}
	}
	return s.latest[exp]
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
	if _, ok := s.followers[v]; ok {
		delete(s.followers, v)
		s.class.dirty = true
	}
	delete(s.class.viewers, v)
	for _, r := range s.active {
		r.unwatch(v)
	}
}

// Follow makes v a follower of a lesson's page: it is sent a Live message
// for each of the instructor's runs of the lesson's experiments, queued or
// running now and from now on, and the instructor's Present messages.
func (s *Scheduler) Follow(lesson, learner string, v Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followers[v] = follower{lesson: lesson, learner: learner}
	s.class.dirty = true
	var msgs [][]byte
	for r := range s.running {
		if r.presenter && r.Exp.Lesson == lesson {
			msgs = append(msgs, liveMsg(r))
		}
	}
	for _, r := range s.queue.order() {
		if r.presenter && r.Exp.Lesson == lesson {
			msgs = append(msgs, liveMsg(r))
		}
	}
	msgs = append(msgs, s.retellLocked(lesson, learner)...)
	if len(msgs) > 0 && !v.Send(msgs) {
		delete(s.followers, v)
	}
}

func liveMsg(r *Run) []byte {
	return protocol.Encode(protocol.Live{Run: r.ID, Experiment: r.Exp.ID, Params: r.Params, Presenter: true})
}

// announceLocked tells the lesson's followers, but the one who asked, of
// the instructor's run.
func (s *Scheduler) announceLocked(r *Run, asker Viewer) {
	msg := liveMsg(r)
	for v, f := range s.followers {
		if v != asker && f.lesson == r.Exp.Lesson && !v.Send([][]byte{msg}) {
			delete(s.followers, v)
		}
	}
}

// Present sends every follower, whatever lesson they are on, to a lesson
// and a place on its page.
func (s *Scheduler) Present(lesson, anchor string) {
	msg := protocol.Encode(protocol.Present{Lesson: lesson, Anchor: anchor})
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.followers {
		if !v.Send([][]byte{msg}) {
			delete(s.followers, v)
		}
	}
}

// OpenRound starts collecting the class's guesses for an experiment the
// instructor presents (a round that is still to be run stays open).
func (s *Scheduler) OpenRound(exp *Experiment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openRoundLocked(exp)
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
	s.class.dirty = true
	s.cond.Broadcast()
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
	Paused   bool  `json:"students_paused"`
}

// Stats returns the scheduler's counts now.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Queued: s.queue.len(), Running: len(s.running), Started: s.started.Load(), Finished: len(s.finished), Paused: s.paused}
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
// one has its processes killed by the runner.
func (s *Scheduler) cancelRun(r *Run, cause error) {
	s.mu.Lock()
	queued := s.queue.remove(r)
	if queued {
		// Gone from the queue and from what a new request may join, at once.
		if s.active[r.key] == r {
			delete(s.active, r.key)
		}
		s.updatePositionsLocked()
		s.class.dirty = true
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

func (s *Scheduler) worker() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var r *Run
		for !s.closed {
			if r = s.queue.pop(!s.paused); r != nil {
				break
			}
			s.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		ctx, cancel := context.WithCancelCause(s.ctx)
		r.begin(cancel)
		s.running[r] = struct{}{}
		s.runBeganLocked(r)
		s.updatePositionsLocked()
		s.class.dirty = true
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

// finish records a run's outcome and keeps it watchable for a while. The
// run ends under the scheduler's lock, so that by the time anyone sees it
// end (its Done, its last event) the scheduler no longer counts it active:
// a request right after is offered the finished run, never joined to it.
func (s *Scheduler) finish(r *Run, out Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.finish(out) {
		return
	}
	if s.active[r.key] == r {
		delete(s.active, r.key)
	}
	if _, ok := s.running[r]; ok {
		delete(s.running, r)
		if info := r.Info(); out.Status == StatusOK {
			s.recordDurationLocked(r.Exp.ID, info.Ended.Sub(info.Began))
		}
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
	s.runEndedLocked(r, out)
	s.updatePositionsLocked()
	s.class.dirty = true
	s.log.Info("run finished", "run", r.ID, "experiment", r.Exp.ID, "status", out.Status, "error", out.Error)
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
