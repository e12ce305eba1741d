package threadingmodels

import (
	"fmt"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// The figures and verdict rules of scheduler-trace: what the trace and
// /proc showed goes in, metrics and claims come out. Nothing here
// measures (scheduler_trace_judge_test.go tries every branch, on machines
// of several shapes).

// schedMeasured is what scheduler-trace measured.
type schedMeasured struct {
	gomaxprocs, computing, waiters int
	block                          float64 // ms between the lab's writes: how long a read() waits
	window                         float64 // ms the trace covers
	spans                          int     // goroutines' stretches of running, on any P
	runningPeak, executingPeak     int     // goroutines running at once; threads holding one (running, or in a system call)
	threadsRan, lanes              int     // threads that ran goroutines; Ps that did
	episodes                       []episode
	spinnerRan                     float64   // ms the spinner spent running
	slices                         []float64 // the spinner's slices that ended in a preemption while another goroutine waited, ms
	preempts, contended            int       // the spinner's preemptions; those while another goroutine waited for a P
	parks, wakes                   int       // of the waiting goroutines
	parkedPeak                     int       // waiting goroutines parked at once, at most
	parkedShare                    float64   // of the waiting goroutines' time, the share they spent parked
	threads                        []float64 // the process's threads, every 20 ms while traced
	off, on                        []float64 // chunks per second of each computing goroutine, trace off and on
	traceBytes                     int
	traceCut                       bool
	load                           lab.Load
}

// maxHandoff is the longest the claim lets the runtime take to hand a P
// on, in ms: its monitor looks at least every 10 ms, and takes a P stuck
// in a system call at the look after the one that saw the call begin.
const maxHandoff = 20

// threadsIfHeld is how many threads the process would need at the least
// if every parked goroutine held one: a thread for each P's goroutine, and
// one for each goroutine parked at once. Fewer threads than that means
// some parked goroutines held none; far fewer, that none did.
func (m schedMeasured) threadsIfHeld() int { return m.gomaxprocs + m.parkedPeak }

// sum adds up samples.
func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

// cost is how much slower the computing goroutines went with the trace
// on, in percent of their pace with it off (negative: faster).
func (m schedMeasured) cost() float64 {
	off := sum(m.off)
	if off <= 0 {
		return 0
	}
	return (1 - sum(m.on)/off) * 100
}

// delays are the hand-off delays of the read()s, ms: the delay where the P
// moved, and the whole read() where it did not although the read() lasted
// past the claim's limit (the hand-off, had it come, would have come
// later). A read() that ended sooner without a hand-off tells nothing.
func (m schedMeasured) delays() (d []float64, kept, ended, handed int) {
	for _, ep := range m.episodes {
		if ep.ended >= 0 {
			ended++
			if ep.endM == ep.m {
				kept++
			}
		}
		switch {
		case ep.handedOff:
			handed++
			d = append(d, ep.delay)
		case ep.ended >= 0 && ep.ended-ep.began > maxHandoff*(1+lab.AboutSlack):
			d = append(d, ep.ended-ep.began)
		}
	}
	return d, kept, ended, handed
}

func schedMetrics(m schedMeasured) []lab.Metric {
	delays, kept, ended, handed := m.delays()
	spinner := lab.Summarize(m.slices).Metric("spinner.slice", "Spinner's time slice, ended by preemption", "ms")
	spinner.Note = "from the trace: running, until preempted while another goroutine waited for a P"
	delay := lab.Summarize(delays).Metric("syscall.handoff_delay", "From read() to its P running another goroutine on another thread", "ms")
	delay.Note = "per read(); a read() that outlasted 25 ms with no hand-off counts as its whole length"
	off := lab.Summarize(m.off).Metric("work.trace_off", "Work per computing goroutine, trace off", "chunks/s")
	on := lab.Summarize(m.on).Metric("work.trace_on", "Work per computing goroutine, trace on", "chunks/s")
	threads := lab.Summarize(m.threads)
	return []lab.Metric{
		{Key: "gomaxprocs", Name: "GOMAXPROCS", Value: float64(m.gomaxprocs), Note: "Ps: goroutines that may run Go code at once"},
		{Key: "goroutines.running_peak", Name: "Goroutines running at once, peak", Value: float64(m.runningPeak), Unit: "goroutines", Note: "from the trace, event by event"},
		{Key: "threads.ran_goroutines", Name: "OS threads that ran goroutines", Value: float64(m.threadsRan), Unit: "threads", Note: "over the traced run"},
		{Key: "threads.holding_peak", Name: "Threads holding a goroutine at once, peak", Value: float64(m.executingPeak), Unit: "threads", Note: "running one, or in a system call with one"},
		{Key: "threads.process_peak", Name: "Threads in the process, peak", Value: threads.Max, Unit: "threads", N: threads.N, Note: "/proc/self/status every 20 ms while traced"},
		{Key: "syscall.reads", Name: "read() calls seen", Value: float64(len(m.episodes)), Unit: "calls"},
		{Key: "syscall.same_thread", Name: "read() calls that came back on the thread they entered on", Value: float64(kept), Unit: "calls", Note: fmt.Sprintf("of %d that came back", ended)},
		{Key: "syscall.handed_off", Name: "read() calls whose P went to another thread meanwhile", Value: float64(handed), Unit: "calls"},
		delay,
		spinner,
		{Key: "spinner.preempted", Name: "Spinner preempted", Value: float64(m.preempts), Unit: "times"},
		{Key: "spinner.preempted_contended", Name: "Of those, while another goroutine waited for a P", Value: float64(m.contended), Unit: "times"},
		{Key: "waiting.goroutines", Name: "Goroutines waiting on the channel", Value: float64(m.waiters), Unit: "goroutines"},
		{Key: "waiting.parked_peak", Name: "Of them, parked at once, peak", Value: float64(m.parkedPeak), Unit: "goroutines"},
		{Key: "waiting.parked_share", Name: "Their time spent parked", Value: m.parkedShare * 100, Unit: "%", Note: fmt.Sprintf("%d parks, %d wakes", m.parks, m.wakes)},
		off, on,
		{Key: "trace.cost", Name: "Work lost to the trace", Value: m.cost(), Unit: "%", Note: "all computing goroutines' chunks, trace on against trace off"},
		{Key: "trace.bytes", Name: "Trace size", Value: float64(m.traceBytes) / 1024, Unit: "KiB", Note: fmt.Sprintf("over %s", format.Figure(m.window, "ms"))},
	}
}

func judgeSched(m schedMeasured) []lab.Claim {
	return []lab.Claim{judgeAtMost(m), judgeSyscall(m), judgePreempt(m), judgeParked(m)}
}

// judgeAtMost: never more goroutines running than Ps, on more threads
// than Ps over the run.
func judgeAtMost(m schedMeasured) lab.Claim {
	measured := fmt.Sprintf("at most %d goroutine%s ran at once (GOMAXPROCS %d), on %d P%s; %d different thread%s ran goroutines over %s",
		m.runningPeak, format.Plural(m.runningPeak), m.gomaxprocs, m.lanes, format.Plural(m.lanes), m.threadsRan, format.Plural(m.threadsRan), format.Figure(m.window, "ms"))
	if m.spans == 0 {
		return claimSchedAtMost.Judge(measured, lab.Inconclusive, "The trace showed no goroutine running, so there is nothing to count.")
	}
	// Counts from the trace, not timings: the machine's load does not move them.
	atOnce := lab.Decide(lab.Once(float64(m.runningPeak), "goroutines"), lab.AtMost(float64(m.gomaxprocs)), lab.NotTimed)
	d := lab.All(atOnce, lab.Decide(lab.Once(float64(m.threadsRan), "threads"), lab.AtLeast(float64(m.gomaxprocs+1)), lab.NotTimed))
	why := fmt.Sprintf("Goroutines ran on only %d thread%s, no more than GOMAXPROCS: no P moved to another thread in this run, so no read() held a thread long enough for the runtime to hand its P on.",
		m.threadsRan, format.Plural(m.threadsRan))
	if atOnce.Verdict == lab.Differs {
		why = fmt.Sprintf("The trace shows %d goroutines running at one moment with only %d Ps: the runtime's own record contradicts its rule.", m.runningPeak, m.gomaxprocs)
	}
	return claimSchedAtMost.Decided(measured, d, why)
}

// judgeSyscall: every read() comes back on its own thread, and its P
// moves on within about maxHandoff.
func judgeSyscall(m schedMeasured) lab.Claim {
	delays, kept, ended, handed := m.delays()
	band := lab.BandOfValues(delays, "ms")
	measured := fmt.Sprintf("%d read() call%s: %d of the %d that returned came back on the thread they entered on; in %d the P ran another goroutine on another thread meanwhile, after %s",
		len(m.episodes), format.Plural(len(m.episodes)), kept, ended, handed, band)
	switch {
	case len(m.episodes) == 0:
		return claimSchedSyscall.Judge(measured, lab.Inconclusive, "The blocking goroutine never entered read() while the trace ran, so there is no call to follow.")
	case ended == 0 || len(delays) == 0:
		return claimSchedSyscall.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"Every read() returned before the runtime handed its P on, and sooner than the %s the claim allows it: make the time between writes longer.",
			format.Figure(maxHandoff*(1+lab.AboutSlack), "ms")))
	}
	sameThread := lab.Decide(lab.Once(float64(kept)/float64(ended), "×"), lab.AtLeast(1), lab.NotTimed)
	d := lab.All(sameThread, lab.Decide(band, lab.AtMost(maxHandoff).About(), m.load))
	why := fmt.Sprintf("The P stayed with the thread in read() for longer than %d ms (the middle half of the waits: %s): the runtime's monitor took it late, or not at all.",
		maxHandoff, band)
	if sameThread.Verdict == lab.Differs {
		why = fmt.Sprintf("%d read() call%s came back on another thread than the one they entered on: the goroutine moved while the kernel held it, which the trace should never show.",
			ended-kept, format.Plural(ended-kept))
	}
	return claimSchedSyscall.Decided(measured, d, why)
}

// judgePreempt: the spinner is preempted, in slices of 10–20 ms.
func judgePreempt(m schedMeasured) lab.Claim {
	band := lab.BandOfValues(m.slices, "ms")
	measured := fmt.Sprintf("the spinner ran %s in all and was preempted %d time%s, %d of them while another goroutine waited for a P; those slices: %s",
		format.Figure(m.spinnerRan, "ms"), m.preempts, format.Plural(m.preempts), m.contended, band)
	switch {
	case m.preempts == 0 && m.spinnerRan >= 3*maxHandoff:
		return claimSchedPreempt.Judge(measured, lab.Differs, fmt.Sprintf(
			"The spinner ran %s and was never preempted: nothing took its P away.", format.Figure(m.spinnerRan, "ms")))
	case len(m.slices) < 3 && m.preempts > m.contended:
		return claimSchedPreempt.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"Only %d of the spinner's preemptions came while another goroutine waited for its P: with GOMAXPROCS at least the goroutines that compute, nobody needed its P, and a slice cut short by the garbage collector says nothing about time slices. Lower GOMAXPROCS or add computing goroutines.",
			m.contended))
	case len(m.slices) < 3:
		return claimSchedPreempt.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"Only %d of the spinner's slices ended in a preemption: too few to read their length. Run it for longer.", len(m.slices)))
	}
	d := lab.Decide(band, lab.Between(10, 20).About(), m.load)
	why := "Its slices were shorter than 10 ms: something else stopped it first, such as the garbage collector, which pauses every goroutine now and then."
	if d.Side == lab.Above {
		why = "Its slices ran past 20 ms: the runtime's monitor looked less often than every 10 ms, which a machine short of CPU time does to it."
	}
	return claimSchedPreempt.Decided(measured, d, why)
}

// judgeParked: the waiting goroutines park, and the process has fewer
// threads than it would need if each of them held one.
func judgeParked(m schedMeasured) lab.Claim {
	band := lab.BandOfValues(m.threads, "threads")
	measured := fmt.Sprintf("%d goroutines waited on the channel, up to %d parked at once, and spent %s of their time parked (%d parks, %d wakes); meanwhile the process had %s (GOMAXPROCS %d), and at most %d of them held a goroutine at once",
		m.waiters, m.parkedPeak, format.Figure(m.parkedShare*100, "%"), m.parks, m.wakes, band, m.gomaxprocs, m.executingPeak)
	switch {
	case m.parks == 0 || m.parkedPeak == 0:
		return claimSchedParked.Judge(measured, lab.Inconclusive, "No waiting goroutine was seen to park while the trace ran, so this run cannot say what a parked one holds.")
	case len(m.threads) < minSamples:
		return claimSchedParked.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The threads were counted only %d times while the trace ran: too few readings.", len(m.threads)))
	}
	// A thread count is not a timing: the machine's load does not move it.
	d := lab.Decide(band, lab.AtMost(float64(m.threadsIfHeld()-1)), lab.NotTimed)
	return claimSchedParked.Decided(measured, d, fmt.Sprintf(
		"The process had at least GOMAXPROCS + the %d goroutines parked at once = %d threads, reading after reading: as many as it would need if each parked goroutine held a thread.",
		m.parkedPeak, m.threadsIfHeld()))
}

// The answers to the guess on waiting goroutines.
const (
	parkedOneEach = "one thread each"
	parkedNone    = "none: they only take one when they run"
)

// parkedAnswer says which answer the run's metrics make right.
func parkedAnswer(ms []lab.Metric) (string, bool) {
	get := func(key string) float64 {
		m, _ := lab.FindMetric(ms, key)
		return m.Value
	}
	p, parked, peak := get("gomaxprocs"), get("waiting.parked_peak"), get("threads.process_peak")
	switch {
	case p <= 0 || parked <= 0 || peak <= 0:
		return "", false
	case peak >= p+parked:
		return parkedOneEach, true
	case peak <= p+parked/2:
		return parkedNone, true
	}
	return "", false
}
