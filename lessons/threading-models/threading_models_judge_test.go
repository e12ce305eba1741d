package threadingmodels

import (
	"testing"

	"conclab/internal/lab"
)

// holdingModels is a quiet two-CPU machine on which every model claim
// holds: 1:1 on six threads at once, N:1 on one and stalled, M:N on two.
func holdingModels() modelsMeasured {
	read := interval{300, 900}
	return modelsMeasured{
		one:    modelResult{key: "1to1", name: "1:1", tasks: 7, tids: []int{1, 2, 3, 4, 5, 6, 7}, busy: 1.9, atOnce: 6, read: read, ahead: 3000, work: 5000, pace: 110},
		n1:     modelResult{key: "nto1", name: "N:1", tasks: 7, tids: []int{9}, busy: 1.0, atOnce: 1, read: read, ahead: 2500, work: 0, pace: 0, still: 600},
		mn:     modelResult{key: "mton", name: "M:N", tasks: 7, tids: []int{10, 11, 12}, busy: 1.95, atOnce: 2, read: read, ahead: 3000, work: 4000, pace: 90},
		usable: 2, gomaxprocs: 2,
	}
}

func TestJudgeModels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim int // index in judgeModels' claims
		edit  func(m *modelsMeasured)
		want  string
	}{
		{"one CPU: holds", 0, func(*modelsMeasured) {}, lab.Holds},
		{"one CPU: N:1 on two threads", 0, func(m *modelsMeasured) { m.n1.tids = []int{9, 10} }, lab.Differs},
		{"one CPU: one usable CPU", 0, func(m *modelsMeasured) { m.usable = 1 }, lab.Inconclusive},
		{"one CPU: N:1 process busier than one CPU", 0, func(m *modelsMeasured) { m.n1.busy = 1.31 }, lab.Inconclusive},
		{"one CPU: at the edge, N:1 at 1.3 CPUs", 0, func(m *modelsMeasured) { m.n1.busy = 1.3 }, lab.Holds},
		{"one CPU: busy machine, nobody above 1.3", 0, func(m *modelsMeasured) { m.one.busy, m.mn.busy = 1.2, 1.29 }, lab.Inconclusive},

		{"stall: holds", 1, func(*modelsMeasured) {}, lab.Holds},
		{"stall: exactly 90% still", 1, func(m *modelsMeasured) { m.n1.still = 540 }, lab.Holds},
		{"stall: others did work", 1, func(m *modelsMeasured) { m.n1.work = 3 }, lab.Differs},
		{"stall: still for too little of the read", 1, func(m *modelsMeasured) { m.n1.still = 539 }, lab.Differs},
		{"stall: others never ran before the read", 1, func(m *modelsMeasured) { m.n1.ahead = 0 }, lab.Inconclusive},

		{"keep going: holds", 2, func(*modelsMeasured) {}, lab.Holds},
		{"keep going: at the edge, 50%", 2, func(m *modelsMeasured) { m.mn.pace = 50 }, lab.Holds},
		{"keep going: slowed by a busy machine", 2, func(m *modelsMeasured) { m.one.pace = 49 }, lab.Inconclusive},
		{"keep going: M:N stood still", 2, func(m *modelsMeasured) { m.mn.pace, m.mn.work = 0, 0 }, lab.Differs},
		{"keep going: 1:1 stood still", 2, func(m *modelsMeasured) { m.one.pace, m.one.work = 0, 0 }, lab.Differs},
		{"keep going: no pace before the read", 2, func(m *modelsMeasured) { m.one.ahead, m.one.pace = 0, 0 }, lab.Inconclusive},

		{"fewer: holds", 3, func(*modelsMeasured) {}, lab.Holds},
		{"fewer: exactly half", 3, func(m *modelsMeasured) { m.mn.atOnce = 3 }, lab.Holds},
		{"fewer: fewer, but not half", 3, func(m *modelsMeasured) { m.mn.atOnce = 4 }, lab.Inconclusive},
		{"fewer: as many", 3, func(m *modelsMeasured) { m.mn.atOnce = 6 }, lab.Differs},
		{"fewer: no thread samples", 3, func(m *modelsMeasured) { m.mn.atOnce = 0 }, lab.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := holdingModels()
			tt.edit(&m)
			claims := judgeModels(m)
			if len(claims) != 4 {
				t.Fatalf("got %d claims, want 4", len(claims))
			}
			c := claims[tt.claim]
			if c.Verdict != tt.want {
				t.Errorf("%q: got %s (%s), want %s", c.Claim, c.Verdict, c.Why, tt.want)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%q is %s without a why", c.Claim, c.Verdict)
			}
		})
	}
}

func TestJudgeSwitch(t *testing.T) {
	t.Parallel()
	sum := func(p50 float64, n int) lab.Summary { return lab.Summary{N: n, P25: p50, P50: p50, P75: p50} }
	tests := []struct {
		name       string
		co, gr, th lab.Summary
		want       string
	}{
		{"far cheaper", sum(0.04, 30), sum(0.15, 30), sum(2.5, 30), lab.Holds},
		{"exactly ten times", sum(0.25, 30), sum(0.3, 30), sum(2.5, 30), lab.Holds},
		{"not ten times", sum(0.3, 30), sum(0.3, 30), sum(2.5, 30), lab.Differs},
		{"no coroutine batches", lab.Summary{}, sum(0.15, 30), sum(2.5, 30), lab.Inconclusive},
		{"no thread batches", sum(0.04, 30), sum(0.15, 30), lab.Summary{}, lab.Inconclusive},
		{"coroutines too quick for the clock", sum(0, 30), sum(0.15, 30), sum(2.5, 30), lab.Inconclusive},
		{"ten times within the noise", lab.Summary{N: 30, P25: 0.2, P50: 0.25, P75: 0.3}, sum(0.3, 30), lab.Summary{N: 30, P25: 2, P50: 2.5, P75: 3}, lab.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := judgeSwitch(switchMeasured{co: tt.co, gr: tt.gr, th: tt.th})
			if c.Verdict != tt.want {
				t.Errorf("got %s (%s), want %s", c.Verdict, c.Why, tt.want)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%s without a why", c.Verdict)
			}
		})
	}
}

// readings are a phase's per-sample thread counts: n readings of total
// threads and running threads, the peaks kept as the experiment does.
func readings(n int, total, running float64, spikes ...[2]float64) peaks {
	p := peaks{samples: n}
	for i := range n {
		t, r := total, running
		if i < len(spikes) {
			t, r = spikes[i][0], spikes[i][1]
		}
		p.totals, p.runnings = append(p.totals, t), append(p.runnings, r)
		p.total, p.running = max(p.total, int(t)), max(p.running, int(r))
	}
	return p
}

// holdingBlocking is a four-CPU run in which both claims hold.
func holdingBlocking() blockingMeasured {
	return blockingMeasured{
		gomaxprocs: 4, before: 6, computing: 64, blocking: 64,
		compute: readings(76, 7, 5),
		block:   readings(76, 71, 2),
		after:   readings(26, 71, 1),
	}
}

func TestJudgeBlocking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim int
		edit  func(m *blockingMeasured)
		want  string
	}{
		{"compute: holds", 0, func(*blockingMeasured) {}, lab.Holds},
		{"compute: four threads more, GOMAXPROCS+1 running", 0, func(m *blockingMeasured) { m.compute = readings(76, 10, 5) }, lab.Holds},
		{"compute: one reading caught the helpers", 0, func(m *blockingMeasured) { m.compute = readings(76, 7, 5, [2]float64{12, 8}) }, lab.Holds},
		{"compute: runtime helpers", 0, func(m *blockingMeasured) { m.compute = readings(76, 12, 5) }, lab.Differs},
		{"compute: too many running", 0, func(m *blockingMeasured) { m.compute = readings(76, 7, 6) }, lab.Differs},
		{"compute: a thread per goroutine", 0, func(m *blockingMeasured) { m.compute = readings(76, 60, 5) }, lab.Differs},
		{"compute: readings on both sides of a handful", 0, func(m *blockingMeasured) {
			m.compute = readings(4, 9, 5, [2]float64{9, 5}, [2]float64{12, 5}, [2]float64{12, 5}, [2]float64{12, 5})
			m.compute.totals[1] = 9
		}, lab.Inconclusive},
		{"compute: too few readings", 0, func(m *blockingMeasured) { m.compute.samples = 2 }, lab.Inconclusive},

		{"block: holds", 1, func(*blockingMeasured) {}, lab.Holds},
		{"block: exactly 0.8 per goroutine", 1, func(m *blockingMeasured) { m.blocking, m.block.total = 10, 15 }, lab.Holds},
		{"block: grew, but slowly", 1, func(m *blockingMeasured) { m.block.total = 7 + 20 }, lab.Inconclusive},
		{"block: hardly grew", 1, func(m *blockingMeasured) { m.block.total = 9 }, lab.Differs},
		{"block: too few readings", 1, func(m *blockingMeasured) { m.block.samples = 1 }, lab.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := holdingBlocking()
			tt.edit(&m)
			claims := judgeBlocking(m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
			}
			c := claims[tt.claim]
			if c.Verdict != tt.want {
				t.Errorf("%q: got %s (%s), want %s", c.Claim, c.Verdict, c.Why, tt.want)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%q is %s without a why", c.Claim, c.Verdict)
			}
		})
	}
}

// Every figure has a valid key of its own, and the diagrams' script finds
// each model's by the model's key.
func TestModelKeys(t *testing.T) {
	t.Parallel()
	m := holdingModels()
	var models []lab.Metric
	for _, r := range []modelResult{m.one, m.n1, m.mn} {
		ms := r.metrics()
		models = append(models, ms...)
		for _, k := range []string{"kernel_threads.at_once.", "cpus_busy.peak."} {
			if _, ok := lab.FindMetric(ms, k+r.key); !ok {
				t.Errorf("%s: no metric %s%s", r.name, k, r.key)
			}
		}
	}
	for _, ms := range [][]lab.Metric{models, blockingMetrics(holdingBlocking())} {
		seen := map[string]bool{}
		for _, m := range ms {
			if !lab.ValidKey(m.Key) || seen[m.Key] {
				t.Errorf("%q: key %q is malformed or not its own", m.Name, m.Key)
			}
			seen[m.Key] = true
		}
	}
}
