package cpuvsiobound

import (
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// rounds are three rounds of a strategy at rps requests a second, ±spread.
func rounds(rps, spread, p50, busy float64) []stratResult {
	var out []stratResult
	for _, f := range []float64{1 - spread, 1, 1 + spread} {
		out = append(out, stratResult{throughput: rps * f, processed: 100, lat: lab.Summary{N: 100, P50: p50, P99: 2 * p50}, busy: busy})
	}
	return out
}

// mixedRun is a run in which sequential, goroutines on one CPU and on all
// CPUs, and the pool served at these rates.
func mixedRun(seq, one, all, pool []stratResult) mixedMeasured {
	return mixedMeasured{cores: 2, rounds: map[string][]stratResult{"sequential": seq[:1], "concurrent-1cpu": one, "concurrent-all": all, "mixed": pool}}
}

func TestJudgeMixed(t *testing.T) {
	t.Parallel()
	seq, one := rounds(30, 0, 1700, 0.1), rounds(200, 0.03, 300, 1)
	all, pool := rounds(370, 0.03, 170, 1.9), rounds(380, 0.03, 160, 1.9)
	busyRun := mixedRun(seq, one, all, pool)
	busyRun.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: 5 * time.Second}
	oneCPU := mixedRun(seq, one, one, one)
	oneCPU.cores = 1
	tests := []struct {
		name       string
		m          mixedMeasured
		wins, adds string
	}{
		{"the pool wins, and adds little to goroutines", mixedRun(seq, one, all, pool), lab.Holds, lab.Holds},
		{"the pool a little ahead of one CPU, beyond the noise", mixedRun(seq, rounds(360, 0.02, 200, 1), all, pool), lab.Holds, lab.Holds},
		{"the pool behind one CPU", mixedRun(seq, rounds(420, 0.02, 200, 1), all, pool), lab.Differs, lab.Holds},
		{"the pool within the noise of one CPU", mixedRun(seq, rounds(370, 0.1, 200, 1), all, pool), lab.Inconclusive, lab.Holds},
		{"the pool within the noise of a quarter behind goroutines", mixedRun(seq, one, rounds(480, 0.1, 170, 1.9), pool), lab.Holds, lab.Inconclusive},
		{"the pool clearly ahead of goroutines", mixedRun(seq, one, rounds(250, 0.02, 240, 1.9), pool), lab.Holds, lab.Differs},
		{"the pool clearly behind goroutines", mixedRun(seq, one, rounds(500, 0.02, 120, 1.9), pool), lab.Holds, lab.Differs},
		{"one usable CPU", oneCPU, lab.Inconclusive, lab.Inconclusive},
		{"a busy machine", busyRun, lab.Inconclusive, lab.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeMixed(tt.m)
			if len(got) != 2 {
				t.Fatalf("%d claims, want 2", len(got))
			}
			checkVerdict(t, got[0], claimMixedWins, tt.wins)
			checkVerdict(t, got[1], claimPoolAdds, tt.adds)
		})
	}
}

// TestMixedOnEveryMachine: a pool sized to the cores beats the one-CPU
// strategy wherever there is a second CPU, and adds little to goroutines
// on all of them; on one CPU neither can be shown.
func TestMixedOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		cpu := 250 * float64(min(mc.Cores, 8)) // computing caps at the burst's size
		m := mixedRun(rounds(29, 0, 1700, 0.1), rounds(240, 0.03, 300, 1), rounds(0.95*cpu, 0.03, 170, float64(mc.CPUs)), rounds(0.97*cpu, 0.03, 160, float64(mc.CPUs)))
		m.cores = mc.CPUs
		want := lab.Holds
		if mc.CPUs < 2 {
			want = lab.Inconclusive
		}
		for _, c := range judgeMixed(m) {
			if c.Verdict != want {
				t.Errorf("%s: %q: %s (%s), want %s", mc.Name, c.Claim, c.Verdict, c.Why, want)
			}
		}
	}
}
