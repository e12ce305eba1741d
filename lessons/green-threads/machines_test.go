package greenthreads

import (
	"testing"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/internal/probe"
)

// TestLessonSixOnEveryMachine: the cooperative runs and the event loop use
// one thread on one CPU by design, so their claims come out alike on every
// machine shape. A million goroutines fit on any machine with a few GiB
// free; a 1-CPU container with 1 GiB free says honestly that even they do
// not fit comfortably there. The kernel's default thread limit grows with
// memory (one thread per 128 KiB of RAM), and a server with 400 GiB could
// hold a million threads after all: there the claim differs, and says so.
func TestLessonSixOnEveryMachine(t *testing.T) {
	t.Parallel()
	free := map[int]int64{1: 1 << 30, 2: 6 << 30, 8: 12 << 30, 16: 48 << 30, 64: 200 << 30}
	for _, mc := range labtest.Machines {
		_, claims := judgeCooperative(holdingCoop())
		for _, c := range claims {
			if c.Verdict != lab.Holds {
				t.Errorf("%s: cooperative: %q: %s (%s)", mc.Name, c.Claim, c.Verdict, c.Why)
			}
		}
		m := loop([]int{600, 610, 590}, []int{0, 0, 0})
		for _, c := range []lab.Claim{judgeAwaitFrees(m), judgeBlockingStops(m)} {
			if c.Verdict != lab.Holds {
				t.Errorf("%s: asyncio-await: %q: %s (%s)", mc.Name, c.Claim, c.Verdict, c.Why)
			}
		}
		s := holdingSpawn()
		total := 2 * free[mc.CPUs]
		s.mem = probe.MachineMemory{Total: total, Available: free[mc.CPUs], CgroupLimit: probe.Unlimited, CgroupUsage: -1}
		s.limits.ThreadsMax = total / (128 << 10)
		want := lab.Holds
		switch {
		case free[mc.CPUs] < 5<<30: // a million goroutines of 2.5 KiB want 2.4 GiB: half the free memory
			want = lab.Differs
		case s.limits.ThreadsMax >= million: // and 36 GiB for a million threads is there
			want = lab.Differs
		}
		if _, c := judgeSpawnMany(s); c.Verdict != want {
			t.Errorf("%s: spawn-many with %d GiB free: %s (%s), want %s", mc.Name, free[mc.CPUs]>>30, c.Verdict, c.Why, want)
		}
	}
}
