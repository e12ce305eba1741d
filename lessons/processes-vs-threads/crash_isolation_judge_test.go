package processesvsthreads

import (
	"testing"

	"conclab/internal/lab"
)

// crashRun is four workers, worker 2 faulting half way through its 6
// steps, as the lesson expects: the others finish; then the one process
// of four threads dies whole.
func crashRun() crashMeasured {
	m := crashMeasured{n: 4, victim: 2, steps: 6}
	for i := 1; i <= 4; i++ {
		o := procOutcome{index: i, pid: 1000 + i, steps: 6, afterCrash: 3, exit: "exit status 0"}
		if i == 2 {
			o.steps, o.afterCrash, o.crashed, o.exit = 2, 0, true, "exit status 2"
		}
		m.procs = append(m.procs, o)
	}
	m.th = threadOutcome{pid: 2000, tids: []int{2001, 2002, 2003, 2004}, steps: []int{2, 2, 3, 2}, crashed: true, exit: "exit status 2", peak: 9}
	return m
}

func TestJudgeCrash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		change         func(*crashMeasured)
		procs, threads string
	}{
		{"as the lesson says", func(*crashMeasured) {}, lab.Holds, lab.Holds},
		{"a sibling died too", func(m *crashMeasured) { m.procs[0].crashed, m.procs[0].exit = true, "killed by signal SIGKILL" }, lab.Differs, lab.Holds},
		{"a sibling stopped short", func(m *crashMeasured) { m.procs[3].steps = 5 }, lab.Differs, lab.Holds},
		{"the chosen worker did not crash", func(m *crashMeasured) { m.procs[1].crashed, m.procs[1].steps = false, 6 }, lab.Inconclusive, lab.Holds},
		{"a thread finished its steps", func(m *crashMeasured) { m.th.steps[3] = 6 }, lab.Holds, lab.Differs},
		{"a thread outlived its process", func(m *crashMeasured) { m.th.aliveAfter = 1 }, lab.Holds, lab.Differs},
		{"a thread never said its id", func(m *crashMeasured) { m.th.tids[0] = 0 }, lab.Holds, lab.Differs},
		{"the threads' process did not crash", func(m *crashMeasured) { m.th.crashed, m.th.exit = false, "exit status 0" }, lab.Holds, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := crashRun()
			tc.change(&m)
			claims := judgeCrash(m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
			}
			checkClaim(t, claims[0], claimProcCrash, tc.procs)
			checkClaim(t, claims[1], claimThreadCrash, tc.threads)
		})
	}
}

func TestCrashMetrics(t *testing.T) {
	t.Parallel()
	metrics := crashMetrics(crashRun())
	checkMetricKeys(t, crashIsolation(), metrics)
	for key, want := range map[string]float64{
		"crash.processes.siblings_finished": 3, "crash.processes.steps_after": 9, "crash.processes.distinct_pids": 4,
		"crash.threads.alive_after": 0, "crash.threads.finished": 0, "crash.threads.distinct_tids": 4, "crash.threads.peak": 9,
	} {
		if got, ok := lab.FindMetric(metrics, key); !ok || got.Value != want {
			t.Errorf("%s: got %v (found %v), want %v", key, got.Value, ok, want)
		}
	}
}
