// Package greenthreads is lesson 6: threads that a runtime manages in user
// space — how many fit, what happens when one never yields, and what a
// switch between them costs next to a switch between OS threads.
package greenthreads

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "green-threads"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{spawnMany(), cooperative(), coroutineSwitch()}
}
