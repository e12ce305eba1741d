// Package concurrencyvsparallelism is lesson 2: tasks taking turns on one
// CPU versus running at the same instant on several, drawn from where this
// machine's scheduler really ran them.
package concurrencyvsparallelism

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "concurrency-vs-parallelism"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Concurrency vs parallelism",
	Summary:     "Taking turns on one CPU versus running at the same instant on several, drawn from this machine's scheduler.",
	Page:        Page,
	Experiments: []*lab.Experiment{cpuTimeline()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Scripts:     []string{"page.js"},
	Recap: []ui.RecapFigure{
		{Group: ui.RecapSpeedups, Experiment: "cpu-timeline", Key: keySpeedupOverConcurrent, What: "CPU-bound tasks, all CPUs vs one", Claim: "towards the number of CPUs"},
	},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
