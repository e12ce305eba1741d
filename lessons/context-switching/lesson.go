// Package contextswitching is lesson 3: what a context switch does, what it
// costs on this machine, and why too many of them hurt.
package contextswitching

import (
	"conclab/internal/course"
	"conclab/internal/lab"
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
}
