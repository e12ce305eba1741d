package processesvsthreads

import (
	"embed"
	"fmt"

	"conclab/internal/format"
	"conclab/internal/teach"
)

// sources is the lesson's own source, from which its panels' code is cut.
//
//go:embed *.go
var sources embed.FS

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Say what a process owns, and what the threads inside it share and what each keeps to itself.",
		"Compare what it costs on this machine to start a process, a thread and a goroutine, and to keep each alive.",
		"Choose how two processes should talk — through the kernel or through memory they both map — knowing what each way costs.",
		"Predict what one crash takes down: a process alone, or every thread beside it.",
	},
	WhyCare: "A server that runs every request as a thread of one process goes down whole when one handler reads through a bad pointer; the same server built from worker processes loses one request and carries on. The other side of the bargain shows at start-up and in memory: a thousand processes cost far more to start and to keep than a thousand threads.",
	Exercises: []teach.Exercise{
		{
			ID: "pvt-ex-startup", Title: "Whose time is it, the kernel's or the program's?",
			Task: "Run spawn-cost with 300 of each kind, for a fuller distribution. Then compare the two process rows: this program started again, and /bin/true, which does nothing once started.",
			Needs: []teach.Need{{Experiment: "spawn-cost", Params: map[string]any{"count": 300},
				Keys: []string{"spawn.process", "spawn.process.bin_true", "spawn.thread", "spawn.goroutine"}}},
			Question: teach.Question{
				Text:    "Of the time it takes to start and end one copy of this program, what share is the kernel's own work — what /bin/true takes?",
				Choices: []string{"most of it: over half", "a quarter to a half", "under a quarter"},
			},
			Judge:   teach.ByRuns(kernelShare),
			Explain: explainStartup,
		},
		{
			ID: "pvt-ex-thread-ram", Title: "How many threads fit in a gigabyte?",
			Task: "Predict from what the lesson says a thread brings with it, then run memory-footprint with 2,000 threads and read the resident memory and the address space reserved per thread: your run's figure decides the answer.",
			Needs: []teach.Need{{Experiment: "memory-footprint", Params: map[string]any{"threads": 2000},
				Keys: []string{"memory.thread.resident", "memory.thread.reserved", "memory.process.own"}}},
			Question: teach.Question{
				Text: "By your run's resident memory per thread, about how many thousand threads would 1 GiB of RAM hold?",
				Unit: "thousand", Min: 0, Max: 100000,
			},
			Judge:   threadsPerGiB,
			Explain: explainThreadRAM,
		},
		{
			ID: "pvt-ex-big-messages", Title: "When the message grows to a page",
			Task: "Run message-passing twice: with 64-byte messages, then with 4,096-byte ones. Compare what each way of talking loses in messages per second.",
			Needs: []teach.Need{
				{Experiment: "message-passing", Params: map[string]any{"size": "64"}, Keys: []string{"throughput.pipe", "throughput.shared_memory"}},
				{Experiment: "message-passing", Params: map[string]any{"size": "4096"}, Keys: []string{"throughput.pipe", "throughput.shared_memory"}},
			},
			Question: teach.Question{
				Text:    "Going from 64 bytes to 4 KiB a message, which loses the larger share of its messages per second?",
				Choices: []string{"the pipe", "shared memory", "both about the same (within 1.5×)"},
			},
			Judge:   teach.ByRuns(biggerLoss),
			Explain: explainBigMessages,
		},
		{
			ID: "pvt-ex-sigkill", Title: "A crash nothing can catch",
			Task: "Run crash-isolation with the fault set to sigkill: the chosen worker is killed with the one signal no program can handle, as the out-of-memory killer would.",
			Needs: []teach.Need{{Experiment: "crash-isolation", Params: map[string]any{"fault": "sigkill"},
				Keys: []string{"crash.processes.siblings_finished", "crash.threads.alive_after", "crash.threads.finished"}}},
			Question: teach.Question{
				Text:    "When one thread's process is sent SIGKILL, what becomes of the other threads of that process?",
				Choices: []string{"they all die with it", "they carry on: only the thread that was chosen dies", "they stop, and go on once the dead thread is collected"},
			},
			Judge:   teach.ByRuns(threadsDied),
			Explain: explainSigkill,
		},
	},
	Questions: []teach.Question{
		{ID: "pvt-q-own", Text: "Which of these does each thread of a process have its own of?",
			Choices: []string{"the heap", "the table of open files", "a stack", "the global variables"}, Right: 2,
			Explain: "Threads share their process's address space — code, globals, heap — and its open files. Each keeps its own stack, registers and thread id, with a little more: its thread-local storage, signal mask and CPU affinity."},
		{ID: "pvt-q-fork", Text: "A child process started from a copy of its parent adds 1 to a global variable. What does the parent then read in that variable?",
			Choices: []string{"its own old value", "the child's new value", "either, depending on timing"}, Right: 0,
			Explain: "The child changed its own copy, in its own address space. Even at the very same address, the parent's variable is another place in RAM: nothing the child does to its memory reaches the parent's."},
		{ID: "pvt-q-shm", Text: "Two processes both map the same memory file (a memfd, with MAP_SHARED) and pass messages through it. About what does a message cost?",
			Choices: []string{"what a pipe costs: the kernel copies it", "about what it costs between two threads", "more than a pipe: two processes must be switched"}, Right: 1,
			Explain: "Once mapped, the pages are the same RAM in both processes: a message is a copy into memory and an atomic store, with the kernel called only to wake a side that sleeps. That is the threads' way, with the same need to take turns carefully."},
		{ID: "pvt-q-panic", Text: "One goroutine of a Go server reads through a nil pointer, and nothing recovers the panic. What happens?",
			Choices: []string{"that goroutine ends and the others carry on", "the whole process ends, every thread and goroutine with it", "the Go runtime restarts the goroutine"}, Right: 1,
			Explain: "A panic that no deferred recover in that goroutine stops ends the program. A crash belongs to the process: its threads share one address space, so none can be trusted to go on."},
		{ID: "pvt-q-pss", Text: "Ten copies of a program run. Each has 10 MiB resident, of which 8 MiB is code all ten share. What is each copy's fair share (PSS), in MiB?",
			Unit: "MiB", Min: 0, Max: 100, Lo: 2.75, Hi: 2.85,
			Explain: "Its 2 MiB of own pages count whole, and the 8 MiB shared by ten count a tenth each: 2 + 0.8 = 2.8 MiB. The ten fair shares add up to the 28 MiB the copies really take, where their resident figures add up to 100."},
		{ID: "pvt-q-stack", Text: "Each new thread reserves a stack of 8 MiB. Why does that not take 8 MiB of RAM?",
			Choices: []string{"the kernel compresses it", "the kernel backs a page with RAM only when it is first touched", "the stack is shared by all threads", "it does: threads are expensive for that reason"}, Right: 1,
			Explain: "The reservation is address space. A page gets RAM the first time the thread touches it, and a thread that never calls deeply touches a few KiB. What a thread does cost in full is its kernel record and kernel stack."},
	},
	Reading: []teach.Link{
		{Title: "OSTEP, chapter 4: The Abstraction: The Process", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/cpu-intro.pdf",
			Why: "What a process is made of, in the words of a textbook that is free and written to be read."},
		{Title: "OSTEP, chapter 5: Process API", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/cpu-api.pdf",
			Why: "fork, exec and wait with small programs to run — the start-up this lesson times."},
		{Title: "OSTEP, chapter 26: Concurrency: An Introduction", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/threads-intro.pdf",
			Why: "Threads, their shared address space, and why two of them updating one counter lose updates."},
		{Title: "futex(2) and proc_pid_smaps(5), the Linux manual pages", URL: "https://man7.org/linux/man-pages/man2/futex.2.html",
			Why: "The wait that makes shared memory between processes cheap, and (in smaps) where the resident, fair-share and private figures come from."},
	},
	Code: []teach.Source{{Dir: "lessons/processes-vs-threads", FS: sources}},
	Show: map[string][]string{
		"spawn-cost":       {"spawn-cost", "spawn-process"},
		"memory-footprint": {"memory-footprint", "memory-per-thread", "memory-procs"},
		"isolation":        {"isolation", "isolation-threads"},
		"message-passing":  {"msg-pipe", "message-passing"},
		"crash-isolation":  {"crash-isolation", "crash-threads"},
	},
}

// kernelShare is which choice /bin/true's share of a process start
// makes right.
func kernelShare(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "spawn.process.bin_true", 0, "spawn.process")
	switch {
	case !ok:
		return 0, false
	case r > 0.5:
		return 0, true
	case r >= 0.25:
		return 1, true
	}
	return 2, true
}

func explainStartup(ev teach.Evidence) string {
	s := fmt.Sprintf("Your run: one copy of this program took %s from start to end, /bin/true %s; a thread %s and a goroutine %s.",
		ev.Figure(0, "spawn.process"), ev.Figure(0, "spawn.process.bin_true"), ev.Figure(0, "spawn.thread"), ev.Figure(0, "spawn.goroutine"))
	if r, ok := ev.Ratio(0, "spawn.process.bin_true", 0, "spawn.process"); ok {
		s += fmt.Sprintf(" The kernel's part — making the process, loading a program, ending it — was %.0f%% of it.", 100*r)
	}
	return s + " The rest is the program starting itself: the loader mapping its libraries, and the Go runtime setting up its heap, its garbage collector and a few threads of its own. A bigger program pays more of it at every start, which is why servers keep a pool of processes running rather than start one per request."
}

// gib is one GiB in KiB, the unit of the memory figures.
const gib = 1 << 20

func threadsPerGiB(ev teach.Evidence, v float64) (bool, bool) {
	kib, ok := ev.Value(0, "memory.thread.resident")
	if !ok || kib <= 0 {
		return false, false
	}
	want := gib / kib / 1000
	return v >= want/1.3 && v <= want*1.3, true
}

func explainThreadRAM(ev teach.Evidence) string {
	s := fmt.Sprintf("Your run: each thread added %s resident and reserved %s of address space; one more copy of this program took %s of its own.",
		ev.Figure(0, "memory.thread.resident"), ev.Figure(0, "memory.thread.reserved"), ev.Figure(0, "memory.process.own"))
	if kib, ok := ev.Value(0, "memory.thread.resident"); ok && kib > 0 {
		s += fmt.Sprintf(" 1 GiB is %s KiB, so by the resident figure it holds about %s thousand threads (answers within 1.3× of that count as right).",
			format.Number(gib), format.Number(gib/kib/1000))
	}
	if res, ok := ev.Value(0, "memory.thread.reserved"); ok && res > 0 {
		s += fmt.Sprintf(" By the reserved figure it would be only %s — but reserved address space is not RAM: a 64-bit process has terabytes of it.", format.Number(gib/res))
	}
	return s + " The resident figure leaves out the thread's record and stack inside the kernel, and long before RAM runs out a kernel limit on threads or memory mappings usually stops a process: lesson 6 finds which."
}

// biggerLoss compares how much of its message rate each way loses when
// the message grows from 64 bytes to 4 KiB.
func biggerLoss(ev teach.Evidence) (int, bool) {
	pipe, ok1 := ev.Ratio(0, "throughput.pipe", 1, "throughput.pipe")
	shm, ok2 := ev.Ratio(0, "throughput.shared_memory", 1, "throughput.shared_memory")
	if !ok1 || !ok2 || pipe <= 0 || shm <= 0 {
		return 0, false
	}
	switch r := shm / pipe; {
	case r > 1.5:
		return 1, true
	case r < 1/1.5:
		return 0, true
	}
	return 2, true
}

func explainBigMessages(ev teach.Evidence) string {
	s := fmt.Sprintf("Your runs, messages per second: the pipe %s at 64 bytes and %s at 4 KiB; shared memory %s and %s.",
		ev.Figure(0, "throughput.pipe"), ev.Figure(1, "throughput.pipe"), ev.Figure(0, "throughput.shared_memory"), ev.Figure(1, "throughput.shared_memory"))
	if p, ok := ev.Ratio(0, "throughput.pipe", 1, "throughput.pipe"); ok {
		if m, ok := ev.Ratio(0, "throughput.shared_memory", 1, "throughput.shared_memory"); ok {
			s += fmt.Sprintf(" The pipe went %s slower, shared memory %s.", format.Times(p), format.Times(m))
		}
	}
	return s + " What each loses tells what its small messages cost. Shared memory's small message costs almost nothing but the copy, so when the copy grows 64-fold its rate falls far. A pipe's small message mostly costs the two system calls and the wake-ups around a few bytes; the bigger copy adds to a cost that was already large, so its rate falls less. At a page a message both ways are dominated by copying, and the gap between them narrows."
}

// threadsDied reads whether every thread died with the one killed.
func threadsDied(ev teach.Evidence) (int, bool) {
	alive, ok := ev.Value(0, "crash.threads.alive_after")
	if !ok {
		return 0, false
	}
	if alive == 0 {
		return 0, true
	}
	return 1, true
}

func explainSigkill(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: after the kill, %s threads of the one process were still running and %s had finished their steps; as separate processes, %s siblings finished. "+
		"SIGKILL ends a process, not a thread: the kernel ends every thread in its address space at once. "+
		"No handler runs and no deferred function either, so a server killed this way cannot even log why. Processes are the unit the kernel isolates; a supervisor that restarts dead workers only works when the workers are processes.",
		ev.Figure(0, "crash.threads.alive_after"), ev.Figure(0, "crash.threads.finished"), ev.Figure(0, "crash.processes.siblings_finished"))
}
