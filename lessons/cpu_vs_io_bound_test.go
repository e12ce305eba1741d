package lessons_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/lessons"
)

func init() {
	checks["scaling"] = checkScaling
	checks["task-profile"] = checkTaskProfile
	checks["mixed-pipeline"] = checkMixedPipeline
	checks["python-gil"] = checkPythonGIL
}

// seriesPoints counts a line chart's points per series.
func seriesPoints(r *labtest.Run, chart string) map[string]int {
	out := map[string]int{}
	for _, e := range r.Events {
		if e["chart"] != chart {
			continue
		}
		switch e["type"] {
		case "point":
			out[e["series"].(string)]++
		case "points":
			xs, _ := e["x"].([]any)
			out[e["series"].(string)] += len(xs)
		}
	}
	return out
}

func logged(r *labtest.Run, words string) bool {
	for _, e := range r.Of("log") {
		if msg, _ := e["message"].(string); strings.Contains(msg, words) {
			return true
		}
	}
	return false
}

// scaling: the I/O-bound tasks really went over the network (the server
// answered every query sent), all four curves were drawn with the core
// count marked, and waiting work gained from workers even on one CPU (it
// should gain about 8× with the quick settings; 1.5× is far below that).
func checkScaling(t *testing.T, r *labtest.Run) {
	sent := r.Key(t, "io.queries_sent").Value
	answered := r.Key(t, "io.queries_answered").Value
	// Quick: 16 tasks per batch, at least 4 worker counts (1, 2, 4, 8), two curves.
	if sent < 2*4*16 || answered != sent {
		t.Errorf("I/O queries: %v sent, %v answered by the server; want every one of at least 128 answered", sent, answered)
	}
	for key, row := range r.Rows("evidence") {
		if strings.HasPrefix(key, "io-") && num(row["answered"]) != num(row["done"]) {
			t.Errorf("%s: %v tasks done but the server answered %v", key, row["done"], row["answered"])
		}
	}
	if n := r.Key(t, "cpu.tasks_done").Value; n < 2*4*16 {
		t.Errorf("%v CPU-bound tasks completed, want at least 128", n)
	}
	pts := seriesPoints(r, "speedup")
	for _, s := range []string{"I/O-bound, all CPUs", "I/O-bound, one CPU", "CPU-bound, all CPUs", "CPU-bound, one CPU"} {
		if pts[s] < 4 {
			t.Errorf("curve %q has %d points, want at least 4 (got %v)", s, pts[s], pts)
		}
	}
	if len(r.Of("mark")) != 1 {
		t.Errorf("%d marks on the chart, want one at the core count", len(r.Of("mark")))
	}
	if s := r.Key(t, "speedup.io_bound.one_cpu.most_workers").Value; s < 1.5 {
		t.Errorf("I/O-bound speedup with the most workers on one CPU = %v, want well above 1", s)
	}
}

// task-profile: every phase of every request was measured, both queries of
// each request went to the server and came back no sooner than its delay,
// every response arrived, and the waits used next to no CPU.
func checkTaskProfile(t *testing.T, r *labtest.Run) {
	const requests, delayMs = 2, 3 // the quick values
	spans := r.Of("span")
	if len(spans) != 5*requests {
		t.Fatalf("%d spans, want %d (five phases per request)", len(spans), 5*requests)
	}
	labels := map[string]int{}
	for _, s := range spans {
		labels[s["label"].(string)]++
		length := num(s["end"]) - num(s["start"])
		if s["label"] == "wait for I/O" && length < delayMs*0.99 {
			t.Errorf("a wait lasted %v ms, shorter than the server's %d ms delay", length, delayMs)
		}
	}
	if labels["compute"] != 2*requests || labels["wait for I/O"] != 2*requests || labels["respond"] != requests {
		t.Errorf("span labels %v", labels)
	}
	if q := r.Key(t, "server.queries_answered").Value; q != 2*requests {
		t.Errorf("the server answered %v queries, want %d", q, 2*requests)
	}
	if n := r.Key(t, "server.responses_received").Value; n != requests {
		t.Errorf("the server received %v responses, want %d", n, requests)
	}
	if share := r.Key(t, "wait.cpu_share").Value; share >= 50 {
		t.Errorf("the handler used %v%% of a CPU while waiting; waiting should cost next to nothing", share)
	}
	if rows := r.Rows("phases"); len(rows) != 5 {
		t.Errorf("%d phase rows, want 5", len(rows))
	}
}

// mixed-pipeline: every strategy processed every request, made both
// queries of each and delivered each response. No timing is checked: the
// single-CPU strategy shares its one CPU with whatever else is pinned
// there, so even its lead over sequential is not safe on a busy machine.
func checkMixedPipeline(t *testing.T, r *labtest.Run) {
	const requests = 12                                                                        // the quick value
	strategies := []string{"sequential", "concurrent_one_cpu", "concurrent_all_cpus", "mixed"} // as metric keys
	for _, s := range strategies {
		if n := r.Key(t, "requests.processed."+s).Value; n != requests {
			t.Errorf("%s processed %v requests, want %d", s, n, requests)
		}
		if q := r.Key(t, "server.queries_answered."+s).Value; q != 2*requests {
			t.Errorf("%s: the server answered %v queries, want %d", s, q, 2*requests)
		}
		if n := r.Key(t, "server.responses_received."+s).Value; n != requests {
			t.Errorf("%s: the server received %v responses, want %d", s, n, requests)
		}
	}
	rows := r.Rows("strategies")
	for _, key := range []string{"sequential", "concurrent-1cpu", "concurrent-all", "mixed"} {
		if rows[key]["state"] != "finished" || num(rows[key]["processed"]) != requests {
			t.Errorf("table row %s = %v, want finished with %d processed", key, rows[key], requests)
		}
	}
	pts := seriesPoints(r, "done")
	if len(pts) != 4 {
		t.Errorf("the progress chart has series %v, want all four strategies", pts)
	}
	for _, s := range strategies {
		if v := r.Key(t, "throughput."+s).Value; v <= 0 {
			t.Errorf("throughput of %s = %v", s, v)
		}
	}
}

// python-gil: either python3 ran all four variants, or the run said why it
// could not and still ended ok.
func checkPythonGIL(t *testing.T, r *labtest.Run) {
	if r.Key(t, "python.found").Value == 0 {
		if !logged(r, "python3 was not found") {
			t.Error("python3 is missing, but the log does not say so")
		}
		return
	}
	ft := r.Key(t, "python.free_threaded.found").Value
	if ft == 0 {
		c := r.Claims[len(r.Claims)-1]
		if c.Verdict != lab.Inconclusive || !strings.Contains(c.Why, "No free-threaded CPython") {
			t.Errorf("without a free-threaded build the last claim is %s: %q", c.Verdict, c.Why)
		}
	}
	if _, ok := lab.FindMetric(r.Metrics, "speedup.threads"); !ok && logged(r, "is a free-threaded build") {
		return // python3 itself has no GIL: there is no default build to check
	}
	rows := r.Rows("variants")
	if want := 4 + 2*int(ft); len(rows) != want {
		t.Fatalf("%d variant rows, want %d", len(rows), want)
	}
	for key, row := range rows {
		if num(row["rounds"]) != 1 || num(row["wall"]) <= 0 {
			t.Errorf("variant %s: %v", key, row)
		}
	}
	kinds := map[string]int{}
	for _, s := range r.Of("span") {
		kinds[s["label"].(string)]++
	}
	if kinds["threads"] < 3 || kinds["threads"] != kinds["processes"] {
		t.Errorf("worker spans %v: want 1 + N threads and as many processes", kinds)
	}
	r.Key(t, "speedup.threads")
	r.Key(t, "speedup.processes")
}

// TestPythonGILWithoutPython runs python-gil with nothing on the PATH: the
// run still ends ok, says python3 is missing, and judges nothing.
func TestPythonGILWithoutPython(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := labtest.RunQuick(t, lessons.Registry(), "python-gil", nil)
	labtest.CheckContract(t, r)
	checkNothingMeasured(t, r, 0, "python3 was not found")
}

// TestPythonGILWithoutGIL runs python-gil against a stand-in python3 that
// reports a free-threaded build: the run says so and ends ok.
func TestPythonGILWithoutGIL(t *testing.T) {
	dir := t.TempDir()
	fake := "#!/bin/sh\necho '{\"event\":\"probe\",\"version\":\"3.14.0\",\"gil\":false,\"implementation\":\"cpython\",\"executable\":\"/opt/python3.14t\"}'\n"
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+"/bin:/usr/bin")
	r := labtest.RunQuick(t, lessons.Registry(), "python-gil", nil)
	labtest.CheckContract(t, r)
	checkNothingMeasured(t, r, 1, "free-threaded")
}

func checkNothingMeasured(t *testing.T, r *labtest.Run, found float64, says string) {
	t.Helper()
	if v := r.Key(t, "python.found").Value; v != found {
		t.Errorf("python3 found = %v, want %v", v, found)
	}
	if !logged(r, says) {
		t.Errorf("the log does not say %q", says)
	}
	for _, c := range r.Claims {
		if c.Verdict != lab.Inconclusive {
			t.Errorf("claim %q: %s, want inconclusive when nothing was measured", c.Claim, c.Verdict)
		}
	}
	if n := len(r.Of("span")); n != 0 {
		t.Errorf("%d worker spans without a Python to run them", n)
	}
}
