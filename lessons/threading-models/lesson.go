// Package threadingmodels is lesson 5: how user threads map onto kernel
// threads — one to one, many to one, many to many — and what each mapping
// costs when a task makes a blocking system call.
package threadingmodels

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "threading-models"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "User-level vs kernel-level threads",
	Summary:     "1:1, N:1 and M:N side by side, including the blocking call that stops N:1 dead.",
	Page:        Page,
	Experiments: []*lab.Experiment{threadingModels(), blockingCall(), schedulerTrace()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Scripts:     []string{"page.js"},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
