package processesvsthreads

import (
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// TestLessonOneOnEveryMachine holds the lesson's claims against figures
// shaped like each machine. Creation, memory, isolation and crashes do not
// depend on the count of CPUs: the same claims hold on a 1-CPU container
// and a 64-CPU server, with the figures each gives (a process starts
// quicker on bare metal, and its runtime grows with GOMAXPROCS). Message
// passing does: the kernel's pipes against shared memory needs a CPU for
// each side, and one CPU says so.
func TestLessonOneOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		t.Run(mc.Name, func(t *testing.T) {
			t.Parallel()
			procStart := 900.0 // µs: fork, exec and a Go runtime's start
			if mc.VM {
				procStart = 5900
			}
			spawn := spawnMeasured{n: 150, goroutine: spread(150, 0.4, 0.5, 0.7), thread: spread(150, 20, 30, 45), process: spread(150, 0.9*procStart, procStart, 1.2*procStart)}
			if c := judgeSpawnCost(spawn); c.Verdict != lab.Holds {
				t.Errorf("spawn-cost: %s (%s)", c.Verdict, c.Why)
			}
			// A Go program's own memory grows with its Ps (GOMAXPROCS).
			own := float64(1200+40*mc.GOMAXPROCS) * kib
			mem := memMeasured{proc: procs(own, own+2000*kib), th: threadMem{n: 200, rss: 24 * kib, stacks: 199, stackSize: 8 << 20, stackRSS: 16 * kib}}
			for _, c := range judgeMemory(mem) {
				if c.Verdict != lab.Holds {
					t.Errorf("memory-footprint: %q: %s (%s)", c.Claim, c.Verdict, c.Why)
				}
			}
			for _, c := range judgeIsolation(isoRun()) {
				if c.Verdict != lab.Holds {
					t.Errorf("isolation: %q: %s (%s)", c.Claim, c.Verdict, c.Why)
				}
			}
			for _, c := range judgeCrash(crashRun()) {
				if c.Verdict != lab.Holds {
					t.Errorf("crash-isolation: %q: %s (%s)", c.Claim, c.Verdict, c.Why)
				}
			}
			// On one CPU every hand-off is a switch, through shared memory
			// too (a futex wait and wake): a few µs for every way.
			m := msgRun(way("pipe", 2.5e5, 18), way("socket", 2e5, 30), way("shared_memory", 2.8e6, 0.95), way("channel", 1.25e7, 0.38), way("mutex", 2.4e6, 1.05), way("thread_ring", 2.9e6, 0.95))
			kernel := lab.Holds
			if mc.CPUs < 2 {
				m = msgRun(way("pipe", 3e5, 5), way("socket", 2.5e5, 7), way("shared_memory", 3.2e5, 4.6), way("channel", 8e6, 0.4), way("mutex", 3.1e5, 4.7), way("thread_ring", 3.4e5, 4.6))
				kernel = lab.Inconclusive
			}
			m.cpus = mc.CPUs
			claims := judgeMessages(m)
			checkClaim(t, claims[0], claimKernelSlower, kernel)
			checkClaim(t, claims[1], claimShmFast, lab.Holds)
		})
	}
}
