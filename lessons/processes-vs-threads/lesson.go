// Package processesvsthreads is lesson 1: what a process owns, what the
// threads inside it share, and what each costs in time, memory and safety,
// measured on this machine.
package processesvsthreads

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "processes-vs-threads"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{spawnCost(), memoryFootprint(), isolation(), messagePassing(), crashIsolation()}
}
