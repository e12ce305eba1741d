package contextswitching

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

// yieldRun is a yield-batching run whose kinds did items at these rates
// (items per second), one per batch size.
func yieldRun(rates map[string][]float64) yieldMeasured {
	m := yieldMeasured{items: 1000, budget: time.Second, settings: map[string][]yieldSetting{}}
	for kind, rs := range rates {
		for i, r := range rs {
			s := yieldSetting{batch: batchSizes[i], done: 1000}
			if r > 0 {
				s.wall = time.Duration(1000 / r * float64(time.Second))
			}
			m.settings[kind] = append(m.settings[kind], s)
		}
	}
	return m
}

func TestJudgeBatching(t *testing.T) {
	t.Parallel()
	fast := []float64{1e6, 8e6, 5e7, 1e8, 1.1e8} // 100× from B = 1 to B = 1,000
	tests := []struct {
		name    string
		rates   map[string][]float64
		verdict string
		whyHas  string
	}{
		{"both gain", map[string][]float64{"goroutine": fast, "thread": fast}, lab.Holds, ""},
		{"exactly 10×", map[string][]float64{"goroutine": fast, "thread": {1e6, 3e6, 6e6, 1e7, 1e7}}, lab.Holds, ""},
		{"threads gain less", map[string][]float64{"goroutine": fast, "thread": {1e6, 3e6, 6e6, 9e6, 1e7}}, lab.Differs, "less than 10×"},
		{"no gain", map[string][]float64{"goroutine": {1e8, 1e8, 1e8, 1e8, 1e8}, "thread": fast}, lab.Differs, "less than 10×"},
		{"a kind not run", map[string][]float64{"goroutine": fast}, lab.Inconclusive, "no ratio to judge"},
		{"nothing timed at B = 1", map[string][]float64{"goroutine": fast, "thread": {0, 3e6, 6e6, 9e6, 1e7}}, lab.Inconclusive, "no ratio to judge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkVerdict(t, judgeBatching(yieldRun(tt.rates)), tt.verdict, tt.whyHas)
		})
	}
}

func TestYieldResult(t *testing.T) {
	t.Parallel()
	fast := []float64{1e6, 8e6, 5e7, 1e8, 1.25e8}
	metrics, _ := yieldResult(yieldRun(map[string][]float64{"goroutine": fast, "thread": {0, 1, 2, 3, 4}}))
	cost, ok := lab.FindMetric(metrics, "yield_cost.goroutine")
	if !ok {
		t.Fatal("no yield_cost.goroutine")
	}
	if want := 992.0; cost.Value != want { // 1000 ns − 8 ns per item
		t.Errorf("cost of one yield = %v ns, want %v", cost.Value, want)
	}
	if _, ok := lab.FindMetric(metrics, "yield_cost.thread"); ok {
		t.Error("a cost of one yield from a setting that did nothing")
	}
	if _, ok := lab.FindMetric(metrics, "throughput.thread.batch_10000"); !ok {
		t.Error("no throughput.thread.batch_10000")
	}
}
