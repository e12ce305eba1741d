// Package contextswitching is lesson 3: what a context switch does, what it
// costs on this machine, and why too many of them hurt.
package contextswitching

import "conclab/internal/lab"

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "context-switching"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{switchCost(), switchCount(), yieldBatching()}
}
