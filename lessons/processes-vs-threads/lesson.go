// Package processesvsthreads is lesson 1: what a process owns, what the
// threads inside it share, and what each costs in time, memory and safety,
// measured on this machine.
package processesvsthreads

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "processes-vs-threads"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Processes vs threads",
	Summary:     "What a process owns, what its threads share, and what that costs in time, memory and safety.",
	Page:        Page,
	Experiments: []*lab.Experiment{spawnCost(), memoryFootprint(), isolation(), messagePassing(), sharedCounter(), crashIsolation()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Recap:       recap,
}

// recap are the figures this lesson offers to the course's recap. Memory
// compares like with like: what one more process adds (its own pages,
// shared ones left out) beside what one more thread adds to RAM — not
// the address space a thread reserves, which is no memory in use.
var recap = []ui.RecapFigure{
	{Group: ui.RecapCreation, Experiment: "spawn-cost", Key: "spawn.process", What: "Creating a process", Claim: "slowest to create"},
	{Group: ui.RecapCreation, Experiment: "spawn-cost", Key: "spawn.thread", What: "Creating an OS thread", Claim: "cheaper than a process"},
	{Group: ui.RecapCreation, Experiment: "spawn-cost", Key: "spawn.goroutine", What: "Creating a goroutine", Claim: "cheapest of the three"},
	{Group: ui.RecapMemory, Experiment: "memory-footprint", Key: "memory.process.own", What: "Memory per process", Claim: "far more than a thread"},
	{Group: ui.RecapMemory, Experiment: "memory-footprint", Key: "memory.thread.resident", What: "Memory per OS thread", Claim: "stack reserved, mostly not resident"},
	{Group: ui.RecapCommunication, Experiment: "message-passing", Key: "throughput.pipe", What: "Pipe between processes", Claim: "slower than shared memory"},
	{Group: ui.RecapCommunication, Experiment: "message-passing", Key: "throughput.channel", What: "Channel between goroutines", Claim: "shared memory inside one process"},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
