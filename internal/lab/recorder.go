package lab

import "time"

// Recorder keeps runs beyond the scheduler's memory: the app wires the
// store in through Config.Recorder, and `conclab run` uses it directly.
// The engine only declares what it needs; it knows nothing of disks.
//
// Its methods are called on the measuring path — a Tape's Event from the
// goroutine that reads the child's events, under the run's lock — so they
// must return at once and never wait on a disk: a recorder that cannot
// keep up drops what it cannot write and says so itself, and the run goes
// on.
type Recorder interface {
	// Record starts the record of a new run, queued and not yet started.
	Record(RunRecord) Tape
}

// RunRecord is what a Recorder is told of a run when it is made.
type RunRecord struct {
	ID         string
	Experiment string
	Lesson     string
	Params     Params
	Learner    string // the learner who asked first; "" for `conclab run`
	Instructor bool
	Created    time.Time
}

// Tape records one run.
type Tape interface {
	// Event is each event of the run, in order, as the experiment emitted
	// it (without the "run" and "seq" the hub adds for its viewers).
	Event(Event)
	// Asked tells of another learner asking for the same run (joining it).
	Asked(learner string)
	// End is the run's outcome; nothing follows it.
	End(Outcome)
}

// nopTape records nothing: the tape of a run when no Recorder is set.
type nopTape struct{}

func (nopTape) Event(Event)  {}
func (nopTape) Asked(string) {}
func (nopTape) End(Outcome)  {}

// NewID makes a new run id: 12 lower-case hex digits.
func NewID() string { return newID() }
