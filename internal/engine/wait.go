package engine

import (
	"slices"
	"time"
)

// How long a queued run will wait: each experiment's recent durations
// (the median of its last few runs here) stand for how long its next run
// takes; an experiment that has not run yet counts as Config.Guess.

// recentRuns is how many durations of each experiment are kept.
const recentRuns = 5

func (s *Scheduler) recordDurationLocked(exp string, d time.Duration) {
	t := append(s.took[exp], d)
	if len(t) > recentRuns {
		t = t[len(t)-recentRuns:]
	}
	s.took[exp] = t
}

// expectedLocked is how long a run of exp is expected to take.
func (s *Scheduler) expectedLocked(exp string) time.Duration {
	t := s.took[exp]
	if len(t) == 0 {
		return s.cfg.Guess
	}
	sorted := slices.Clone(t)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

// freeAtLocked is when each host that is not gone is expected to be free,
// from now: the runs measuring now end after their expected duration.
func (s *Scheduler) freeAtLocked(now time.Time) []time.Duration {
	free := make([]time.Duration, 0, len(s.slots))
	for _, sl := range s.slots {
		switch {
		case sl.state == HostGone:
		case sl.run != nil:
			free = append(free, max(0, s.expectedLocked(sl.run.Exp.ID)-now.Sub(sl.run.Info().Began)))
		default:
			free = append(free, 0)
		}
	}
	if len(free) == 0 {
		free = append(free, 0) // no host now: the wait is unknown; count from the first to come
	}
	return free
}

// etasLocked is the expected wait of each queued run, in start order: the
// next run takes the host that is free first.
func (s *Scheduler) etasLocked(order []*Run) []time.Duration {
	free := s.freeAtLocked(time.Now())
	out := make([]time.Duration, len(order))
	for i, r := range order {
		w := slices.Index(free, slices.Min(free))
		out[i] = free[w]
		free[w] += s.expectedLocked(r.Exp.ID)
	}
	return out
}

// waitLocked is how long a new run would wait behind everything queued.
func (s *Scheduler) waitLocked() time.Duration {
	order := s.queue.order()
	etas := s.etasLocked(order)
	if len(order) == 0 {
		return slices.Min(s.freeAtLocked(time.Now()))
	}
	last := len(order) - 1
	return etas[last] + s.expectedLocked(order[last].Exp.ID)
}

// updatePositionsLocked tells every queued run its place and wait.
func (s *Scheduler) updatePositionsLocked() {
	order := s.queue.order()
	etas := s.etasLocked(order)
	for i, r := range order {
		r.setQueued(i+1, etas[i].Round(100*time.Millisecond).Seconds(), s.paused && !r.Presenter())
	}
}
