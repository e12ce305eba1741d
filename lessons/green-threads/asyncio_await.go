package greenthreads

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
	"conclab/internal/lab"
)

// awaitScript is the Python side of asyncio-await, passed to python3 with
// -c so no file is left behind.
//
//go:embed asyncio_await.py
var awaitScript string

var (
	claimAwaitFrees = lab.Claim{
		Claim:    "While one asyncio task awaits I/O, the event loop's one thread runs the other tasks.",
		Expected: "the other tasks keep at least half their usual pace during each await, all on one thread",
	}
	claimBlockingStops = lab.Claim{
		Claim:    "A blocking call inside an asyncio task stops every other task on its event loop until it returns.",
		Expected: "the other tasks do 5% of their usual pace or less while the blocking call waits",
	}
)

// awaitConditional are the figures a run has only when python3 ran.
var awaitConditional = []string{
	"pace.during_await", "pace.during_blocking", "wait.await.wall", "wait.blocking.wall",
	"others.pace.alone", "event_loop.threads",
}

func asyncioAwait() *lab.Experiment {
	return &lab.Experiment{
		ID:     "asyncio-await",
		Lesson: Slug,
		Title:  "An await on real I/O leaves the thread free",
		Summary: "One Python asyncio event loop, on one thread, runs a few tasks that count small chunks of work, yielding after each. " +
			"Beside them one task asks the slow local server a question and waits for the answer on a socket: first with await on an asyncio stream, " +
			"then with a plain blocking read. The other tasks' progress during each wait shows whether the thread was free. Needs python3 on the server.",
		Params: []lab.Param{
			lab.Int("delay", "Server delay per query", 100, 10, 1000, "How long the local server holds back each answer.").WithUnit("ms").WithQuick(20),
			lab.Int("waits", "Waits each way", 5, 1, 20, "How many queries the waiting task makes with await, then with a blocking read.").WithQuick(2),
			lab.Int("tasks", "Other tasks", 4, 1, 50, "How many counting tasks share the event loop with the waiting one."),
		},
		Claims:      []lab.Claim{claimAwaitFrees, claimBlockingStops},
		Predictions: awaitPredictions,
		Charts: []lab.Chart{
			{ID: "pace", Kind: "bars", Title: "The other tasks' pace while one task waits", Y: "% of their pace when nobody waits",
				Note: "Chunks the other tasks finished during each wait ÷ the wait's length, against the same while nobody waits. Median of the waits; whiskers from the slowest to the fastest."},
			{ID: "waits", Kind: "lanes", Title: "The waiting task's waits", X: "ms since the first wait",
				Note: "Each bar is one wait on the server, timed inside Python with time.perf_counter."},
		},
		Tables: []lab.Table{{ID: "waits", Title: "Every wait", Columns: []lab.Column{
			{Key: "mode", Label: "How it waited"}, {Key: "wait", Label: "Wait (ms)"}, {Key: "others", Label: "Chunks the others did meanwhile"},
			{Key: "pace", Label: "Their pace (% of usual)"},
		}}},
		Conditional: awaitConditional,
		Limit:       60 * time.Second,
		Run:         runAsyncioAwait,
	}
}

// awaitLine is one line the Python side prints.
type awaitLine struct {
	Event      string  `json:"event"`
	Version    string  `json:"version"`
	Executable string  `json:"executable"`
	Seconds    float64 `json:"seconds"`
	Chunks     int     `json:"chunks"`
	Mode       string  `json:"mode"`
	I          int     `json:"i"`
	Start      float64 `json:"start"` // perf_counter seconds
	End        float64 `json:"end"`
	Others     int     `json:"others"`
	Thread     int64   `json:"thread"` // threading.get_ident() of the waiting task
	N          int     `json:"n"`      // threads the tasks ran on
}

func runAsyncioAwait(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	py := kit.Python3()
	if py == "" {
		why := "python3 is not installed on this server (it is not on the PATH), so there is no event loop to measure."
		out.Log(why)
		out.Result([]lab.Metric{{Key: keyAwaitPython, Name: "python3 found", Value: 0, Note: "1 when python3 is on the PATH, 0 when it is not"}}, judgeNoLoop(why))
		return nil
	}
	srv, err := kit.StartSlowServer(nil)
	if err != nil {
		return err
	}
	defer srv.Close(ctx)
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		return err
	}
	delay, waits := p.Int("delay"), p.Int("waits")
	m := awaitMeasured{delay: time.Duration(delay) * time.Millisecond, tasks: p.Int("tasks"), waiters: map[int64]bool{}}
	var first float64
	steps, step := 2*waits+1, 0
	out.Progress("the other tasks alone", 0, steps)
	err = kit.RunPython(ctx, py, awaitScript, func(b []byte) error {
		var l awaitLine
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("python3 printed %q, not a JSON line", b)
		}
		switch l.Event {
		case "probe":
			m.version = l.Version
			out.Log(fmt.Sprintf("python3 is %s (Python %s). The local server listens on %s and answers after %d ms.", l.Executable, l.Version, srv.Addr(), delay))
		case "baseline":
			if l.Seconds <= 0 {
				return fmt.Errorf("python3 timed its baseline as %v s", l.Seconds)
			}
			m.alone = float64(l.Chunks) / l.Seconds
			out.Log(fmt.Sprintf("Alone, the %d other tasks finished %.0f chunks a second between them.", m.tasks, m.alone))
			step++
		case "wait":
			w := awaitWait{mode: l.Mode, wall: time.Duration((l.End - l.Start) * 1e9), others: l.Others}
			m.waiters[l.Thread] = true
			if first == 0 {
				first = l.Start
			}
			m.add(w)
			out.Span("waits", l.Mode, (l.Start-first)*1e3, (l.End-first)*1e3, modeWords[l.Mode])
			out.Row("waits", fmt.Sprintf("%s-%d", l.Mode, l.I), map[string]any{"mode": modeWords[l.Mode], "wait": format.Round(format.Ms(w.wall), 1),
				"others": w.others, "pace": format.Round(100*m.pace(w), 1)})
			step++
			out.Progress(fmt.Sprintf("%s, wait %d of %d", modeWords[l.Mode], l.I+1, waits), step, steps)
		case "threads":
			m.threads = l.N
		}
		return nil
	}, host, port, strconv.Itoa(delay), strconv.Itoa(waits), strconv.Itoa(m.tasks))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		if m.version == "" {
			why := fmt.Sprintf("python3 is on this server (%s) but could not run the experiment's script, so nothing was measured.", py)
			out.Log(fmt.Sprintf("%s (%v)", why, err))
			out.Result([]lab.Metric{{Key: keyAwaitPython, Name: "python3 found", Value: 1}}, judgeNoLoop(why))
			return nil
		}
		return err
	}
	if n := len(m.waits["await"]) + len(m.waits["blocking"]); n != 2*waits {
		return fmt.Errorf("python3 reported %d waits, want %d", n, 2*waits)
	}
	for _, mode := range []string{"await", "blocking"} {
		s := lab.Summarize(m.paces(mode))
		out.Bar("pace", "", modeWords[mode], format.Round(100*s.P50, 1), format.Round(100*s.Min, 1), format.Round(100*s.Max, 1))
	}
	out.Progress("done", steps, steps)
	m.load = out.Load()
	metrics, claims := awaitResult(m)
	out.Result(metrics, claims)
	return nil
}

// modeWords name the two ways of waiting.
var modeWords = map[string]string{"await": "await on an asyncio stream", "blocking": "blocking socket read"}

// awaitPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var awaitPredictions = []lab.Prediction{
	{Claim: 0, Question: "While one task awaits the slow server, the other tasks keep what share of their pace?", Kind: lab.PredictNumber, Unit: "%", Min: 1, Max: 1000, Log: true, Key: "pace.during_await"},
	{Claim: 1, Question: "While one task makes a blocking read, the other tasks on the event loop…", Kind: lab.PredictChoice, Choices: []string{"keep going", "stop"}, Answer: blockingAnswer},
}

// blockingAnswer says whether the other tasks kept a tenth of their pace
// during the blocking read.
func blockingAnswer(ms []lab.Metric) (string, bool) {
	m, ok := lab.FindMetric(ms, "pace.during_blocking")
	if !ok {
		return "", false
	}
	if m.Value >= 10 {
		return "keep going", true
	}
	return "stop", true
}
