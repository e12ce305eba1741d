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
	defer s.wg.Done()
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
// the scheduler closes.
func (s *Scheduler) next(sl *slot) (*Run, context.Context, context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r *Run
	for !s.closed {
		if r = s.queue.pop(!s.paused); r != nil {
			break
		}
		s.cond.Wait()
	}
	if s.closed {
		return nil, nil, nil
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	r.begin(sl.host.Name(), cancel)
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
	if !r.finish(out) {
		return
	}
	if s.active[r.key] == r {
		delete(s.active, r.key)
	}
	for _, sl := range s.slots {
		if sl.run == r {
			sl.state, sl.run, sl.seen = HostIdle, nil, time.Now()
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
	s.updatePositionsLocked()
	s.log.Info("run finished", "run", r.ID, "experiment", r.Exp.ID, "host", r.Info().Host, "status", out.Status, "error", out.Error)
}
