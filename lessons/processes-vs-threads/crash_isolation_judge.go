package processesvsthreads

import (
	"fmt"

	"conclab/internal/lab"
)

// crashMeasured is what crash-isolation saw: how each worker process
// ended, and what became of the one process with n threads.
type crashMeasured struct {
	n, victim int // workers (and threads); the one that faults, from 1
	steps     int // steps each was to do
	procs     []procOutcome
	th        threadOutcome
}

// crashTally is what the rules and the figures count from what was seen.
type crashTally struct {
	victimCrashed, siblingCrashed bool
	victimExit                    string
	finished, after               int          // siblings that finished all steps; their steps after the crash
	pids, tids                    map[int]bool // distinct worker PIDs, and thread ids in the one process
	threadsDone                   int          // threads that finished all their steps
}

func (m crashMeasured) tally() crashTally {
	t := crashTally{pids: map[int]bool{}, tids: map[int]bool{}}
	for _, o := range m.procs {
		t.pids[o.pid] = true
		if o.index == m.victim {
			t.victimCrashed, t.victimExit = o.crashed, o.exit
			continue
		}
		if o.crashed || o.steps < m.steps {
			t.siblingCrashed = true
		} else {
			t.finished++
			t.after += o.afterCrash
		}
	}
	for i, tid := range m.th.tids {
		if tid > 0 {
			t.tids[tid] = true
		}
		if i < len(m.th.steps) && m.th.steps[i] >= m.steps {
			t.threadsDone++
		}
	}
	return t
}

// crashMetrics are the result's figures: crash.processes.* for the worker
// processes, crash.threads.* for the threads of the one process.
func crashMetrics(m crashMeasured) []lab.Metric {
	t, n, th := m.tally(), m.n, m.th
	return []lab.Metric{
		{Key: "crash.processes.siblings_finished", Name: "Sibling processes that finished after the crash", Value: float64(t.finished), Unit: fmt.Sprintf("of %d", n-1),
			Note: fmt.Sprintf("worker %d: %s", m.victim, t.victimExit)},
		{Key: "crash.processes.steps_after", Name: "Steps the siblings did after the crash", Value: float64(t.after), Unit: "steps"},
		{Key: "crash.processes.distinct_pids", Name: "Distinct PIDs of the worker processes", Value: float64(len(t.pids)), Unit: "PIDs"},
		{Key: "crash.threads.alive_after", Name: "Threads still running after one crashed", Value: float64(th.aliveAfter), Unit: fmt.Sprintf("of %d", n),
			Note: fmt.Sprintf("process %d: %s", th.pid, th.exit)},
		{Key: "crash.threads.finished", Name: "Threads that finished their steps", Value: float64(t.threadsDone), Unit: fmt.Sprintf("of %d", n)},
		{Key: "crash.threads.distinct_tids", Name: "Distinct thread ids in the one process", Value: float64(len(t.tids)), Unit: "threads"},
		{Key: "crash.threads.peak", Name: "Most threads seen in that process", Value: float64(th.peak), Unit: "threads", Note: "the N working threads plus the Go runtime's own"},
	}
}

// judgeCrash holds both claims: a crashed process leaves its siblings
// running; a crashed thread takes its whole process down.
func judgeCrash(m crashMeasured) []lab.Claim {
	t, n, th := m.tally(), m.n, m.th
	var claims []lab.Claim
	pm := fmt.Sprintf("worker %d: %s; %d of %d other workers finished all %d steps, %d steps between them after the crash; %d distinct PIDs",
		m.victim, t.victimExit, t.finished, n-1, m.steps, t.after, len(t.pids))
	switch {
	case t.victimCrashed && !t.siblingCrashed && t.finished == n-1:
		claims = append(claims, claimProcCrash.Judge(pm, lab.Holds, ""))
	case !t.victimCrashed:
		claims = append(claims, claimProcCrash.Judge(pm, lab.Inconclusive, "The chosen worker did not crash, so there was nothing to survive."))
	default:
		claims = append(claims, claimProcCrash.Judge(pm, lab.Differs, "Another worker did not finish. Processes cannot reach into each other, so look at the run log: something outside this run may have killed it."))
	}
	tm := fmt.Sprintf("process %d: %s; %d of %d threads finished their steps; %d of %d thread ids left afterwards",
		th.pid, th.exit, t.threadsDone, n, th.aliveAfter, n)
	switch {
	case th.crashed && t.threadsDone == 0 && th.aliveAfter == 0 && len(t.tids) == n:
		claims = append(claims, claimThreadCrash.Judge(tm, lab.Holds, ""))
	case !th.crashed:
		claims = append(claims, claimThreadCrash.Judge(tm, lab.Inconclusive, "The process did not crash, so there was nothing to take down."))
	default:
		claims = append(claims, claimThreadCrash.Judge(tm, lab.Differs, "Some thread outlived the fault or finished its work, which a crashing process should not allow; see the threads table."))
	}
	return claims
}
