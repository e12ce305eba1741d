package lessons_test

import (
	"strings"
	"testing"

	"conclab/internal/labtest"
)

func init() {
	checks["threading-models"] = checkThreadingModels
	checks["blocking-call"] = checkBlockingCall
}

// threading-models: what the three mappings must show on any machine,
// however busy. Quick mode runs 3 computing tasks plus the reader.
func checkThreadingModels(t *testing.T, r *labtest.Run) {
	tasks := num(r.Of("started")[0]["params"].(map[string]any)["tasks"]) + 1

	// 1:1: every task on a kernel thread of its own, all of them new.
	if got := r.Key(t, "kernel_threads.ran_on.1to1").Value; got != tasks {
		t.Errorf("1:1: the %v tasks ran on %v kernel threads, want one each", tasks, got)
	}
	if added := r.Key(t, "threads.added.1to1").Value; added < tasks {
		t.Errorf("1:1: the process gained %v threads for %v tasks locked to threads of their own, want at least %v", added, tasks, tasks)
	}

	// N:1: one thread for everyone, and nobody moves while it sits in read().
	if got := r.Key(t, "kernel_threads.ran_on.nto1").Value; got != 1 {
		t.Errorf("N:1: the tasks ran on %v kernel threads, want exactly 1", got)
	}
	rows := r.Rows("models")
	if pace := r.Key(t, "others.pace_during_read.nto1").Value; pace != 0 {
		t.Errorf("N:1: the other tasks kept %v%% of their pace while read() was pending, want 0 (row: %v)", pace, rows["nto1"])
	}
	if !strings.HasPrefix(rows["nto1"]["pace"].(string), "0% (0 chunks)") {
		t.Errorf("N:1: the other tasks did work during read(): %v", rows["nto1"]["pace"])
	}
	pending := r.Key(t, "read.pending.nto1").Value
	if still := r.Key(t, "others.still_during_read.nto1").Value; still < 0.9*pending {
		t.Errorf("N:1: all others stood still for %v ms of the %v ms read, want (nearly) all of it", still, pending)
	}

	// 1:1 and M:N: the others kept finishing chunks during the read.
	for _, key := range []string{"1to1", "mton"} {
		if strings.HasPrefix(rows[key]["pace"].(string), "0% (0 chunks)") {
			t.Errorf("%s: the other tasks made no progress while read() was pending: %v", key, rows[key]["pace"])
		}
	}
	if pace := r.Key(t, "others.pace_during_read.mton").Value; pace <= 0 {
		t.Errorf("M:N: the other tasks kept %v%% of their pace during read(), want some progress (row %v, read %v ms)", pace, rows["mton"], r.Key(t, "read.pending.mton").Value)
	}

	// The three lanes were drawn live, with the read marked on each.
	for _, chart := range []string{"lane-1to1", "lane-nto1", "lane-mton"} {
		series := map[string]bool{}
		for _, e := range r.Of("points") {
			if e["chart"] == chart {
				series[e["series"].(string)] = true
			}
		}
		if float64(len(series)) != tasks {
			t.Errorf("%s: progress of %d tasks drawn, want %v", chart, len(series), tasks)
		}
		marks := 0
		for _, e := range r.Of("mark") {
			if e["chart"] == chart {
				marks++
			}
		}
		if marks != 2 {
			t.Errorf("%s: %d marks, want read() starts and data arrives", chart, marks)
		}
	}
	for _, key := range []string{"switch.coroutine.same_cpu", "switch.goroutine.same_cpu", "switch.thread.same_cpu"} {
		if m := r.Key(t, key); m.Value <= 0 || m.N == 0 {
			t.Errorf("%s: %v %s from %d batches", m.Name, m.Value, m.Unit, m.N)
		}
	}
	if sw := r.Key(t, "kernel_switches.thread.same_cpu").Value; sw < 1 {
		t.Errorf("the kernel counted %v switches for the thread ping-pong, want some", sw)
	}
}

// blocking-call: goroutines sitting in read() make the runtime add
// threads; computing goroutines do not.
func checkBlockingCall(t *testing.T, r *labtest.Run) {
	blocked := num(r.Of("started")[0]["params"].(map[string]any)["blocked"])
	compute := r.Key(t, "threads.computing.peak").Value
	block := r.Key(t, "threads.blocking.peak").Value
	if block-compute < blocked/2 {
		t.Errorf("%v goroutines in read() took the process from %v to %v threads; want at least %v more", blocked, compute, block, blocked/2)
	}
	if computing := num(r.Of("started")[0]["params"].(map[string]any)["computing"]); compute >= computing {
		t.Errorf("%v computing goroutines ran on %v threads, want fewer threads than goroutines", computing, compute)
	}
	if rows := r.Rows("phases"); len(rows) != 3 {
		t.Errorf("%d phase rows, want 3", len(rows))
	}
	if len(r.Of("points")) < 3 || len(r.Of("mark")) != 3 {
		t.Errorf("live chart events: %d points batches, %d marks", len(r.Of("points")), len(r.Of("mark")))
	}
}
