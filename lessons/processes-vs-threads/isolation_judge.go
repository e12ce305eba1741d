package processesvsthreads

import (
	"fmt"

	"conclab/internal/lab"
)

// isoMeasured is what isolation saw: what each child process and each
// thread read after its change, and what the parent read after each group.
type isoMeasured struct {
	n, pid     int    // children and threads asked for; the parent's PID
	children   []view // each child process's report, in order
	threads    []view // each thread's report, in order
	afterProcs int64  // the parent's variable after the child processes
	// afterThreads is the parent's variable after the threads.
	afterThreads int64
	mapping      bool  // the children were given a shared page too
	mapped       int64 // the parent's read of that page afterwards
}

// pids and tids are the distinct kernel ids the children and the threads
// ran under.
func (m isoMeasured) pids() map[int]bool {
	return distinctIDs(m.children, func(v view) int { return v.pid })
}
func (m isoMeasured) tids() map[int]bool {
	return distinctIDs(m.threads, func(v view) int { return v.tid })
}

func distinctIDs(views []view, id func(view) int) map[int]bool {
	ids := map[int]bool{}
	for _, v := range views {
		if id(v) > 0 {
			ids[id(v)] = true
		}
	}
	return ids
}

// isolationMetrics are the result's figures.
func isolationMetrics(m isoMeasured) []lab.Metric {
	metrics := []lab.Metric{
		{Key: "parent.after_processes", Name: "Parent's value after the child processes", Value: float64(m.afterProcs), Unit: "", Note: fmt.Sprintf("started at %d; %d children added 1 each", startValue, m.n)},
		{Key: "parent.after_threads", Name: "Parent's value after the threads", Value: float64(m.afterThreads), Unit: "", Note: fmt.Sprintf("%d before; %d threads added 1 each", m.afterProcs, m.n)},
		{Key: "processes.distinct_pids", Name: "Distinct PIDs of the child processes", Value: float64(len(m.pids())), Unit: "PIDs"},
		{Key: "threads.distinct_tids", Name: "Distinct thread ids of the threads", Value: float64(len(m.tids())), Unit: "threads"},
	}
	if m.mapping {
		metrics = append(metrics, lab.Metric{Key: "parent.shared_page", Name: "Parent's value in the shared page", Value: float64(m.mapped), Unit: "", Note: "memfd mapped MAP_SHARED by both sides"})
	}
	return metrics
}

// judgeIsolation holds both claims. A group that did not report in full
// (fewer reports than asked for) shows nothing either way.
func judgeIsolation(m isoMeasured) []lab.Claim {
	n, pid := m.n, m.pid
	pids, tids := m.pids(), m.tids()
	var claims []lab.Claim
	pm := fmt.Sprintf("parent read %d after %d children each added 1 (each child read %d); %d distinct PIDs", m.afterProcs, n, startValue+1, len(pids))
	switch {
	case reported(m.children) < n:
		claims = append(claims, claimProcsIsolated.Judge(fmt.Sprintf("%d of %d child processes reported", reported(m.children), n), lab.Inconclusive,
			"Not every child process reported what it read, so there is not a whole set of changes to look for in the parent."))
	case m.afterProcs == startValue && len(pids) == n && !pids[pid]:
		claims = append(claims, claimProcsIsolated.Judge(pm, lab.Holds, ""))
	default:
		claims = append(claims, claimProcsIsolated.Judge(pm, lab.Differs, "The parent's variable changed, or the children were not separate processes; that should not be possible."))
	}
	sameProc := true
	for _, v := range m.threads {
		sameProc = sameProc && v.pid == pid
	}
	tm := fmt.Sprintf("parent read %d after %d threads each added 1 to %d; %d distinct thread ids, all in process %d", m.afterThreads, n, m.afterProcs, len(tids), pid)
	switch {
	case reported(m.threads) < n:
		claims = append(claims, claimThreadsShare.Judge(fmt.Sprintf("%d of %d threads reported", reported(m.threads), n), lab.Inconclusive,
			"Not every thread reported what it read, so there is not a whole set of changes to look for in the parent."))
	case m.afterThreads == m.afterProcs+int64(n) && len(tids) == n && sameProc:
		claims = append(claims, claimThreadsShare.Judge(tm, lab.Holds, ""))
	default:
		claims = append(claims, claimThreadsShare.Judge(tm, lab.Differs, "Some thread's change did not reach the parent, or the threads did not run as separate threads of this process."))
	}
	return claims
}

// reported counts the views that came back with a kernel id: the process
// or thread ran and said what it read.
func reported(views []view) int {
	k := 0
	for _, v := range views {
		if v.pid > 0 && v.tid > 0 {
			k++
		}
	}
	return k
}
