package engine

import (
	"time"

	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// Finished runs are found one way, whether this process measured them or
// the archive holds them: the scheduler keeps the newest Keep in memory,
// ready to be watched and offered at once, and asks the archive for the
// rest.

// keepLocked keeps a finished run in memory, dropping the oldest past Keep
// (the archive still holds them).
func (s *Scheduler) keepLocked(r *Run) {
	s.byID[r.ID] = r
	s.finished = append(s.finished, r)
	for len(s.finished) > s.cfg.Keep {
		old := s.finished[0]
		s.finished = s.finished[1:]
		if s.latest[old.Exp.ID] != old {
			delete(s.byID, old.ID)
		}
	}
}

// Find is a run by id: queued, running or finished, from memory or, when
// this process no longer has it, from the archive.
func (s *Scheduler) Find(id string) (*Run, bool) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r != nil {
		return r, true
	}
	if s.cfg.Archive == nil {
		return nil, false
	}
	a, ok := s.cfg.Archive.Find(id)
	if !ok || a.Status == protocol.StatusQueued || a.Status == protocol.StatusRunning {
		return nil, false // one another process is measuring is not ours to replay
	}
	r = fromArchive(a, s.experiment(a.Record.Experiment, a.Record.Lesson))
	s.mu.Lock()
	defer s.mu.Unlock()
	if kept := s.byID[id]; kept != nil {
		return kept, true
	}
	s.keepLocked(r)
	return r, true
}

// experiment is the experiment of an archived run; one the course no
// longer has is named by its id alone.
func (s *Scheduler) experiment(id, lesson string) *lab.Experiment {
	if s.cfg.Registry != nil {
		if e, ok := s.cfg.Registry.Lookup(id); ok {
			return e
		}
	}
	return &lab.Experiment{ID: id, Lesson: lesson, Title: id}
}

// recentLocked is an identical run that finished ok within cfg.Recent.
func (s *Scheduler) recentLocked(key string) *Run {
	for i := len(s.finished) - 1; i >= 0; i-- {
		f := s.finished[i]
		info := f.Info()
		if time.Since(info.Ended) > s.cfg.Recent {
			return nil
		}
		if f.key == key && info.Status == protocol.StatusOK {
			return f
		}
	}
	return nil
}

// newestLocked is the newest identical run that finished ok, else the
// newest ok run of the experiment, from memory or the archive; nil when
// there is none.
func (s *Scheduler) newestLocked(key string, exp *lab.Experiment) *Run {
	for i := len(s.finished) - 1; i >= 0; i-- {
		if f := s.finished[i]; f.key == key && f.Info().Status == protocol.StatusOK {
			return f
		}
	}
	if r := s.latest[exp.ID]; r != nil {
		return r
	}
	if s.cfg.Archive == nil {
		return nil
	}
	latest, ok := s.cfg.Archive.Latest()[exp.ID]
	if !ok {
		return nil
	}
	if r := s.byID[latest.Record.ID]; r != nil {
		return r
	}
	a, ok := s.cfg.Archive.Find(latest.Record.ID)
	if !ok {
		return nil
	}
	r := fromArchive(a, exp)
	s.keepLocked(r)
	return r
}

// Latest is, for each experiment, its newest run that finished ok: this
// process's, else the archive's. Pages read their figures from it.
func (s *Scheduler) Latest() map[string]Info {
	out := map[string]Info{}
	if s.cfg.Archive != nil {
		for exp, a := range s.cfg.Archive.Latest() {
			rec := a.Record
			out[exp] = Info{ID: rec.ID, Experiment: rec.Experiment, Lesson: rec.Lesson, State: Finished, Status: a.Status,
				Params: rec.Params, Created: rec.Created, Ended: a.Ended, Result: a.Result}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for exp, r := range s.latest {
		if info := r.Info(); info.Ended.After(out[exp].Ended) {
			out[exp] = info
		}
	}
	return out
}
