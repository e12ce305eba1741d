// Package lessons is the course: its lessons, in order. Each lesson is a
// folder with one exported descriptor; everything else about the course
// (numbering, the registry of experiments, navigation, the recap) derives
// from the list below. See README.md for how a lesson plugs in.
package lessons

import (
	"sync"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/lessons/choosing"
	concurrencyvsparallelism "conclab/lessons/concurrency-vs-parallelism"
	contextswitching "conclab/lessons/context-switching"
	cpuvsiobound "conclab/lessons/cpu-vs-io-bound"
	greenthreads "conclab/lessons/green-threads"
	processesvsthreads "conclab/lessons/processes-vs-threads"
	threadingmodels "conclab/lessons/threading-models"
)

// All is every lesson, in course order: the one list of the course.
var All = []course.Lesson{
	processesvsthreads.Lesson,
	concurrencyvsparallelism.Lesson,
	contextswitching.Lesson,
	cpuvsiobound.Lesson,
	threadingmodels.Lesson,
	greenthreads.Lesson,
	choosing.Lesson,
}

var (
	once sync.Once
	c    *course.Course
)

// Course is the course built from All.
func Course() *course.Course {
	once.Do(func() { c = course.MustNew(All...) })
	return c
}

// Registry holds every lesson's experiments, in course order.
func Registry() *lab.Registry { return Course().Registry() }
