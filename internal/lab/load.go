package lab

import (
	"fmt"
	"math"
	"time"

	"conclab/internal/format"
	"conclab/internal/probe"
)

// Load is how much the rest of the machine competed with a run for its
// CPUs while it measured: the CPU time other programs used on the CPUs
// the run may use, on average, over the run so far. A timing taken while
// other programs held a good share of those CPUs is partly theirs, so the
// verdict rule (Decide) calls a timing claim inconclusive on a busy
// machine rather than holding it against the textbook.
//
// The kernel's tick accounting in /proc/stat can miss time on CPUs that
// switch thousands of times a second, while the run's own figure
// (getrusage) is exact, so the figure errs low: toward calling a machine
// quiet, never busy by a quirk of its own accounting.
//
// The program that started the run — the server, a measuring host's
// worker, or `conclab run` — is not one of the other programs: its time
// (Server) goes to relaying the run's events to every viewer, and a class
// of hundreds watching a run must not make the run's own verdicts
// inconclusive. It is measured and reported, and left out of Others.
type Load struct {
	Known  bool          // false when it could not be measured (see Why)
	Others float64       // CPUs' worth of time other programs used, on average
	Server float64       // CPUs' worth of time the run's parent used, on average: not counted in Others
	CPUs   int           // CPUs the run may use
	Wall   time.Duration // the time it was measured over
	Why    string        // why it is not known
}

// BusyShare is the share of a run's CPUs that other programs must have
// used, on average, for the machine to count as busy: 15%, which on two
// CPUs is 0.3 of a CPU — far above what an idle machine's background
// (timers, kernel threads, the server sending events) takes.
const BusyShare = 0.15

// minLoadWall is the shortest stretch over which Load is judged: the
// kernel counts CPU time in 10 ms ticks per CPU, so over a few hundred
// milliseconds a single tick is a noticeable share.
const minLoadWall = 300 * time.Millisecond

// KeyLoad is the key of the metric every result carries: what other
// programs used of the run's CPUs while it ran.
const KeyLoad = "machine.other_programs"

// NotTimed is the Load to hand Decide for a figure other programs cannot
// move, such as memory or a count of ids: the machine's load never makes
// such a claim inconclusive.
var NotTimed = Load{}

// Busy reports whether other programs used at least BusyShare of the
// run's CPUs while it measured.
func (l Load) Busy() bool {
	return l.Known && l.Others >= BusyShare*float64(max(l.CPUs, 1))
}

// Text says the load in plain words, for a verdict's why.
func (l Load) Text() string {
	if !l.Known {
		return "how busy the rest of the machine was is not known: " + l.Why
	}
	return fmt.Sprintf("other programs used %.2f of the %d CPU%s this run may use (%.0f%%), on average over %.1f s",
		l.Others, l.CPUs, format.Plural(l.CPUs), 100*l.Others/float64(max(l.CPUs, 1)), l.Wall.Seconds())
}

// Metric is the load as a result's metric.
func (l Load) Metric() Metric {
	m := Metric{Key: KeyLoad, Name: "Other programs' use of this run's CPUs", Unit: "CPUs"}
	if !l.Known {
		m.Note = "not measured: " + l.Why
		return m
	}
	m.Value = math.Round(l.Others*100) / 100
	m.Note = fmt.Sprintf("average over %.1f s on the %d CPU%s this run may use: their busy time in /proc/stat minus the run's own CPU time and that of the server relaying its events (%.2f CPUs); %.0f%% of them or more counts as a busy machine",
		l.Wall.Seconds(), l.CPUs, format.Plural(l.CPUs), l.Server, 100*BusyShare)
	return m
}

// loadWatch is the first reading a run's Load is measured from.
type loadWatch struct {
	cpus  []int
	start probe.CPUTimes
	err   error
	last  *Load // the Load the run judged with, reported in its result
}

func newLoadWatch() *loadWatch {
	w := &loadWatch{}
	w.cpus, w.err = probe.AllowedCPUs()
	if w.err == nil {
		w.start, w.err = probe.ReadCPUTimes(w.cpus)
	}
	return w
}

func (w *loadWatch) read() Load {
	if w.err != nil {
		return Load{Why: w.err.Error()}
	}
	now, err := probe.ReadCPUTimes(w.cpus)
	if err != nil {
		return Load{Why: err.Error()}
	}
	l := Load{CPUs: len(w.cpus), Wall: now.At.Sub(w.start.At)}
	if l.Wall < minLoadWall {
		l.Why = fmt.Sprintf("the run took only %s, too short for the kernel's 10 ms accounting", l.Wall.Round(time.Millisecond))
		return l
	}
	l.Known, l.Others, l.Server = true, now.Others(w.start), now.Server(w.start)
	return l
}
