// Package lessons is the course: its lessons in order, and the registry of
// every lesson's experiments.
package lessons

import (
	"conclab/internal/lab"
	"conclab/lessons/choosing"
	concurrencyvsparallelism "conclab/lessons/concurrency-vs-parallelism"
	contextswitching "conclab/lessons/context-switching"
	cpuvsiobound "conclab/lessons/cpu-vs-io-bound"
	greenthreads "conclab/lessons/green-threads"
	processesvsthreads "conclab/lessons/processes-vs-threads"
	threadingmodels "conclab/lessons/threading-models"
	"conclab/web/ui"
)

// Course lists the seven lessons in order. A lesson without Content is not
// written yet; the index shows it as coming.
var Course = []ui.Lesson{
	{Number: 1, Slug: processesvsthreads.Slug, Title: "Processes vs threads",
		Summary: "What a process owns, what its threads share, and what that costs in time, memory and safety.",
		Content: processesvsthreads.Page},
	{Number: 2, Slug: concurrencyvsparallelism.Slug, Title: "Concurrency vs parallelism",
		Summary: "Taking turns on one CPU versus running at the same instant on several, drawn from this machine's scheduler.",
		Content: concurrencyvsparallelism.Page},
	{Number: 3, Slug: contextswitching.Slug, Title: "Context switching",
		Summary: "What the CPU saves and restores when it changes threads, what that costs here, and why too many switches hurt.",
		Content: contextswitching.Page},
	{Number: 4, Slug: cpuvsiobound.Slug, Title: "CPU-bound vs I/O-bound",
		Summary: "Why more workers help work that waits and not work that computes.",
		Content: cpuvsiobound.Page},
	{Number: 5, Slug: threadingmodels.Slug, Title: "User-level vs kernel-level threads",
		Summary: "1:1, N:1 and M:N side by side, including the blocking call that stops N:1 dead.",
		Content: threadingmodels.Page},
	{Number: 6, Slug: greenthreads.Slug, Title: "Green threads and coroutines",
		Summary: "A million goroutines, a task that never yields, and the cheapest switch there is.",
		Content: greenthreads.Page},
	{Number: 7, Slug: choosing.Slug, Title: "Choosing a model",
		Summary: "Threads, processes, async or green threads: test the rules of thumb on a workload of your own.",
		Content: choosing.Page},
}

// Registry returns a registry holding every lesson's experiments, in
// course order.
func Registry() *lab.Registry {
	r := lab.NewRegistry()
	r.Register(processesvsthreads.Experiments()...)
	r.Register(concurrencyvsparallelism.Experiments()...)
	r.Register(contextswitching.Experiments()...)
	r.Register(cpuvsiobound.Experiments()...)
	r.Register(threadingmodels.Experiments()...)
	r.Register(greenthreads.Experiments()...)
	r.Register(choosing.Experiments()...)
	return r
}
