package lessons_test

import (
	"strings"
	"testing"

	"conclab/internal/kit"
	"conclab/internal/lab"
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
	kinds := []string{"goroutine", "thread", "process", "bare_thread", "bare_process"}
	if cpus, _ := probe.AllowedCPUs(); len(cpus) > 1 {
		kinds = append(kinds, "goroutine_across", "thread_across", "process_across")
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
	keys := []string{"switch.goroutine.same_cpu", "switch.thread.same_cpu", "switch.process.same_cpu", "switch.bare_thread.same_cpu", "switch.bare_process.same_cpu"}
	if len(kinds) > 5 {
		keys = append(keys, "wakeup.goroutine.across_cpus", "wakeup.thread.across_cpus", "wakeup.process.across_cpus")
	}
	for _, key := range keys {
		m := r.Key(t, key)
		if m.Value <= 0 || m.N == 0 {
			t.Errorf("%s: %v %s from %d batches", m.Name, m.Value, m.Unit, m.N)
		}
	}
	if load := r.Key(t, lab.KeyLoad); load.Unit != "CPUs" {
		t.Errorf("%s in %q, want CPUs", load.Name, load.Unit)
	}
	if len(r.Of("points")) == 0 || len(r.Of("hist")) < 5 || len(r.Of("bar")) < 5 {
		t.Errorf("live chart events: %d points, %d hist, %d bar", len(r.Of("points")), len(r.Of("hist")), len(r.Of("bar")))
	}
}

// switch-count: K threads sharing one CPU get preempted; one thread alone
// does the same work.
func checkSwitchCount(t *testing.T, r *labtest.Run) {
	contended := r.Key(t, "involuntary_switches.contended")
	if contended.Value <= 0 {
		t.Errorf("%s = %v: threads sharing one CPU were never preempted", contended.Name, contended.Value)
	}
	for _, key := range []string{"throughput.one_per_cpu", "throughput.contended"} {
		if m := r.Key(t, key); m.Value <= 0 {
			t.Errorf("%s = %v", m.Name, m.Value)
		}
	}
	if len(r.Of("gauge")) == 0 || len(r.Of("points")) == 0 {
		t.Error("no live counters were emitted while the threads ran")
	}
}

// yieldRows is how many points yield-batching's rate chart has: five batch
// sizes for goroutines and threads, and for asyncio where python3 is.
func yieldRows() int {
	if kit.Python3() != "" {
		return 15
	}
	return 10
}

// yield-batching: yielding after every item is slower than after 10,000,
// by far more than any noise (a yield costs ~100 times an item) — in
// asyncio too, when python3 is here.
func checkYieldBatching(t *testing.T, r *labtest.Run) {
	kinds := []string{"goroutine", "thread"}
	if kit.Python3() != "" {
		kinds = append(kinds, "asyncio")
	}
	for _, kind := range kinds {
		each := r.Key(t, "throughput."+kind+".batch_1").Value
		batch := r.Key(t, "throughput."+kind+".batch_10000").Value
		if each <= 0 || batch <= 0 {
			t.Fatalf("%s: rates %v and %v", kind, each, batch)
		}
		if batch < 2*each {
			t.Errorf("%s: %v items/s yielding every 10,000 items vs %v yielding after each; want batching at least twice as fast", kind, batch, each)
		}
	}
	if got, want := len(r.Of("point")), 5*len(kinds); got != want {
		t.Errorf("%d throughput points, want %d", got, want)
	}
	if m := r.Key(t, "yield_cost.goroutine"); m.Value <= 0 {
		t.Errorf("%s = %v %s: a yield must cost something", m.Name, m.Value, m.Unit)
	}
}
