package choosing

import (
	"embed"
	"fmt"

	"conclab/internal/format"
	"conclab/internal/teach"
)

// sources is the lesson's own source, from which its panel's code is cut.
//
//go:embed *.go
var sources embed.FS

// walls are the strategies' wall-time keys, in the order of the panel's
// table, with how the explanations name them.
var walls = []struct{ key, name string }{
	{"wall.sequential", "sequential"},
	{"wall.one_cpu", "goroutines on one CPU"},
	{"wall.all_cpus", "goroutines on all CPUs"},
	{"wall.processes", "a pool of processes"},
	{"wall.mixed", "goroutines for I/O plus a CPU pool"},
}

var wallKeys = func() []string {
	keys := []string{"processes.startup"}
	for _, w := range walls {
		keys = append(keys, w.key)
	}
	return keys
}()

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Sort a workload by where its tasks' time goes, and pick a model from that.",
		"Check the rule of thumb against the winner this machine measures.",
		"Spot the three ways the rule misses: waits that overlap while the computing adds up, fixed costs of starting and handing over, and runtimes that blur the lines.",
	},
	WhyCare: "A team rewrites a service in async style because “async is faster”, and it gets slower: its requests spent their time hashing passwords, not waiting. Another starts a process per core for a few thousand tiny jobs and spends most of the run starting processes. The right model depends on the workload, and the way to be sure is to measure it.",
	Exercises: []teach.Exercise{
		{
			ID: "ch-ex-io", Title: "A workload that waits",
			Task:  "Run workload-lab with 100 tasks, 0.2 ms of computing and a 20 ms wait each: I/O-bound. Pick the winner before you run it.",
			Needs: []teach.Need{{Experiment: "workload-lab", Params: map[string]any{"tasks": 100, "cpu_ms": 0.2, "io_ms": 20}, Keys: wallKeys}},
			Question: teach.Question{
				Text:    "Which will finish first?",
				Choices: []string{"sequential", "a pool of worker processes", "one of the goroutine strategies"},
			},
			Judge:   teach.ByRuns(winnerKind),
			Explain: explainWinner("Overlapping waits is what wins here: a hundred waits of 20 ms take about 20 ms when they all happen at once. The goroutine strategies all do that and tie, within the spread of the rounds; the process pool can only wait for as many tasks at once as it has workers."),
		},
		{
			ID: "ch-ex-cpu", Title: "A workload that computes",
			Task:  "Run workload-lab with 40 tasks, 10 ms of computing and no wait: CPU-bound. Compare sequential with goroutines restricted to one CPU.",
			Needs: []teach.Need{{Experiment: "workload-lab", Params: map[string]any{"tasks": 40, "cpu_ms": 10, "io_ms": 0}, Keys: wallKeys}},
			Question: teach.Question{
				Text:    "What will goroutines on one CPU gain over running the tasks one after another?",
				Choices: []string{"nothing, or almost: under 1.2×", "about as many times as the machine has CPUs", "far more than that"},
			},
			Judge:   teach.ByRuns(oneCPUGain),
			Explain: explainWinner("Concurrency alone makes computing no faster: on one CPU the goroutines take turns and the work adds up to what sequential does. Only the strategies that compute on every core — goroutines on all CPUs, the pools — go faster, up to the number of cores."),
		},
		{
			ID: "ch-ex-tiny", Title: "Tiny tasks",
			Task:  "Run workload-lab with 20 tasks of 0.1 ms of computing and no wait.",
			Needs: []teach.Need{{Experiment: "workload-lab", Params: map[string]any{"tasks": 20, "cpu_ms": 0.1, "io_ms": 0}, Keys: wallKeys}},
			Question: teach.Question{
				Text:    "Which will be slowest?",
				Choices: []string{"sequential", "a pool of worker processes", "goroutines on all CPUs"},
			},
			Judge:   teach.ByRuns(slowest),
			Explain: explainWinner("Twenty tasks of 0.1 ms are 2 ms of work. A pool of processes must start its workers first — each a whole program with its own runtime — and send every task over a pipe and back: fixed costs that dwarf the work. Pools pay for long-lived servers and big batches."),
		},
		{
			ID: "ch-ex-overlap", Title: "I/O-bound tasks, a CPU-bound batch",
			Task:  "Run workload-lab with 100 tasks, 2 ms of computing and a 10 ms wait each. Every task waits for most of its life.",
			Needs: []teach.Need{{Experiment: "workload-lab", Params: map[string]any{"tasks": 100, "cpu_ms": 2, "io_ms": 10}, Keys: wallKeys}},
			Question: teach.Question{
				Text:    "Will goroutines on one CPU, like an event loop, keep up with goroutines on all CPUs?",
				Choices: []string{"yes: the tasks are I/O-bound, so one CPU is enough (within 10%)", "no: one CPU is clearly slower"},
			},
			Judge:   teach.ByRuns(keepsUp),
			Explain: explainWinner("Each task waits 10 ms and computes 2 ms, but a hundred of them at once overlap their waits into about 10 ms while their computing still adds up to 200 ms. Once the waiting is overlapped, the batch is CPU-bound: one CPU cannot keep up with several (on a machine with more than one free)."),
		},
	},
	Questions: []teach.Question{
		{ID: "ch-q-chat", Text: "A chat server holds 50,000 connections, almost all idle at any moment. Which model fits best?",
			Choices: []string{"a thread per connection", "async/await or green threads", "a process per connection"}, Right: 1,
			Explain: "Idle connections only wait. An event loop or green threads keep thousands of waits on a few threads for a few KiB each; 50,000 threads or processes would cost far more memory and switching, for nothing."},
		{ID: "ch-q-photos", Text: "Resizing a million photos with pure-Python code in CPython. What gets every core working?",
			Choices: []string{"a thread pool", "a pool of worker processes", "asyncio"}, Right: 1,
			Explain: "The work is CPU-bound and CPython's GIL keeps its threads from running Python code in parallel; asyncio uses one thread. Processes each have their own interpreter and run on every core."},
		{ID: "ch-q-mixed", Text: "Each request fetches data (80 ms of waiting) and then crunches it (40 ms of computing). What does the rule of thumb suggest?",
			Choices: []string{"async for the fetching, and a pool of workers sized to the cores for the crunching", "a process per request", "one thread doing everything in turn"}, Right: 0,
			Explain: "Mixed work wants both: the waits overlapped for almost nothing, and the computing spread over the cores without more computing workers than cores. In Go, goroutines on all CPUs already do both."},
		{ID: "ch-q-startup", Text: "A pool of 2 worker processes takes 30 ms to start. It then runs 20 tasks of 0.1 ms each. Roughly what percentage of its time is start-up?",
			Unit: "%", Min: 0, Max: 100, Lo: 90, Hi: 99,
			Explain: "The tasks are 2 ms of work, 1 ms on each of 2 workers, so start-up is 30 ms of about 31: some 97%, before counting the trips over the pipes. For tiny jobs, fixed costs decide."},
		{ID: "ch-q-go", Text: "Why do Go programs seldom need a separate CPU pool for mixed work?",
			Choices: []string{"goroutines on all CPUs already wait like async code and compute in parallel", "Go cannot start processes", "Go has no threads"}, Right: 0,
			Explain: "Go's M:N scheduler is an event loop (its network poller) and a pool of threads, one per core, at once. A pool of its own adds hand-overs and little else, as lesson 4 measured."},
	},
	Reading: []teach.Link{
		{Title: "John Ousterhout: Why Threads Are A Bad Idea (for most purposes), 1996", URL: "https://web.stanford.edu/~ouster/cgi-bin/papers/threads.pdf",
			Why: "The case for events over threads, from the author of Tcl."},
		{Title: "von Behren, Condit and Brewer: Why Events Are A Bad Idea (for high-concurrency servers), 2003", URL: "https://www.usenix.org/legacy/events/hotos03/tech/full_papers/vonbehren/vonbehren.pdf",
			Why: "The reply: with light threads, the threaded style wins — the road Go took."},
		{Title: "Python: asyncio, running code in thread or process pools", URL: "https://docs.python.org/3/library/asyncio-eventloop.html#executing-code-in-thread-or-process-pools",
			Why: "How an async Python program hands its computing to a pool: the mixed strategy, in Python."},
		{Title: "The Go Blog: Go Concurrency Patterns: Pipelines and cancellation", URL: "https://go.dev/blog/pipelines",
			Why: "Building fan-out, fan-in and bounded pools of goroutines, as the mixed strategy does."},
	},
	Code: []teach.Source{{Dir: "lessons/choosing", FS: sources}},
	Show: map[string][]string{"workload-lab": {"workload-task", "workload-compute", "workload-mixed"}},
}

// fastest is the index in walls of the strategy that took the least wall
// time, and whether every strategy was measured.
func fastest(ev teach.Evidence) (int, bool) {
	best, bestWall := -1, 0.0
	for i, w := range walls {
		v, ok := ev.Value(0, w.key)
		if !ok {
			return 0, false
		}
		if best < 0 || v < bestWall {
			best, bestWall = i, v
		}
	}
	return best, true
}

// winnerKind reads which kind of strategy won: sequential, the process
// pool, or one of the three goroutine strategies.
func winnerKind(ev teach.Evidence) (int, bool) {
	i, ok := fastest(ev)
	switch {
	case !ok:
		return 0, false
	case walls[i].key == "wall.sequential":
		return 0, true
	case walls[i].key == "wall.processes":
		return 1, true
	}
	return 2, true
}

func oneCPUGain(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "wall.sequential", 0, "wall.one_cpu")
	switch {
	case !ok:
		return 0, false
	case r < 1.2:
		return 0, true
	case r > 8:
		return 2, true
	}
	return 1, true
}

func slowest(ev teach.Evidence) (int, bool) {
	worst, worstWall := "", 0.0
	for _, w := range walls {
		v, ok := ev.Value(0, w.key)
		if !ok {
			return 0, false
		}
		if v > worstWall {
			worst, worstWall = w.key, v
		}
	}
	switch worst {
	case "wall.sequential":
		return 0, true
	case "wall.processes":
		return 1, true
	case "wall.all_cpus":
		return 2, true
	}
	return 0, false
}

func keepsUp(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "wall.one_cpu", 0, "wall.all_cpus")
	switch {
	case !ok:
		return 0, false
	case r <= 1.1:
		return 0, true
	case r >= 1.3:
		return 1, true
	}
	return 0, false
}

// explainWinner writes the learner's five wall times, and then why.
func explainWinner(why string) func(teach.Evidence) string {
	return func(ev teach.Evidence) string {
		s := "Your run, wall time of each strategy:"
		for i, w := range walls {
			if i > 0 {
				s += ";"
			}
			s += fmt.Sprintf(" %s %s", w.name, ev.Figure(0, w.key))
		}
		s += fmt.Sprintf(" (the processes took %s to start).", ev.Figure(0, "processes.startup"))
		if i, ok := fastest(ev); ok {
			if seq, ok := ev.Ratio(0, "wall.sequential", 0, walls[i].key); ok {
				s += fmt.Sprintf(" Fastest: %s, %s sequential's speed.", walls[i].name, format.Times(seq))
			}
		}
		return s + " " + why
	}
}
