package classroom

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"conclab/internal/engine"
	"conclab/internal/learner"
	"conclab/internal/protocol"
)

// The instructor's view of the class: what waits, what measures, on which
// host, how many learners are on each lesson, and the open rounds of
// guesses, sent to the instructor's pages whenever it changes.

// viewEvery is how often the class view may be sent: often enough to look
// live, rarely enough to cost nothing with hundreds of learners.
const viewEvery = 250 * time.Millisecond

// WatchClass sends v the class view now and whenever it changes.
func (c *Classroom) WatchClass(v engine.Viewer) {
	snap := c.snapshot()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchers[v] = struct{}{}
	if !v.Send([][]byte{protocol.Encode(c.viewLocked(snap))}) {
		delete(c.watchers, v)
	}
}

// View is the class view now.
func (c *Classroom) View() protocol.Class {
	snap := c.snapshot()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.viewLocked(snap)
}

func (c *Classroom) snapshot() engine.Snapshot {
	if c.cfg.Snapshot == nil {
		return engine.Snapshot{}
	}
	return c.cfg.Snapshot()
}

func (c *Classroom) viewLocked(snap engine.Snapshot) protocol.Class {
	view := protocol.Class{Paused: snap.Paused, Queue: []protocol.ClassRun{}, Running: []protocol.ClassRun{}, Lessons: []protocol.LessonCount{}}
	for i, w := range snap.Queue {
		cr := classRun(w.Info)
		cr.Position, cr.ETA = i+1, w.Wait.Round(100*time.Millisecond).Seconds()
		view.Queue = append(view.Queue, cr)
	}
	for _, info := range snap.Running {
		cr := classRun(info)
		cr.Elapsed = since(info.Began).Seconds()
		view.Running = append(view.Running, cr)
	}
	slices.SortFunc(view.Running, func(a, b protocol.ClassRun) int { return int(b.Elapsed*10 - a.Elapsed*10) })
	perLesson := map[string]map[string]bool{}
	everyone := map[string]bool{}
	for _, f := range c.followers {
		if f.instructor {
			continue // the instructor's own tabs are not the class
		}
		if perLesson[f.lesson] == nil {
			perLesson[f.lesson] = map[string]bool{}
		}
		perLesson[f.lesson][f.learner] = true
		everyone[f.learner] = true
	}
	for lesson, ls := range perLesson {
		view.Lessons = append(view.Lessons, protocol.LessonCount{Lesson: lesson, Learners: len(ls)})
	}
	slices.SortFunc(view.Lessons, func(a, b protocol.LessonCount) int { return strings.Compare(a.Lesson, b.Lesson) })
	view.Learners = len(everyone)
	view.Hosts = []protocol.ClassHost{}
	for _, h := range snap.Hosts {
		view.Hosts = append(view.Hosts, protocol.ClassHost{Name: h.Name, State: string(h.State), Run: h.Run, Runs: h.Runs,
			CPUs: h.Host.EffectiveCPUs(), CPU: h.Host.CPUModel})
	}
	view.Guesses = c.classGuessesLocked()
	if c.assigned != nil {
		view.Assignment = c.assignmentLocked(len(perLesson[c.assigned.task.Lesson]))
	}
	return view
}

// classRun is a run as the instructor sees it: its learner by short name.
func classRun(info engine.Info) protocol.ClassRun {
	name := "instructor"
	if !info.Presenter {
		name = learner.ID(info.Owner).Name()
	}
	return protocol.ClassRun{Run: info.ID, Experiment: info.Experiment, Learner: name, Presenter: info.Presenter,
		Viewers: info.Viewers, Host: info.Host}
}

// viewLoop sends the class view to the instructor's pages when it has
// changed, at most every viewEvery.
func (c *Classroom) viewLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(viewEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			c.mu.Lock()
			watched := len(c.watchers) > 0
			c.mu.Unlock()
			if watched {
				c.sendView(c.snapshot())
			}
		}
	}
}

// sendView sends the view to every watcher when it differs from the last
// one sent.
func (c *Classroom) sendView(snap engine.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := protocol.Encode(c.viewLocked(snap))
	if bytes.Equal(msg, c.lastView) {
		return
	}
	c.lastView = msg
	for v := range c.watchers {
		if !v.Send([][]byte{msg}) {
			delete(c.watchers, v)
		}
	}
}
