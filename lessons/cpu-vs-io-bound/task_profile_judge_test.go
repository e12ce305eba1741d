package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

func TestJudgeTaskProfile(t *testing.T) {
	t.Parallel()
	// Eight requests that each wait 2 × 30 ms and compute 2 × 5 ms.
	base := profileMeasured{requests: 8, waitWall: 0.48, total: 0.56, requestP50: 70, waitP50: [2]float64{30, 30}, computeP50: [2]float64{5, 5},
		waitCPU: 2 * time.Millisecond, computeWall: 80 * time.Millisecond, computeCPU: 79 * time.Millisecond, wait: 30 * time.Millisecond}
	tests := []struct {
		name  string
		m     func(m profileMeasured) profileMeasured
		claim int // 0: mostly waiting, 1: the wait is free
		want  string
	}{
		{"mostly waiting holds", nil, 0, lab.Holds},
		{"mostly waiting differs: computes longer than it waits", func(m profileMeasured) profileMeasured {
			m.waitWall, m.total, m.computeP50 = 0.05, 0.5, [2]float64{28, 28}
			return m
		}, 0, lab.Differs},
		{"mostly waiting differs: exactly half", func(m profileMeasured) profileMeasured {
			m.waitWall, m.total = 0.25, 0.5
			return m
		}, 0, lab.Differs},
		{"mostly waiting inconclusive: no request", func(m profileMeasured) profileMeasured {
			return profileMeasured{wait: m.wait}
		}, 0, lab.Inconclusive},

		{"wait is free holds", nil, 1, lab.Holds},
		{"wait is free differs: 5% of a CPU while waiting", func(m profileMeasured) profileMeasured {
			m.waitCPU = 24 * time.Millisecond
			return m
		}, 1, lab.Differs},
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
