package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

// flat is a curve that gains nothing from workers.
var flat = curveFigures{speedup: map[int]float64{1: 1, 2: 1, 4: 1, 8: 1, 16: 1}, busyAt: map[int]float64{1: 1, 2: 1, 4: 1, 8: 1, 16: 1}}

// waiting is an I/O-bound curve that keeps gaining, far past two cores.
var waiting = curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 3.9, 8: 7.6, 16: 14}, busyAt: map[int]float64{1: 0.01, 2: 0.02, 4: 0.03, 8: 0.05, 16: 0.08}}

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
	base := scalingMeasured{ioAll: waiting, ioOne: waiting, cpuAll: computing, cpuOne: flat, most: 16, cores: 2, tasks: 16}
	tests := []struct {
		name  string
		m     func(m scalingMeasured) scalingMeasured
		claim int // 0: I/O scales, 1: CPU stops at the cores, 2: one CPU gains nothing
		want  string
	}{
		{"io holds: still rising far past the cores", nil, 0, lab.Holds},
		{"io differs: flat past the cores", func(m scalingMeasured) scalingMeasured {
			m.ioOne = curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 2.5, 8: 2.6, 16: 2.7}}
			return m
		}, 0, lab.Differs},
		{"io differs: under twice the cores", func(m scalingMeasured) scalingMeasured {
			m.ioAll = curveFigures{speedup: map[int]float64{1: 1, 2: 1.5, 16: 3.5}}
			return m
		}, 0, lab.Differs},
		{"io inconclusive: never more workers than cores", func(m scalingMeasured) scalingMeasured {
			m.most = 2
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
			m.cores = 1
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
		{"io inconclusive: rounds straddle the gain", func(m scalingMeasured) scalingMeasured {
			m.ioAll = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 2, 4: 3.9, 8: 5, 16: 4.5}}, 0.3)
			return m
		}, 0, lab.Inconclusive},

		{"one cpu holds: no gain", nil, 2, lab.Holds},
		{"one cpu holds: a gain within 15%", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = curveFigures{speedup: map[int]float64{1: 1, 2: 1.15}, busyAt: map[int]float64{16: 1}}
			return m
		}, 2, lab.Holds},
		{"one cpu differs: a gain on one CPU", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 1.2, 16: 1.6}, busyAt: map[int]float64{16: 1}}, 0.1)
			return m
		}, 2, lab.Differs},
		{"one cpu inconclusive: a gain under heavy noise", func(m scalingMeasured) scalingMeasured {
			m.cpuOne = noisyCurve(curveFigures{speedup: map[int]float64{1: 1, 2: 1.2, 16: 1.3}, busyAt: map[int]float64{16: 1}}, 0.3)
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
