// Package cpuvsiobound is lesson 4: work that waits and work that computes,
// and why adding workers speeds up the first far more than the second.
package cpuvsiobound

import (
	"strconv"

	"conclab/internal/lab"
)

// Slug is the lesson's address and the Lesson of its experiments.
const Slug = "cpu-vs-io-bound"

// Experiments are the lesson's experiments, in page order.
func Experiments() []*lab.Experiment {
	return []*lab.Experiment{scaling(), taskProfile(), mixedPipeline(), pythonGIL()}
}

func itoa(n int) string { return strconv.Itoa(n) }
