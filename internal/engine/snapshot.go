package engine

import (
	"time"
)

// Snapshot is what the scheduler is doing at one moment, for the
// instructor's view of the class.
type Snapshot struct {
	Paused  bool
	Queue   []Waiting // in the order they would start
	Running []Info
	Hosts   []HostInfo
}

// Waiting is a queued run and its expected wait.
type Waiting struct {
	Info
	Wait time.Duration
}

// Snapshot returns what the scheduler is doing now.
func (s *Scheduler) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Paused: s.paused}
	order := s.queue.order()
	etas := s.etasLocked(order)
	for i, r := range order {
		snap.Queue = append(snap.Queue, Waiting{Info: r.Info(), Wait: etas[i]})
	}
	for _, sl := range s.slots {
		if sl.run != nil {
			snap.Running = append(snap.Running, sl.run.Info())
		}
		snap.Hosts = append(snap.Hosts, sl.info())
	}
	return snap
}

// Hosts lists the measuring hosts, in the order they joined.
func (s *Scheduler) Hosts() []HostInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]HostInfo, 0, len(s.slots))
	for _, sl := range s.slots {
		out = append(out, sl.info())
	}
	return out
}
