// Package contextswitching is lesson 3: what a context switch does, what it
// costs on this machine, and why too many of them hurt.
package contextswitching

import (
	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "context-switching"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Context switching",
	Summary:     "What the CPU saves and restores when it changes threads, what that costs here, and why too many switches hurt.",
	Page:        Page,
	Experiments: []*lab.Experiment{switchCost(), switchCount(), yieldBatching()},
	Teach:       plan,
	Recap: []ui.RecapFigure{
		{Group: ui.RecapSwitches, Experiment: "switch-cost", Key: "switch.goroutine.same_cpu", What: "Goroutine switch, same CPU", Claim: "far below a thread switch"},
		{Group: ui.RecapSwitches, Experiment: "switch-cost", Key: "switch.thread.same_cpu", What: "OS thread switch, same CPU", Claim: "1–10 µs"},
		{Group: ui.RecapSwitches, Experiment: "switch-cost", Key: "switch.process.same_cpu", What: "Process switch, same CPU", Claim: "10–100 µs"},
		{Group: ui.RecapSwitches, Experiment: "yield-batching", Key: "yield_cost.goroutine", What: "One yield between goroutines", Claim: "costs far more than a tiny task"},
	},
}
