// Package choosing is lesson 7: how to choose between threads, processes,
// async and green threads, tested on a workload the learner sets, and a
// recap of what this machine measured across the course.
package choosing

import (
	"embed"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "choosing"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "Choosing a model",
	Summary:     "Threads, processes, async or green threads: test the rules of thumb on a workload of your own.",
	Page:        Page,
	Experiments: []*lab.Experiment{workloadLab()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Scripts:     []string{"page.js"},
	Recap: []ui.RecapFigure{
		{Group: ui.RecapSpeedups, Experiment: ID, Key: keySpeedup, What: "Your workload, fastest strategy vs sequential", Claim: "depends on the workload"},
	},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS
