package lessons_test

import (
	"strings"
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/lessons"
)

func init() {
	checks["spawn-many"] = checkSpawnMany
	checks["cooperative"] = checkCooperative
	checks["coroutine-switch"] = checkCoroutineSwitch
	checks["asyncio-await"] = checkAsyncioAwait
}

// asyncio-await: with python3, every wait really waited for the server's
// delay, all tasks shared one thread, the other tasks got on while one
// awaited and did nothing at all while one sat in a blocking read (the
// loop's one thread was inside it). Without python3, the run says so.
func checkAsyncioAwait(t *testing.T, r *labtest.Run) {
	if r.Key(t, "python.found").Value == 0 {
		if !logged(r, "python3 is not installed") {
			t.Error("python3 is missing, but the log does not say so")
		}
		return
	}
	const delay, waits = 20, 2 // the quick values
	rows := r.Rows("waits")
	if len(rows) != 2*waits {
		t.Fatalf("%d waits in the table, want %d", len(rows), 2*waits)
	}
	for key, row := range rows {
		if num(row["wait"]) < delay {
			t.Errorf("wait %s took %v ms, less than the server's %d ms delay", key, row["wait"], delay)
		}
		switch {
		case strings.HasPrefix(key, "blocking") && num(row["others"]) != 0:
			t.Errorf("wait %s: the other tasks did %v chunks while the loop's thread sat in a blocking read", key, row["others"])
		case strings.HasPrefix(key, "await") && num(row["others"]) <= 0:
			t.Errorf("wait %s: the other tasks did nothing while one task awaited", key)
		}
	}
	if n := r.Key(t, "event_loop.threads").Value; n != 1 {
		t.Errorf("the event loop's tasks ran on %v threads, want 1", n)
	}
}

// TestAsyncioAwaitWithoutPython runs asyncio-await with nothing on the
// PATH: the run still ends ok, says python3 is missing, and judges nothing.
func TestAsyncioAwaitWithoutPython(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := labtest.RunQuick(t, lessons.Registry(), "asyncio-await", nil)
	labtest.CheckContract(t, r)
	checkAsyncioAwait(t, r)
	for _, c := range r.Claims {
		if c.Verdict != lab.Inconclusive {
			t.Errorf("claim %q: %s, want inconclusive without python3", c.Claim, c.Verdict)
		}
	}
}

// spawn-many really parked its N goroutines and M threads: the runtime and
// the kernel counted them, and every parked thread answered with an id of
// its own. Then it let them all go.
func checkSpawnMany(t *testing.T, r *labtest.Run) {
	rows := r.Rows("counted")
	g, ok := rows["goroutines"]
	if !ok {
		t.Fatal("no counted row for goroutines")
	}
	n := num(g["target"])
	if num(g["reached"]) != n {
		t.Errorf("parked %v of %v goroutines", g["reached"], n)
	}
	if rise := num(g["peak"]) - num(g["before"]); rise < n {
		t.Errorf("runtime.NumGoroutine rose by %v, want at least %v", rise, n)
	}
	if num(g["left"]) != 0 {
		t.Errorf("%v goroutines left after release", g["left"])
	}

	th, ok := rows["threads"]
	if !ok {
		t.Fatal("no counted row for OS threads")
	}
	m := num(th["target"])
	if num(th["reached"]) != m {
		t.Errorf("parked %v of %v threads", th["reached"], m)
	}
	if peak := num(th["peak"]); peak < m {
		t.Errorf("the kernel counted %v threads at the peak, want at least %v", peak, m)
	}
	if d := r.Key(t, "threads.distinct_ids").Value; d != m {
		t.Errorf("%v distinct thread ids for %v locked goroutines", d, m)
	}
	if num(th["left"]) != 0 {
		t.Errorf("%v parked threads still alive after release", th["left"])
	}

	// A goroutine costs a few KiB; a thread clearly more (the margin is
	// wide: about 2.5 KiB against about 20 KiB plus an 8 MiB reservation).
	perG := r.Key(t, "memory.goroutine.resident").Value
	perT := r.Key(t, "memory.thread.resident").Value
	if perG <= 0 || perG > 64 {
		t.Errorf("%v KiB per goroutine", perG)
	}
	if perT <= perG {
		t.Errorf("a thread took %v KiB and a goroutine %v KiB", perT, perG)
	}
	if len(r.Of("points")) < 2 || len(r.Of("bar")) < 3 {
		t.Errorf("live chart events: %d points, %d bars", len(r.Of("points")), len(r.Of("bar")))
	}
}

// cooperative: with preemption off the heartbeat waits for the whole spin,
// several times longer than it typically waits with preemption on. (The
// median, not the longest: on a busy machine the kernel may hold the whole
// worker off its CPU for a while, and that stall is nobody's preemption.)
func checkCooperative(t *testing.T, r *labtest.Run) {
	off := r.Key(t, "heartbeat.longest_gap.preemption_off").Value
	on := r.Key(t, "heartbeat.gap_during_spin.preemption_on").Value
	if on <= 0 || off < 3*on {
		t.Errorf("longest gap %v ms with preemption off and a median gap of %v ms with it on; want off at least 3× on", off, on)
	}
	rows := r.Rows("runs")
	if got := rows["off"]["godebug"]; got != "asyncpreemptoff=1" {
		t.Errorf("the preemption-off worker saw GODEBUG %v", got)
	}
	for _, k := range []string{"off", "yield", "on"} {
		if p := num(rows[k]["procs"]); p != 1 {
			t.Errorf("%s: worker ran with GOMAXPROCS %v, want 1", k, p)
		}
	}
	if b := num(rows["off"]["beats"]); b != 0 {
		t.Errorf("preemption off: the heartbeat ran %v times while the spinner ran; it cannot run at all", b)
	}
	if spin := num(rows["off"]["spin"]); off < 0.9*spin {
		t.Errorf("preemption off: longest gap %v ms but the spinner ran %v ms", off, spin)
	}
	if len(r.Of("points")) < 3 || len(r.Of("span")) < 4 {
		t.Errorf("live chart events: %d points, %d spans", len(r.Of("points")), len(r.Of("span")))
	}
}

// coroutine-switch measured all three kinds, and only the OS threads made
// the kernel switch: coroutines and goroutines switch in user space.
func checkCoroutineSwitch(t *testing.T, r *labtest.Run) {
	rows := r.Rows("evidence")
	for _, k := range []string{"coroutine", "goroutine", "thread"} {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no evidence row for %s", k)
			continue
		}
		rounds := num(row["rounds"])
		switches := num(row["voluntary"]) + num(row["involuntary"])
		if rounds <= 0 || num(row["ns"]) <= 0 {
			t.Errorf("%s: %v round trips, %v ns per switch", k, rounds, row["ns"])
		}
		if k == "thread" && switches < rounds/2 {
			t.Errorf("threads: the kernel counted %v switches for %v round trips", switches, rounds)
		}
		if k != "thread" && switches > rounds/100 {
			t.Errorf("%s: the kernel counted %v switches for %v round trips; these switch in user space", k, switches, rounds)
		}
	}
	for _, key := range []string{"switch.coroutine.same_cpu", "switch.goroutine.same_cpu", "switch.thread.same_cpu"} {
		if m := r.Key(t, key); m.Value <= 0 || m.N == 0 {
			t.Errorf("%s: %v %s from %d batches", m.Name, m.Value, m.Unit, m.N)
		}
	}
	if c := r.Key(t, "work.cpus_busy.coroutines_one_thread").Value; c <= 0 || c > 1.5 {
		t.Errorf("coroutines on one thread kept %v CPUs busy", c)
	}
}
