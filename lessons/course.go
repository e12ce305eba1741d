// Package lessons is the course: its lessons in order, and the registry of
// every lesson's experiments.
package lessons

import (
	"conclab/internal/lab"
	contextswitching "conclab/lessons/context-switching"
	greenthreads "conclab/lessons/green-threads"
	"conclab/web/ui"
)

// Course lists the seven lessons in order. A lesson without Content is not
// written yet; the index shows it as coming.
var Course = []ui.Lesson{
	{Number: 1, Slug: "processes-vs-threads", Title: "Processes vs threads",
		Summary: "What a process owns, what its threads share, and what that costs in time, memory and safety."},
	{Number: 2, Slug: "concurrency-vs-parallelism", Title: "Concurrency vs parallelism",
		Summary: "Taking turns on one CPU versus running at the same instant on several, drawn from this machine's scheduler."},
	{Number: 3, Slug: contextswitching.Slug, Title: "Context switching",
		Summary: "What the CPU saves and restores when it changes threads, what that costs here, and why too many switches hurt.",
		Content: contextswitching.Page},
	{Number: 4, Slug: "cpu-vs-io-bound", Title: "CPU-bound vs I/O-bound",
		Summary: "Why more workers help work that waits and not work that computes."},
	{Number: 5, Slug: "threading-models", Title: "User-level vs kernel-level threads",
		Summary: "1:1, N:1 and M:N side by side, including the blocking call that stops N:1 dead."},
	{Number: 6, Slug: greenthreads.Slug, Title: "Green threads and coroutines",
		Summary: "A million goroutines, a task that never yields, and the cheapest switch there is.",
		Content: greenthreads.Page},
	{Number: 7, Slug: "choosing", Title: "Choosing a model",
		Summary: "Threads, processes, async or green threads: test the rules of thumb on a workload of your own."},
}

// Registry returns a registry holding every lesson's experiments.
func Registry() *lab.Registry {
	r := lab.NewRegistry()
	r.Register(contextswitching.Experiments()...)
	r.Register(greenthreads.Experiments()...)
	return r
}
