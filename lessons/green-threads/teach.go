package greenthreads

import (
	"embed"
	"fmt"

	"conclab/internal/pingpong"
	"conclab/internal/teach"
)

// sources is the lesson's own source, from which its panels' code is cut.
//
//go:embed *.go *.py
var sources embed.FS

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Say what makes a task run by a runtime inside the program light, and what its lightness costs.",
		"Predict what a task that never yields does to the others, with and without a runtime that takes the CPU away.",
		"Tell an await that frees the thread from a call that blocks it.",
		"Explain why tasks that all take turns on one thread can use only one CPU.",
	},
	WhyCare: "An async Python service answers in milliseconds until one handler parses a large file without a single await: from then on every client waits for that one request. A Go server with a tight loop did the same before Go 1.14. And a service that starts an operating-system thread per connection hits a kernel limit long before it runs out of memory.",
	Exercises: []teach.Exercise{
		{
			ID: "gt-ex-yield-rarely", Title: "Yield less often",
			Task: "Run cooperative twice: with the spinner yielding every 10,000 rounds of its loop, then every 100,000,000. Compare the heartbeat's longest gap in the yielding run.",
			Needs: []teach.Need{
				{Experiment: "cooperative", Params: map[string]any{"every": 10000}, Keys: []string{"heartbeat.longest_gap.yielding", "spinner.yields", "heartbeat.longest_gap.preemption_on"}},
				{Experiment: "cooperative", Params: map[string]any{"every": 100000000}, Keys: []string{"heartbeat.longest_gap.yielding", "spinner.yields", "heartbeat.longest_gap.preemption_off"}},
			},
			Question: teach.Question{
				Text:    "Yielding every 100,000,000 rounds instead of every 10,000, what happens to the longest wait of the heartbeat?",
				Choices: []string{"it grows, by about the work done between two yields", "it stays the same: the task still yields", "it shrinks: fewer yields, less overhead"},
			},
			Judge:   teach.ByRuns(rareYields),
			Explain: explainYieldRarely,
		},
		{
			ID: "gt-ex-weigh", Title: "Weigh a thread against a goroutine",
			Task: "Run spawn-many with 100,000 goroutines and 2,000 threads. Predict the ratio first.",
			Needs: []teach.Need{{Experiment: "spawn-many", Params: map[string]any{"goroutines": 100000, "threads": 2000},
				Keys: []string{"memory.thread_vs_goroutine.resident", "memory.goroutine.resident", "memory.thread.resident", "memory.thread.kernel_stack"}}},
			Question: teach.Question{
				Text: "How many times more resident memory will one OS thread add to the process than one goroutine?",
				Unit: "×", Min: 0.1, Max: 10000,
			},
			Judge:   weighRatio,
			Explain: explainWeigh,
		},
		{
			ID: "gt-ex-block-loop", Title: "A blocking read in an event loop",
			Task: "Run asyncio-await with the server answering after 500 ms (it needs python3 on this server). Watch the other tasks' count while one task waits with await, then with a plain blocking read.",
			Needs: []teach.Need{{Experiment: "asyncio-await", Params: map[string]any{"delay": 500},
				Keys: []string{"pace.during_await", "pace.during_blocking", "event_loop.threads", "wait.blocking.wall"}}},
			Question: teach.Question{
				Text:    "While one task waits in a plain blocking read, how far do the other tasks of the event loop get?",
				Choices: []string{"they keep their pace", "about half their pace", "nowhere: they stop"},
			},
			Judge:   teach.ByRuns(blockingPace),
			Explain: explainBlockLoop,
		},
		{
			ID: "gt-ex-coro-cpus", Title: "Thirty-two coroutines",
			Task: "Run coroutine-switch with 32 tasks. Compare the CPUs kept busy by the coroutines on one thread and by the goroutines.",
			Needs: []teach.Need{{Experiment: "coroutine-switch", Params: map[string]any{"tasks": 32},
				Keys: []string{"work.cpus_busy.coroutines_one_thread", "work.cpus_busy.goroutines_all_cpus", "work.wall.coroutines_one_thread", "work.wall.goroutines_all_cpus", "switch.coroutine.same_cpu"}}},
			Question: teach.Question{
				Text:    "With 32 tasks, how many CPUs will the coroutines resumed by one loop keep busy?",
				Choices: []string{"one", "every CPU the machine has", "thirty-two"},
			},
			Judge:   teach.ByRuns(coroCPUs),
			Explain: explainCoroCPUs,
		},
	},
	Questions: []teach.Question{
		{ID: "gt-q-coop", Text: "In a purely cooperative system, a task computes for a whole second without yielding. What do the other tasks on its thread do?",
			Choices: []string{"they wait for the whole second", "they get turns of 10 ms each", "they move to another thread"}, Right: 0,
			Explain: "Cooperative means nothing takes the CPU from a task: it runs until it waits or yields. Every other task on the thread is held up for as long as it computes."},
		{ID: "gt-q-go114", Text: "Since Go 1.14, what stops a goroutine that spins in a loop calling nothing?",
			Choices: []string{"nothing: it holds its thread until it finishes", "the runtime's monitor notices it has run for about 10 ms and sends its thread a signal, whose handler switches it out", "the kernel's time slice"}, Right: 1,
			Explain: "That is asynchronous preemption. Before 1.14 Go could switch goroutines only at certain points, such as function calls, and a loop calling nothing held its thread. The kernel's slice preempts the thread, but the goroutine would resume on it."},
		{ID: "gt-q-million", Text: "Why can a process hold a million goroutines but seldom a million OS threads?",
			Choices: []string{"goroutines start with a few KiB of stack in the runtime's own memory, while each thread costs the kernel a record, a kernel stack and memory mappings, and hits a kernel limit first", "goroutines have no stack at all", "the kernel forbids more than a thousand threads"}, Right: 0,
			Explain: "A parked goroutine is a small stack and a small record in memory the runtime already owns. A thread costs the kernel memory the process's own figures do not show, and counts against threads-max, pid_max, max_map_count and the cgroup's pids.max."},
		{ID: "gt-q-stack", Text: "A goroutine's stack starts at 2 KiB and doubles each time it runs out. After it has grown three times, how big is it, in KiB?",
			Unit: "KiB", Min: 0, Max: 100000, Lo: 16, Hi: 16,
			Explain: "2 → 4 → 8 → 16 KiB. Each time, the runtime copies the old stack into one twice the size. (Since Go 1.19 new stacks may start at the average size the program's goroutines have needed, not always 2 KiB.)"},
		{ID: "gt-q-sleep", Text: "An asyncio handler calls time.sleep(1) instead of await asyncio.sleep(1). What happens to the other requests?",
			Choices: []string{"nothing: sleeping uses no CPU", "every task on the event loop waits that second", "asyncio turns it into an await"}, Right: 1,
			Explain: "time.sleep blocks the thread, and the event loop runs on that one thread. Only an await hands the thread back to the loop so it can run the others."},
		{ID: "gt-q-onecpu", Text: "A program runs all its tasks as coroutines, resumed in turn by one loop on one thread. How many CPUs can it keep busy?",
			Choices: []string{"one", "as many as it has coroutines", "as many as the machine has"}, Right: 0,
			Explain: "Every switch goes straight from one coroutine to the next on the same thread, and a thread runs on one CPU at a time. Using more takes a runtime that spreads tasks over threads, as Go's does, or more processes."},
	},
	Reading: []teach.Link{
		{Title: "Proposal: Non-cooperative goroutine preemption", URL: "https://go.googlesource.com/proposal/+/master/design/24543-non-cooperative-preemption.md",
			Why: "How Go 1.14 learned to stop a goroutine anywhere, with a signal, and why that was hard."},
		{Title: "Python: Coroutines and Tasks (asyncio)", URL: "https://docs.python.org/3/library/asyncio-task.html",
			Why: "What an await is and when a task gives the event loop back."},
		{Title: "The Go Blog: Range Over Function Types", URL: "https://go.dev/blog/range-functions",
			Why: "Iterators in Go, and iter.Pull, which turns one into the coroutine this lesson times."},
		{Title: "Go FAQ: Why goroutines instead of threads?", URL: "https://go.dev/doc/faq#goroutines",
			Why: "The designers' own short answer on cheap stacks and multiplexing goroutines onto threads."},
	},
	Code: []teach.Source{{Dir: "lessons/green-threads", FS: sources}, {Dir: "internal/pingpong", FS: pingpong.Source}},
	Show: map[string][]string{
		"cooperative":      {"cooperative", "cooperative-heartbeat"},
		"asyncio-await":    {"asyncio-await", "asyncio-blocking"},
		"coroutine-switch": {"pingpong-coroutine", "coroutine-switch"},
	},
}

func rareYields(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(1, "heartbeat.longest_gap.yielding", 0, "heartbeat.longest_gap.yielding")
	switch {
	case !ok:
		return 0, false
	case r >= 2:
		return 0, true
	case r <= 0.5:
		return 2, true
	case r >= 0.75 && r <= 1.33:
		return 1, true
	}
	return 0, false
}

func explainYieldRarely(ev teach.Evidence) string {
	return fmt.Sprintf("Your runs: yielding every 10,000 rounds (%s yields), the heartbeat's longest wait was %s; every 100,000,000 rounds (%s yields), %s. Without yields and without preemption it was %s; with preemption on, %s. "+
		"A cooperative task gives the others a turn only when it yields, so the longest wait is about the work between two yields. A round of the loop is a few nanoseconds: 100,000,000 of them are a few hundred milliseconds. Yield too often and the yields themselves cost; too rarely and everyone waits — the batching trade of lesson 3, seen from the waiting side.",
		ev.Figure(0, "spinner.yields"), ev.Figure(0, "heartbeat.longest_gap.yielding"), ev.Figure(1, "spinner.yields"), ev.Figure(1, "heartbeat.longest_gap.yielding"),
		ev.Figure(1, "heartbeat.longest_gap.preemption_off"), ev.Figure(0, "heartbeat.longest_gap.preemption_on"))
}

func weighRatio(ev teach.Evidence, v float64) (bool, bool) {
	r, ok := ev.Value(0, "memory.thread_vs_goroutine.resident")
	if !ok || r <= 0 || v <= 0 {
		return false, false
	}
	return v >= r/1.5 && v <= r*1.5, true
}

func explainWeigh(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: a goroutine added %s of resident memory, an OS thread %s: %s as much. Answers within 1.5× of that count as right. "+
		"And the thread's figure leaves out what the kernel keeps for it in its own memory: a kernel stack of %s and its task record. "+
		"A parked goroutine is a small stack and a record in memory the Go runtime already owns; a thread is a kernel task with a stack reserved in the address space, of which only the touched pages are resident.",
		ev.Figure(0, "memory.goroutine.resident"), ev.Figure(0, "memory.thread.resident"), ev.Figure(0, "memory.thread_vs_goroutine.resident"), ev.Figure(0, "memory.thread.kernel_stack"))
}

func blockingPace(ev teach.Evidence) (int, bool) {
	p, ok := ev.Value(0, "pace.during_blocking")
	switch {
	case !ok:
		return 0, false
	case p < 10:
		return 2, true
	case p >= 80:
		return 0, true
	case p >= 30 && p <= 70:
		return 1, true
	}
	return 0, false
}

func explainBlockLoop(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: while one task awaited the server the others kept %s of their usual pace; during the plain blocking read, %s — for %s (threads the tasks ran on: %s). "+
		"An await hands the thread back to the event loop until the socket has an answer, so the loop runs the other tasks meanwhile. A blocking read keeps the thread in the kernel, and the loop, which runs on that thread, cannot run anything until the read returns.",
		ev.Figure(0, "pace.during_await"), ev.Figure(0, "pace.during_blocking"), ev.Figure(0, "wait.blocking.wall"), ev.Figure(0, "event_loop.threads"))
}

func coroCPUs(ev teach.Evidence) (int, bool) {
	c, ok := ev.Value(0, "work.cpus_busy.coroutines_one_thread")
	switch {
	case !ok:
		return 0, false
	case c < 1.4:
		return 0, true
	case c > 8:
		return 2, true
	}
	return 1, true
}

func explainCoroCPUs(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: the coroutines kept %s busy and took %s; the goroutines kept %s busy and took %s. One switch between coroutines cost %s. "+
		"However many coroutines there are, one loop resumes them one after another on one thread, and a thread runs on one CPU at a time. Go's goroutines are spread over a thread per CPU, so the same work finishes sooner when there are CPUs to spare.",
		ev.Figure(0, "work.cpus_busy.coroutines_one_thread"), ev.Figure(0, "work.wall.coroutines_one_thread"),
		ev.Figure(0, "work.cpus_busy.goroutines_all_cpus"), ev.Figure(0, "work.wall.goroutines_all_cpus"), ev.Figure(0, "switch.coroutine.same_cpu"))
}
