// Package classroom is the class around the runs: the pages that follow
// a lesson, the instructor presenting (their runs announced and played on
// every following page, their moves sent to them), the instructor's live
// view of the class, the rounds of guesses the class makes before a run,
// and the exercise or self-check the instructor assigns. It owns all of that under one lock of its own. The engine tells it
// what happened to runs at a few named moments (it implements
// engine.Class); it never calls back into the scheduler.
package classroom

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Config is what a classroom needs from outside.
type Config struct {
	// Snapshot is what the scheduler is doing now, for the instructor's
	// view; nil shows no queue.
	Snapshot func() engine.Snapshot
	// Guesses keeps learners' scored guesses (the store); nil keeps them
	// in memory only.
	Guesses GuessLog
	// Answers reads the answers given so far to some questions (the
	// store), so that an assignment counts those given before it; nil
	// counts only those given while it is assigned.
	Answers func(questions []string) ([]Answer, error)
	// Log receives what went wrong; nil means slog.Default().
	Log *slog.Logger
}

// Classroom follows the class. Its methods are safe for concurrent use.
type Classroom struct {
	cfg Config

	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu        sync.Mutex // taken after the scheduler's lock, before any Run's
	followers map[engine.Viewer]*follower
	live      map[*engine.Run]time.Time // the instructor's runs, queued or running (zero), or ended lately (when)
	running   map[*engine.Run]struct{}  // every run measuring now
	watchers  map[engine.Viewer]struct{}
	groups    map[string]protocol.Everywhere // the instructor's runs on every host, by group
	guesses   guessBook
	assigned  *assignment // what the instructor assigned last (assign.go)
	lastView  []byte
}

// follower is a page on a lesson.
type follower struct {
	lesson, learner string
	instructor      bool // the instructor's own tab: not counted as a learner
	following       bool // it plays the instructor's runs and moves
}

// New starts a classroom; Close stops it.
func New(cfg Config) *Classroom {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Classroom{cfg: cfg, followers: map[engine.Viewer]*follower{}, live: map[*engine.Run]time.Time{},
		running: map[*engine.Run]struct{}{}, watchers: map[engine.Viewer]struct{}{}, groups: map[string]protocol.Everywhere{},
		guesses: newGuessBook()}
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.viewLoop()
	return c
}

// Close stops sending the class view.
func (c *Classroom) Close() {
	c.stop()
	c.wg.Wait()
}

// ---- Pages.

// Follow makes v a page of a lesson, following the instructor: it is sent
// a Live message for each of the instructor's runs of the lesson's
// experiments, queued or running now and from now on, and made to watch
// each in the same step; and the instructor's Present messages. It is
// also told what it missed: its learner's recent scores and the revealed
// rounds of its lesson.
func (c *Classroom) Follow(lesson, learner string, instructor bool, v engine.Viewer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := &follower{lesson: lesson, learner: learner, instructor: instructor, following: true}
	c.followers[v] = f
	c.joinLocked(learner, instructor) // counted in what is assigned (assign.go)
	if msgs := c.retellLocked(lesson, learner); len(msgs) > 0 && !v.Send(msgs) {
		delete(c.followers, v)
		return
	}
	c.playLiveLocked(v, f)
}

// SetFollowing turns following the instructor on or off for page v: off,
// it stops watching the instructor's runs and is sent nothing more of
// them, nor the instructor's moves; on again, it is told of the runs under
// way and watches them.
func (c *Classroom) SetFollowing(v engine.Viewer, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.followers[v]
	if f == nil || f.following == on {
		return
	}
	f.following = on
	if on {
		c.playLiveLocked(v, f)
		return
	}
	for r := range c.live {
		r.Unwatch(v)
	}
}

// replayFor is how long the instructor's run that ended is still played
// to a page that comes (back): one that lost its connection near the end
// of the run gets the end it missed, and a late page the latest run.
const replayFor = 2 * time.Minute

// playLiveLocked makes a following page watch the instructor's runs of
// its lesson that are queued, running or ended within replayFor.
func (c *Classroom) playLiveLocked(v engine.Viewer, f *follower) {
	told := map[string]bool{} // groups whose Everywhere went out
	for r, ended := range c.live {
		switch {
		case !ended.IsZero() && time.Since(ended) > replayFor:
			delete(c.live, r)
			delete(c.groups, r.Group())
		case r.Exp.Lesson != f.lesson:
		case r.Group() == "":
			r.Watch(v, liveMsg(r))
		case !told[r.Group()]:
			if g, ok := c.groups[r.Group()]; ok {
				told[r.Group()] = true
				v.Send([][]byte{protocol.Encode(g)})
			}
			r.Watch(v)
		default:
			r.Watch(v)
		}
	}
}

// Leave forgets v: called when a connection closes.
func (c *Classroom) Leave(v engine.Viewer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.followers, v)
	delete(c.watchers, v)
}

// Present sends every following page, whatever lesson it is on, to a
// lesson and a place on its page.
func (c *Classroom) Present(lesson, anchor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.presentLocked(lesson, anchor)
}

func (c *Classroom) presentLocked(lesson, anchor string) {
	msg := protocol.Encode(protocol.Present{Lesson: lesson, Anchor: anchor})
	for v, f := range c.followers {
		if f.following && !v.Send([][]byte{msg}) {
			delete(c.followers, v)
		}
	}
}

func liveMsg(r *engine.Run) []byte {
	return protocol.Encode(protocol.Live{Run: r.ID, Experiment: r.Exp.ID, Params: r.Params, Presenter: true})
}

// announceLocked makes every page following r's lesson, but the one that
// asked, watch the instructor's run r.
func (c *Classroom) announceLocked(r *engine.Run, asker engine.Viewer) {
	c.live[r] = time.Time{}
	for v, f := range c.followers {
		if v != asker && f.following && f.lesson == r.Exp.Lesson {
			r.Watch(v, liveMsg(r))
		}
	}
}

// Everywhere announces the instructor's runs on every host to the
// following pages of the lesson: each is sent the group, then watches its
// runs.
func (c *Classroom) Everywhere(g protocol.Everywhere, runs []*engine.Run, asker engine.Viewer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups[g.Group] = g
	msg := protocol.Encode(g)
	for _, r := range runs {
		c.live[r] = time.Time{}
	}
	for v, f := range c.followers {
		if v == asker || !f.following || len(runs) == 0 || f.lesson != runs[0].Exp.Lesson {
			continue
		}
		v.Send([][]byte{msg})
		for _, r := range runs {
			r.Watch(v)
		}
	}
}

// ---- The engine's moments (engine.Class).

// Requested opens a round of guesses when the instructor asks for a run.
func (c *Classroom) Requested(exp *lab.Experiment, instructor bool) {
	if !instructor {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.openRoundLocked(exp)
}

// Queued announces a new run of the instructor's (one of a group on every
// host is announced with its group).
func (c *Classroom) Queued(r *engine.Run, learner string, v engine.Viewer) {
	if !r.Presenter() || r.Group() != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.announceLocked(r, v)
}

// Joined announces a student's run the instructor made theirs, and locks
// the learner's guesses to a run that is already measuring.
func (c *Classroom) Joined(r *engine.Run, learner string, v engine.Viewer, presented bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if presented {
		c.announceLocked(r, v)
	}
	if _, measuring := c.running[r]; measuring {
		c.lockLocked(r, learner) // the learner sees its numbers from now on
	}
}

// Offered scores the learner's open guesses against the finished run they
// were shown: they see its numbers at once.
func (c *Classroom) Offered(r *engine.Run, learner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offeredLocked(r, learner)
}

// Began locks the guesses the run is scored on.
func (c *Classroom) Began(r *engine.Run) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[r] = struct{}{}
	c.runBeganLocked(r)
}

// Ended scores the run's guesses, and forgets it.
func (c *Classroom) Ended(r *engine.Run, out runlog.Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.running, r)
	if _, ok := c.live[r]; ok {
		c.live[r] = time.Now() // played a while longer to pages that come back
	}
	c.runEndedLocked(r, out)
}

// tellFollowersOf sends msg to every page of learner.
func (c *Classroom) tellLearnerLocked(learner string, msg []byte) {
	for v, f := range c.followers {
		if f.learner == learner && !v.Send([][]byte{msg}) {
			delete(c.followers, v)
		}
	}
}

// since is how long ago t was, rounded for the view.
func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
