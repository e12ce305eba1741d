package store

import (
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// The store as the scheduler's archive (engine.Archive): the runs this
// process no longer holds in memory are found here, with their events.

// Find is a stored run with its events.
func (s *Store) Find(id string) (engine.Archived, bool) {
	r, err := s.Get(id)
	if err != nil {
		return engine.Archived{}, false
	}
	evs, err := s.Events(id)
	if err != nil {
		s.o.Log.Warn("reading a stored run's events", "run", id, "err", err)
		return engine.Archived{}, false
	}
	a := archived(r)
	a.Events = make([]runlog.Entry, len(evs))
	for i, e := range evs {
		a.Events[i] = runlog.Entry{Seq: e.Seq, Type: e.Type, Body: e.JSON}
	}
	return a, true
}

// Latest is the newest run of each experiment that finished ok on this
// machine (an imported run was measured elsewhere and is left out),
// without its events.
func (s *Store) Latest() map[string]engine.Archived {
	rows, err := s.r.Query(`SELECT `+runColumns+`, result FROM runs AS r WHERE status = ? AND source != ?
		AND ended_ms = (SELECT max(ended_ms) FROM runs WHERE experiment = r.experiment AND status = ? AND source != ?)`,
		protocol.StatusOK, SourceImport, protocol.StatusOK, SourceImport)
	if err != nil {
		s.o.Log.Warn("reading the latest runs", "err", describe(err))
		return nil
	}
	defer rows.Close()
	out := map[string]engine.Archived{}
	for rows.Next() {
		r, err := scanRun(rows, true)
		if err != nil {
			s.o.Log.Warn("reading the latest runs", "err", describe(err))
			return out
		}
		out[r.Experiment] = archived(r)
	}
	return out
}

func archived(r Run) engine.Archived {
	return engine.Archived{
		Record: runlog.Record{ID: r.ID, Experiment: r.Experiment, Lesson: r.Lesson, Params: lab.Params(r.Params),
			Learner: r.Learner, Instructor: r.Instructor, Created: r.Created},
		Status: r.Status, Ended: r.Ended, Result: r.Result,
	}
}
