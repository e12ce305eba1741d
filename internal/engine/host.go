package engine

import (
	"context"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/runlog"
)

// Host is a measuring host: something that measures one run at a time
// and reports its events as they come. This machine's runner is one
// (runner.Local); a machine that joined over the network is another.
type Host interface {
	// Name is the host's name, unique among the hosts of one scheduler.
	Name() string
	// Facts are the host's facts, as its runs' started events carry them.
	Facts() probe.Host
	// Measure runs one experiment and calls emit for each of its events,
	// in order, ending with exactly one done event; it returns how the
	// run ended once nothing of it is left running. Cancelling ctx stops
	// the run (it ends cancelled, or timeout when its limit passed).
	Measure(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome
}

// HostState is what a measuring host is doing.
type HostState string

// The states of a host.
const (
	HostIdle      HostState = "idle"
	HostMeasuring HostState = "measuring"
	HostGone      HostState = "gone"
)

// HostInfo is a measuring host as /api/hosts lists it.
type HostInfo struct {
	Name  string     `json:"name"`
	Host  probe.Host `json:"host"`
	State HostState  `json:"state"`
	Run   string     `json:"run,omitempty"` // the run it measures, while it measures
	Runs  int        `json:"runs"`          // runs it finished
	Seen  time.Time  `json:"seen"`          // when it was last heard from
}

// slot is one host as the scheduler keeps it.
type slot struct {
	host  Host
	state HostState
	run   *Run
	runs  int
	seen  time.Time
	alive bool // its loop runs (see Scheduler.measure)
}

func (sl *slot) info() HostInfo {
	seen := time.Now() // a host that is not a Seer is always there
	if s, ok := sl.host.(Seer); ok {
		seen = s.Seen()
	}
	hi := HostInfo{Name: sl.host.Name(), Host: sl.host.Facts(), State: sl.state, Runs: sl.runs, Seen: seen.UTC().Truncate(time.Second)}
	if sl.run != nil {
		hi.Run = sl.run.ID
	}
	return hi
}

// RunFunc measures one run; FuncHost makes a Host of one.
type RunFunc func(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome

// FuncHost is a Host that measures with fn, for tests and simple set-ups.
func FuncHost(name string, facts probe.Host, fn RunFunc) Host {
	facts.Name = name
	return funcHost{name: name, facts: facts, fn: fn}
}

type funcHost struct {
	name  string
	facts probe.Host
	fn    RunFunc
}

func (h funcHost) Name() string      { return h.name }
func (h funcHost) Facts() probe.Host { return h.facts }
func (h funcHost) Measure(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	return h.fn(ctx, exp, p, emit)
}
