package processesvsthreads

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

func TestJudgeSpawnCost(t *testing.T) {
	t.Parallel()
	goroutine := spread(150, 0.4, 0.5, 0.7)
	thread := spread(150, 30, 40, 55)
	process := spread(150, 5000, 5900, 7000)
	for _, tc := range []struct {
		name string
		m    spawnMeasured
		want string
	}{
		{"each kind clearly apart", spawnMeasured{n: 150, goroutine: goroutine, thread: thread, process: process}, lab.Holds},
		{"in order, spreads overlap", spawnMeasured{n: 150, goroutine: goroutine, thread: spread(150, 30, 40, 6000), process: process}, lab.Inconclusive},
		{"a kind not timed", spawnMeasured{n: 150, goroutine: lab.Summary{}, thread: thread, process: process}, lab.Inconclusive},
		{"goroutine no cheaper than a thread", spawnMeasured{n: 150, goroutine: spread(150, 60, 70, 80), thread: thread, process: process}, lab.Differs},
		{"goroutine about a thread", spawnMeasured{n: 150, goroutine: spread(150, 35, 45, 50), thread: thread, process: process}, lab.Inconclusive},
		{"process no dearer than a thread", spawnMeasured{n: 150, goroutine: goroutine, thread: thread, process: spread(150, 10, 12, 15)}, lab.Differs},
		{"on a busy machine", spawnMeasured{n: 150, goroutine: goroutine, thread: thread, process: process, load: lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}}, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkClaim(t, judgeSpawnCost(tc.m), claimSpawnOrder, tc.want)
		})
	}
}

// The figures have well-formed, unique keys; the /bin/true ones come only
// with /bin/true, and the experiment declares them Conditional.
func TestSpawnMetricsKeys(t *testing.T) {
	t.Parallel()
	s := spread(20, 1, 2, 3)
	bare := spawnMetrics(spawnMeasured{n: 20, goroutine: s, thread: s, process: s})
	full := spawnMetrics(spawnMeasured{n: 20, goroutine: s, thread: s, process: s, binTrue: &s})
	checkMetricKeys(t, spawnCost(), bare, full)
	for _, key := range []string{"spawn.goroutine", "spawn.thread", "spawn.process"} {
		if _, ok := lab.FindMetric(bare, key); !ok {
			t.Errorf("no metric %s", key)
		}
	}
}
