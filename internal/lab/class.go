package lab

import (
	"slices"
	"time"

	"conclab/internal/learner"
	"conclab/internal/protocol"
)

// The instructor's view of the class: what waits, what measures, and how
// many learners are on each lesson, sent to the instructor's pages as it
// changes.

// classEvery is how often the class view may be sent: often enough to
// look live, rarely enough to cost nothing with hundreds of learners.
const classEvery = 250 * time.Millisecond

type classWatch struct {
	viewers map[Viewer]struct{}
	dirty   bool
}

// WatchClass sends v the class view now and whenever it changes.
func (s *Scheduler) WatchClass(v Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.class.viewers[v] = struct{}{}
	if !v.Send([][]byte{protocol.Encode(s.classLocked())}) {
		delete(s.class.viewers, v)
	}
}

// Class is the class view now.
func (s *Scheduler) Class() protocol.Class {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.classLocked()
}

func (s *Scheduler) classLocked() protocol.Class {
	c := protocol.Class{Paused: s.paused, Queue: []protocol.ClassRun{}, Running: []protocol.ClassRun{}, Lessons: []protocol.LessonCount{}}
	order := s.queue.order()
	etas := s.etasLocked(order)
	for i, r := range order {
		cr := classRun(r)
		cr.Position, cr.ETA = i+1, etas[i].Round(100*time.Millisecond).Seconds()
		c.Queue = append(c.Queue, cr)
	}
	for r := range s.running {
		cr := classRun(r)
		cr.Elapsed = time.Since(r.Info().Began).Round(100 * time.Millisecond).Seconds()
		c.Running = append(c.Running, cr)
	}
	slices.SortFunc(c.Running, func(a, b protocol.ClassRun) int { return int(b.Elapsed*10 - a.Elapsed*10) })
	perLesson := map[string]map[string]bool{}
	everyone := map[string]bool{}
	for _, f := range s.followers {
		if perLesson[f.lesson] == nil {
			perLesson[f.lesson] = map[string]bool{}
		}
		perLesson[f.lesson][f.learner] = true
		everyone[f.learner] = true
	}
	for lesson, ls := range perLesson {
		c.Lessons = append(c.Lessons, protocol.LessonCount{Lesson: lesson, Learners: len(ls)})
	}
	slices.SortFunc(c.Lessons, func(a, b protocol.LessonCount) int {
		if a.Lesson < b.Lesson {
			return -1
		}
		return 1
	})
	c.Learners = len(everyone)
	c.Guesses = s.classGuessesLocked()
	return c
}

func classRun(r *Run) protocol.ClassRun {
	info := r.Info()
	name := "instructor"
	if !info.Presenter {
		name = learner.ID(info.Owner).Name()
	}
	return protocol.ClassRun{Run: r.ID, Experiment: r.Exp.ID, Learner: name, Presenter: info.Presenter, Viewers: info.Viewers}
}

// classLoop sends the class view to the instructor's pages when it has
// changed, and every second while runs measure (their times move on).
func (s *Scheduler) classLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(classEvery)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			due := s.class.dirty || (len(s.running) > 0 && now.Sub(last) >= time.Second)
			if due && len(s.class.viewers) > 0 {
				msg := protocol.Encode(s.classLocked())
				for v := range s.class.viewers {
					if !v.Send([][]byte{msg}) {
						delete(s.class.viewers, v)
					}
				}
				last = now
			}
			if due {
				s.class.dirty = false
			}
			s.mu.Unlock()
		}
	}
}
