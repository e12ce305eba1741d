package cpuvsiobound

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimMostlyWaiting = lab.Claim{
		Claim:    "A request that talks to a database or another service spends most of its life waiting for them.",
		Expected: "half or more of the request's time in the waits, request by request — an illustration: the settings decide it, and compute longer than the delay to see it fail",
	}
	claimWaitIsFree = lab.Claim{
		Claim:    "While a task waits for I/O it uses no CPU, so the CPU is free for other work.",
		Expected: "CPU time during the waits under 5% of their length",
	}
)

// A phase of the request's life.
type phase struct {
	key, name, label string // label colours the span: compute, wait for I/O, respond
	wait             bool
}

var phases = []phase{
	{"compute-1", "compute: parse and hash the request", "compute", false},
	{"wait-1", "wait for I/O: first query", "wait for I/O", true},
	{"compute-2", "compute: work on the answer", "compute", false},
	{"wait-2", "wait for I/O: second query", "wait for I/O", true},
	{"respond", "respond: write the result to the socket", "respond", false},
}

// spanTimes is one measured phase: wall-clock start and end, and the CPU
// time the thread used in between.
type spanTimes struct {
	start, end time.Time
	cpu        time.Duration
}

func taskProfile() *lab.Experiment {
	return &lab.Experiment{
		ID:     "task-profile",
		Lesson: Slug,
		Title:  "The life of one request",
		Summary: "A handler does what many web handlers do: it computes (hashes the request), sends a query to the slow local server and waits for the answer, " +
			"computes again, sends a second query and waits, then writes its response back over the socket. Every phase is timed twice: by the wall clock, " +
			"and by the thread's own CPU clock, which only runs while the thread is on a CPU.",
		Params: []lab.Param{
			lab.Int("requests", "Requests", 8, 1, 20, "How many requests to handle, one after another; each gets its own row in the timeline.").WithQuick(2),
			lab.Int("compute", "Computing per compute phase", 5, 1, 200, "How long each compute phase hashes.").WithUnit("ms").WithQuick(1),
			lab.Int("wait", "Server delay per query", 30, 1, 500, "How long the slow server holds back each answer.").WithUnit("ms").WithQuick(3),
		},
		Claims:      []lab.Claim{claimMostlyWaiting, claimWaitIsFree},
		Predictions: taskProfilePredictions,
		Charts: []lab.Chart{
			{ID: "timeline", Kind: "lanes", Title: "Each request's life, drawn to scale", X: "ms since the request arrived",
				Note: "One row per request; every bar is a measured phase. The handler runs on one OS thread locked to its goroutine."},
		},
		Tables: []lab.Table{{ID: "phases", Title: "Wall time against CPU time, per phase (median over the requests)", Columns: []lab.Column{
			{Key: "phase", Label: "Phase"}, {Key: "wall", Label: "Wall time (ms)"}, {Key: "cpu", Label: "CPU time (ms)"}, {Key: "share", Label: "CPU ÷ wall"},
		}}},
		Limit: 60 * time.Second,
		Run:   runTaskProfile,
	}
}

func runTaskProfile(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	n := p.Int("requests")
	wait := time.Duration(p.Int("wait")) * time.Millisecond
	srv, err := kit.StartSlowServer(nil)
	if err != nil {
		return err
	}
	defer srv.Close(ctx)

	out.Progress("calibrating the hashing", 0, n)
	rate, err := calibrateHash(allowed[len(allowed)-1])
	if err != nil {
		return err
	}
	blocks := blocksFor(p.Int("compute"), rate)
	out.Log(fmt.Sprintf("Each compute phase hashes %d × 16 KiB; each query waits on a socket to %s, whose answer comes after %s.", blocks, srv.Addr(), wait))

	all := make([][]spanTimes, 0, n)
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		out.Progress(fmt.Sprintf("request %d of %d", i+1, n), i, n)
		spans, err := handleOne(ctx, srv.Addr(), blocks, wait, i)
		if err != nil {
			return err
		}
		all = append(all, spans)
		lane := fmt.Sprintf("req %d", i+1)
		t0 := spans[0].start
		for k, s := range spans {
			out.Span("timeline", lane, format.Ms(s.start.Sub(t0)), format.Ms(s.end.Sub(t0)), phases[k].label)
		}
		w, tot := waitShare(all)
		out.Gauge("Share of the time spent waiting, so far", format.Round(100*w/tot, 3), "%")
		emitPhaseRows(out, all)
	}
	out.Progress("done", n, n)
	srv.Close(ctx) // counts every response before they are reported
	return taskProfileResult(out, all, srv.Answered(), srv.Responses(), wait, time.Duration(p.Int("compute"))*time.Millisecond)
}

// handleOne handles one request on a thread of its own, so the thread's
// CPU clock belongs to this request alone.
func handleOne(ctx context.Context, addr string, blocks int, wait time.Duration, id int) ([]spanTimes, error) {
	type answer struct {
		spans []spanTimes
		err   error
	}
	ch := make(chan answer, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cl, err := kit.DialSlow(ctx, addr) // a pooled connection, open before the request arrives
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer cl.Close()
		spans := make([]spanTimes, 0, len(phases))
		var sum [32]byte
		// snippet:task-profile
		timed := func(f func() error) error {
			s := spanTimes{start: time.Now()}
			c0 := probe.ThreadCPUTime()
			err := f()
			s.cpu, s.end = probe.ThreadCPUTime()-c0, time.Now()
			spans = append(spans, s)
			return err
		}
		query := func() error {
			_, err := cl.Query(wait, sum[:])
			return err
		}
		steps := []func() error{
			func() error { sum = hashBlocks(blocks); return nil },
			query,
			func() error { sum = hashBlocks(blocks); return nil },
			query,
			func() error {
				body, err := json.Marshal(map[string]any{"request": id, "status": "ok", "digest": hex.EncodeToString(sum[:])})
				if err != nil {
					return err
				}
				return cl.Respond(body)
			},
		}
		// end snippet
		for _, step := range steps {
			if err := timed(step); err != nil {
				ch <- answer{err: err}
				return
			}
		}
		ch <- answer{spans: spans}
	}()
	a := <-ch
	return a.spans, a.err
}

// taskProfilePredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var taskProfilePredictions = []lab.Prediction{
	{Claim: 0, Question: "What share of a request's life is spent waiting for the slow server?", Kind: lab.PredictNumber, Unit: "%", Min: 1, Max: 100, Log: false, Key: "wait.share"},
	{Claim: 1, Question: "While it waits, the task uses what share of a CPU?", Kind: lab.PredictNumber, Unit: "%", Min: 0.01, Max: 100, Log: true, Key: "wait.cpu_share"},
}
