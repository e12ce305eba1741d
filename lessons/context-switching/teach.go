package contextswitching

import (
	"embed"
	"fmt"

	"conclab/internal/format"
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
		"Say what the CPU saves and restores when it changes threads, and why that does no useful work.",
		"Measure one switch between goroutines, threads and processes, and read the figure as an upper bound.",
		"Tell what a switch costs by itself from what a program pays after it, while its data comes back into the caches.",
		"Decide how much work to do between two hand-overs so that switching stops mattering.",
	},
	WhyCare: "A server that hands every small request to another thread, or an async loop that yields after every item, can spend more time switching than working: throughput falls as load rises, and profiles show the time in the kernel's scheduler, not in the code. The cure is batching, and knowing how big a batch must be takes the figures this lesson measures.",
	Exercises: []teach.Exercise{
		{
			ID: "cs-ex-batch", Title: "Where does a bigger batch stop paying?",
			Task:  "Run yield-batching as it is: it tries batches of 1, 10, 100, 1,000 and 10,000 items between two yields. Before you look at the chart, predict where the goroutines' curve flattens.",
			Needs: []teach.Need{{Experiment: "yield-batching", Keys: batchKeys}},
			Question: teach.Question{
				Text:    "For goroutines, from which batch size on does a batch ten times larger gain less than 1.5× in items per second?",
				Choices: []string{"from 1", "from 10", "from 100", "from 1,000", "not even at 10,000"},
			},
			Judge:   teach.ByRuns(flatFrom),
			Explain: explainBatch,
		},
		{
			ID: "cs-ex-contention", Title: "More threads, shorter turns?",
			Task: "Run switch-count twice on one CPU: first with 2 threads, then with 16. Both runs do the same work; only the number of threads sharing the CPU changes.",
			Needs: []teach.Need{
				{Experiment: "switch-count", Params: map[string]any{"threads": 2, "cpus": 1}, Keys: []string{"time_between_switches.contended", "throughput.contended", "throughput.one_per_cpu"}},
				{Experiment: "switch-count", Params: map[string]any{"threads": 16, "cpus": 1}, Keys: []string{"time_between_switches.contended", "throughput.contended", "throughput.one_per_cpu"}},
			},
			Question: teach.Question{
				Text:    "With 16 threads instead of 2 taking turns on the CPU, how long does a thread run between two involuntary switches?",
				Choices: []string{"about as long: the turn has a fixed length", "much shorter: the same period is cut into more turns", "longer: the scheduler gives bigger turns to more threads"},
			},
			Judge:   teach.ByRuns(turnLength),
			Explain: explainContention,
		},
		{
			ID: "cs-ex-across", Title: "The same hand-off across two CPUs",
			Task: "Run switch-cost with “Across CPUs” on, so the ping-pong runs pinned to one CPU and then across two.",
			Needs: []teach.Need{{Experiment: "switch-cost", Params: map[string]any{"across": true},
				Keys: []string{"switch.thread.same_cpu", "wakeup.thread.across_cpus", "switch.process.same_cpu", "wakeup.process.across_cpus"}}},
			Question: teach.Question{
				Text:    "Which will be quicker between two OS threads: a hand-off on one CPU (a switch), or across two CPUs (a wake-up)?",
				Choices: []string{"on one CPU", "about the same (within 20%)", "across two CPUs"},
			},
			Judge:   teach.ByRuns(quickerSide),
			Explain: explainAcross,
		},
		{
			ID: "cs-ex-indirect", Title: "The direct and the indirect cost",
			Task: "Run switch-cost with 1,000 batches, for steadier medians, and compare the two ratios under the panel: a bare process switch over a bare thread switch, and the same in Go programs.",
			Needs: []teach.Need{{Experiment: "switch-cost", Params: map[string]any{"batches": 1000},
				Keys: []string{"ratio.bare.process_thread", "ratio.go.process_thread", "switch.bare_process.same_cpu", "switch.process.same_cpu"}}},
			Question: teach.Question{
				Text:    "Which ratio of process switch to thread switch will be larger?",
				Choices: []string{"the bare ping-pong's", "about the same (within 10%)", "the Go programs'"},
			},
			Judge:   teach.ByRuns(largerRatio),
			Explain: explainIndirect,
		},
	},
	Questions: []teach.Question{
		{ID: "cs-q-saves", Text: "What does the kernel save when it switches a thread out?",
			Choices: []string{"its registers, the instruction and stack pointers among them, into the thread's control block", "its whole stack, copied out to disk", "the contents of the CPU's caches", "nothing: the thread starts again from the top when it is next run"},
			Right:   0,
			Explain: "A paused thread is the values it had in the CPU's registers. The kernel writes them into the thread's record (on Linux, its task_struct and kernel stack) and loads another thread's; the stack stays where it is in memory."},
		{ID: "cs-q-roundtrip", Text: "Two threads pinned to one CPU pass a byte back and forth 10,000 times in 40 ms. What is the upper bound on one switch, in µs?",
			Min: 0, Max: 1000, Lo: 1.9, Hi: 2.1, Unit: "µs",
			Explain: "40 ms ÷ 10,000 is 4 µs per round trip, and a round trip is two switches: 2 µs each. It is an upper bound because each hand-off also includes a pipe write, a read and a wake-up."},
		{ID: "cs-q-process", Text: "On a CPU with PCID, why does a Go program's process switch still cost more than its thread switch?",
			Choices: []string{"the kernel has many more registers to save for a process", "after each switch, each program finds part of its data and translations pushed out of the caches and TLB by the other", "the kernel runs processes less often than threads", "the kernel copies the process's memory on every switch"},
			Right:   1,
			Explain: "The registers saved are the same for a thread and a process. What differs is what comes after: two processes bring two sets of data and address translations, and each evicts some of the other's. That is the indirect cost; the bare ping-pong, which touches almost nothing, shows how small the direct difference is."},
		{ID: "cs-q-across", Text: "Two threads ping-pong on two different CPUs. What does the round trip mostly measure?",
			Choices: []string{"two context switches", "how long it takes to wake a thread on another CPU", "copying the byte from one CPU's cache to the other's"},
			Right:   1,
			Explain: "Each side has a CPU of its own, so nothing needs saving: each CPU switches to its idle task while it waits. The round trip is the wake-up — an interrupt to the other CPU and its way out of idle — which is slow on virtual machines."},
		{ID: "cs-q-share", Text: "A worker yields after every item. An item takes 5 ns of work and a yield 150 ns. About what percentage of its time is useful work?",
			Min: 0, Max: 100, Lo: 2.5, Hi: 4, Unit: "%",
			Explain: "Each item costs 5 + 150 = 155 ns, of which 5 ns is work: about 3%. Yielding after every 1,000 items spreads the 150 ns over 5,000 ns of work, and the share rises to about 97%."},
		{ID: "cs-q-slice", Text: "More threads want a CPU than there are CPUs. On Linux 6.6 and later, what ends a thread's turn?",
			Choices: []string{"the end of its time slice, with an involuntary switch", "its next system call", "the garbage collector"},
			Right:   0,
			Explain: "The scheduler (EEVDF) gives each runnable thread a slice and, when the slice is used up, preempts it at the next timer tick: an involuntary switch. A thread that blocks on a system call gives up its turn early, but a thread that only computes never does."},
	},
	Reading: []teach.Link{
		{Title: "OSTEP, chapter 6: Limited Direct Execution", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/cpu-mechanisms.pdf",
			Why: "How the kernel takes the CPU back with a timer interrupt, and what a switch saves — with the cost measured on real machines."},
		{Title: "Li, Ding and Shen: Quantifying the Cost of Context Switch (2007)", URL: "https://www.usenix.org/legacy/events/expcs07/papers/2-li.pdf",
			Why: "The paper that separates the direct cost of a switch from the indirect cost of the caches, as this lesson's two ratios do."},
		{Title: "The kernel's EEVDF scheduler documentation", URL: "https://docs.kernel.org/scheduler/sched-eevdf.html",
			Why: "The scheduler that sets the turn length switch-count measures, in its authors' words."},
		{Title: "perf bench sched pipe and perf sched", URL: "https://man7.org/linux/man-pages/man1/perf-bench.1.html",
			Why: "The standard ping-pong the experiment compares itself with; perf sched (its sibling page) records every switch the scheduler makes."},
	},
	Code: []teach.Source{{Dir: "lessons/context-switching", FS: sources}, {Dir: "internal/pingpong", FS: pingpong.Source}},
	Show: map[string][]string{
		"switch-cost":    {"pingpong-time", "pingpong-pipe"},
		"yield-batching": {"yield-batching", "yield-asyncio"},
	},
}

var batchKeys = func() []string {
	keys := []string{"yield_cost.goroutine"}
	for _, b := range batchSizes {
		keys = append(keys, fmt.Sprintf("throughput.goroutine.batch_%d", b))
	}
	return keys
}()

// flatFrom is the first batch size from which ten times more items per
// yield gain less than 1.5× in throughput (index into the choices; the
// last means it never flattened).
func flatFrom(ev teach.Evidence) (int, bool) {
	for i := 0; i+1 < len(batchSizes); i++ {
		r, ok := ev.Ratio(0, fmt.Sprintf("throughput.goroutine.batch_%d", batchSizes[i+1]), 0, fmt.Sprintf("throughput.goroutine.batch_%d", batchSizes[i]))
		if !ok {
			return 0, false
		}
		if r < 1.5 {
			return i, true
		}
	}
	return len(batchSizes) - 1, true
}

func explainBatch(ev teach.Evidence) string {
	s := "Your run, goroutines, items per second:"
	for i, b := range batchSizes {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s at %s", ev.Figure(0, fmt.Sprintf("throughput.goroutine.batch_%d", b)), format.Number(float64(b)))
	}
	s += ". One yield cost " + ev.Figure(0, "yield_cost.goroutine") + "."
	if tp, ok := ev.Value(0, "throughput.goroutine.batch_10000"); ok && tp > 0 {
		s += fmt.Sprintf(" An item alone takes about %s (one second over the best throughput).", format.Figure(1e9/tp, "ns"))
	}
	if c, ok := flatFrom(ev); ok && c < len(batchSizes)-1 {
		s += fmt.Sprintf(" The curve flattened from a batch of %s.", format.Number(float64(batchSizes[c])))
	}
	return s + " A batch pays while the yield costs as much as the work beside it; once B items take many times longer than one yield, a bigger batch only shaves what is left of the yield's share. Where that happens depends on this machine's yield and item costs: that is why the answer is read from your run."
}

// turnLength compares the time between switches with 16 threads to that
// with 2.
func turnLength(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(1, "time_between_switches.contended", 0, "time_between_switches.contended")
	switch {
	case !ok:
		return 0, false
	case r >= 0.67 && r <= 1.5:
		return 0, true
	case r < 0.4:
		return 1, true
	case r > 1.5:
		return 2, true
	}
	return 0, false // between the two: the runs cannot tell
}

func explainContention(ev teach.Evidence) string {
	s := fmt.Sprintf("Your runs: a thread ran %s between involuntary switches with 2 threads, and %s with 16.",
		ev.Figure(0, "time_between_switches.contended"), ev.Figure(1, "time_between_switches.contended"))
	if r, ok := ev.Ratio(1, "throughput.contended", 1, "throughput.one_per_cpu"); ok {
		s += fmt.Sprintf(" With 16 threads the work went at %s the speed of one thread alone.", format.Times(r))
	}
	return s + " Since Linux 6.6 the EEVDF scheduler gives each runnable thread a slice of fixed length (about 0.75 ms, scaled up with the number of CPUs), which the timer's tick rounds up: more threads means more turns, each about as long. Before 6.6, CFS cut a fixed period into as many turns as there were threads, down to a minimum, so turns did shrink. A turn of milliseconds is long next to a switch of microseconds, which is why the throughput hardly falls."
}

// quickerSide compares a thread wake-up across CPUs with a thread switch
// on one CPU.
func quickerSide(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "wakeup.thread.across_cpus", 0, "switch.thread.same_cpu")
	switch {
	case !ok:
		return 0, false
	case r > 1.2:
		return 0, true
	case r < 0.8:
		return 2, true
	}
	return 1, true
}

func explainAcross(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: a switch between two threads on one CPU took %s, a wake-up across two CPUs %s; between processes, %s and %s. "+
		"On one CPU the kernel saves one thread and loads the other. Across two, each CPU switches to its idle task while its thread waits, and the figure is how long the other CPU takes to notice: an interrupt sent between CPUs and the way out of a power-saving state. "+
		"On a virtual machine that interrupt passes through the hypervisor and can cost tens of microseconds, so the wake-up is usually the dearer; on bare hardware with idle states turned down it can be the cheaper.",
		ev.Figure(0, "switch.thread.same_cpu"), ev.Figure(0, "wakeup.thread.across_cpus"), ev.Figure(0, "switch.process.same_cpu"), ev.Figure(0, "wakeup.process.across_cpus"))
}

// largerRatio compares the Go programs' process-to-thread ratio with the
// bare one.
func largerRatio(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "ratio.go.process_thread", 0, "ratio.bare.process_thread")
	switch {
	case !ok:
		return 0, false
	case r > 1.1:
		return 2, true
	case r < 1/1.1:
		return 0, true
	}
	return 1, true
}

func explainIndirect(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: bare, a process switch cost %s the thread switch; in Go programs, %s (a Go process switch took %s against %s bare). "+
		"The bare ping-pong does nothing but its two system calls, so it shows the direct cost: on a CPU with PCID, changing address space adds little. "+
		"A Go program touches its scheduler's records, timers and stacks around every switch, and after the other process has run it finds some of them evicted from the caches and TLB: that extra is the indirect cost, and it is usually what makes the Go ratio the larger. "+
		"Without PCID, or with page-table isolation and no PCID, even the bare ratio grows, because the TLB is emptied on every process switch.",
		ev.Figure(0, "ratio.bare.process_thread"), ev.Figure(0, "ratio.go.process_thread"), ev.Figure(0, "switch.process.same_cpu"), ev.Figure(0, "switch.bare_process.same_cpu"))
}
