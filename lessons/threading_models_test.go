package lessons_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/exp/trace"

	"conclab/internal/labtest"
	"conclab/internal/tracefile"
)

func init() {
	checks["threading-models"] = checkThreadingModels
	checks["blocking-call"] = checkBlockingCall
	checks["scheduler-trace"] = checkSchedulerTrace
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

// scheduler-trace: what the runtime's own trace must show on any machine,
// however busy. Quick mode runs 2 computing goroutines and the spinner on
// 2 Ps, so someone always waits for a P when the spinner is preempted.
func checkSchedulerTrace(t *testing.T, r *labtest.Run) {
	procs := num(r.Of("started")[0]["params"].(map[string]any)["procs"])
	lanes := map[string]bool{}
	roles := map[string]bool{}
	for _, e := range r.Of("span") {
		if e["chart"] != "sched" {
			continue
		}
		lanes[e["lane"].(string)] = true
		roles[e["label"].(string)] = true
		if _, ok := e["g"].(float64); !ok {
			t.Errorf("span without its goroutine: %v", e)
		}
		if m, ok := e["m"].(float64); !ok || m <= 0 {
			t.Errorf("span without its thread: %v", e)
		}
		if e["end"].(float64) < e["start"].(float64) {
			t.Errorf("span ends before it starts: %v", e)
		}
	}
	if len(lanes) == 0 || float64(len(lanes)) > procs {
		t.Errorf("spans on %d Ps %v, want 1 to GOMAXPROCS = %v", len(lanes), lanes, procs)
	}
	for _, role := range []string{"computing", "spinner"} {
		if !roles[role] {
			t.Errorf("no span of the %s goroutines; roles seen: %v", role, roles)
		}
	}
	if got := r.Key(t, "goroutines.running_peak").Value; got < 1 || got > procs {
		t.Errorf("%v goroutines ran at once, want 1 to GOMAXPROCS = %v", got, procs)
	}

	// The blocking goroutine was seen in read(), the spinner preempted while
	// another goroutine waited for its P, each said in words on its P.
	kinds := map[string]int{}
	for _, e := range r.Of("mark") {
		kinds[e["label"].(string)]++
		if text, _ := e["text"].(string); text == "" || e["lane"] == nil {
			t.Errorf("mark without its words or its P: %v", e)
		}
	}
	if kinds["syscall"] < 1 || r.Key(t, "syscall.reads").Value < 1 {
		t.Errorf("the blocking goroutine was never seen in read(): marks %v", kinds)
	}
	if kinds["preempted"] < 1 || r.Key(t, "spinner.preempted_contended").Value < 1 {
		t.Errorf("the spinner was never seen preempted while another goroutine waited: marks %v, %v preemptions",
			kinds, r.Key(t, "spinner.preempted").Value)
	}
	// A goroutine never leaves the thread it is in the kernel with; only
	// the last read() may still be pending when the trace stops.
	if same, reads := r.Key(t, "syscall.same_thread").Value, r.Key(t, "syscall.reads").Value; same < reads-1 {
		t.Errorf("only %v of %v read()s came back on the thread they entered on", same, reads)
	}
	for _, role := range []string{"computing", "spinner", "blocking", "waiting"} {
		if _, ok := r.Rows("roles")[role]; !ok {
			t.Errorf("no %s row in the roles table", role)
		}
	}
	if bars := len(r.Of("bar")); bars != 2 {
		t.Errorf("%d cost bars, want trace off and on", bars)
	}
	checkRawTrace(t, r)
}

// checkRawTrace puts the run's raw trace back together from its events, as
// /runs/{id}/trace does, and reads it whole, as go tool trace would.
func checkRawTrace(t *testing.T, r *labtest.Run) {
	var evs [][]byte
	for _, e := range r.Events {
		if e["type"] == tracefile.PartType || e["type"] == tracefile.FileType {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, b)
		}
	}
	raw, err := tracefile.Assemble(evs)
	if err != nil {
		t.Fatalf("the raw trace does not assemble: %v", err)
	}
	tr, err := trace.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the raw trace does not open: %v", err)
	}
	n := 0
	for {
		_, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the raw trace breaks after %d events: %v", n, err)
		}
		n++
	}
	if n == 0 {
		t.Error("the raw trace holds no event")
	}
}
