package greenthreads

import (
	"fmt"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// The figures and verdict rules of asyncio-await: the waits python3
// reported go in, metrics and claims come out. Nothing here measures
// (asyncio_await_judge_test.go tries every branch).

// keyAwaitPython is the one figure a run without python3 has.
const keyAwaitPython = "python.found"

// awaitMeasured is what asyncio-await measured.
type awaitMeasured struct {
	version string
	delay   time.Duration          // the server's delay per query, as set
	tasks   int                    // other tasks on the loop
	alone   float64                // their chunks per second with nobody waiting
	waits   map[string][]awaitWait // by mode: await, blocking
	threads int                    // threads the tasks ran on, as Python saw them
	waiters map[int64]bool         // threads the waiting task ran on
	load    lab.Load
}

// awaitWait is one wait on the server.
type awaitWait struct {
	mode   string
	wall   time.Duration
	others int // chunks the other tasks finished meanwhile
}

func (m *awaitMeasured) add(w awaitWait) {
	if m.waits == nil {
		m.waits = map[string][]awaitWait{}
	}
	m.waits[w.mode] = append(m.waits[w.mode], w)
}

// pace is the other tasks' pace during a wait, as a share of their pace
// alone.
func (m awaitMeasured) pace(w awaitWait) float64 {
	if w.wall <= 0 || m.alone <= 0 {
		return 0
	}
	return float64(w.others) / w.wall.Seconds() / m.alone
}

// paces are the other tasks' paces during every wait of a mode.
func (m awaitMeasured) paces(mode string) []float64 {
	var out []float64
	for _, w := range m.waits[mode] {
		out = append(out, m.pace(w))
	}
	return out
}

// walls are a mode's waits, in ms.
func (m awaitMeasured) walls(mode string) []float64 {
	var out []float64
	for _, w := range m.waits[mode] {
		out = append(out, format.Ms(w.wall))
	}
	return out
}

// judgeNoLoop is both verdicts when there was no Python to run a loop.
func judgeNoLoop(why string) []lab.Claim {
	return []lab.Claim{
		claimAwaitFrees.Judge("nothing: "+why, lab.Inconclusive, why),
		claimBlockingStops.Judge("nothing: "+why, lab.Inconclusive, why),
	}
}

// awaitResult turns the waits into metrics and both verdicts.
func awaitResult(m awaitMeasured) ([]lab.Metric, []lab.Claim) {
	pace := func(key, name, mode string) lab.Metric {
		v := m.paces(mode)
		for i := range v {
			v[i] *= 100
		}
		met := lab.Summarize(v).Metric(key, name, "%")
		met.Note = "chunks the other tasks did during the wait ÷ its length, against their pace when nobody waits"
		return met
	}
	wall := func(key, name, mode string) lab.Metric {
		met := lab.Summarize(m.walls(mode)).Metric(key, name, "ms")
		met.Note = fmt.Sprintf("the server holds each answer back %s", m.delay)
		return met
	}
	metrics := []lab.Metric{
		{Key: keyAwaitPython, Name: "python3 found", Value: 1, Note: "Python " + m.version},
		{Key: "others.pace.alone", Name: "The other tasks' pace, nobody waiting", Value: m.alone, Unit: "chunks/s", Note: fmt.Sprintf("%d tasks, each yielding after every chunk", m.tasks)},
		pace("pace.during_await", "Their pace during an await on I/O", "await"),
		pace("pace.during_blocking", "Their pace during a blocking read", "blocking"),
		wall("wait.await.wall", "One await on the server", "await"),
		wall("wait.blocking.wall", "One blocking read on the server", "blocking"),
		{Key: "event_loop.threads", Name: "Threads the event loop's tasks ran on", Value: float64(m.threads), Unit: "threads", Note: "threading.get_ident() of every task"},
	}
	return metrics, []lab.Claim{judgeAwaitFrees(m), judgeBlockingStops(m)}
}

func judgeAwaitFrees(m awaitMeasured) lab.Claim {
	b := lab.BandOfValues(m.paces("await"), "")
	measured := fmt.Sprintf("during %d awaits of about %.0f ms, the other %d tasks kept %s of their usual pace; all tasks on %d thread%s",
		len(m.waits["await"]), lab.Summarize(m.walls("await")).P50, m.tasks, pctOf(b), m.threads, map[bool]string{true: "", false: "s"}[m.threads == 1])
	switch {
	case b.N == 0 || m.alone <= 0:
		return claimAwaitFrees.Judge(measured, lab.Inconclusive, "No await was timed, or the other tasks' pace alone was not, so there is nothing to compare.")
	case m.threads != 1 || len(m.waiters) > 1:
		return claimAwaitFrees.Judge(measured, lab.Inconclusive,
			"The tasks were seen on more than one thread, so this run did not show one thread being freed: an asyncio loop runs its tasks on the thread that runs the loop.")
	}
	// "Runs the other tasks" while one awaits: they go on at most of
	// their usual pace (lab.Most), as the threading models' "keep going".
	return claimAwaitFrees.Decided(measured, lab.Decide(b, lab.AtLeast(lab.Most), m.load),
		"The other tasks slowed down while one task awaited the server, although the await gave the loop back. The loop had to look after the socket too, but that is small; more likely other programs on this machine took the CPU from the loop meanwhile.")
}

func judgeBlockingStops(m awaitMeasured) lab.Claim {
	b := lab.BandOfValues(m.paces("blocking"), "")
	measured := fmt.Sprintf("during %d blocking reads of about %.0f ms, the other tasks kept %s of their usual pace", len(m.waits["blocking"]), lab.Summarize(m.walls("blocking")).P50, pctOf(b))
	if b.N == 0 || m.alone <= 0 {
		return claimBlockingStops.Judge(measured, lab.Inconclusive, "No blocking read was timed, or the other tasks' pace alone was not, so there is nothing to compare.")
	}
	// "Stops every other task": nothing of their pace is left (lab.Nothing).
	// Tasks on a loop stuck in a system call cannot run whatever else the
	// machine does, so its load does not enter this verdict.
	return claimBlockingStops.Decided(measured, lab.Decide(b, lab.AtMost(lab.Nothing), lab.NotTimed),
		"The other tasks got work done while the blocking read waited, so the read did not hold the loop's thread: this interpreter must have run the tasks on more than one thread.")
}

// pctOf writes a band of shares as percentages.
func pctOf(b lab.Band) string {
	if b.N == 0 {
		return "no measured share"
	}
	if b.N == 1 || b.Lo == b.Hi {
		return fmt.Sprintf("%.0f%%", 100*b.Mid)
	}
	return fmt.Sprintf("%.0f%% (middle half %.0f–%.0f%%)", 100*b.Mid, 100*b.Lo, 100*b.Hi)
}
