package processesvsthreads

import (
	"testing"

	"conclab/internal/lab"
)

// isoRun is what three children and three threads report when processes
// keep their memory to themselves and threads share it.
func isoRun() isoMeasured {
	m := isoMeasured{n: 3, pid: 100, afterProcs: startValue, afterThreads: startValue + 3, mapping: true, mapped: startValue + 3}
	for i := range 3 {
		m.children = append(m.children, view{pid: 200 + i, tid: 200 + i, address: "0x1", value: startValue + 1, mapped: startValue + 1 + int64(i)})
		m.threads = append(m.threads, view{pid: 100, tid: 300 + i, address: "0x1", value: startValue + 1 + int64(i)})
	}
	return m
}

func TestJudgeIsolation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		change         func(*isoMeasured)
		procs, threads string
	}{
		{"as the lesson says", func(*isoMeasured) {}, lab.Holds, lab.Holds},
		{"the parent saw a child's change", func(m *isoMeasured) { m.afterProcs, m.afterThreads = startValue+1, startValue+4 }, lab.Differs, lab.Holds},
		{"two children shared a PID", func(m *isoMeasured) { m.children[1].pid = m.children[0].pid }, lab.Differs, lab.Holds},
		{"a child ran in the parent", func(m *isoMeasured) { m.children[2].pid = m.pid }, lab.Differs, lab.Holds},
		{"a child did not report", func(m *isoMeasured) { m.children = m.children[:2] }, lab.Inconclusive, lab.Holds},
		{"a thread's change was lost", func(m *isoMeasured) { m.afterThreads = startValue + 2 }, lab.Holds, lab.Differs},
		{"two threads shared a thread id", func(m *isoMeasured) { m.threads[1].tid = m.threads[0].tid }, lab.Holds, lab.Differs},
		{"a thread ran in another process", func(m *isoMeasured) { m.threads[0].pid = 999 }, lab.Holds, lab.Differs},
		{"a thread did not report", func(m *isoMeasured) { m.threads[2] = view{} }, lab.Holds, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := isoRun()
			tc.change(&m)
			claims := judgeIsolation(m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
			}
			checkClaim(t, claims[0], claimProcsIsolated, tc.procs)
			checkClaim(t, claims[1], claimThreadsShare, tc.threads)
		})
	}
}

func TestIsolationMetricsKeys(t *testing.T) {
	t.Parallel()
	m := isoRun()
	full := isolationMetrics(m)
	m.mapping = false
	checkMetricKeys(t, isolation(), isolationMetrics(m), full)
	for key, want := range map[string]float64{"parent.after_processes": 100, "parent.after_threads": 103, "parent.shared_page": 103,
		"processes.distinct_pids": 3, "threads.distinct_tids": 3} {
		if got, ok := lab.FindMetric(full, key); !ok || got.Value != want {
			t.Errorf("%s: got %v (found %v), want %v", key, got.Value, ok, want)
		}
	}
}
