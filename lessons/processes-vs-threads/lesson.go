// Package processesvsthreads is lesson 1: what a process owns, what the
// threads inside it share, and what each costs in time, memory and safety,
// measured on this machine.
package processesvsthreads

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "processes-vs-threads"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Processes vs threads",
	Summary:     "What a process owns, what its threads share, and what that costs in time, memory and safety.",
	Page:        Page,
	Experiments: []*lab.Experiment{spawnCost(), memoryFootprint(), isolation(), messagePassing(), crashIsolation()},
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
