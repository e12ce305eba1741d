package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// times is a variant whose two rounds took best and slowest ms, its
// workers keeping busy CPUs busy in the best one.
func times(best, slowest, busy float64) variantTimes {
	d := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	return variantTimes{best: d(best), slowest: d(slowest), cpu: d(best * busy), walls: []time.Duration{d(best), d(slowest)}}
}

func TestJudgeGIL(t *testing.T) {
	t.Parallel()
	// Two CPUs, two workers: threads take as long as one, processes half.
	base := gilMeasured{t1: times(300, 310, 1), tn: times(310, 320, 1), p1: times(300, 310, 1), pn: times(155, 160, 1.95), n: 2, cores: 2, measured: true,
		ftWhy: "No free-threaded CPython is installed on this server."}
	freeThreaded := &ftMeasured{t1: times(400, 410, 1), tn: times(210, 215, 1.9), version: "3.14.0", exe: "/usr/bin/python3.14t"}
	tests := []struct {
		name  string
		m     func(m gilMeasured) gilMeasured
		claim int // 0: threads do not help, 1: processes do, 2: in any build
		want  string
	}{
		{"threads holds: no gain", nil, 0, lab.Holds},
		{"threads differs: faster and in parallel", func(m gilMeasured) gilMeasured {
			m.tn = times(160, 165, 1.9)
			return m
		}, 0, lab.Differs},
		// Through the rule, not rewritten: a gain is a gain; the why says
		// the threads never ran at once, so the one-thread rounds were slow.
		{"threads differs: faster but never in parallel", func(m gilMeasured) gilMeasured {
			m.tn = times(200, 210, 1.05)
			return m
		}, 0, lab.Differs},
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
			m.pn = times(150, 220, 1.1)
			return m
		}, 1, lab.Inconclusive},
		{"processes differs: rounds far from twice", func(m gilMeasured) gilMeasured {
			m.pn = times(150, 400, 1.1)
			return m
		}, 1, lab.Differs},
		{"processes inconclusive: a busy machine", func(m gilMeasured) gilMeasured {
			m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			return m
		}, 1, lab.Inconclusive},
		{"default build inconclusive: python3 itself has no GIL", func(m gilMeasured) gilMeasured {
			m.measured, m.noGIL = false, "This python3 is a free-threaded build."
			return m
		}, 0, lab.Inconclusive},

		{"any build differs: the free-threaded build's threads speed up", func(m gilMeasured) gilMeasured {
			m.ft = freeThreaded
			return m
		}, 2, lab.Differs},
		{"any build holds: the free-threaded build's threads did not speed up", func(m gilMeasured) gilMeasured {
			m.ft = &ftMeasured{t1: times(400, 410, 1), tn: times(400, 410, 1), version: "3.14.0", exe: "python3.14t"}
			return m
		}, 2, lab.Holds},
		{"any build inconclusive: none installed", nil, 2, lab.Inconclusive},
		{"any build inconclusive: its GIL switched on", func(m gilMeasured) gilMeasured {
			m.ft = &ftMeasured{t1: times(400, 410, 1), tn: times(410, 420, 1), version: "3.13.1", exe: "python3.13t", gil: true}
			return m
		}, 2, lab.Inconclusive},
		{"processes inconclusive: one usable CPU", func(m gilMeasured) gilMeasured {
			m.cores = 1
			return m
		}, 1, lab.Inconclusive},
	}
	declared := []lab.Claim{claimThreadsNoHelp, claimProcsHelp, claimAnyBuild}
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
	for i, c := range []lab.Claim{claimThreadsNoHelp, claimProcsHelp, claimAnyBuild} {
		checkVerdict(t, got[i], c, lab.Inconclusive)
		if got[i].Why != why {
			t.Errorf("claim %d: why %q, want %q", i, got[i].Why, why)
		}
	}
}

// TestGILOnEveryMachine: with one process per usable CPU (the default),
// the claims come out as their words call for on every machine shape:
// processes reach about the physical cores (hyper-threads add little),
// and on one CPU nothing can be shown.
func TestGILOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		n := max(2, mc.CPUs)
		gain := 0.95*float64(min(n, mc.Cores)) + 0.2*float64(max(0, min(n, mc.CPUs)-mc.Cores))
		if mc.CPUs < 2 {
			gain = 1
		}
		m := gilMeasured{t1: times(300, 310, 1), tn: times(310, 320, 1), p1: times(300, 310, 1), pn: times(300/gain, 305/gain, gain),
			n: n, cores: mc.CPUs, physical: mc.Cores, measured: true, ftWhy: "No free-threaded CPython is installed on this server."}
		want := lab.Holds
		if mc.CPUs < 2 {
			want = lab.Inconclusive
		}
		for _, c := range judgeGIL(m)[:2] {
			if c.Verdict != want {
				t.Errorf("%s: %q: %s (%s; measured %s), want %s", mc.Name, c.Claim, c.Verdict, c.Why, c.Measured, want)
			}
		}
		if p := pythonGIL().Params[1].On(mc.CPUs); p.Max < float64(mc.CPUs) {
			t.Errorf("%s: at most %v workers, fewer than the %d CPUs", mc.Name, p.Max, mc.CPUs)
		}
	}
}
