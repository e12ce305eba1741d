// Package threadingmodels is lesson 5: how user threads map onto kernel
// threads — one to one, many to one, many to many — and what each mapping
// costs when a task makes a blocking system call.
package threadingmodels

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "threading-models"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{threadingModels(), blockingCall()}
}
