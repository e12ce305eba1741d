package engine

import (
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Class is told what happens to runs at a few named moments, so that a
// classroom (internal/classroom) can follow them: announce the
// instructor's runs, lock guesses when a run starts and score them when
// it ends. The scheduler calls these under its own lock, in the order
// things happen; an implementation takes its own lock inside, may call
// a Run's exported methods and Viewers' Send, and must never call back
// into the scheduler.
type Class interface {
	// Requested: someone asked for a run of exp (before it is answered).
	Requested(exp *lab.Experiment, instructor bool)
	// Queued: a new run was queued for learner; v watches it.
	Queued(r *Run, learner string, v Viewer)
	// Joined: learner's request joined r, queued or running; presented is
	// true when the instructor's request made a student's run theirs.
	Joined(r *Run, learner string, v Viewer, presented bool)
	// Offered: learner was offered r, a finished run, instead of a new one.
	Offered(r *Run, learner string)
	// Began: r started measuring.
	Began(r *Run)
	// Ended: r finished, however it ended.
	Ended(r *Run, out runlog.Outcome)
	// Everywhere: the instructor's runs of one experiment on every host
	// were queued, as group; v watches them.
	Everywhere(group protocol.Everywhere, runs []*Run, v Viewer)
}

// noClass is the Class of a scheduler without a classroom.
type noClass struct{}

func (noClass) Requested(*lab.Experiment, bool)                {}
func (noClass) Queued(*Run, string, Viewer)                    {}
func (noClass) Joined(*Run, string, Viewer, bool)              {}
func (noClass) Offered(*Run, string)                           {}
func (noClass) Began(*Run)                                     {}
func (noClass) Ended(*Run, runlog.Outcome)                     {}
func (noClass) Everywhere(protocol.Everywhere, []*Run, Viewer) {}
