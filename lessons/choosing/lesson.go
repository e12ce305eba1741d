// Package choosing is lesson 7: how to choose between threads, processes,
// async and green threads, tested on a workload the learner sets, and a
// recap of what this machine measured across the course.
package choosing

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "choosing"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{workloadLab()}
}
