package engine

import (
	"fmt"

	"conclab/internal/protocol"
)

// The instructor may run one experiment on every host at once: each host
// measures it, and the page puts the machines side by side.

// StartEverywhere queues one run of req on every host that is up, each
// named to its host, as one group, and makes v watch them all: v is sent
// an Everywhere message listing the runs, then each run's events. The
// runs go first, as the instructor's do; they join no other run.
func (s *Scheduler) StartEverywhere(req Request, v Viewer) ([]*Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var hosts []string
	for _, sl := range s.slots {
		if sl.state != HostGone {
			hosts = append(hosts, sl.host.Name())
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%w: no measuring host is up", ErrUnknownHost)
	}
	group := NewID()
	msg := protocol.Everywhere{Group: group, Experiment: req.Exp.ID, Params: req.Params}
	var runs []*Run
	for _, h := range hosts {
		one := req
		one.Host, one.Instructor = h, true
		r := s.newRunLocked(one, runKey(req.Exp, req.Params, h)+" #"+group)
		r.group = group
		s.queue.push(r)
		runs = append(runs, r)
		msg.Runs = append(msg.Runs, protocol.HostRun{Run: r.ID, Host: h})
	}
	s.updatePositionsLocked()
	first := protocol.Encode(msg)
	for i, r := range runs {
		r.ask([]string{req.Learner})
		if i == 0 {
			r.Watch(v, first)
		} else {
			r.Watch(v)
		}
	}
	s.class.Everywhere(msg, runs, v)
	s.cond.Broadcast()
	return runs, nil
}
