package cpuvsiobound

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	m := func(pool, all float64) []lab.Metric {
		return []lab.Metric{{Key: "throughput.mixed", Value: pool}, {Key: "throughput.concurrent_all_cpus", Value: all}}
	}
	for _, c := range []struct {
		ms   []lab.Metric
		want string
		ok   bool
	}{
		{m(120, 100), "a lot (10% or more)", true},
		{m(110, 100), "a lot (10% or more)", true},
		{m(102, 100), "little", true},
		{m(1, 0), "", false},
		{nil, "", false},
	} {
		if got, ok := poolAnswer(c.ms); got != c.want || ok != c.ok {
			t.Errorf("poolAnswer(%v) = %q, %v; want %q, %v", c.ms, got, ok, c.want, c.ok)
		}
	}
}
