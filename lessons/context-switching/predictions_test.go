package contextswitching

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	m := func(one, many float64) []lab.Metric {
		return []lab.Metric{{Key: "throughput.one_per_cpu", Value: one}, {Key: "throughput.contended", Value: many}}
	}
	for _, c := range []struct {
		ms   []lab.Metric
		want string
		ok   bool
	}{
		{m(1, 0.9), "a clear loss (5% or more)", true},
		{m(1, 0.95), "a clear loss (5% or more)", true},
		{m(1, 0.99), "hardly any", true},
		{m(0, 1), "", false},
		{nil, "", false},
	} {
		if got, ok := lossAnswer(c.ms); got != c.want || ok != c.ok {
			t.Errorf("lossAnswer(%v) = %q, %v; want %q, %v", c.ms, got, ok, c.want, c.ok)
		}
	}
}
