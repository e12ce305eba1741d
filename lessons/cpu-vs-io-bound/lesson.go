// Package cpuvsiobound is lesson 4: work that waits and work that computes,
// and why adding workers speeds up the first far more than the second.
package cpuvsiobound

import (
	"embed"
	"strconv"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "cpu-vs-io-bound"

// Lesson describes the lesson to the course (lessons/course.go).
var Lesson = course.Lesson{
	Slug:        Slug,
	Title:       "CPU-bound vs I/O-bound",
	Summary:     "Why more workers help work that waits and not work that computes.",
	Page:        Page,
	Experiments: []*lab.Experiment{scaling(), taskProfile(), mixedPipeline(), pythonGIL()},
	Teach:       plan,
	Assets:      course.Sub(assets, "assets"),
	Styles:      []string{"page.css"},
	Recap: []ui.RecapFigure{
		{Group: ui.RecapSpeedups, Experiment: "scaling", Key: keyIOMost, What: "I/O-bound tasks, most workers", Claim: "grows far past the core count"},
		{Group: ui.RecapSpeedups, Experiment: "scaling", Key: keyCPUMost, What: "CPU-bound tasks, most workers", Claim: "stops at the core count"},
	},
}

// assets are the lesson's own CSS and JavaScript.
//
//go:embed assets
var assets embed.FS

func itoa(n int) string { return strconv.Itoa(n) }
