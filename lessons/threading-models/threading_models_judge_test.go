package threadingmodels

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// holdingModels is a quiet two-CPU machine on which every model claim
// holds: 32 tasks and the reader, 1:1 on 33 threads at once, N:1 on one
// and stalled, M:N on three (GOMAXPROCS and the reader in read()).
func holdingModels() modelsMeasured {
	read := interval{300, 900}
	tids := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = 100 + i
		}
		return out
	}
	return modelsMeasured{
		one:    modelResult{key: "1to1", name: "1:1", tasks: 33, tids: tids(33), busy: 1.96, atOnce: 33, read: read, ahead: 3000, work: 5000, pace: 110},
		n1:     modelResult{key: "nto1", name: "N:1", tasks: 33, tids: []int{9}, busy: 1.0, atOnce: 1, read: read, ahead: 2500, work: 0, pace: 0, still: 600},
		mn:     modelResult{key: "mton", name: "M:N", tasks: 33, tids: []int{10, 11, 12}, busy: 1.95, atOnce: 3, read: read, ahead: 3000, work: 4000, pace: 104},
		usable: 2, gomaxprocs: 2,
	}
}

// busy is a machine on which other programs held half the CPUs.
var busy = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}

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
		{"one CPU: one usable CPU, N:1 on two threads", 0, func(m *modelsMeasured) { m.usable, m.n1.tids = 1, []int{9, 10} }, lab.Differs},
		{"one CPU: N:1's process busier than about one CPU", 0, func(m *modelsMeasured) { m.n1.busy = 1.26 }, lab.Differs},
		{"one CPU: at the edge, N:1 at 1.25 CPUs", 0, func(m *modelsMeasured) { m.n1.busy = 1.25 }, lab.Holds},
		{"one CPU: M:N kept only one of two CPUs busy", 0, func(m *modelsMeasured) { m.mn.busy = 1.2 }, lab.Differs},
		{"one CPU: at the edge, 1:1 at 1.6 of 2", 0, func(m *modelsMeasured) { m.one.busy = 1.6 }, lab.Holds},
		{"one CPU: busy machine", 0, func(m *modelsMeasured) { m.one.busy, m.mn.busy, m.load = 1.2, 1.29, busy }, lab.Inconclusive},

		{"stall: holds", 1, func(*modelsMeasured) {}, lab.Holds},
		{"stall: others did one chunk", 1, func(m *modelsMeasured) { m.n1.work = 1 }, lab.Differs},
		{"stall: busy machine changes nothing", 1, func(m *modelsMeasured) { m.load = busy }, lab.Holds},
		{"stall: others never ran before the read", 1, func(m *modelsMeasured) { m.n1.ahead = 0 }, lab.Inconclusive},

		{"keep going: holds", 2, func(*modelsMeasured) {}, lab.Holds},
		{"keep going: at the edge, 50%", 2, func(m *modelsMeasured) { m.mn.pace = 50 }, lab.Holds},
		{"keep going: slowed on a quiet machine", 2, func(m *modelsMeasured) { m.one.pace = 49 }, lab.Differs},
		{"keep going: slowed by a busy machine", 2, func(m *modelsMeasured) { m.one.pace, m.load = 49, busy }, lab.Inconclusive},
		{"keep going: M:N stood still", 2, func(m *modelsMeasured) { m.mn.pace, m.mn.work = 0, 0 }, lab.Differs},
		{"keep going: 1:1 stood still", 2, func(m *modelsMeasured) { m.one.pace, m.one.work = 0, 0 }, lab.Differs},
		{"keep going: no pace before the read", 2, func(m *modelsMeasured) { m.one.ahead, m.one.pace = 0, 0 }, lab.Inconclusive},

		{"fewer: holds", 3, func(*modelsMeasured) {}, lab.Holds},
		{"fewer: exactly a fifth", 3, func(m *modelsMeasured) { m.one.atOnce = 15 }, lab.Holds},
		{"fewer: fewer, but not a fifth", 3, func(m *modelsMeasured) { m.one.atOnce = 14 }, lab.Differs},
		{"fewer: as many", 3, func(m *modelsMeasured) { m.mn.atOnce = 33 }, lab.Differs},
		{"fewer: a busy machine changes no count", 3, func(m *modelsMeasured) { m.load = busy }, lab.Holds},
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

// modelsOn is what a quiet machine of this shape measures with the
// default settings (tasksPerCPU tasks per CPU), or with tasks set.
func modelsOn(mc labtest.Machine, tasks int) modelsMeasured {
	if tasks == 0 {
		tasks = tasksPerCPU * mc.CPUs
	}
	m := holdingModels()
	n := tasks + 1
	ids := make([]int, n)
	for i := range ids {
		ids[i] = 1000 + i
	}
	full := 0.97 * float64(min(mc.CPUs, n))
	m.usable, m.gomaxprocs = mc.CPUs, mc.GOMAXPROCS
	m.one.tasks, m.n1.tasks, m.mn.tasks = n, n, n
	m.one.tids, m.one.atOnce, m.one.busy = ids, float64(n), full
	m.mn.atOnce, m.mn.busy = float64(min(n, mc.GOMAXPROCS+1)), full
	m.n1.busy = 1.02
	return m
}

// TestModelsOnEveryMachine: with the default settings every claim comes
// out as its words call for on each machine shape; the one that needs two
// CPUs says inconclusive on one, and why. Before the tasks scaled with the
// CPUs, six tasks on sixteen cores could never show "far fewer" threads.
func TestModelsOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		t.Run(mc.Name, func(t *testing.T) {
			t.Parallel()
			claims := judgeModels(modelsOn(mc, 0))
			want := []string{lab.Holds, lab.Holds, lab.Holds, lab.Holds}
			if mc.CPUs < 2 {
				want[0] = lab.Inconclusive
			}
			for i, c := range claims {
				if c.Verdict != want[i] {
					t.Errorf("%q: got %s (%s), want %s", c.Claim, c.Verdict, c.Why, want[i])
				}
			}
			if mc.CPUs < 2 && !strings.Contains(claims[0].Why, "one CPU") {
				t.Errorf("on one CPU the why does not say so: %q", claims[0].Why)
			}
			if mc.CPUs >= 4 {
				old := judgeModels(modelsOn(mc, 6))[3]
				if old.Verdict != lab.Differs || !strings.Contains(old.Why, "more tasks") {
					t.Errorf("six tasks on %d CPUs: %s (%s), want differs, asking for more tasks", mc.CPUs, old.Verdict, old.Why)
				}
			}
		})
	}
	// The parameter lets every one of those machines run its default.
	for _, mc := range labtest.Machines {
		p := threadingModels().Params[0].On(mc.CPUs)
		if p.Default.(int) != tasksPerCPU*mc.CPUs || p.Max < float64(tasksPerCPU*mc.CPUs) {
			t.Errorf("%s: tasks default %v, max %v; want %d within the range", mc.Name, p.Default, p.Max, tasksPerCPU*mc.CPUs)
		}
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
		{"exactly five times", sum(0.5, 30), sum(0.6, 30), sum(2.5, 30), lab.Holds},
		{"not five times", sum(0.6, 30), sum(0.6, 30), sum(2.5, 30), lab.Differs},
		{"no coroutine batches", lab.Summary{}, sum(0.15, 30), sum(2.5, 30), lab.Inconclusive},
		{"no thread batches", sum(0.04, 30), sum(0.15, 30), lab.Summary{}, lab.Inconclusive},
		{"coroutines too quick for the clock", sum(0, 30), sum(0.15, 30), sum(2.5, 30), lab.Inconclusive},
		{"five times within the noise", lab.Summary{N: 30, P25: 0.4, P50: 0.5, P75: 0.6}, sum(0.6, 30), lab.Summary{N: 30, P25: 2, P50: 2.5, P75: 3}, lab.Inconclusive},
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
		{"block: grew, but slowly", 1, func(m *blockingMeasured) { m.block.total = 7 + 20 }, lab.Differs},
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

// TestBlockingOnEveryMachine: with the default settings (32 computing
// goroutines per CPU) both claims hold on every machine shape. Before,
// "a handful of threads added" could not hold on a 64-CPU server, where
// computing needs one thread per P and the process starts with a few.
func TestBlockingOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		g := float64(mc.GOMAXPROCS)
		m := blockingMeasured{
			gomaxprocs: mc.GOMAXPROCS, before: 5, computing: 32 * mc.CPUs, blocking: 64,
			compute: readings(76, 5+g, g), block: readings(76, 5+g+64, 2), after: readings(26, 5+g+64, 1),
		}
		for _, c := range judgeBlocking(m) {
			if c.Verdict != lab.Holds {
				t.Errorf("%s: %q: %s (%s), want holds", mc.Name, c.Claim, c.Verdict, c.Why)
			}
		}
		m.compute = readings(76, 5+float64(m.computing), g) // a thread per goroutine
		if c := judgeBlocking(m)[0]; c.Verdict != lab.Differs {
			t.Errorf("%s: a thread per computing goroutine: %s, want differs", mc.Name, c.Verdict)
		}
		if p := blockingCall().Params[0].On(mc.CPUs); p.Default.(int) < 16*mc.GOMAXPROCS {
			t.Errorf("%s: %v computing goroutines by default, not many more than GOMAXPROCS %d", mc.Name, p.Default, mc.GOMAXPROCS)
		}
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
