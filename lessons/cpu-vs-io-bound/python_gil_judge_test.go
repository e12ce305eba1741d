package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

// times is a variant whose rounds took best to slowest ms, its workers
// keeping busy CPUs busy in the best one.
func times(best, slowest, busy float64) variantTimes {
	d := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	return variantTimes{best: d(best), slowest: d(slowest), cpu: d(best * busy)}
}

func TestJudgeGIL(t *testing.T) {
	t.Parallel()
	// Two CPUs, two workers: threads take as long as one, processes half.
	base := gilMeasured{t1: times(300, 310, 1), tn: times(310, 320, 1), p1: times(300, 310, 1), pn: times(155, 160, 1.95), n: 2, cores: 2}
	tests := []struct {
		name  string
		m     func(m gilMeasured) gilMeasured
		claim int // 0: threads do not help, 1: processes do
		want  string
	}{
		{"threads holds: no gain", nil, 0, lab.Holds},
		{"threads differs: faster and in parallel", func(m gilMeasured) gilMeasured {
			m.tn = times(160, 165, 1.9)
			return m
		}, 0, lab.Differs},
		{"threads inconclusive: faster but never in parallel", func(m gilMeasured) gilMeasured {
			m.tn = times(200, 210, 1.05)
			return m
		}, 0, lab.Inconclusive},
		{"threads inconclusive: one usable CPU", func(m gilMeasured) gilMeasured {
			m.cores = 1
			return m
		}, 0, lab.Inconclusive},

		{"processes holds: close to N times faster", nil, 1, lab.Holds},
		{"processes differs: little gain on a quiet machine", func(m gilMeasured) gilMeasured {
			m.pn = times(270, 280, 1.1)
			return m
		}, 1, lab.Differs},
		{"processes differs: no better than threads", func(m gilMeasured) gilMeasured {
			m.tn = times(200, 210, 1.05)
			m.pn = times(190, 200, 1.6)
			return m
		}, 1, lab.Differs},
		{"processes inconclusive: rounds disagreed", func(m gilMeasured) gilMeasured {
			m.pn = times(270, 400, 1.1)
			return m
		}, 1, lab.Inconclusive},
		{"processes inconclusive: one usable CPU", func(m gilMeasured) gilMeasured {
			m.cores = 1
			return m
		}, 1, lab.Inconclusive},
	}
	declared := []lab.Claim{claimThreadsNoHelp, claimProcsHelp}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := base
			if tt.m != nil {
				m = tt.m(m)
			}
			got := judgeGIL(m)
			if len(got) != len(declared) {
				t.Fatalf("%d claims, want %d", len(got), len(declared))
			}
			checkVerdict(t, got[tt.claim], declared[tt.claim], tt.want)
		})
	}
}

// Without a Python to measure both claims are inconclusive, and say why.
func TestJudgeNoPython(t *testing.T) {
	t.Parallel()
	const why = "python3 is not installed on this server (it is not on the PATH), so nothing was measured."
	got := judgeNoPython(why)
	for i, c := range []lab.Claim{claimThreadsNoHelp, claimProcsHelp} {
		checkVerdict(t, got[i], c, lab.Inconclusive)
		if got[i].Why != why {
			t.Errorf("claim %d: why %q, want %q", i, got[i].Why, why)
		}
	}
}
