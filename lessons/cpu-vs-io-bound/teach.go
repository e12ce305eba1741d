package cpuvsiobound

import (
	"embed"
	"fmt"
	"math"

	"conclab/internal/format"
	"conclab/internal/teach"
)

// sources is the lesson's own source, from which its panels' code is cut.
//
//go:embed *.go *.py
var sources embed.FS

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Tell whether a task is waiting or computing, from where its time goes.",
		"Predict which kind of work speeds up with more workers, and where each stops.",
		"Serve mixed work: overlap the waits, and hand the computing to one worker per core.",
		"Explain why Python threads do not speed up pure-Python computing, and what does.",
	},
	WhyCare: "A team moves a slow report onto a machine with eight more cores and it gets no faster, because it spends its time waiting on the database. Another adds a thread pool to a Python image resizer and it gets no faster either, because only one thread at a time may run Python code. Which kind of slow you have decides what will help.",
	Exercises: []teach.Exercise{
		{
			ID: "cio-ex-delay", Title: "When the wait is short",
			Task: "Run scaling twice: with the server answering after 1 ms, then after 20 ms. Compare the waiting tasks' speed-up with the most workers.",
			Needs: []teach.Need{
				{Experiment: "scaling", Params: map[string]any{"delay": 1}, Keys: []string{"speedup.io_bound.all_cpus.most_workers", "speedup.cpu_bound.all_cpus.most_workers"}},
				{Experiment: "scaling", Params: map[string]any{"delay": 20}, Keys: []string{"speedup.io_bound.all_cpus.most_workers", "speedup.cpu_bound.all_cpus.most_workers"}},
			},
			Question: teach.Question{
				Text:    "With a 1 ms wait instead of 20 ms, what happens to the speed-up the most workers get on waiting tasks?",
				Choices: []string{"it is lower: the cost of each query shows next to a short wait", "about the same: waits overlap whatever their length", "it is higher: short waits overlap better"},
			},
			Judge:   teach.ByRuns(shortWait),
			Explain: explainDelay,
		},
		{
			ID: "cio-ex-compute", Title: "Turn the computing past the wait",
			Task: "Run task-profile with 50 ms of computing per phase and the usual 30 ms wait: the request now computes more than it waits. Work out your answer before you run it.",
			Needs: []teach.Need{{Experiment: "task-profile", Params: map[string]any{"compute": 50, "wait": 30},
				Keys: []string{"wait.share", "wait.share_implied", "compute.cpu_over_wall", "wait.cpu_share"}}},
			Question: teach.Question{
				Text: "Two compute phases of 50 ms and two waits of 30 ms: what percentage of the request will be spent waiting?",
				Unit: "%", Min: 0, Max: 100,
			},
			Judge:   waitingShare,
			Explain: explainCompute,
		},
		{
			ID: "cio-ex-pool", Title: "When is a pool worth it?",
			Task: "Run mixed-pipeline with 20 requests, 1 ms of computing each and a 50 ms wait: almost all waiting. Then look at the pool against goroutines on one CPU.",
			Needs: []teach.Need{{Experiment: "mixed-pipeline", Params: map[string]any{"requests": 20, "compute": 1, "wait": 50},
				Keys: []string{"throughput_ratio.mixed_over_concurrent_one_cpu", "throughput.mixed", "throughput.concurrent_one_cpu"}}},
			Question: teach.Question{
				Text:    "With so little computing, how will the pool of workers do against goroutines restricted to one CPU?",
				Choices: []string{"clearly faster (1.2× or more)", "about the same", "slower"},
			},
			Judge:   teach.ByRuns(poolWorth),
			Explain: explainPool,
		},
		{
			ID: "cio-ex-gil", Title: "More Python threads",
			Task: "Run python-gil with 4 workers (it needs python3 on this server). The loop's total work stays the same; it is split four ways, among threads and then among processes.",
			Needs: []teach.Need{{Experiment: "python-gil", Params: map[string]any{"workers": 4},
				Keys: []string{"speedup.threads", "speedup.processes", "cpus_busy.threads.many", "cpus_busy.processes.many"}}},
			Question: teach.Question{
				Text:    "How much sooner will 4 Python threads finish the loop than one thread?",
				Choices: []string{"about 4× sooner", "about as many times as there are free CPUs", "no sooner"},
			},
			Judge:   teach.ByRuns(gilThreads),
			Explain: explainGIL,
		},
	},
	Questions: []teach.Question{
		{ID: "cio-q-kind", Text: "A request handler spends 95 ms waiting for a database and 5 ms computing. What kind of task is it?",
			Choices: []string{"I/O-bound", "CPU-bound", "neither"}, Right: 0,
			Explain: "It spends nineteen-twentieths of its time waiting for something outside the CPU. A faster CPU would save it at most 5 ms; overlapping its wait with others' is what helps."},
		{ID: "cio-q-batch", Text: "A hundred such requests arrive at once and run concurrently on one CPU. Roughly how long, in ms, until all are answered?",
			Unit: "ms", Min: 0, Max: 20000, Lo: 500, Hi: 700,
			Explain: "The waits overlap: all hundred wait at about the same time, about 95 ms. The computing cannot overlap on one CPU: 100 × 5 ms = 500 ms, one after another. Together, about 600 ms — the batch as a whole is CPU-bound, though each request alone is not."},
		{ID: "cio-q-workers", Text: "CPU-bound work on a machine with 4 free cores: how many computing workers serve it best?",
			Choices: []string{"one", "about 4, one per core", "as many as there are tasks"}, Right: 1,
			Explain: "Each core computes one thing at a time. Fewer workers leave cores idle; more only take turns on the same cores and add switches."},
		{ID: "cio-q-gil", Text: "In the default CPython build, 4 threads run a pure-Python loop on a machine with 4 free cores. How much faster than one thread?",
			Choices: []string{"about 4×", "no faster, or a little slower", "about 2×"}, Right: 1,
			Explain: "A thread must hold the global interpreter lock to run Python code, so the four take turns. Processes, each with its own interpreter and lock, or the free-threaded build, run in parallel."},
		{ID: "cio-q-pool", Text: "In Go, what does a separate pool of hashing workers add over plain goroutines on all CPUs?",
			Choices: []string{"little: Go's scheduler already runs goroutines on every core", "a lot: plain goroutines use one core", "it is the only way to use more than one core"}, Right: 0,
			Explain: "Go's runtime is already a pool of threads, one per core, taking runnable goroutines from queues. A pool of its own adds two hand-overs per job. In one asyncio event loop or one Node.js thread, the pool is what brings the other cores in at all."},
		{ID: "cio-q-wait-cpu", Text: "While a thread waits for a socket's answer, how much CPU does it use?",
			Choices: []string{"almost none: it sleeps in the kernel until the answer comes", "a whole core, checking for the answer", "half a core"}, Right: 0,
			Explain: "A blocking read puts the thread to sleep; the kernel wakes it when data arrives. Its CPU clock hardly moves, as task-profile's table shows — that idle time is what concurrency gives to other tasks."},
	},
	Reading: []teach.Link{
		{Title: "OSTEP, chapter 33: Event-based Concurrency", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/threads-events.pdf",
			Why: "How one thread keeps many waits going with select and epoll — the event loop under async/await — and what it cannot do."},
		{Title: "Dan Kegel: The C10K problem", URL: "http://www.kegel.com/c10k.html",
			Why: "The classic survey of serving ten thousand waiting clients at once, and why a thread each was not the answer."},
		{Title: "PEP 703: Making the Global Interpreter Lock Optional in CPython", URL: "https://peps.python.org/pep-0703/",
			Why: "Why CPython has a GIL, what removing it costs, and the free-threaded build it led to."},
		{Title: "Python: concurrent.futures", URL: "https://docs.python.org/3/library/concurrent.futures.html",
			Why: "ThreadPoolExecutor for waiting, ProcessPoolExecutor for computing: the two pools this lesson compares."},
	},
	Code: []teach.Source{{Dir: "lessons/cpu-vs-io-bound", FS: sources}},
	Show: map[string][]string{"scaling": {"scaling", "scaling-tasks"}},
}

func shortWait(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "speedup.io_bound.all_cpus.most_workers", 1, "speedup.io_bound.all_cpus.most_workers")
	switch {
	case !ok:
		return 0, false
	case r < 0.8:
		return 0, true
	case r > 1.25:
		return 2, true
	}
	return 1, true
}

func explainDelay(ev teach.Evidence) string {
	return fmt.Sprintf("Your runs: with a 1 ms wait the most workers gave the waiting tasks a speed-up of %s; with 20 ms, %s. The computing tasks reached %s and %s, whatever the wait. "+
		"Each query costs the same fixed work: a write, the kernel waking the worker when the answer comes, a read — tens of microseconds. Next to a 20 ms wait that is nothing, and 64 waits overlap almost perfectly. Next to a 1 ms wait it is a visible share, and the workers start queueing for the CPU to do it. Concurrency hides waits; it cannot hide the work around them.",
		ev.Figure(0, "speedup.io_bound.all_cpus.most_workers"), ev.Figure(1, "speedup.io_bound.all_cpus.most_workers"),
		ev.Figure(0, "speedup.cpu_bound.all_cpus.most_workers"), ev.Figure(1, "speedup.cpu_bound.all_cpus.most_workers"))
}

func waitingShare(ev teach.Evidence, v float64) (bool, bool) {
	got, ok := ev.Value(0, "wait.share")
	if !ok {
		return false, false
	}
	return math.Abs(v-got) <= 10, true
}

func explainCompute(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: the request spent %s of its time waiting; the settings imply %s (60 ms of waiting in 160 ms). Answers within 10 points of your measured share count as right. "+
		"While it computed, its CPU clock kept pace with the wall clock (%s); while it waited, it used %s of a CPU. "+
		"This request is now CPU-bound: serving many of them at once on one core would queue them for the CPU, and only more cores — a worker per core — would help.",
		ev.Figure(0, "wait.share"), ev.Figure(0, "wait.share_implied"), ev.Figure(0, "compute.cpu_over_wall"), ev.Figure(0, "wait.cpu_share"))
}

func poolWorth(ev teach.Evidence) (int, bool) {
	r, ok := ev.Value(0, "throughput_ratio.mixed_over_concurrent_one_cpu")
	switch {
	case !ok:
		return 0, false
	case r >= 1.2:
		return 0, true
	case r < 0.83:
		return 2, true
	}
	return 1, true
}

func explainPool(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: the pool served %s requests a second, goroutines on one CPU %s: %s. "+
		"Twenty requests of 1 ms each are 20 ms of computing in all, next to two waits of 50 ms that every strategy overlaps. A second core can save at most a few of those 20 ms, so the pool gains little here. "+
		"The pool pays when the computing adds up to more than the waits — the default settings' 100 requests of 4 ms — and in a runtime with one thread it is what lets the other cores help at all.",
		ev.Figure(0, "throughput.mixed"), ev.Figure(0, "throughput.concurrent_one_cpu"), ev.Figure(0, "throughput_ratio.mixed_over_concurrent_one_cpu"))
}

func gilThreads(ev teach.Evidence) (int, bool) {
	s, ok := ev.Value(0, "speedup.threads")
	switch {
	case !ok:
		return 0, false
	case s < 1.3:
		return 2, true
	case s >= 3.2:
		return 0, true
	}
	return 1, true
}

func explainGIL(ev teach.Evidence) string {
	s := fmt.Sprintf("Your run: 4 threads finished %s sooner than one, keeping %s busy; 4 processes %s sooner, keeping %s busy.",
		ev.Figure(0, "speedup.threads"), ev.Figure(0, "cpus_busy.threads.many"), ev.Figure(0, "speedup.processes"), ev.Figure(0, "cpus_busy.processes.many"))
	if p, ok := ev.Value(0, "speedup.processes"); ok && p < 3.2 {
		s += " The processes could not reach 4× because this machine does not have four free CPUs: " + format.Times(p) + " is about what its cores allow."
	}
	return s + " In the default CPython build a thread runs Python code only while it holds the global interpreter lock, so four threads take turns on what is, in effect, one CPU. Processes have an interpreter and a lock each and run side by side. A free-threaded build (python3.13t or later), if this server has one, would let threads run in parallel too."
}
