package choosing

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// measured is a lab of 12 tasks over three rounds whose strategies took
// these median wall times, in ms, every round alike.
func measured(cpuMs, ioMs float64, workers int, walls map[string]float64) labMeasured {
	m := labMeasured{cpuMs: cpuMs, ioMs: ioMs, tasks: 12, delay: time.Duration(ioMs * float64(time.Millisecond)), workers: workers, rounds: 3, tally: map[string]*tally{}}
	for _, s := range strategies {
		w := walls[s.key]
		t := &tally{s: s, walls: []float64{w, w, w}, cpus: []float64{w, w, w}, done: 12}
		switch s.key {
		case kSequential:
			t.first = runStats{done: 12, cpuWall: time.Duration(12 * cpuMs * float64(time.Millisecond)), ioWall: 12 * m.delay}
		case kProcesses:
			t.startups = []float64{30, 30, 30}
		}
		m.tally[s.key] = t
	}
	return m
}

func TestJudgeWorkload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		m       labMeasured
		want    string
		measure string // a piece of what the verdict says was measured
		why     string // a piece of why, "" for none
	}{
		{"holds: async wins an I/O-bound workload", measured(0.1, 20, 2, map[string]float64{kSequential: 260, kOneCPU: 25, kAllCPUs: 40, kProcesses: 120, kMixed: 45}),
			lab.Holds, "I/O-bound workload", ""},
		{"holds: the pool wins a mixed workload", measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 20, kProcesses: 80, kMixed: 14}),
			lab.Holds, "the fastest", ""},
		{"holds as a tie: all CPUs within noise of the pool", measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 14.5, kProcesses: 80, kMixed: 14}),
			lab.Holds, "Within noise of it", "A tie rather than a clear win"},
		// The rule's CPU-bound pick is the process pool alone: the CPU pool
		// winning, all but a copy of goroutines on all CPUs, is no win for
		// "parallel processes".
		{"differs: the process pool lost a CPU-bound race to the CPU pool", measured(6, 0, 2, map[string]float64{kSequential: 72, kOneCPU: 73, kAllCPUs: 40, kProcesses: 90, kMixed: 37}),
			lab.Differs, "The rule picks a pool of worker processes", "already parallel workers"},
		{"holds: the process pool wins a CPU-bound race", measured(40, 0, 2, map[string]float64{kSequential: 1600, kOneCPU: 1610, kAllCPUs: 830, kProcesses: 820, kMixed: 840}),
			lab.Holds, "the fastest", "A tie rather than a clear win"},
		{"differs: goroutines on all CPUs beat the pools on CPU-bound work", measured(6, 0, 2, map[string]float64{kSequential: 72, kOneCPU: 73, kAllCPUs: 37, kProcesses: 90, kMixed: 60}),
			lab.Differs, "Fastest: goroutines on all CPUs", "already parallel workers"},
		{"differs: tiny tasks", measured(0.1, 0, 2, map[string]float64{kSequential: 2, kOneCPU: 1, kAllCPUs: 1.5, kProcesses: 40, kMixed: 3}),
			lab.Differs, "CPU-bound workload", "The tasks are tiny"},
		{"inconclusive: one usable CPU for a CPU-bound workload", measured(6, 0, 1, map[string]float64{kSequential: 72, kOneCPU: 73, kAllCPUs: 72, kProcesses: 90, kMixed: 74}),
			lab.Inconclusive, "CPU-bound workload", "Only one CPU is usable"},
		{"one CPU is no reason for an I/O-bound workload", measured(0.1, 20, 1, map[string]float64{kSequential: 260, kOneCPU: 25, kAllCPUs: 40, kProcesses: 300, kMixed: 45}),
			lab.Holds, "I/O-bound workload", ""},
		{"inconclusive: the pick's rounds straddle 10% behind the fastest", func() labMeasured {
			m := measured(6, 0, 2, map[string]float64{kSequential: 72, kOneCPU: 73, kAllCPUs: 37, kProcesses: 40, kMixed: 60})
			m.tally[kProcesses].walls = []float64{36, 40, 44}
			return m
		}(), lab.Inconclusive, "CPU-bound workload", "reaches across"},
		{"holds as a tie: a slow round slowed both alike", func() labMeasured {
			m := measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 14, kProcesses: 80, kMixed: 14.7})
			m.tally[kAllCPUs].walls = []float64{14, 21, 14}
			m.tally[kMixed].walls = []float64{14.7, 22, 14.7}
			return m
		}(), lab.Holds, "Within noise of it", "A tie rather than a clear win"},
		{"inconclusive: the same rounds in another order do not pair", func() labMeasured {
			m := measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 14, kProcesses: 80, kMixed: 14.7})
			m.tally[kAllCPUs].walls = []float64{14, 21, 14}
			m.tally[kMixed].walls = []float64{22, 14.7, 14.7}
			return m
		}(), lab.Inconclusive, "The pick took", "reaches across"},
		{"inconclusive: a busy machine", func() labMeasured {
			m := measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 20, kProcesses: 80, kMixed: 14})
			m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			return m
		}(), lab.Inconclusive, "the fastest", "busy"},
		{"inconclusive: a strategy never finished a round", func() labMeasured {
			m := measured(2, 3, 2, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 20, kProcesses: 80, kMixed: 14})
			m.tally[kProcesses].walls = nil
			return m
		}(), lab.Inconclusive, "no finished round", "never finished a round"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeWorkload(tt.m)
			if got.Claim != claimRule.Claim || got.Expected != claimRule.Expected {
				t.Errorf("judged %q, want the claim %q", got.Claim, claimRule.Claim)
			}
			if got.Verdict != tt.want {
				t.Errorf("verdict %s, want %s (measured %q, why %q)", got.Verdict, tt.want, got.Measured, got.Why)
			}
			if !strings.Contains(got.Measured, tt.measure) {
				t.Errorf("measured %q, want it to say %q", got.Measured, tt.measure)
			}
			switch {
			case tt.why == "" && got.Why != "":
				t.Errorf("why %q, want none", got.Why)
			case !strings.Contains(got.Why, tt.why):
				t.Errorf("why %q, want it to say %q", got.Why, tt.why)
			case got.Verdict != lab.Holds && got.Why == "":
				t.Errorf("a %s needs a why", got.Verdict)
			}
		})
	}
}

// TestWorkloadOnEveryMachine puts three rows of the Workload → solution
// table to the test on each machine shape, with wall times such a machine
// gives: I/O-bound work overlaps its waits anywhere; long CPU-bound tasks
// on the process pool keep pace with goroutines on every core (the pool's
// start-up is small beside them); mixed work wants its pool. On one CPU no
// strategy computes in parallel, and the rows with computing say so.
func TestWorkloadOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		c := float64(mc.Cores)
		io := measured(0.1, 20, mc.CPUs, map[string]float64{kSequential: 250, kOneCPU: 22, kAllCPUs: 22, kProcesses: 30 + 250/c, kMixed: 24})
		cpu := measured(40, 0, mc.CPUs, map[string]float64{kSequential: 480, kOneCPU: 482, kAllCPUs: 480/c + 2, kProcesses: 480/c + 3, kMixed: 480/c + 2.5})
		mix := measured(2, 3, mc.CPUs, map[string]float64{kSequential: 60, kOneCPU: 30, kAllCPUs: 3 + 24/c, kProcesses: 80, kMixed: 3 + 24/c})
		for _, tc := range []struct {
			name string
			m    labMeasured
			want string
		}{
			{"I/O-bound", io, lab.Holds},
			{"CPU-bound", cpu, map[bool]string{true: lab.Inconclusive, false: lab.Holds}[mc.CPUs < 2]},
			{"mixed", mix, map[bool]string{true: lab.Inconclusive, false: lab.Holds}[mc.CPUs < 2]},
		} {
			if got := judgeWorkload(tc.m); got.Verdict != tc.want {
				t.Errorf("%s, %s: %s (%s; %s), want %s", mc.Name, tc.name, got.Verdict, got.Measured, got.Why, tc.want)
			}
		}
	}
}
