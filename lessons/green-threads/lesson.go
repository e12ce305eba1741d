// Package greenthreads is lesson 6: threads that a runtime manages in user
// space — how many fit, what happens when one never yields, and what a
// switch between them costs next to a switch between OS threads.
package greenthreads

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "green-threads"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Green threads and coroutines",
	Summary:     "A million goroutines, a task that never yields, and the cheapest switch there is.",
	Page:        Page,
	Experiments: []*lab.Experiment{spawnMany(), cooperative(), asyncioAwait(), coroutineSwitch()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Recap: []ui.RecapFigure{
		{Group: ui.RecapSwitches, Experiment: "coroutine-switch", Key: "switch.coroutine.same_cpu",
			What: "Coroutine switch (iter.Pull)", Claim: "the cheapest switch there is"},
		{Group: ui.RecapMemory, Experiment: "spawn-many", Key: "memory.goroutine.resident",
			What: "Memory per goroutine, many alive", Claim: "a few KiB"},
	},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
