package cpuvsiobound

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// gilScript is the Python side of python-gil, passed to python3 with -c so
// no file is left behind.
//
//go:embed gil.py
var gilScript string

var (
	claimThreadsNoHelp = lab.Claim{
		Claim:    "In CPython, threads do not speed up CPU-bound Python code: the GIL lets only one thread run Python at a time.",
		Expected: "N threads take about as long as one (speedup about 1)",
	}
	claimProcsHelp = lab.Claim{
		Claim:    "Processes do speed it up: each has its own interpreter and its own GIL.",
		Expected: "N processes close to N times faster, up to the number of cores",
	}
)

func pythonGIL() *lab.Experiment {
	return &lab.Experiment{
		ID:     "python-gil",
		Lesson: Slug,
		Title:  "Python threads and the GIL",
		Summary: "The same pure-Python loop (integer arithmetic the interpreter runs itself) is split among 1 and N threads of one Python process, then among 1 and N " +
			"processes forked from it. Needs python3 on the server; when there is none, the panel says so and measures nothing.",
		Params: []lab.Param{
			lab.Int("work", "Python computing", 300, 20, 2000, "How long the whole loop takes one Python thread, calibrated before the run.").WithUnit("ms").WithQuick(40),
			lab.Int("workers", "Threads and processes (N)", 0, 0, 16, "How many threads, then processes, share the loop; 0 means one per usable CPU, and at least 2."),
			lab.Int("rounds", "Rounds", 2, 1, 5, "Each variant runs this many times and the fastest is kept.").WithQuick(1),
		},
		Claims: []lab.Claim{claimThreadsNoHelp, claimProcsHelp},
		Charts: []lab.Chart{
			{ID: "speedup", Kind: "bars", Title: "Speedup with N workers", Y: "time with 1 ÷ time with N",
				Note: "Fastest round of each variant."},
			{ID: "workers", Kind: "lanes", Title: "When each worker ran, first round", X: "ms since the variant started",
				Note: "Measured inside Python with time.perf_counter. Threads all stretch to the end: they take turns holding the GIL."},
		},
		Tables: []lab.Table{{ID: "variants", Title: "Each variant", Columns: []lab.Column{
			{Key: "variant", Label: "Variant"}, {Key: "wall", Label: "Fastest wall time (ms)"}, {Key: "cpu", Label: "CPU time of its workers (ms)"},
			{Key: "busy", Label: "CPUs busy"}, {Key: "rounds", Label: "Rounds"},
		}}},
		// Without a python3 that has a GIL, a run reports only keyPythonFound.
		Conditional: []string{keySpeedupThreads, keySpeedupProcesses,
			"wall.threads.one", "wall.threads.many", "wall.processes.one", "wall.processes.many",
			"cpus_busy.threads.many", "cpus_busy.processes.many"},
		Limit: 90 * time.Second,
		Run:   runPythonGIL,
	}
}

// pyLine is one line the Python side prints.
type pyLine struct {
	Event          string  `json:"event"`
	Version        string  `json:"version"`
	Implementation string  `json:"implementation"`
	Executable     string  `json:"executable"`
	GIL            bool    `json:"gil"`
	PerMs          float64 `json:"per_ms"`
	Key            string  `json:"key"`   // variant
	Round          int     `json:"round"` // from 0
	I              int     `json:"i"`     // worker
	Start          float64 `json:"start"` // seconds since the variant started
	End            float64 `json:"end"`
	CPU            float64 `json:"cpu"` // seconds of CPU the worker's thread used
	Wall           float64 `json:"wall"`
}

// runPython runs the script with args and hands each line to f as it
// comes. It starts python3 with CommandContext, in the run's process group,
// so cancelling the run kills it and whatever it forked.
func runPython(ctx context.Context, exe string, f func(pyLine) error, args ...string) error {
	cmd := exec.CommandContext(ctx, exe, append([]string{"-c", gilScript}, args...)...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var l pyLine
		err := json.Unmarshal(sc.Bytes(), &l)
		if err != nil {
			err = fmt.Errorf("python3 printed %q, not a JSON line", sc.Text())
		} else {
			err = f(l)
		}
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return err
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("python3 stopped with an error: %w", err)
	}
	return nil
}

// variant is one way of splitting the loop.
type variant struct {
	key, label string
	metric     string // its part of the metric keys, such as threads.many
	worker     string // what one worker is called: thread or process
	n          int
	variantTimes
	roundCPU float64  // seconds, this round so far
	spans    []pyLine // workers of the first round, to draw when it ends
	rounds   int
}

// kind names the variant's workers in the timeline's legend.
func (v *variant) kind() string {
	if v.worker == "process" {
		return "processes"
	}
	return "threads"
}

func runPythonGIL(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	path, err := exec.LookPath("python3")
	if err != nil {
		out.Log("python3 was not found on this server's PATH, so there is no Python to measure. Install python3 on the server to run this experiment.")
		return pythonUnavailable(out, 0, "python3 is not installed on this server (it is not on the PATH), so nothing was measured.")
	}
	cores := probe.ReadHost().EffectiveCPUs()
	n := p.Int("workers")
	if n == 0 {
		n = max(2, cores)
	}
	rounds := p.Int("rounds")
	vs := map[string]*variant{
		"t1": {key: "t1", label: "1 thread", metric: "threads.one", worker: "thread", n: 1},
		"tn": {key: "tn", label: fmt.Sprintf("%d threads", n), metric: "threads.many", worker: "thread", n: n},
		"p1": {key: "p1", label: "1 process", metric: "processes.one", worker: "process", n: 1},
		"pn": {key: "pn", label: fmt.Sprintf("%d processes", n), metric: "processes.many", worker: "process", n: n},
	}
	var info pyLine
	step, steps := 0, 4*rounds
	out.Progress("starting python3", 0, steps)
	err = runPython(ctx, path, func(l pyLine) error {
		switch l.Event {
		case "probe":
			info = l
			out.Log(fmt.Sprintf("python3 is %s (%s %s).", l.Executable, l.Implementation, l.Version))
			if !l.GIL {
				out.Log("This Python is a free-threaded build: sys._is_gil_enabled() returned False, so it has no GIL to hold its threads back.")
			} else if cores < 2 {
				out.Log("Only one CPU is usable here, so neither threads nor processes can run at the same time: the GIL cannot be told apart from the single CPU.")
			}
		case "calibrate":
			out.Log(fmt.Sprintf("One Python thread runs about %.0f loop iterations per ms here; the loop is sized to take %d ms, shared among the workers.", l.PerMs, p.Int("work")))
		case "variant":
			v := vs[l.Key]
			if v == nil {
				return fmt.Errorf("python3 reported an unknown variant %q", l.Key)
			}
			v.roundCPU = 0
			out.Progress(fmt.Sprintf("round %d: %s", l.Round+1, v.label), step, steps)
			step++
		case "worker":
			v := vs[l.Key]
			if v == nil {
				return fmt.Errorf("python3 reported a worker of an unknown variant %q", l.Key)
			}
			v.roundCPU += l.CPU
			if l.Round == 0 {
				v.spans = append(v.spans, l)
			}
		case "done":
			v := vs[l.Key]
			if v == nil || l.Wall <= 0 {
				return fmt.Errorf("python3 reported no time for variant %q", l.Key)
			}
			v.rounds++
			// Workers report as they finish; draw them in worker order.
			slices.SortFunc(v.spans, func(a, b pyLine) int { return a.I - b.I })
			for _, w := range v.spans {
				lane := v.label
				if v.n > 1 {
					lane = fmt.Sprintf("%s %d/%d", v.worker, w.I+1, v.n)
				}
				out.Span("workers", lane, w.Start*1e3, w.End*1e3, v.kind())
			}
			v.spans = nil
			d := time.Duration(l.Wall * 1e9)
			if v.best == 0 || d < v.best {
				v.best, v.cpu = d, time.Duration(v.roundCPU*1e9)
			}
			v.slowest = max(v.slowest, d)
			out.Row("variants", v.key, map[string]any{"variant": v.label, "wall": ms(v.best), "cpu": ms(v.cpu),
				"busy": round2(v.cpu.Seconds() / v.best.Seconds()), "rounds": v.rounds})
			if l.Key == "pn" {
				out.Bar("speedup", "", vs["tn"].label, round2(vs["t1"].best.Seconds()/vs["tn"].best.Seconds()), 0, 0)
				out.Bar("speedup", "", vs["pn"].label, round2(vs["p1"].best.Seconds()/vs["pn"].best.Seconds()), 0, 0)
			}
		}
		return nil
	}, fmt.Sprint(n), fmt.Sprint(p.Int("work")), fmt.Sprint(rounds))
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case info.Event == "":
		out.Log(fmt.Sprintf("python3 was found at %s but did not run the experiment's script (%v), so nothing was measured.", path, err))
		return pythonUnavailable(out, 1, "python3 is on this server but could not run the experiment's script, so nothing was measured.")
	case !info.GIL:
		return pythonUnavailable(out, 1, fmt.Sprintf("This python3 (%s %s) is a build without a GIL, so the claim about the GIL does not apply to it; nothing was measured.", info.Implementation, info.Version))
	case err != nil:
		return err
	}
	for _, v := range vs {
		if v.rounds != rounds {
			return fmt.Errorf("python3 finished %d of %d rounds of %s", v.rounds, rounds, v.label)
		}
	}
	out.Progress("done", steps, steps)
	return gilResult(out, []*variant{vs["t1"], vs["tn"], vs["p1"], vs["pn"]}, n, cores, info)
}
