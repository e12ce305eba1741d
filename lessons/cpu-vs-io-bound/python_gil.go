package cpuvsiobound

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
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
		Expected: "N threads take about as long as one (speedup about 1 or less) " + lab.NeedsTwoCPUs,
	}
	claimProcsHelp = lab.Claim{
		Claim:    "Processes do speed it up: each has its own interpreter and its own GIL.",
		Expected: "N processes close to N times faster (within a quarter), up to the number of physical cores, and faster than the threads " + lab.NeedsTwoCPUs,
	}
	claimAnyBuild = lab.Claim{
		Claim:    "CPython threads cannot speed up CPU-bound Python code, whichever build of CPython runs it.",
		Expected: "written to be refuted: it differs wherever the free-threaded build is installed, whose N threads compute at the same time; it could hold only if they were no faster than one (speedup about 1 or less)",
	}
)

func pythonGIL() *lab.Experiment {
	return &lab.Experiment{
		ID:     "python-gil",
		Lesson: Slug,
		Title:  "Python threads and the GIL",
		Summary: "The same pure-Python loop (integer arithmetic the interpreter runs itself) is split among 1 and N threads of one Python process, then among 1 and N " +
			"processes forked from it. When a free-threaded CPython (python3.14t, python3.13t) is installed too, its threads run the same loop. " +
			"Needs python3 on the server; when there is none, the panel says so and measures nothing.",
		Params: []lab.Param{
			lab.Int("work", "Python computing", 800, 20, 2000, "How long the whole loop takes one Python thread, calibrated before the run.").WithUnit("ms").WithQuick(40),
			lab.Int("workers", "Threads and processes (N)", 0, 0, 16, "How many threads, then processes, share the loop; 0 means one per usable CPU, and at least 2.").PerCPU(0, 1),
			lab.Int("rounds", "Rounds", 5, 1, 9, "Each variant runs this many times, in turns with the others; the figures are the fastest round, the verdicts read round against round.").WithQuick(1),
		},
		Claims:      []lab.Claim{claimThreadsNoHelp, claimProcsHelp, claimAnyBuild},
		Predictions: gilPredictions,
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
		// Without a python3 that has a GIL, a run reports only keyPythonFound
		// and keyFreeThreadedFound; without a free-threaded build, none of
		// its figures.
		Conditional: []string{keySpeedupThreads, keySpeedupProcesses,
			"wall.threads.one", "wall.threads.many", "wall.processes.one", "wall.processes.many",
			"cpus_busy.threads.many", "cpus_busy.processes.many",
			keySpeedupFreeThreaded, "wall.free_threaded.threads.one", "wall.free_threaded.threads.many", "cpus_busy.free_threaded.threads.many"},
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
	path, ft := kit.Python3(), kit.FreeThreaded()
	if path == "" && ft == "" {
		out.Log("python3 was not found on this server's PATH, so there is no Python to measure. Install python3 on the server to run this experiment.")
		return pythonUnavailable(out, 0, "python3 is not installed on this server (it is not on the PATH), so nothing was measured.")
	}
	cores := probe.ReadHost().EffectiveCPUs()
	n := p.Int("workers")
	if n == 0 {
		n = max(2, cores)
	}
	g := gilRun{out: out, n: n, work: p.Int("work"), rounds: p.Int("rounds"), cores: cores}
	m := gilMeasured{n: n, cores: cores, physical: probe.ReadHost().EffectiveCores()}
	var info pyLine
	if path != "" {
		vs, i, err := g.measure(ctx, path, false)
		info = i
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case info.Event == "":
			out.Log(fmt.Sprintf("python3 was found at %s but did not run the experiment's script (%v), so nothing was measured.", path, err))
			return pythonUnavailable(out, 1, "python3 is on this server but could not run the experiment's script, so nothing was measured.")
		case err != nil:
			return err
		case !info.GIL:
			// python3 itself is a free-threaded build: it is the one to
			// hold against the GIL claim, and there is no default build.
			m.noGIL = fmt.Sprintf("This python3 (%s %s) is a free-threaded build without a GIL, so the claims about the GIL's build do not apply to it.", info.Implementation, info.Version)
			ft = path
		default:
			m.t1, m.tn, m.p1, m.pn = vs["t1"].variantTimes, vs["tn"].variantTimes, vs["p1"].variantTimes, vs["pn"].variantTimes
			m.measured = true
		}
	} else {
		m.noGIL = "python3 is not on the PATH, only a free-threaded build, so there is no build with a GIL to measure."
	}
	if ft == "" {
		m.ftWhy = fmt.Sprintf("No free-threaded CPython (%s, or a python3 whose sys._is_gil_enabled() says False) is installed on this server, so only the default build, which has the GIL, was measured.",
			strings.Join(kit.FreeThreadedNames, ", "))
		out.Log(m.ftWhy)
	} else {
		vs, fi, err := g.measure(ctx, ft, true)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil || fi.Event == "":
			m.ftWhy = fmt.Sprintf("A free-threaded CPython was found at %s, but it could not run the experiment's script (%v).", ft, err)
			out.Log(m.ftWhy)
		default:
			m.ft = &ftMeasured{t1: vs["t1"].variantTimes, tn: vs["tn"].variantTimes, version: fi.Version, exe: ft, gil: fi.GIL}
		}
	}
	out.Progress("done", 1, 1)
	m.load = out.Load()
	return gilResult(out, m, info)
}

// gilRun is one run's settings for measuring an interpreter.
type gilRun struct {
	out             *lab.Emitter
	n, work, rounds int
	cores           int
}

// measure runs the script with the interpreter exe: all four variants, or
// with threadsOnly just the threads (how the free-threaded build is
// measured). It returns the variants by key and what the interpreter said
// of itself.
func (g gilRun) measure(ctx context.Context, exe string, threadsOnly bool) (map[string]*variant, pyLine, error) {
	s := g.newScan(exe, threadsOnly)
	args := []string{fmt.Sprint(g.n), fmt.Sprint(g.work), fmt.Sprint(g.rounds)}
	if threadsOnly {
		args = append(args, "threads")
	}
	g.out.Progress(s.prefix+"starting "+exe, 0, s.steps)
	err := kit.RunPython(ctx, exe, gilScript, s.line, args...)
	if err != nil {
		return s.vs, s.info, err
	}
	keys := []string{"t1", "tn", "p1", "pn"}
	if threadsOnly {
		keys = keys[:2]
	} else if !s.info.GIL {
		return s.vs, s.info, nil // it stopped after saying it has no GIL
	}
	for _, k := range keys {
		if v := s.vs[k]; v.rounds != g.rounds {
			return s.vs, s.info, fmt.Errorf("%s finished %d of %d rounds of %s", exe, v.rounds, g.rounds, v.label)
		}
	}
	return s.vs, s.info, nil
}

// gilScan follows one interpreter through the script, line by line: the
// variants it has timed so far and what it said of itself.
type gilScan struct {
	gilRun
	exe         string
	threadsOnly bool   // only the threads: the free-threaded build
	prefix      string // before its progress and lane labels
	kindSuffix  string // after its kind in the timeline's legend
	rowPrefix   string // before its row keys
	vs          map[string]*variant
	info        pyLine // what the interpreter said of itself
	step, steps int
}

func (g gilRun) newScan(exe string, threadsOnly bool) *gilScan {
	s := &gilScan{gilRun: g, exe: exe, threadsOnly: threadsOnly, steps: 4 * g.rounds, vs: map[string]*variant{
		"t1": {key: "t1", label: "1 thread", metric: "threads.one", worker: "thread", n: 1},
		"tn": {key: "tn", label: fmt.Sprintf("%d threads", g.n), metric: "threads.many", worker: "thread", n: g.n},
		"p1": {key: "p1", label: "1 process", metric: "processes.one", worker: "process", n: 1},
		"pn": {key: "pn", label: fmt.Sprintf("%d processes", g.n), metric: "processes.many", worker: "process", n: g.n},
	}}
	if threadsOnly {
		s.prefix, s.kindSuffix, s.rowPrefix = "free-threaded: ", " (no GIL)", "ft-"
		s.steps = 2 * g.rounds
		for _, k := range []string{"t1", "tn"} {
			s.vs[k].label = "free-threaded, " + s.vs[k].label
		}
	}
	return s
}

// line takes one line the script printed.
func (s *gilScan) line(b []byte) error {
	var l pyLine
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("%s printed %q, not a JSON line", s.exe, b)
	}
	switch l.Event {
	case "probe":
		s.probe(l)
	case "calibrate":
		s.out.Log(fmt.Sprintf("One Python thread runs about %.0f loop iterations per ms here; the loop is sized to take %d ms, shared among the workers.", l.PerMs, s.work))
	case "variant":
		v := s.vs[l.Key]
		if v == nil {
			return fmt.Errorf("python3 reported an unknown variant %q", l.Key)
		}
		v.roundCPU = 0
		s.out.Progress(fmt.Sprintf("%sround %d: %s", s.prefix, l.Round+1, v.label), s.step, s.steps)
		s.step++
	case "worker":
		v := s.vs[l.Key]
		if v == nil {
			return fmt.Errorf("python3 reported a worker of an unknown variant %q", l.Key)
		}
		v.roundCPU += l.CPU
		if l.Round == 0 {
			v.spans = append(v.spans, l)
		}
	case "done":
		return s.done(l)
	}
	return nil
}

// probe logs what the interpreter said of itself.
func (s *gilScan) probe(l pyLine) {
	s.info = l
	s.out.Log(fmt.Sprintf("%s is %s (%s %s).", s.exe, l.Executable, l.Implementation, l.Version))
	if !l.GIL {
		s.out.Log("This Python is a free-threaded build: sys._is_gil_enabled() returned False, so it has no GIL to hold its threads back.")
	} else if s.threadsOnly {
		s.out.Log("This build can run without a GIL, but its GIL is switched on (PYTHON_GIL=1, or a module that needs it), so its threads take turns as in the default build.")
	} else if s.cores < 2 {
		s.out.Log("Only one CPU is usable here, so neither threads nor processes can run at the same time: the GIL cannot be told apart from the single CPU.")
	}
}

// done ends a round of a variant: it draws the first round's workers,
// keeps the round's wall time, and once the last variant is in, draws the
// speedups.
func (s *gilScan) done(l pyLine) error {
	v := s.vs[l.Key]
	if v == nil || l.Wall <= 0 {
		return fmt.Errorf("python3 reported no time for variant %q", l.Key)
	}
	v.rounds++
	// Workers report as they finish; draw them in worker order.
	slices.SortFunc(v.spans, func(a, b pyLine) int { return a.I - b.I })
	for _, w := range v.spans {
		lane := s.prefix + v.label
		if v.n > 1 {
			lane = fmt.Sprintf("%s%s %d/%d", s.prefix, v.worker, w.I+1, v.n)
		}
		s.out.Span("workers", lane, w.Start*1e3, w.End*1e3, v.kind()+s.kindSuffix)
	}
	v.spans = nil
	d := time.Duration(l.Wall * 1e9)
	v.walls = append(v.walls, d)
	if v.best == 0 || d < v.best {
		v.best, v.cpu = d, time.Duration(v.roundCPU*1e9)
	}
	v.slowest = max(v.slowest, d)
	s.out.Row("variants", s.rowPrefix+v.key, map[string]any{"variant": v.label, "wall": format.Round(format.Ms(v.best), 3), "cpu": format.Round(format.Ms(v.cpu), 3),
		"busy": format.Round(v.cpu.Seconds()/v.best.Seconds(), 2), "rounds": v.rounds})
	last := "pn"
	if s.threadsOnly {
		last = "tn"
	}
	if l.Key == last {
		s.out.Bar("speedup", "", s.vs["tn"].label, format.Round(s.vs["t1"].best.Seconds()/s.vs["tn"].best.Seconds(), 2), 0, 0)
		if !s.threadsOnly {
			s.out.Bar("speedup", "", s.vs["pn"].label, format.Round(s.vs["p1"].best.Seconds()/s.vs["pn"].best.Seconds(), 2), 0, 0)
		}
	}
	return nil
}

// gilPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var gilPredictions = []lab.Prediction{
	{Claim: 0, Question: "With N Python threads, the pure-Python loop finishes how many times faster than with one?", Kind: lab.PredictNumber, Unit: "×", Min: 0.1, Max: 64, Log: true, Key: "speedup.threads"},
	{Claim: 1, Question: "With N Python processes, the loop finishes how many times faster than with one?", Kind: lab.PredictNumber, Unit: "×", Min: 0.1, Max: 64, Log: true, Key: "speedup.processes"},
}
