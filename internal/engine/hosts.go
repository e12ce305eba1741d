package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Measuring hosts come and go: this machine is there from the start (when
// it measures at all), others join over the network and may vanish. Each
// measures one run at a time. A learner's runs go to the same host while
// it is up, so that the runs they compare were measured on one machine; a
// request may name its host.

// ErrUnknownHost refuses a request that names a host the scheduler does
// not have (or that is gone).
var ErrUnknownHost = errors.New("no such host")

// Seer is a Host that knows when it was last heard from (a host over the
// network); a host that is not one is always there.
type Seer interface {
	Seen() time.Time
}

// AddHost makes h one of the measuring hosts. A host that went away
// under the same name comes back; a name that is in use by a host that is
// up is refused.
func (s *Scheduler) AddHost(h Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if sl := s.slotLocked(h.Name()); sl != nil {
		if sl.state != HostGone {
			return fmt.Errorf("a host named %q is already measuring for this course: give this one another --name", h.Name())
		}
		sl.host, sl.state, sl.seen = h, HostIdle, time.Now()
	} else {
		s.slots = append(s.slots, &slot{host: h, state: HostIdle, seen: time.Now()})
	}
	if sl := s.slotLocked(h.Name()); !sl.alive {
		sl.alive = true // a loop still ending the run the host had when it went goes on instead
		s.wg.Add(1)
		go s.measure(sl)
	}
	s.log.Info("measuring host joined", "host", h.Name(), "cpus", h.Facts().EffectiveCPUs())
	s.updatePositionsLocked()
	s.cond.Broadcast()
	return nil
}

// HostGone marks a host gone: it takes no more runs (the run it was
// measuring is its Host's to end, as interrupted) until it is added again.
// Runs asked of it by name are refused with why.
func (s *Scheduler) HostGone(name, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slotLocked(name)
	if sl == nil || sl.state == HostGone {
		return
	}
	sl.state, sl.seen = HostGone, time.Now()
	s.log.Warn("measuring host gone", "host", name, "why", why)
	for _, r := range s.queue.all() {
		if r.pin == name {
			go s.cancelRun(r, fmt.Errorf("the host %s it was to run on went away (%s)", name, why))
		}
	}
	s.updatePositionsLocked()
	s.cond.Broadcast()
}

func (s *Scheduler) slotLocked(name string) *slot {
	for _, sl := range s.slots {
		if sl.host.Name() == name {
			return sl
		}
	}
	return nil
}

// upLocked reports whether a host of this name is up.
func (s *Scheduler) upLocked(name string) bool {
	sl := s.slotLocked(name)
	return sl != nil && sl.state != HostGone
}

// hostNamesLocked lists the hosts that are up, for a person.
func (s *Scheduler) hostNamesLocked() string {
	var names []string
	for _, sl := range s.slots {
		if sl.state != HostGone {
			names = append(names, sl.host.Name())
		}
	}
	if len(names) == 0 {
		return "none is up"
	}
	slices.Sort(names)
	return "the hosts are " + strings.Join(names, ", ")
}

// checkPinLocked is nil when a request may name host ("" names none).
func (s *Scheduler) checkPinLocked(host string) error {
	if host == "" || s.upLocked(host) {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrUnknownHost, host, s.hostNamesLocked())
}

// mayTakeLocked reports whether the host of sl may take r: a run that
// names its host goes there; a learner's run goes to the host that
// measured their runs before, while that host is up.
func (s *Scheduler) mayTakeLocked(sl *slot, r *Run) bool {
	name := sl.host.Name()
	if r.pin != "" {
		return r.pin == name
	}
	h := s.affinity[r.owner]
	return h == "" || h == name || !s.upLocked(h)
}
