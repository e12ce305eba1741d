package processesvsthreads

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	m := func(kv ...any) []lab.Metric {
		var out []lab.Metric
		for i := 0; i < len(kv); i += 2 {
			out = append(out, lab.Metric{Key: kv[i].(string), Value: kv[i+1].(float64)})
		}
		return out
	}
	for _, c := range []struct {
		name   string
		answer func([]lab.Metric) (string, bool)
		ms     []lab.Metric
		want   string
		ok     bool
	}{
		{"processes isolated", processesAnswer, m("parent.after_processes", 100.0, "parent.after_threads", 103.0, "threads.distinct_tids", 3.0), "has not changed", true},
		{"processes sharing", processesAnswer, m("parent.after_processes", 103.0, "parent.after_threads", 103.0, "threads.distinct_tids", 3.0), "has every child's change", true},
		{"processes untold", processesAnswer, m("parent.after_processes", 100.0), "", false},
		{"threads share", threadsAnswer, m("parent.after_processes", 100.0, "parent.after_threads", 103.0), "has every thread's change", true},
		{"threads do not", threadsAnswer, m("parent.after_processes", 100.0, "parent.after_threads", 100.0), "has not changed", true},
		{"threads untold", threadsAnswer, nil, "", false},
		{"siblings finish", siblingsAnswer, m("crash.processes.siblings_finished", 3.0, "crash.processes.distinct_pids", 4.0), "all finish", true},
		{"siblings stop", siblingsAnswer, m("crash.processes.siblings_finished", 0.0, "crash.processes.distinct_pids", 4.0), "all stop", true},
		{"some siblings", siblingsAnswer, m("crash.processes.siblings_finished", 1.0, "crash.processes.distinct_pids", 4.0), "", false},
		{"threads die together", threadsCrashAnswer, m("crash.threads.alive_after", 0.0), "all stop", true},
		{"threads survive", threadsCrashAnswer, m("crash.threads.alive_after", 3.0), "keep running", true},
		{"threads untold", threadsCrashAnswer, nil, "", false},
	} {
		if got, ok := c.answer(c.ms); got != c.want || ok != c.ok {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
