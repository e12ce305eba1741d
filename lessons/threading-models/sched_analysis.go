package threadingmodels

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/exp/trace"

	"conclab/internal/format"
)

// schedTrace follows the runtime's execution trace event by event, in the
// order the trace reader hands them out (the causal order): which
// goroutine runs on which P and thread, who enters and leaves a system
// call, which P a monitor takes from a thread stuck in one, who is
// preempted, parked and woken. It turns that into the chart's spans and
// marks as they complete, and keeps what the claims are judged on.
type schedTrace struct {
	t0, last trace.Time
	started  bool
	roles    map[trace.GoID]string
	gs       map[trace.GoID]*gLive
	inSys    map[trace.ProcID]trace.GoID // the goroutine in a system call on each P
	steals   map[trace.ProcID]*steal     // Ps taken from a thread in a system call, not yet running again
	threads  map[trace.ThreadID]bool     // threads that ran goroutines
	lanes    map[trace.ProcID]bool       // Ps that ran goroutines

	running, executing, runnable int // goroutines in each state now (executing: running or in a system call)
	runningPeak, executingPeak   int

	episodes   []episode // the blocking goroutine's read()s
	slices     []float64 // the spinner's time slices that ended in a preemption while another goroutine waited for a P, ms
	preempts   int       // of the spinner
	contended  int       // of those, preemptions while another goroutine waited for a P
	parks      int       // of the waiting goroutines
	wakes      int
	parkedNow  int // waiting goroutines parked now, and at most at once
	parkedPeak int
	spans      int // spans drawn or not

	draw func(typ string, fields map[string]any) // sends a span or mark to the chart
}

// gLive is one goroutine as the trace last left it.
type gLive struct {
	state     trace.GoState
	since     trace.Time // when it entered state
	open      bool       // it holds a P: p, on thread m, since from
	from      trace.Time
	p         trace.ProcID
	m         trace.ThreadID
	ns        [6]int64 // time spent in each state (indexed by trace.GoState)
	preempted int
	syscalls  int
	parks     int
	episode   int // its open read() in episodes, +1; 0 when none
}

// steal is a P the runtime took from a thread stuck in a system call.
type steal struct {
	at, began trace.Time // when it was taken, and when the call began
	from      trace.ThreadID
	g         trace.GoID
}

// episode is one read() of the blocking goroutine.
type episode struct {
	began, ended float64 // ms since the trace began; ended < 0 if it outlasted the trace
	m, endM      int64   // the thread it entered read() on, and the one it came back on
	handedOff    bool    // its P ran another goroutine on another thread meanwhile
	delay        float64 // ms from entering read() to that goroutine starting
}

func newSchedTrace(draw func(string, map[string]any)) *schedTrace {
	return &schedTrace{
		roles: map[trace.GoID]string{}, gs: map[trace.GoID]*gLive{}, inSys: map[trace.ProcID]trace.GoID{},
		steals: map[trace.ProcID]*steal{}, threads: map[trace.ThreadID]bool{}, lanes: map[trace.ProcID]bool{},
		draw: draw,
	}
}

// msOf is a duration in ms, to the µs.
func msOf(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/1e3) / 1e3 }

// at is a trace time in ms since the trace began.
func (s *schedTrace) at(t trace.Time) float64 { return msOf(t.Sub(s.t0)) }

// window is how long the trace ran, in ms.
func (s *schedTrace) window() float64 { return s.at(s.last) }

func (s *schedTrace) role(g trace.GoID) string {
	if r, ok := s.roles[g]; ok {
		return r
	}
	return roleOther
}

func (s *schedTrace) who(g trace.GoID) string { return fmt.Sprintf("G%d (%s)", g, s.role(g)) }

func lane(p trace.ProcID) string { return fmt.Sprintf("P%d", p) }

func (s *schedTrace) g(id trace.GoID) *gLive {
	gl, ok := s.gs[id]
	if !ok {
		gl = &gLive{state: trace.GoUndetermined, since: s.last, p: trace.NoProc, m: trace.NoThread}
		s.gs[id] = gl
	}
	return gl
}

// handle takes the trace's next event.
func (s *schedTrace) handle(ev trace.Event) {
	if !s.started {
		s.t0, s.started = ev.Time(), true
	}
	s.last = max(s.last, ev.Time())
	switch ev.Kind() {
	case trace.EventLog:
		if l := ev.Log(); l.Category == roleCategory && ev.Goroutine() != trace.NoGoroutine {
			s.roles[ev.Goroutine()] = l.Message
		}
	case trace.EventStateTransition:
		st := ev.StateTransition()
		switch st.Resource.Kind {
		case trace.ResourceGoroutine:
			s.goroutine(ev, st)
		case trace.ResourceProc:
			s.proc(ev, st)
		}
	}
}

// count moves a goroutine between the counted states.
func (s *schedTrace) count(from, to trace.GoState) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	s.running += b(to == trace.GoRunning) - b(from == trace.GoRunning)
	s.executing += b(to.Executing()) - b(from.Executing())
	s.runnable += b(to == trace.GoRunnable) - b(from == trace.GoRunnable)
	s.runningPeak, s.executingPeak = max(s.runningPeak, s.running), max(s.executingPeak, s.executing)
}

// goroutine follows one goroutine's change of state.
func (s *schedTrace) goroutine(ev trace.Event, st trace.StateTransition) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	if from == to {
		return // a new generation restating what it knew
	}
	t := ev.Time()
	gl := s.g(id)
	began := gl.since
	if gl.state != trace.GoUndetermined && int(gl.state) < len(gl.ns) {
		gl.ns[gl.state] += int64(t - began)
	}
	others := s.runnable // waiting for a P, before this goroutine joins them
	s.count(from, to)
	gl.state, gl.since = to, t
	if s.role(id) == roleWaiting {
		s.countParked(from, to)
	}
	switch {
	case to == trace.GoRunning:
		if from == trace.GoSyscall {
			s.sysEnd(id, gl, ev, true)
		}
		if !gl.open || gl.p != ev.Proc() {
			s.closeSpan(id, gl, t, "moved to another P")
			s.openSpan(id, gl, ev.Proc(), ev.Thread(), t)
		}
	case from == trace.GoRunning && to == trace.GoSyscall:
		// A system call keeps its P until the runtime takes it: the span
		// goes on (see proc).
		s.sysBegin(id, gl, t)
	case from == trace.GoSyscall:
		s.closeSpan(id, gl, t, "system call")
		s.sysEnd(id, gl, ev, false)
	case from == trace.GoRunning:
		s.closeSpan(id, gl, t, why(to, st.Reason))
		switch {
		case to == trace.GoRunnable && st.Reason == "preempted":
			s.preempted(id, gl, t, s.at(t)-s.at(began), others)
		case to == trace.GoWaiting:
			s.parked(id, gl, t, st.Reason)
		}
	case from == trace.GoWaiting && to == trace.GoRunnable:
		s.woken(id, ev)
	}
}

// why is the end of a span that ended in state to, for the chart.
func why(to trace.GoState, reason string) string {
	switch {
	case to == trace.GoWaiting:
		return "parked: " + reason
	case to == trace.GoNotExist:
		return "exited"
	case reason != "":
		return reason
	}
	return "stopped"
}

// proc follows a P: the one case that matters is a P taken from a thread
// stuck in a system call, by a thread that does not hold it (the runtime's
// monitor). The goroutine in the call stops holding the P there.
func (s *schedTrace) proc(ev trace.Event, st trace.StateTransition) {
	id := st.Resource.Proc()
	if _, to := st.Proc(); to != trace.ProcIdle || ev.Proc() == id {
		return
	}
	g, ok := s.inSys[id]
	if !ok {
		return
	}
	sys := s.g(g)
	s.steals[id] = &steal{at: ev.Time(), began: sys.since, from: sys.m, g: g}
	s.closeSpan(g, sys, ev.Time(), "P taken during "+s.call(g))
}

// call names the system call a goroutine is in.
func (s *schedTrace) call(g trace.GoID) string {
	if s.role(g) == roleBlocking {
		return "read()"
	}
	return "a system call"
}

// openSpan starts the time a goroutine holds a P; a P taken from a thread
// in a system call that now runs a goroutine on another thread is a
// hand-off.
func (s *schedTrace) openSpan(id trace.GoID, gl *gLive, p trace.ProcID, m trace.ThreadID, t trace.Time) {
	gl.open, gl.from, gl.p, gl.m = true, t, p, m
	s.threads[m], s.lanes[p] = true, true
	st, ok := s.steals[p]
	if !ok {
		return
	}
	delete(s.steals, p)
	if m == st.from {
		return // the P came back to the thread it left: no hand-off
	}
	delay := s.at(t) - s.at(st.began)
	if sys := s.g(st.g); sys.episode > 0 {
		ep := &s.episodes[sys.episode-1]
		ep.handedOff, ep.delay = true, delay
	}
	s.mark("handoff", p, id, m, t, fmt.Sprintf(
		"%s left thread %d, where %s sits in %s, and went to thread %d, which runs %s on it: %s after the call began.",
		lane(p), st.from, s.who(st.g), s.call(st.g), m, s.who(id), format.Figure(delay, "ms")))
}

// closeSpan draws the time a goroutine held a P, if it did.
func (s *schedTrace) closeSpan(id trace.GoID, gl *gLive, end trace.Time, why string) {
	if !gl.open {
		return
	}
	gl.open = false
	s.spans++
	s.draw("span", map[string]any{"lane": lane(gl.p), "start": s.at(gl.from), "end": s.at(end), "label": s.role(id),
		"g": int64(id), "m": int64(gl.m), "why": why})
}

func (s *schedTrace) mark(kind string, p trace.ProcID, g trace.GoID, m trace.ThreadID, t trace.Time, text string) {
	s.draw("mark", map[string]any{"lane": lane(p), "x": s.at(t), "label": kind, "g": int64(g), "m": int64(m), "text": text})
}

// finish closes what the trace's end left open.
func (s *schedTrace) finish() {
	for id, gl := range s.gs {
		if gl.state != trace.GoUndetermined && int(gl.state) < len(gl.ns) {
			gl.ns[gl.state] += int64(s.last - gl.since)
			gl.since = s.last
		}
		s.closeSpan(id, gl, s.last, "trace ended")
	}
}
