package contextswitching

import (
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// switchesOn are the same-CPU figures a quiet machine of this shape gives
// (µs per switch, round by round): a virtual machine's kernel path is
// quick (a microsecond), a laptop's or a server's bare metal slower, with
// deeper power states. Every ping-pong is pinned to one CPU, so the
// count of CPUs changes nothing but the figures' size.
func switchesOn(mc labtest.Machine) sameCPU {
	thread, process, bareT, bareP, g := 2.4, 3.6, 2.0, 2.4, 0.15
	if mc.VM {
		thread, process, bareT, bareP, g = 1.06, 1.95, 1.0, 1.13, 0.2
	}
	round := func(v float64) []float64 { return []float64{v, 1.02 * v, 0.99 * v, 1.01 * v, v} }
	s := sameCPU{load: idle, rounds: map[string][]float64{
		"goroutine": round(g), "thread": round(thread), "process": round(process),
		"bare_thread": round(bareT), "bare_process": round(bareP),
	}}
	for k, v := range s.rounds {
		s.set(k, lab.BandOfValues(v, "µs"))
	}
	return s
}

// TestSwitchCostOnEveryMachine: on every machine shape the thread switch
// is about 1–10 µs, the process switch far below the textbook's 10–100
// µs (differs, and the lesson says why), a process switch dearer than a
// thread switch, directly too, and a goroutine's far cheaper than either.
func TestSwitchCostOnEveryMachine(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		claimThread.Claim: lab.Holds, claimProcess.Claim: lab.Differs, claimProcVsThread.Claim: lab.Holds,
		claimGoroutine.Claim: lab.Holds, claimDirect.Claim: lab.Holds, claimPerf.Claim: lab.Inconclusive, // no perf in the table
	}
	for _, mc := range labtest.Machines {
		for _, c := range judgeSwitchCost(switchesOn(mc), perfMeasured{pcid: true}) {
			if c.Verdict != want[c.Claim] {
				t.Errorf("%s: %q: %s (%s; %s), want %s", mc.Name, c.Claim, c.Verdict, c.Measured, c.Why, want[c.Claim])
			}
		}
	}
}

// TestSwitchCountOnEveryMachine: eight threads on one CPU (the default)
// are switched every time slice whatever the machine; on a 64-CPU server
// asked for all 64 CPUs, 256 threads (the range now reaches four per CPU)
// contend just the same. A slice lasts milliseconds on every kernel, so
// the switches cost a few per cent of throughput at most: short of the
// claim's clear loss (differs) at 3%, and a clear loss only where caches
// are refilled after every switch (9%).
func TestSwitchCountOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		for _, nCPU := range []int{1, mc.CPUs} {
			k := 8
			if nCPU > 1 {
				k = 4 * nCPU
			}
			for _, tt := range []struct {
				loss float64 // one thread per CPU's work a second over K threads'
				want string
			}{{1.03, lab.Differs}, {1.09, lab.Holds}} {
				l := tt.loss
				m := countMeasured{k: k, nCPU: nCPU, units: 1e6, labels: [2]string{"one", "K"},
					rounds: [2][]countRound{rounds(15, 1, 1.01, 1, 0.99, 1), rounds(200*int64(nCPU), l, l+0.01, l, l-0.01, l)}}
				if c := judgeInvoluntary(m); c.Verdict != lab.Holds {
					t.Errorf("%s, %d threads on %d CPUs: %q: %s (%s)", mc.Name, k, nCPU, c.Claim, c.Verdict, c.Why)
				}
				if c := judgeLostThroughput(m); c.Verdict != tt.want {
					t.Errorf("%s, %d threads on %d CPUs, %.2f×: %q: %s (%s), want %s", mc.Name, k, nCPU, l, c.Claim, c.Verdict, c.Why, tt.want)
				}
			}
		}
		if p := switchCount().Params[0].On(mc.CPUs); p.Max < float64(4*mc.CPUs) {
			t.Errorf("%s: at most %v threads, not four per CPU", mc.Name, p.Max)
		}
	}
}

// TestYieldOnEveryMachine: batching beats yielding per item by far on
// every shape; a yield is a function call for goroutines and a system
// call for threads, on one CPU or sixty-four.
func TestYieldOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		scale := float64(min(mc.Cores, 2)) / 2 // the two workers share one core on a 1-CPU container
		m := yieldRun(0.03, map[string][]float64{
			"goroutine": {3e6 * scale, 2e7, 8e7, 1.2e8, 1.3e8},
			"thread":    {8e5 * scale, 6e6, 5e7, 1e8, 1.1e8},
		})
		if c := judgeBatching(m); c.Verdict != lab.Holds {
			t.Errorf("%s: %s (%s)", mc.Name, c.Verdict, c.Why)
		}
	}
}
