package cpuvsiobound

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// flat is a curve that gains nothing from workers.
var flat = curveFigures{speedup: map[int]float64{1: 1, 2: 1, 4: 1, 8: 1, 16: 1}, busyAt: map[int]float64{1: 1, 2: 1, 4: 1, 8: 1, 16: 1}}

// waiting is an I/O-bound curve that keeps gaining, far past two cores.
var waiting = curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 3.9, 8: 7.6, 16: 14, 32: 26, 64: 41}, busyAt: map[int]float64{1: 0.01, 2: 0.02, 4: 0.03, 8: 0.05, 16: 0.08}}

// computing is a CPU-bound curve that stops at two cores.
var computing = curveFigures{speedup: map[int]float64{1: 1, 2: 1.9, 4: 1.95, 8: 1.9, 16: 1.92}, busyAt: map[int]float64{1: 1, 2: 1.95, 4: 2, 8: 2, 16: 2}}

// noisyCurve gives every point of c three rounds, ±noise around its
// speedup.
func noisyCurve(c curveFigures, noise float64) curveFigures {
	c.rounds = map[int][]float64{}
	for w, s := range c.speedup {
		c.rounds[w] = []float64{s * (1 - noise), s, s * (1 + noise)}
	}
	return c
}

func TestJudgeScaling(t *testing.T) {
	t.Parallel()
	base := scalingMeasured{ioAll: waiting, ioOne: waiting, cpuAll: computing, cpuOne: flat, most: 64, cpus: 2, cores: 2, tasks: 64}
	tests := []struct {
		name  string
		m     func(m scalingMeasured) scalingMeasured
		claim int // 0: I/O scales, 1: CPU stops at the cores, 2: one CPU gains nothing
		want  string
	}{
		{"io holds: still rising far past the cores", nil, 0, lab.Holds},
		{"io differs: flat past the cores", func(m scalingMeasured) scalingMeasured {
			m.ioOne = curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 2.5, 8: 2.6, 16: 2.7, 64: 2.7}}
			return m
		}, 0, lab.Differs},
		{"io differs: rising, but under five times the CPUs", func(m scalingMeasured) scalingMeasured {
			m.ioAll = curveFigures{speedup: map[int]float64{1: 1, 2: 1.5, 64: 8}}
			return m
		}, 0, lab.Differs},
		{"io holds: exactly five times the CPUs", func(m scalingMeasured) scalingMeasured {
			m.ioAll = curveFigures{speedup: map[int]float64{1: 1, 2: 2, 64: 10}}
			return m
		}, 0, lab.Holds},
		{"io inconclusive: never more workers than cores", func(m scalingMeasured) scalingMeasured {
			m.most = 2
			return m
		}, 0, lab.Inconclusive},
		{"io inconclusive: workers far past the cores, but too few tasks", func(m scalingMeasured) scalingMeasured {
			m.tasks = 16
			return m
		}, 0, lab.Inconclusive},

		{"cpu holds: stops at the cores", nil, 1, lab.Holds},
		{"cpu differs: levelled off below the cores", func(m scalingMeasured) scalingMeasured {
			m.cpuAll = curveFigures{speedup: map[int]float64{1: 1, 2: 1.1, 4: 1.1, 8: 1.1, 16: 1.1}, busyAt: map[int]float64{2: 1.1, 16: 1.1}}
			return m
		}, 1, lab.Differs},
		{"cpu differs: kept rising past the cores", func(m scalingMeasured) scalingMeasured {
			m.cpuAll = curveFigures{speedup: map[int]float64{1: 1, 2: 1.5, 4: 2.4, 8: 2.45, 16: 2.45}, busyAt: map[int]float64{2: 1.5, 16: 2}}
			return m
		}, 1, lab.Differs},
		{"cpu inconclusive: one usable CPU", func(m scalingMeasured) scalingMeasured {
			m.cores, m.cpus = 1, 1
			return m
		}, 1, lab.Inconclusive},
		{"cpu inconclusive: never more workers than cores", func(m scalingMeasured) scalingMeasured {
			m.most = 2
			return m
		}, 1, lab.Inconclusive},
		{"cpu inconclusive: rounds straddle the core count", func(m scalingMeasured) scalingMeasured {
			m.cpuAll = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 1.4, 16: 1.4}, busyAt: map[int]float64{2: 1.4, 16: 1.4}}, 0.4)
			return m
		}, 1, lab.Inconclusive},
		{"cpu holds with a little noise", func(m scalingMeasured) scalingMeasured {
			m.cpuAll = noisyCurve(computing, 0.05)
			return m
		}, 1, lab.Holds},
		{"cpu inconclusive on a busy machine", func(m scalingMeasured) scalingMeasured {
			m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			return m
		}, 1, lab.Inconclusive},
		{"io inconclusive: rounds straddle five times the CPUs", func(m scalingMeasured) scalingMeasured {
			m.ioAll = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 3.9, 8: 5, 64: 10}}, 0.3)
			return m
		}, 0, lab.Inconclusive},

		{"one cpu holds: no gain", nil, 2, lab.Holds},
		{"one cpu holds: a gain within the rule's quarter", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = curveFigures{speedup: map[int]float64{1: 1, 2: 1.25}, busyAt: map[int]float64{16: 1}}
			return m
		}, 2, lab.Holds},
		{"one cpu differs: a gain on one CPU", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 1.2, 16: 1.6}, busyAt: map[int]float64{16: 1}}, 0.1)
			return m
		}, 2, lab.Differs},
		{"one cpu inconclusive: a gain under heavy noise", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 1.2, 16: 1.35}, busyAt: map[int]float64{16: 1}}, 0.3)
			return m
		}, 2, lab.Inconclusive},
	}
	declared := []lab.Claim{claimIOScales, claimCPUStops, claimOneCPU}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := base
			if tt.m != nil {
				m = tt.m(m)
			}
			got := judgeScaling(m)
			if len(got) != len(declared) {
				t.Fatalf("%d claims, want %d", len(got), len(declared))
			}
			checkVerdict(t, got[tt.claim], declared[tt.claim], tt.want)
		})
	}
}

// curvesOn are the four curves a quiet machine of this shape gives with
// the default settings: 16 workers and tasks per CPU (at least 64); I/O
// gains about 0.9 per worker, computing about 0.97 per core and smt more
// for each of the cores' second hyper-threads.
func curvesOn(mc labtest.Machine, smt float64) scalingMeasured {
	most := max(64, 16*mc.CPUs)
	io, cpu, one := curveFigures{speedup: map[int]float64{}}, curveFigures{speedup: map[int]float64{}, busyAt: map[int]float64{}}, curveFigures{speedup: map[int]float64{}, busyAt: map[int]float64{}}
	for _, w := range workerCounts(most, mc.CPUs, mc.Cores) {
		io.speedup[w] = max(1, 0.9*float64(w))
		s := 0.97 * float64(min(w, mc.Cores))
		if w > mc.Cores {
			s += smt * 0.97 * float64(min(w, mc.CPUs)-mc.Cores)
		}
		cpu.speedup[w], cpu.busyAt[w] = max(1, s), float64(min(w, mc.CPUs))
		one.speedup[w], one.busyAt[w] = 1, 1
	}
	return scalingMeasured{ioAll: io, ioOne: io, cpuAll: cpu, cpuOne: one, most: most, cpus: mc.CPUs, cores: mc.Cores, tasks: most}
}

// TestScalingOnEveryMachine: the defaults give every claim its verdict on
// each machine shape. "Far past the cores" is five times the CPUs on a
// 64-CPU server too (it was twice the cores, with at most 64 workers, so
// such a server could only say inconclusive). Hyper-threads that add a
// fifth to each core still leave the computing curve about flat past the
// cores; where they add a third it rises, and the verdict says why.
func TestScalingOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		t.Run(mc.Name, func(t *testing.T) {
			t.Parallel()
			got := judgeScaling(curvesOn(mc, 0.2))
			want := []string{lab.Holds, lab.Holds, lab.Holds}
			if mc.CPUs < 2 {
				want[1] = lab.Inconclusive
			}
			for i, c := range got {
				if c.Verdict != want[i] {
					t.Errorf("%q: %s (%s; measured %s), want %s", c.Claim, c.Verdict, c.Why, c.Measured, want[i])
				}
			}
			if mc.SMT() {
				c := judgeScaling(curvesOn(mc, 0.35))[1]
				if c.Verdict != lab.Differs || !strings.Contains(c.Why, "hyper-threads") {
					t.Errorf("hyper-threads adding a third: %s (%q), want differs, saying why", c.Verdict, c.Why)
				}
			}
			p := scaling().Params
			if w, n := p[0].On(mc.CPUs).Default.(int), p[1].On(mc.CPUs).Default.(int); w < 10*mc.CPUs || n < 10*mc.CPUs {
				t.Errorf("defaults of %d workers and %d tasks are not far past %d CPUs", w, n, mc.CPUs)
			}
		})
	}
}
