package threadingmodels

import (
	"fmt"
	"time"

	"golang.org/x/exp/trace"

	"conclab/internal/format"
)

// The moments of scheduler-trace's chart that a learner steps through, each
// with what the runtime did in plain words: a read() entered and returned,
// the spinner preempted, a waiting goroutine parked and woken. (A P handed
// to another thread is in openSpan.)

func (s *schedTrace) sysBegin(id trace.GoID, gl *gLive, t trace.Time) {
	gl.syscalls++
	s.inSys[gl.p] = id
	if s.role(id) != roleBlocking {
		return
	}
	s.episodes = append(s.episodes, episode{began: s.at(t), ended: -1, m: int64(gl.m)})
	gl.episode = len(s.episodes)
	s.mark("syscall", gl.p, id, gl.m, t, fmt.Sprintf("%s entered read() on thread %d, still holding %s: the pipe is empty, so the thread sleeps in the kernel.",
		s.who(id), gl.m, lane(gl.p)))
}

// sysEnd is a system call returning: with its P (kept), or without it,
// the goroutine then waiting for one.
func (s *schedTrace) sysEnd(id trace.GoID, gl *gLive, ev trace.Event, kept bool) {
	for p, g := range s.inSys {
		if g == id {
			delete(s.inSys, p)
		}
	}
	if gl.episode == 0 {
		return
	}
	ep := &s.episodes[gl.episode-1]
	gl.episode = 0
	ep.ended, ep.endM = s.at(ev.Time()), int64(ev.Thread())
	same := "the thread it entered on"
	if ep.endM != ep.m {
		same = fmt.Sprintf("not the thread %d it entered on", ep.m)
	}
	took := format.Figure(ep.ended-ep.began, "ms")
	text := fmt.Sprintf("%s came back from read() on thread %d, %s, after %s. Its P has gone to other work, so it waits for a free one.",
		s.who(id), ev.Thread(), same, took)
	if kept {
		text = fmt.Sprintf("%s came back from read() on thread %d, %s, after %s, and found its P still there.", s.who(id), ev.Thread(), same, took)
	}
	p := gl.p
	if ev.Proc() != trace.NoProc {
		p = ev.Proc()
	}
	s.mark("return", p, id, ev.Thread(), ev.Time(), text)
}

func (s *schedTrace) preempted(id trace.GoID, gl *gLive, t trace.Time, slice float64, others int) {
	gl.preempted++
	if s.role(id) != roleSpinner {
		return
	}
	s.preempts++
	waiting := "nobody else was waiting for a P, so it may run again at once"
	if others > 0 {
		// A slice cut short for another reason (the garbage collector
		// stops every goroutine now and then) is as likely with spare Ps;
		// one that ends while others wait is what time slicing is for.
		s.contended++
		s.slices = append(s.slices, slice)
		waiting = fmt.Sprintf("%d other goroutine%s waited for a P", others, format.Plural(others))
	}
	s.mark("preempted", gl.p, id, gl.m, t, fmt.Sprintf("The runtime preempted %s on %s after %s of running; %s.",
		s.who(id), lane(gl.p), format.Figure(slice, "ms"), waiting))
}

func (s *schedTrace) parked(id trace.GoID, gl *gLive, t trace.Time, reason string) {
	gl.parks++
	if s.role(id) != roleWaiting {
		return
	}
	s.parks++
	s.mark("park", gl.p, id, gl.m, t, fmt.Sprintf("%s parked (%s): it gave %s and thread %d back, and holds no thread while it waits.",
		s.who(id), reason, lane(gl.p), gl.m))
}

func (s *schedTrace) woken(id trace.GoID, ev trace.Event) {
	if s.role(id) != roleWaiting || ev.Proc() == trace.NoProc {
		return
	}
	s.wakes++
	by := "the runtime"
	if w := ev.Goroutine(); w != trace.NoGoroutine {
		by = s.who(w)
	}
	s.mark("wake", ev.Proc(), ev.Goroutine(), ev.Thread(), ev.Time(), fmt.Sprintf("%s woke %s with a value on the channel: it can run again once a P is free.",
		by, s.who(id)))
}

// countParked follows how many waiting goroutines are parked at once.
func (s *schedTrace) countParked(from, to trace.GoState) {
	switch {
	case to == trace.GoWaiting:
		s.parkedNow++
		s.parkedPeak = max(s.parkedPeak, s.parkedNow)
	case from == trace.GoWaiting:
		s.parkedNow--
	}
}

// parkedShare is the share of the waiting goroutines' time in the trace
// that they spent parked.
func (s *schedTrace) parkedShare() float64 {
	var parked, all int64
	for id, gl := range s.gs {
		if s.role(id) != roleWaiting {
			continue
		}
		parked += gl.ns[trace.GoWaiting]
		for _, ns := range gl.ns {
			all += ns
		}
	}
	if all == 0 {
		return 0
	}
	return float64(parked) / float64(all)
}

// roleOrder is the order of the roles table.
var roleOrder = []string{roleComputing, roleSpinner, roleBlocking, roleWaiting, roleLab, roleOther}

// roleRows are the roles table: what the goroutines of each role did.
func roleRows(s *schedTrace) []map[string]any {
	type sum struct {
		n                          int
		ns                         [6]int64
		preempted, syscalls, parks int
	}
	by := map[string]*sum{}
	for id, gl := range s.gs {
		r := s.role(id)
		if by[r] == nil {
			by[r] = &sum{}
		}
		b := by[r]
		b.n++
		for i, ns := range gl.ns {
			b.ns[i] += ns
		}
		b.preempted, b.syscalls, b.parks = b.preempted+gl.preempted, b.syscalls+gl.syscalls, b.parks+gl.parks
	}
	var rows []map[string]any
	for _, r := range roleOrder {
		b, ok := by[r]
		if !ok {
			continue
		}
		ms := func(st trace.GoState) float64 { return msOf(time.Duration(b.ns[st])) }
		rows = append(rows, map[string]any{"role": r, "goroutines": b.n, "running": ms(trace.GoRunning), "runnable": ms(trace.GoRunnable),
			"syscall": ms(trace.GoSyscall), "parked": ms(trace.GoWaiting), "preempted": b.preempted, "syscalls": b.syscalls, "parks": b.parks})
	}
	return rows
}

// ranMs is how long the goroutines of a role spent running, in ms.
func (s *schedTrace) ranMs(role string) float64 {
	var ns int64
	for id, gl := range s.gs {
		if s.role(id) == role {
			ns += gl.ns[trace.GoRunning]
		}
	}
	return msOf(time.Duration(ns))
}
