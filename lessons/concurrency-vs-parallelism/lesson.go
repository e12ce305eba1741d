// Package concurrencyvsparallelism is lesson 2: tasks taking turns on one
// CPU versus running at the same instant on several, drawn from where this
// machine's scheduler really ran them.
package concurrencyvsparallelism

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "concurrency-vs-parallelism"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{cpuTimeline()}
}
