package engine

import (
	"context"
	"time"

	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// measure is a host's loop: it takes the next run from the queue, has the
// host measure it, and finishes it, one run at a time, until the
// scheduler closes.
func (s *Scheduler) measure(sl *slot) {
	defer func() {
		s.mu.Lock()
		sl.alive = false
		s.mu.Unlock()
		s.wg.Done()
	}()
	for {
		r, ctx, cancel := s.next(sl)
		if r == nil {
			return
		}
		s.started.Add(1)
		out := sl.host.Measure(ctx, r.Exp, r.Params, r.publish)
		cancel(nil)
		s.finish(r, out)
	}
}

// next waits for a run the host may take and starts it there; nil when
// the scheduler closes or the host is gone.
func (s *Scheduler) next(sl *slot) (*Run, context.Context, context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r *Run
	for !s.closed && sl.state != HostGone {
		if r = s.queue.pop(!s.paused, func(r *Run) bool { return s.mayTakeLocked(sl, r) }); r != nil {
			break
		}
		s.cond.Wait()
	}
	if s.closed || sl.state == HostGone {
		return nil, nil, nil
	}
	name := sl.host.Name()
	if r.pin == "" && !s.upLocked(s.affinity[r.owner]) {
		s.affinity[r.owner] = name // their next runs come here too, while it is up
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	r.begin(name, cancel)
	sl.state, sl.run, sl.seen = HostMeasuring, r, time.Now()
	s.class.Began(r)
	s.updatePositionsLocked()
	return r, ctx, cancel
}

// janitor cancels the runs that nobody has watched for the idle grace.
func (s *Scheduler) janitor() {
	defer s.wg.Done()
	every := min(max(s.cfg.IdleGrace/4, 5*time.Millisecond), time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			var idle []*Run
			for _, r := range s.active {
				if r.idleFor(now) >= s.cfg.IdleGrace {
					idle = append(idle, r)
				}
			}
			s.mu.Unlock()
			for _, r := range idle {
				s.cancelRun(r, errNobody)
			}
		}
	}
}

// finish records a run's outcome and keeps it in memory for a while. The
// run ends under the scheduler's lock, so that by the time anyone sees it
// end (its done, its last event) the scheduler no longer counts it active:
// a request right after is offered the finished run, never joined to it.
func (s *Scheduler) finish(r *Run, out runlog.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	viewers := r.viewerList()
	if !r.finish(out) {
		return
	}
	if s.active[r.key] == r {
		delete(s.active, r.key)
	}
	for _, sl := range s.slots {
		if sl.run == r {
			if sl.state != HostGone {
				sl.state = HostIdle
			}
			sl.run, sl.seen = nil, time.Now()
			sl.runs++
			if info := r.Info(); out.Status == protocol.StatusOK {
				s.recordDurationLocked(r.Exp.ID, info.Ended.Sub(info.Began))
			}
		}
	}
	if out.Status == protocol.StatusOK {
		s.latest[r.Exp.ID] = r
	}
	s.keepLocked(r)
	s.class.Ended(r, out)
	if out.Status == protocol.StatusInterrupted {
		s.retryLocked(r, viewers)
	}
	s.updatePositionsLocked()
	s.log.Info("run finished", "run", r.ID, "experiment", r.Exp.ID, "host", r.Info().Host, "status", out.Status, "error", out.Error)
}

// retryLocked asks once more for a run whose host went away, at the front
// of the queue, for whoever still watches it: their pages are sent the new
// run (accepted, with retry_of), and it goes to another host. A run that
// named its host, or measured again already, is not retried.
func (s *Scheduler) retryLocked(r *Run, viewers []Viewer) {
	if s.closed || r.retry != "" || r.pin != "" || len(viewers) == 0 {
		return
	}
	learners := r.Requesters()
	if len(learners) == 0 {
		return
	}
	if _, busy := s.active[r.key]; busy {
		return // someone asked again already: that run is theirs
	}
	n := s.newRunLocked(Request{Exp: r.Exp, Params: r.Params, Learner: r.owner, Instructor: r.Presenter()}, r.key)
	n.retry = r.ID
	if s.affinity[r.owner] == r.Info().Host {
		delete(s.affinity, r.owner)
	}
	s.queue.pushFront(n)
	owner := r.owner
	n.ask(learners)
	for _, v := range viewers {
		n.accept(v, owner, false)
	}
	s.class.Queued(n, owner, nil)
	s.log.Info("run measured again after its host went away", "run", n.ID, "retry_of", r.ID)
	s.cond.Broadcast()
}
