package threadingmodels

import (
	"embed"
	"fmt"
	"math"

	"conclab/internal/teach"
)

// sources is the lesson's own source, from which its panels' code is cut.
//
//go:embed *.go
var sources embed.FS

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Say how a program's tasks can be placed on the threads the kernel schedules: one each, all on one, or many over a few.",
		"Predict what one call that blocks in the kernel does to the other tasks under each placement.",
		"Explain how Go runs many goroutines on about one thread per CPU, and when it adds threads.",
	},
	WhyCare: "A server built on a library of user-level threads freezes entirely whenever one request reads a file, because every task shares the one thread the kernel put to sleep. A Go service whose goroutines spend their time in plain file reads or C calls grows hundreds of operating-system threads where one per CPU was expected. Both follow from how tasks are mapped onto the kernel's threads.",
	Exercises: []teach.Exercise{
		{
			ID: "tm-ex-long-read", Title: "A longer blocking read",
			Task: "Run threading-models with the reader's read() blocked for 2,000 ms instead of 600. Watch the N:1 progress chart while it waits.",
			Needs: []teach.Need{{Experiment: "threading-models", Params: map[string]any{"block": 2000},
				Keys: []string{"others.still_during_read.nto1", "read.pending.nto1", "others.still_during_read.mton", "others.still_during_read.1to1"}}},
			Question: teach.Question{
				Text: "Under N:1, for how many milliseconds will every other task stand still?",
				Unit: "ms", Min: 0, Max: 10000,
			},
			Judge:   stillFor,
			Explain: explainLongRead,
		},
		{
			ID: "tm-ex-many-tasks", Title: "Ten tasks on two models",
			Task: "Run threading-models with 10 computing tasks. Compare how many kernel threads the tasks ran on at once under 1:1 and under M:N.",
			Needs: []teach.Need{{Experiment: "threading-models", Params: map[string]any{"tasks": 10},
				Keys: []string{"kernel_threads.at_once.mton", "kernel_threads.at_once.1to1", "kernel_threads.at_once.nto1", "cpus_busy.peak.mton"}}},
			Question: teach.Question{
				Text:    "Under M:N, how many kernel threads will the ten tasks run on at once?",
				Choices: []string{"about as many as there are CPUs", "one per task: eleven", "one"},
			},
			Judge:   teach.ByRuns(mtonThreads),
			Explain: explainManyTasks,
		},
		{
			ID: "tm-ex-blocked", Title: "A thread for every blocked goroutine?",
			Task: "Run blocking-call with 128 goroutines blocked in read(). Read the thread count before, while they compute, and while they block.",
			Needs: []teach.Need{{Experiment: "blocking-call", Params: map[string]any{"blocked": 128},
				Keys: []string{"threads.added_per_blocked", "threads.blocking.peak", "threads.blocking.running_peak", "threads.before", "gomaxprocs"}}},
			Question: teach.Question{
				Text: "About how many operating-system threads will Go add for each goroutine blocked in read()?",
				Unit: "threads", Min: 0, Max: 10,
			},
			Judge:   perBlocked,
			Explain: explainBlocked,
		},
		{
			ID: "tm-ex-computing", Title: "A thousand goroutines computing",
			Task: "Run blocking-call with 1,024 goroutines in its computing phase. Predict the thread count while they all compute.",
			Needs: []teach.Need{{Experiment: "blocking-call", Params: map[string]any{"computing": 1024},
				Keys: []string{"threads.computing.peak", "threads.before", "threads.computing.running_peak", "gomaxprocs"}}},
			Question: teach.Question{
				Text:    "While 1,024 goroutines compute without ever blocking, how many threads will the process have?",
				Choices: []string{"about as many as before: a few more than GOMAXPROCS", "about 1,024", "about half of 1,024"},
			},
			Judge:   teach.ByRuns(computingThreads),
			Explain: explainComputing,
		},
	},
	Questions: []teach.Question{
		{ID: "tm-q-nto1", Text: "Under N:1, one user thread calls read() on a pipe nobody has written to. What do the other user threads do?",
			Choices: []string{"they go on running on the same kernel thread", "they all stop until the read returns", "the library moves them to another kernel thread"}, Right: 1,
			Explain: "The kernel sees one thread, and it has just put that thread to sleep in read(). Nothing is left to run the others: the library's scheduler itself is asleep."},
		{ID: "tm-q-go", Text: "Which model do Go's goroutines use?",
			Choices: []string{"1:1", "N:1", "M:N"}, Right: 2,
			Explain: "Many goroutines run over a few kernel threads, about one per CPU (GOMAXPROCS), and Go's scheduler moves them between threads — adding a thread when one is stuck in a system call."},
		{ID: "tm-q-gomaxprocs", Text: "GOMAXPROCS is 4 and 100 goroutines compute without blocking. At most how many run at the same instant?",
			Unit: "goroutines", Min: 0, Max: 1000, Lo: 4, Hi: 4,
			Explain: "A thread needs one of Go's Ps to run Go code, and there are GOMAXPROCS of them: four goroutines run at any instant, and the other 96 wait in the Ps' queues for their turn."},
		{ID: "tm-q-handoff", Text: "A goroutine blocks in a system call. What does Go's runtime do?",
			Choices: []string{"it waits for the call, and every other goroutine of that P waits too", "it hands the blocked thread's P to another thread, idle or new, so the other goroutines keep running", "it kills the blocked thread"}, Right: 1,
			Explain: "The blocked thread keeps its goroutine in the kernel; its P — the right to run Go code, with its queue — goes to another thread. That is why blocking calls add threads, and why the N:1 stall does not happen in Go."},
		{ID: "tm-q-cheap", Text: "Why is switching between coroutines on one thread cheaper than switching between kernel threads?",
			Choices: []string{"it stays in user space: no system call and no kernel scheduler", "coroutines have no stack", "the CPU has special instructions for coroutines"}, Right: 0,
			Explain: "Handing control to a coroutine saves a few registers and jumps, inside the program. A kernel thread switch enters the kernel, saves the whole register set, runs the scheduler and comes back."},
	},
	Reading: []teach.Link{
		{Title: "Dmitry Vyukov: Scalable Go Scheduler Design Doc", URL: "https://golang.org/s/go11sched",
			Why: "The design of Go's M:N scheduler — its Ms, Ps and Gs — and why a P is handed on when its thread blocks."},
		{Title: "OSTEP, chapter 27: Interlude: Thread API", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/threads-api.pdf",
			Why: "POSIX threads, the 1:1 model most languages build on."},
		{Title: "Anderson et al.: Scheduler Activations (1992)", URL: "https://dl.acm.org/doi/10.1145/146941.146944",
			Why: "The classic paper on what an M:N scheduler needs from the kernel, and why it is so hard to get."},
		{Title: "JEP 444: Virtual Threads", URL: "https://openjdk.org/jeps/444",
			Why: "How Java added M:N threads in Java 21, and what still pins a virtual thread to its carrier."},
	},
	Code: []teach.Source{{Dir: "lessons/threading-models", FS: sources}},
	Show: map[string][]string{"threading-models": {"threading-models", "tm-one-to-one"}, "scheduler-trace": {"scheduler-trace", "sched-spinner"}},
}

func stillFor(ev teach.Evidence, v float64) (bool, bool) {
	still, ok := ev.Value(0, "others.still_during_read.nto1")
	if !ok || still <= 0 {
		return false, false
	}
	return v >= still/1.2 && v <= still*1.2, true
}

func explainLongRead(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: under N:1 the read was pending for %s, and every other task stood still for %s of it; under M:N they all stood still for %s, under 1:1 for %s. "+
		"Answers within 1.2× of your N:1 figure count as right. Under N:1 the stall is as long as the read, whatever its length: the one kernel thread that could run the others is asleep inside the kernel. Under the other two the kernel (1:1) or Go's scheduler (M:N) runs them on other threads meanwhile.",
		ev.Figure(0, "read.pending.nto1"), ev.Figure(0, "others.still_during_read.nto1"), ev.Figure(0, "others.still_during_read.mton"), ev.Figure(0, "others.still_during_read.1to1"))
}

func mtonThreads(ev teach.Evidence) (int, bool) {
	mton, ok1 := ev.Value(0, "kernel_threads.at_once.mton")
	one, ok2 := ev.Value(0, "kernel_threads.at_once.1to1")
	switch {
	case !ok1 || !ok2:
		return 0, false
	case mton <= 1:
		return 2, true
	case mton >= 0.8*one:
		return 1, true
	}
	return 0, true
}

func explainManyTasks(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: at once, the tasks ran on %s under 1:1, %s under M:N and %s under N:1; M:N kept %s busy at its peak. "+
		"Under 1:1 every task is a kernel thread of its own. Under M:N, Go runs goroutines on at most GOMAXPROCS threads at a time — one per CPU by default — and the other goroutines wait in its queues: more tasks do not mean more threads.",
		ev.Figure(0, "kernel_threads.at_once.1to1"), ev.Figure(0, "kernel_threads.at_once.mton"), ev.Figure(0, "kernel_threads.at_once.nto1"), ev.Figure(0, "cpus_busy.peak.mton"))
}

func perBlocked(ev teach.Evidence, v float64) (bool, bool) {
	got, ok := ev.Value(0, "threads.added_per_blocked")
	if !ok {
		return false, false
	}
	return math.Abs(v-got) <= 0.3, true
}

func explainBlocked(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: GOMAXPROCS was %s; the process had %s before, and %s while the goroutines sat in read(), of which at most %s were running: %s added per blocked goroutine. "+
		"Answers within 0.3 of your figure count as right. A goroutine in a blocking system call takes its thread into the kernel with it, and Go hands that thread's P to another thread so the rest keep running — a new thread for each, when the call never returns. Network sockets do not do this: Go's network poller parks a goroutine waiting on one without a thread.",
		ev.Figure(0, "gomaxprocs"), ev.Figure(0, "threads.before"), ev.Figure(0, "threads.blocking.peak"), ev.Figure(0, "threads.blocking.running_peak"), ev.Figure(0, "threads.added_per_blocked"))
}

func computingThreads(ev teach.Evidence) (int, bool) {
	peak, ok1 := ev.Value(0, "threads.computing.peak")
	before, ok2 := ev.Value(0, "threads.before")
	switch {
	case !ok1 || !ok2:
		return 0, false
	case peak-before < 16:
		return 0, true
	case peak > 800:
		return 1, true
	case peak > 300:
		return 2, true
	}
	return 0, false
}

func explainComputing(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: GOMAXPROCS was %s; the process had %s before and at most %s while 1,024 goroutines computed, of which at most %s were running. "+
		"Goroutines that never block need no thread of their own: GOMAXPROCS threads take turns running them, and Go preempts one that has run for about 10 ms so that all make progress.",
		ev.Figure(0, "gomaxprocs"), ev.Figure(0, "threads.before"), ev.Figure(0, "threads.computing.peak"), ev.Figure(0, "threads.computing.running_peak"))
}
