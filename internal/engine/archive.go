package engine

import (
	"time"

	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Archive keeps runs beyond the scheduler's memory: the app wires the
// store in through Config.Archive. The engine only declares what it
// needs; it knows nothing of disks.
//
// Record is called on the scheduler's path and a Tape's methods on the
// measuring path, so they must return at once and never wait on a disk:
// an archive that cannot keep up says so itself, and the run goes on.
type Archive interface {
	// Record starts the record of a new run, queued and not yet started.
	// The archive writes the run's events from its log, as they come.
	Record(rec runlog.Record, log *runlog.Log) Tape
	// Find is a run the archive holds, with its events.
	Find(id string) (Archived, bool)
	// Latest is, for each experiment, the newest run measured here that
	// finished ok (without its events).
	Latest() map[string]Archived
}

// Tape records one run.
type Tape interface {
	// Asked tells of another learner asking for the same run (joining it).
	Asked(learner string)
	// End is the run's outcome; nothing follows it.
	End(runlog.Outcome)
}

// Archived is a finished run as an archive holds it.
type Archived struct {
	Record runlog.Record
	Status protocol.Status
	Ended  time.Time
	Result []byte // the result event, when it finished ok
	Events []runlog.Entry
}

// nopTape records nothing: the tape of a run when no Archive is set.
type nopTape struct{}

func (nopTape) Asked(string)       {}
func (nopTape) End(runlog.Outcome) {}

// fromArchive is a finished run rebuilt from what an archive holds, to be
// watched or offered like one this process measured.
func fromArchive(a Archived, exp *lab.Experiment) *Run {
	rec := a.Record
	r := newRun(rec.ID, exp, rec.Params, exp.ID+" "+rec.Params.Key(), 0, rec.Learner, rec.Instructor)
	r.Created = rec.Created
	for _, e := range a.Events {
		r.Log.Append(runlog.Event{Type: e.Type, JSON: e.Body})
	}
	r.state, r.ended, r.idleSince = Finished, a.Ended, time.Time{}
	r.outcome = runlog.Outcome{Status: a.Status, Result: a.Result, Events: len(a.Events)}
	close(r.done)
	return r
}
