package choosing

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	walls := func(seq, one, all, procs, mixed float64) []lab.Metric {
		return []lab.Metric{{Key: "wall.sequential", Value: seq}, {Key: "wall.one_cpu", Value: one}, {Key: "wall.all_cpus", Value: all},
			{Key: "wall.processes", Value: procs}, {Key: "wall.mixed", Value: mixed}}
	}
	for _, c := range []struct {
		ms   []lab.Metric
		want string
		ok   bool
	}{
		{walls(45, 18, 11, 36, 12), "goroutines on all CPUs", true},
		{walls(45, 18, 13, 36, 12), "goroutines for the I/O, a pool for the computing", true},
		{walls(10, 18, 13, 36, 12), "sequential", true},
		{walls(45, 18, 13, 6, 12), "a pool of processes", true},
		{walls(45, 18, 13, 36, 12)[:4], "", false},
	} {
		if got, ok := fastestAnswer(c.ms); got != c.want || ok != c.ok {
			t.Errorf("fastestAnswer = %q, %v; want %q, %v", got, ok, c.want, c.ok)
		}
	}
}
