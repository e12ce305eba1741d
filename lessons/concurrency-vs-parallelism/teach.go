package concurrencyvsparallelism

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

// plan is what the lesson teaches with besides its prose.
var plan = teach.Plan{
	Objectives: []string{
		"Tell concurrency from parallelism in a real program, and say which one a speed-up needs.",
		"Read a timeline of which task ran on which CPU, and find the turns the scheduler gave each one.",
		"Predict how long computing tasks take on one CPU and on several.",
		"Say which kind of work each one helps: waiting, or computing.",
	},
	WhyCare: "A team adds threads to a number-crunching job on a machine whose other core is busy and sees no speed-up at all; another makes its web server handle requests concurrently and is surprised that one slow report still holds everybody up. Both mixed up taking turns with working at the same time.",
	Exercises: []teach.Exercise{
		{
			ID: "cvp-ex-wall", Title: "Two tasks, one CPU: the sum",
			Task: "Run cpu-timeline with the timeline set to concurrent and 500 ms of work per task: two tasks, both pinned to one CPU. Predict first.",
			Needs: []teach.Need{{Experiment: "cpu-timeline", Params: map[string]any{"mode": "concurrent", "work": 500},
				Keys: []string{"wall_time.concurrent", "cpu_time.sum.concurrent", "turn_changes.concurrent"}}},
			Question: teach.Question{
				Text: "Two tasks each need 500 ms of CPU and share one CPU. How long, in ms, until both have finished?",
				Unit: "ms", Min: 0, Max: 10000,
			},
			Judge:   wallGuess,
			Explain: explainWall,
		},
		{
			ID: "cvp-ex-turns", Title: "Does a longer task get longer turns?",
			Task: "Run the concurrent timeline twice: with 100 ms of work per task, then with 1,000 ms. Compare the length of a turn.",
			Needs: []teach.Need{
				{Experiment: "cpu-timeline", Params: map[string]any{"mode": "concurrent", "work": 100}, Keys: []string{"turn_length.concurrent", "turn_changes.concurrent"}},
				{Experiment: "cpu-timeline", Params: map[string]any{"mode": "concurrent", "work": 1000}, Keys: []string{"turn_length.concurrent", "turn_changes.concurrent"}},
			},
			Question: teach.Question{
				Text:    "With ten times the work per task, what happens to the length of one turn on the CPU?",
				Choices: []string{"about the same: only the number of turns grows", "about ten times longer", "shorter: the scheduler hurries long tasks"},
			},
			Judge:   teach.ByRuns(sameTurns),
			Explain: explainTurns,
		},
		{
			ID: "cvp-ex-combined", Title: "Twice the tasks on twice the CPUs",
			Task: "Run cpu-timeline with all three timelines and 2 CPUs. Then set the concurrent timeline (two tasks, one CPU) beside the combined one (four tasks, two CPUs).",
			Needs: []teach.Need{{Experiment: "cpu-timeline", Params: map[string]any{"mode": "all", "cpus": 2},
				Keys: []string{"wall_time.concurrent", "wall_time.combined", "cpus_seen.combined", "speedup.combined"}}},
			Question: teach.Question{
				Text:    "How will the wall time of four tasks on two CPUs compare with two tasks on one?",
				Choices: []string{"about the same", "about twice as long", "about half as long"},
			},
			Judge:   teach.ByRuns(combinedWall),
			Explain: explainCombined,
		},
	},
	Questions: []teach.Question{
		{ID: "cvp-q-sum", Text: "Two tasks of 300 ms of computing each take turns on one CPU. When are both finished?",
			Choices: []string{"after about 150 ms", "after about 300 ms", "after about 600 ms"}, Right: 2,
			Explain: "Taking turns does not make the work smaller: one CPU does 600 ms of computing, in slices, and the second task finishes at about 600 ms. With a CPU each, both would finish at about 300 ms."},
		{ID: "cvp-q-which", Text: "Which of these is parallelism?",
			Choices: []string{"a web server keeping 1,000 connections open on one core", "two cores hashing the two halves of a file at the same instant", "an editor that stays responsive while it saves"}, Right: 1,
			Explain: "Parallelism is execution at the same instant, which takes more than one CPU. The server and the editor are concurrent: several things in progress, taking turns, which one core can do."},
		{ID: "cvp-q-busy", Text: "A program's CPU time divided by its wall time is 2, yet it did not finish in half the time. Which can explain it?",
			Choices: []string{"the two CPUs were hyper-threads of one core, sharing its arithmetic units", "the program was only concurrent", "the clock was wrong"}, Right: 0,
			Explain: "CPU time ÷ wall time counts CPUs kept busy, not work done. Two hyper-threads of one core are both busy, but they share the core's units, so each computes more slowly than it would alone."},
		{ID: "cvp-q-amdahl", Text: "80% of a job splits over any number of cores; the rest runs on one. On 4 free cores, at most how many times faster can it finish?",
			Unit: "×", Min: 0, Max: 100, Lo: 2.45, Hi: 2.55,
			Explain: "The part that splits takes 0.8 ÷ 4 = 0.2 of the old time, and the rest still takes 0.2: 0.4 in all, 2.5× faster. However many cores you add, it never beats 5× (Amdahl's law)."},
		{ID: "cvp-q-freeze", Text: "A script computes for a whole second on a page's main thread. Why does the page freeze?",
			Choices: []string{"the main thread also paints the page and handles clicks, and it is busy", "the browser gives each page one core", "the computer runs out of memory"}, Right: 0,
			Explain: "A page's scripts, layout, painting and input all take turns on its one main thread. Long work there leaves no turn for the rest; moved to a Web Worker it runs in parallel, and the main thread stays free."},
	},
	Reading: []teach.Link{
		{Title: "OSTEP, chapter 7: Scheduling: Introduction", URL: "https://pages.cs.wisc.edu/~remzi/OSTEP/cpu-sched.pdf",
			Why: "Turns, time slices, and why a scheduler trades the time to finish against the time to first answer."},
		{Title: "Rob Pike: Concurrency is not Parallelism", URL: "https://go.dev/blog/waza-talk",
			Why: "The talk that made the distinction this lesson draws, with gophers moving books."},
		{Title: "perf sched(1), the Linux manual page", URL: "https://man7.org/linux/man-pages/man1/perf-sched.1.html",
			Why: "Records the same timeline this lesson draws, for any program, with every switch and migration."},
		{Title: "MDN: Using Web Workers", URL: "https://developer.mozilla.org/en-US/docs/Web/API/Web_Workers_API/Using_web_workers",
			Why: "How the browser experiment keeps the page's main thread free while it computes."},
	},
	Code: []teach.Source{{Dir: "lessons/concurrency-vs-parallelism", FS: sources}},
}

func wallGuess(ev teach.Evidence, v float64) (bool, bool) {
	wall, ok := ev.Value(0, "wall_time.concurrent")
	if !ok || wall <= 0 {
		return false, false
	}
	return v >= wall/1.25 && v <= wall*1.25, true
}

func explainWall(ev teach.Evidence) string {
	return fmt.Sprintf("Your run: both tasks had finished after %s of wall time, and their CPU times added up to %s; the CPU changed hands %s times. "+
		"Answers within 1.25× of your wall time count as right. One CPU did all the computing, a slice at a time, so the wall time is close to the sum of the work: taking turns makes nothing faster. "+
		"If the wall time came out well above the sum, something else on this machine had a share of that CPU too.",
		ev.Figure(0, "wall_time.concurrent"), ev.Figure(0, "cpu_time.sum.concurrent"), ev.Figure(0, "turn_changes.concurrent"))
}

func sameTurns(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(1, "turn_length.concurrent", 0, "turn_length.concurrent")
	switch {
	case !ok:
		return 0, false
	case r >= 0.67 && r <= 1.5:
		return 0, true
	case r >= 5:
		return 1, true
	case r < 0.5:
		return 2, true
	}
	return 0, false
}

func explainTurns(ev teach.Evidence) string {
	return fmt.Sprintf("Your runs: a turn lasted %s with 100 ms of work and %s with 1,000 ms; the CPU changed hands %s and %s times. "+
		"The length of a turn is the scheduler's time slice, set by the kernel and rounded up to its timer's tick, not by the task. More work means more turns of about the same length.",
		ev.Figure(0, "turn_length.concurrent"), ev.Figure(1, "turn_length.concurrent"), ev.Figure(0, "turn_changes.concurrent"), ev.Figure(1, "turn_changes.concurrent"))
}

func combinedWall(ev teach.Evidence) (int, bool) {
	r, ok := ev.Ratio(0, "wall_time.combined", 0, "wall_time.concurrent")
	switch {
	case !ok:
		return 0, false
	case r >= 0.75 && r <= 1.33:
		return 0, true
	case r >= 1.6:
		return 1, true
	case r <= 0.6:
		return 2, true
	}
	return 0, false
}

func explainCombined(ev teach.Evidence) string {
	s := fmt.Sprintf("Your run: two tasks on one CPU took %s; four tasks on two CPUs took %s, and ran on %s CPUs.",
		ev.Figure(0, "wall_time.concurrent"), ev.Figure(0, "wall_time.combined"), ev.Figure(0, "cpus_seen.combined"))
	if r, ok := ev.Ratio(0, "wall_time.combined", 0, "wall_time.concurrent"); ok {
		s += " The combined timeline took " + format.Times(r) + " the time."
	}
	return s + " Twice the work on twice the CPUs takes about as long: each CPU still shares its time between two tasks, concurrency on each CPU and parallelism across them. On a machine with one usable CPU, or whose second CPU was busy, the combined timeline takes about twice as long instead."
}
