package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

func TestJudgeTaskProfile(t *testing.T) {
	t.Parallel()
	// Eight requests that each wait 2 × 30 ms and compute 2 × 5 ms.
	base := profileMeasured{requests: 8, waitWall: 0.48, total: 0.56, requestP50: 70, waitP50: [2]float64{30, 30}, computeP50: [2]float64{5, 5},
		waitCPU: 2 * time.Millisecond, computeWall: 80 * time.Millisecond, computeCPU: 79 * time.Millisecond, wait: 30 * time.Millisecond, compute: 5 * time.Millisecond,
		shares: []float64{0.85, 0.86, 0.86, 0.86, 0.86, 0.86, 0.87, 0.87}, cpuShares: []float64{0.003, 0.004, 0.004, 0.004, 0.005, 0.004, 0.004, 0.004}}
	tests := []struct {
		name  string
		m     func(m profileMeasured) profileMeasured
		claim int // 0: mostly waiting, 1: the wait is free
		want  string
	}{
		{"mostly waiting holds", nil, 0, lab.Holds},
		{"mostly waiting differs: computes longer than it waits", func(m profileMeasured) profileMeasured {
			m.waitWall, m.total, m.computeP50, m.shares = 0.05, 0.5, [2]float64{28, 28}, []float64{0.1, 0.1, 0.11, 0.09}
			return m
		}, 0, lab.Differs},
		{"mostly waiting holds: exactly half, every request", func(m profileMeasured) profileMeasured {
			m.waitWall, m.total, m.shares = 0.25, 0.5, []float64{0.5, 0.5, 0.5}
			return m
		}, 0, lab.Holds},
		{"mostly waiting inconclusive: requests on both sides of half", func(m profileMeasured) profileMeasured {
			m.waitWall, m.total, m.shares = 0.25, 0.5, []float64{0.4, 0.45, 0.5, 0.55, 0.6}
			return m
		}, 0, lab.Inconclusive},
		{"mostly waiting inconclusive: a busy machine", func(m profileMeasured) profileMeasured {
			m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			return m
		}, 0, lab.Inconclusive},
		{"mostly waiting inconclusive: no request", func(m profileMeasured) profileMeasured {
			return profileMeasured{wait: m.wait}
		}, 0, lab.Inconclusive},

		{"wait is free holds", nil, 1, lab.Holds},
		{"wait is free differs: 6% of a CPU while waiting", func(m profileMeasured) profileMeasured {
			m.waitCPU, m.cpuShares = 29*time.Millisecond, []float64{0.06, 0.06, 0.06}
			return m
		}, 1, lab.Differs},
		{"wait is free inconclusive: requests on both sides of 5%", func(m profileMeasured) profileMeasured {
			m.cpuShares = []float64{0.01, 0.03, 0.05, 0.07, 0.09}
			return m
		}, 1, lab.Inconclusive},
		{"wait is free holds on a busy machine: CPU time is the thread's own", func(m profileMeasured) profileMeasured {
			m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			return m
		}, 1, lab.Holds},
		{"wait is free inconclusive: no wait measured", func(m profileMeasured) profileMeasured {
			m.waitWall = 0
			return m
		}, 1, lab.Inconclusive},
		{"wait is free inconclusive: the thread CPU clock reads nothing", func(m profileMeasured) profileMeasured {
			m.waitCPU, m.computeCPU = 0, 0
			return m
		}, 1, lab.Inconclusive},
	}
	declared := []lab.Claim{claimMostlyWaiting, claimWaitIsFree}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := base
			if tt.m != nil {
				m = tt.m(m)
			}
			got := judgeTaskProfile(m)
			if len(got) != len(declared) {
				t.Fatalf("%d claims, want %d", len(got), len(declared))
			}
			checkVerdict(t, got[tt.claim], declared[tt.claim], tt.want)
		})
	}
}

// TestTaskProfileOnEveryMachine: one request at a time, on one thread,
// waiting on a local socket: the claims do not depend on the CPUs, and a
// machine's speed only moves the compute phases, which the calibration
// sizes to the same milliseconds everywhere.
func TestTaskProfileOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		m := profileMeasured{requests: 8, waitWall: 0.48, total: 0.56, requestP50: 70, waitP50: [2]float64{30, 30}, computeP50: [2]float64{5, 5},
			waitCPU: 2 * time.Millisecond, computeWall: 80 * time.Millisecond, computeCPU: 79 * time.Millisecond, wait: 30 * time.Millisecond, compute: 5 * time.Millisecond,
			shares: []float64{0.85, 0.86, 0.86, 0.86, 0.86, 0.86, 0.87, 0.87}, cpuShares: []float64{0.003, 0.004, 0.004, 0.004, 0.005, 0.004, 0.004, 0.004}}
		if mc.VM {
			m.cpuShares = []float64{0.008, 0.009, 0.01, 0.01, 0.011, 0.01, 0.012, 0.01} // waking through the hypervisor costs more
		}
		for _, c := range judgeTaskProfile(m) {
			if c.Verdict != lab.Holds {
				t.Errorf("%s: %q: %s (%s)", mc.Name, c.Claim, c.Verdict, c.Why)
			}
		}
	}
}
