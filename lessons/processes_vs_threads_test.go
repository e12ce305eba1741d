package lessons_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/lessons"
)

func init() {
	checks["spawn-cost"] = checkSpawnCost
	checks["memory-footprint"] = checkMemoryFootprint
	checks["isolation"] = checkIsolation
	checks["message-passing"] = checkMessagePassing
	checks["crash-isolation"] = checkCrashIsolation
	checks["shared-counter"] = checkSharedCounter
}

// shared-counter counted what it must whatever the machine: the mutex,
// the atomic add and the pipe lose nothing, ever; no way counts more than
// was made; every round has its row. (Whether the unguarded threads lose
// updates depends on their meeting, which one busy CPU may not allow, so
// it is the verdict's to say, not this check's.)
func checkSharedCounter(t *testing.T, r *labtest.Run) {
	for _, key := range []string{"lost.mutex", "lost.atomic", "lost.pipe"} {
		if v := r.Key(t, key).Value; v != 0 {
			t.Errorf("%s = %v, want 0: a guarded update was lost", key, v)
		}
	}
	if v := r.Key(t, "lost.no_lock"); v.Value < 0 || (v.Min != nil && *v.Min < 0) {
		t.Errorf("lost.no_lock = %v: the unguarded counter counted more than was made", v.Value)
	}
	rounds := int(num(r.Of("started")[0]["params"].(map[string]any)["rounds"]))
	if rows := r.Rows("rounds"); len(rows) != rounds {
		t.Errorf("%d rows of rounds, want %d", len(rows), rounds)
	}
	for key, row := range r.Rows("rounds") {
		made := num(row["made"])
		for _, way := range []string{"mutex", "atomic", "pipe"} {
			if num(row[way]) != made {
				t.Errorf("round %s: %s counted %v of %v", key, way, row[way], made)
			}
		}
	}
}

// TestSharedCounterRaceDetector runs shared-counter with its race-enabled
// build: where a Go toolchain and a C compiler are on this machine the
// detector must report the race and the page must show its report; where
// they are not, the claim must say so plainly. The first race-enabled build
// on a machine compiles the race runtime into the standard library (a
// minute on two small CPUs), so it is skipped with -short.
func TestSharedCounterRaceDetector(t *testing.T) {
	if testing.Short() {
		t.Skip("a first race-enabled build can take a minute; skipped with -short")
	}
	r := labtest.RunQuick(t, lessons.Registry(), "shared-counter", map[string]string{"race": "true", "rounds": "3", "updates": "200000"})
	labtest.CheckContract(t, r)
	var c lab.Claim
	for _, cl := range r.Claims {
		if strings.Contains(cl.Claim, "race detector") {
			c = cl
		}
	}
	_, goErr := exec.LookPath("go")
	_, ccErr := exec.LookPath("gcc")
	switch {
	case goErr != nil:
		if c.Verdict != lab.Inconclusive || !strings.Contains(c.Why, "no Go toolchain") {
			t.Errorf("without a go command: %s (%s), want inconclusive saying there is no Go toolchain", c.Verdict, c.Why)
		}
	case ccErr != nil:
		t.Logf("no gcc: the detector claim is %s: %s", c.Verdict, c.Why)
	default:
		if c.Verdict != lab.Holds {
			t.Fatalf("with go and gcc: %s (%s; %s), want holds", c.Verdict, c.Measured, c.Why)
		}
		report := ""
		for _, row := range r.Rows("race") {
			report += fmt.Sprint(row["line"]) + "\n"
		}
		if !strings.Contains(report, "DATA RACE") || strings.Contains(report, os.TempDir()+"/conclab-race-") {
			t.Errorf("the report rows do not show the race, or show the temporary path:\n%s", report)
		}
	}
}

// kid reads a PID or thread id from a table cell, where it is text.
func kid(v any) float64 {
	s, _ := v.(string)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// spawn-cost made every unit anew: distinct PIDs for the processes,
// distinct thread ids for the threads. A process costs far more than a
// goroutine (milliseconds against a microsecond: the margin is huge).
func checkSpawnCost(t *testing.T, r *labtest.Run) {
	rows := r.Rows("evidence")
	kinds := []string{"thread", "process"}
	if _, err := os.Stat("/bin/true"); err == nil {
		kinds = append(kinds, "true")
	}
	for _, k := range kinds {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no evidence row for %s", k)
			continue
		}
		units, distinct := num(row["units"]), num(row["distinct"])
		if units != 20 || distinct != units {
			t.Errorf("%s: %v units with %v distinct kernel ids; want 20 and 20", k, row["units"], row["distinct"])
		}
		if fresh := num(row["fresh"]); fresh < units/2 {
			t.Errorf("%s: only %v of %v ids were new to the run", k, fresh, units)
		}
	}
	g := r.Key(t, "spawn.goroutine").Value
	p := r.Key(t, "spawn.process").Value
	if th := r.Key(t, "spawn.thread").Value; th <= 0 {
		t.Errorf("a thread took %v µs to create and finish", th)
	}
	if g <= 0 || p < 10*g {
		t.Errorf("a process took %v µs and a goroutine %v µs; want the process at least 10× dearer", p, g)
	}
	if len(r.Of("points")) == 0 || len(r.Of("bar")) < 3 || len(r.Of("hist")) < 3 {
		t.Errorf("live chart events: %d points, %d bar, %d hist", len(r.Of("points")), len(r.Of("bar")), len(r.Of("hist")))
	}
}

// memory-footprint held its units alive at once: distinct PIDs, a thread
// count that rose by the threads held, and memory that grew.
func checkMemoryFootprint(t *testing.T, r *labtest.Run) {
	rows := r.Rows("units")
	if got := num(rows["process"]["ids"]); got != 6 {
		t.Errorf("%v distinct PIDs held alive, want 6", rows["process"]["ids"])
	}
	if got := num(rows["thread"]["ids"]); got != 40 {
		t.Errorf("%v distinct thread ids held alive, want 40", rows["thread"]["ids"])
	}
	before := r.Key(t, "threads.before").Value
	peak := r.Key(t, "threads.all_alive").Value
	if peak < before || peak < 40 {
		t.Errorf("threads in the process went from %v to %v while 40 were held alive", before, peak)
	}
	own := r.Key(t, "memory.process.own").Value
	rss := r.Key(t, "memory.process.resident").Value
	if own <= 0 || rss < own {
		t.Errorf("a process: %v KiB own, %v KiB resident", own, rss)
	}
	if m := r.Key(t, "memory.thread.resident"); m.Unit != "KiB" || m.N != 40 {
		t.Errorf("resident per thread: %v %s over %d threads, want KiB over 40", m.Value, m.Unit, m.N)
	}
	if s := r.Key(t, "memory.goroutine.stack").Value; s <= 0 {
		t.Errorf("stack per goroutine %v KiB", s)
	}
	if len(r.Of("points")) == 0 || len(r.Of("gauge")) == 0 {
		t.Error("no live growth points or gauges")
	}
}

// isolation: the children's changes stayed in the children; the threads'
// changes reached the parent; processes and threads had distinct ids.
func checkIsolation(t *testing.T, r *labtest.Run) {
	rows := r.Rows("views")
	parent := kid(rows["parent-start"]["pid"])
	if v := num(rows["parent-procs"]["value"]); v != 100 {
		t.Errorf("the parent read %v after the child processes, want 100 (unchanged)", v)
	}
	if v := num(rows["parent-threads"]["value"]); v != 103 {
		t.Errorf("the parent read %v after 3 threads added 1, want 103", v)
	}
	if v := num(rows["parent-mapping"]["value"]); v != 103 {
		t.Errorf("the shared page read %v after 3 children added 1, want 103", v)
	}
	pids, tids := map[float64]bool{}, map[float64]bool{}
	for i := 1; i <= 3; i++ {
		p, th := rows[fmt.Sprintf("process-%d", i)], rows[fmt.Sprintf("thread-%d", i)]
		if num(p["value"]) != 101 {
			t.Errorf("child %d read %v after adding 1 to its copy, want 101", i, p["value"])
		}
		if kid(p["pid"]) == parent {
			t.Errorf("child %d ran in the parent's process", i)
		}
		pids[kid(p["pid"])] = true
		if kid(th["pid"]) != parent {
			t.Errorf("thread %d ran in process %v, not the parent %v", i, th["pid"], parent)
		}
		if num(th["value"]) != float64(100+i) {
			t.Errorf("thread %d read %v, want %d (the earlier threads' changes and its own)", i, th["value"], 100+i)
		}
		tids[kid(th["tid"])] = true
	}
	if len(pids) != 3 || len(tids) != 3 {
		t.Errorf("%d distinct PIDs and %d distinct thread ids, want 3 and 3", len(pids), len(tids))
	}
	for key, want := range map[string]float64{"parent.after_processes": 100, "parent.after_threads": 103, "parent.shared_page": 103,
		"processes.distinct_pids": 3, "threads.distinct_tids": 3} {
		if got := r.Key(t, key).Value; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

// message-passing measured all six ways. A pipe round trip (two system
// calls and two wake-ups) is slower than a channel's, by tens of times.
func checkMessagePassing(t *testing.T, r *labtest.Run) {
	for _, k := range []string{"pipe", "socket", "shared_memory", "channel", "mutex", "thread_ring"} {
		if v := r.Key(t, "throughput."+k).Value; v <= 0 {
			t.Errorf("throughput of %s: %v", k, v)
		}
		if m := r.Key(t, "round_trip."+k); m.Value <= 0 || m.N < 3 {
			t.Errorf("round trip of %s: %v µs over %d batches", k, m.Value, m.N)
		}
	}
	pipe := r.Key(t, "round_trip.pipe").Value
	ch := r.Key(t, "round_trip.channel").Value
	if pipe <= ch {
		t.Errorf("a pipe round trip (%v µs) was not slower than a channel's (%v µs)", pipe, ch)
	}
	if len(r.Of("bar")) < 10 || len(r.Of("points")) == 0 {
		t.Errorf("live chart events: %d bar, %d points", len(r.Of("bar")), len(r.Of("points")))
	}
}

// crash-isolation with the quick defaults: 4 workers, worker 2 crashes
// from a nil pointer dereference.
func checkCrashIsolation(t *testing.T, r *labtest.Run) {
	checkCrash(t, r, 4, 2, "exit status 2")
}

// checkCrash: exactly the chosen worker crashed and its siblings finished;
// in the one process, every thread ended and none is left.
func checkCrash(t *testing.T, r *labtest.Run, n, victim int, exit string) {
	t.Helper()
	procs := r.Rows("processes")
	if len(procs) != n {
		t.Errorf("%d worker rows, want %d", len(procs), n)
	}
	pids := map[float64]bool{}
	for i := 1; i <= n; i++ {
		row := procs[fmt.Sprintf("w%d", i)]
		pids[kid(row["pid"])] = true
		want := "finished"
		if i == victim {
			want = "crashed"
			if e, _ := row["exit"].(string); !strings.Contains(e, exit) {
				t.Errorf("worker %d ended %q, want %q", i, e, exit)
			}
		}
		if row["state"] != want {
			t.Errorf("worker %d is %v, want %s", i, row["state"], want)
		}
	}
	if len(pids) != n {
		t.Errorf("%d distinct worker PIDs, want %d", len(pids), n)
	}
	threads := r.Rows("threads")
	tids := map[float64]bool{}
	for i := 1; i <= n; i++ {
		row := threads[fmt.Sprintf("t%d", i)]
		if row["state"] != "crashed" {
			t.Errorf("thread %d is %v, want crashed with its process", i, row["state"])
		}
		if tid := kid(row["tid"]); tid > 0 {
			tids[tid] = true
		}
	}
	if len(tids) != n {
		t.Errorf("%d distinct thread ids, want %d", len(tids), n)
	}
	if v := r.Key(t, "crash.processes.siblings_finished").Value; v != float64(n-1) {
		t.Errorf("%v siblings finished, want %d", v, n-1)
	}
	if v := r.Key(t, "crash.processes.distinct_pids").Value; v != float64(n) {
		t.Errorf("%v distinct worker PIDs in the result, want %d", v, n)
	}
	if v := r.Key(t, "crash.threads.alive_after").Value; v != 0 {
		t.Errorf("%v threads outlived their process, want 0", v)
	}
	if v := r.Key(t, "crash.threads.finished").Value; v != 0 {
		t.Errorf("%v threads finished their steps in a crashed process, want 0", v)
	}
	if v := r.Key(t, "crash.threads.distinct_tids").Value; v != float64(n) {
		t.Errorf("%v distinct thread ids in the result, want %d", v, n)
	}
	if got := len(r.Of("span")); got != 2*n {
		t.Errorf("%d timeline spans, want %d", got, 2*n)
	}
}

// The other fault: a worker ended by SIGKILL, which nothing can catch.
func TestCrashIsolationSigkill(t *testing.T) {
	t.Parallel()
	r := labtest.RunQuick(t, lessons.Registry(), "crash-isolation", map[string]string{"fault": "sigkill", "workers": "3", "victim": "3"})
	labtest.CheckContract(t, r)
	checkCrash(t, r, 3, 3, "killed by signal SIGKILL")
}
