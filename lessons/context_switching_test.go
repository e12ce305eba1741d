package lessons_test

import (
	"strings"
	"testing"

	"conclab/internal/labtest"
	"conclab/internal/probe"
)

func init() {
	checks["switch-cost"] = checkSwitchCost
	checks["switch-count"] = checkSwitchCount
	checks["yield-batching"] = checkYieldBatching
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// switch-cost measured goroutines, threads and processes, and the kernel
// really switched threads and processes: a thread that blocks on an empty
// pipe, or is pushed off its CPU for the other party, is counted.
func checkSwitchCost(t *testing.T, r *labtest.Run) {
	rows := r.Rows("evidence")
	kinds := []string{"goroutine", "thread", "process"}
	if cpus, _ := probe.AllowedCPUs(); len(cpus) > 1 {
		kinds = append(kinds, "goroutine-x", "thread-x", "process-x")
	}
	for _, k := range kinds {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no evidence row for %s", k)
			continue
		}
		rounds := num(row["rounds"])
		if rounds <= 0 {
			t.Errorf("%s: %v round trips", k, row["rounds"])
		}
		switches := num(row["voluntary"]) + num(row["involuntary"])
		if !strings.HasPrefix(k, "goroutine") && switches < rounds/2 {
			t.Errorf("%s: the kernel counted %v switches for %v round trips; each round trip must switch at least once", k, switches, rounds)
		}
	}
	for _, words := range [][]string{{"Switch,", "goroutines, same CPU"}, {"Switch,", "OS threads, same CPU"}, {"Switch,", "processes, same CPU"}} {
		m := r.Metric(t, words...)
		if m.Value <= 0 || m.N == 0 {
			t.Errorf("%s: %v %s from %d batches", m.Name, m.Value, m.Unit, m.N)
		}
	}
	if len(r.Of("points")) == 0 || len(r.Of("hist")) < 3 || len(r.Of("bar")) < 3 {
		t.Errorf("live chart events: %d points, %d hist, %d bar", len(r.Of("points")), len(r.Of("hist")), len(r.Of("bar")))
	}
}

// switch-count: K threads sharing one CPU get preempted; one thread alone
// does the same work.
func checkSwitchCount(t *testing.T, r *labtest.Run) {
	contended := r.Metric(t, "Involuntary switches", "threads on")
	if contended.Value <= 0 {
		t.Errorf("%s = %v: threads sharing one CPU were never preempted", contended.Name, contended.Value)
	}
	for _, m := range []string{"Throughput, 1 thread", "Throughput, 4 threads"} {
		if v := r.Metric(t, m).Value; v <= 0 {
			t.Errorf("%s = %v", m, v)
		}
	}
	if len(r.Of("gauge")) == 0 || len(r.Of("point")) == 0 {
		t.Error("no live counters were emitted while the threads ran")
	}
}

// yield-batching: yielding after every item is slower than after 10,000,
// by far more than any noise (a yield costs ~100 times an item).
func checkYieldBatching(t *testing.T, r *labtest.Run) {
	for _, kind := range []string{"goroutines", "OS threads"} {
		each := r.Metric(t, kind, "B = 1").Value
		batch := r.Metric(t, kind, "B = 10000").Value
		if each <= 0 || batch <= 0 {
			t.Fatalf("%s: rates %v and %v", kind, each, batch)
		}
		if batch < 2*each {
			t.Errorf("%s: %v items/s yielding every 10,000 items vs %v yielding after each; want batching at least twice as fast", kind, batch, each)
		}
	}
	if got := len(r.Of("point")); got != 10 {
		t.Errorf("%d throughput points, want %d", got, 10)
	}
}
