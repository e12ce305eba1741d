package runner

import (
	"context"

	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/runlog"
)

// Local is this machine as a measuring host (an engine.Host): it measures
// one run at a time with its Runner.
type Local struct {
	Runner *Runner
}

// Name is the host's name.
func (l *Local) Name() string {
	if l.Runner.Name != "" {
		return l.Runner.Name
	}
	return probe.HostName()
}

// Facts are this machine's facts, under the host's name.
func (l *Local) Facts() probe.Host {
	h := probe.ReadHost()
	h.Name = l.Name()
	return h
}

// Measure runs one experiment here.
func (l *Local) Measure(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	return l.Runner.Run(ctx, exp, p, emit)
}
