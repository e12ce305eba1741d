package greenthreads

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// holdingSpawn is a machine with 16 GiB free and pid_max 4 million where a
// goroutine costs 2.5 KiB and a thread 20 KiB: a million goroutines fit, a
// million threads (20 GiB) do not.
func holdingSpawn() spawnMeasured {
	return spawnMeasured{
		goroutines: grown{target: million, reached: 100_000, before: 2, peak: 100_002, wall: time.Second, rss: 100_000 * 2560, stacks: 100_000 * 2048},
		threads:    grown{target: 2000, reached: 2000, before: 5, peak: 2005, distinct: 2000, wall: 100 * time.Millisecond, rss: 2000 * 20 << 10, vm: 2000 * 8 << 20},
		limits:     probe.ThreadLimits{ThreadsMax: 1 << 22, PidMax: 1 << 22, PidsMax: probe.Unlimited, NProc: probe.Unlimited, MaxMapCount: 1 << 30},
		mem:        probe.MachineMemory{Total: 32 << 30, Available: 16 << 30, CgroupLimit: probe.Unlimited, CgroupUsage: -1},
	}
}

func TestJudgeSpawnMany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(m *spawnMeasured)
		want string
		why  string // words of the reason that tell the branches apart
	}{
		{"holds", func(*spawnMeasured) {}, lab.Holds, ""},
		{"holds: the thread limit stops a million", func(m *spawnMeasured) {
			m.mem.Available = 64 << 30
			m.limits.PidsMax = 30_000
		}, lab.Holds, ""},
		{"goroutines do not fit in half the free memory", func(m *spawnMeasured) { m.mem.Available = 4 << 30 }, lab.Differs, "Even goroutines"},
		{"a million threads would fit", func(m *spawnMeasured) { m.mem.Available = 64 << 30 }, lab.Differs, "could hold a million threads"},
		// The claim is about fitting, not about a ratio: a thread only
		// twice a goroutine still cannot be had a million times here.
		{"a thread only twice a goroutine, a limit of 30,000", func(m *spawnMeasured) {
			m.threads.rss = 2000 * 5 << 10
			m.limits.PidsMax = 30_000
		}, lab.Holds, ""},
		{"no room for threads", func(m *spawnMeasured) { m.threads = grown{} }, lab.Inconclusive, "no room"},
		{"no goroutine parked", func(m *spawnMeasured) { m.goroutines = grown{target: million} }, lab.Inconclusive, "nothing to weigh"},
		{"goroutines' memory did not register", func(m *spawnMeasured) { m.goroutines.rss = 0 }, lab.Inconclusive, "nothing to weigh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := holdingSpawn()
			tt.edit(&m)
			metrics, c := judgeSpawnMany(m)
			if c.Verdict != tt.want {
				t.Errorf("got %s (%s; measured %s), want %s", c.Verdict, c.Why, c.Measured, tt.want)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%s without a why", c.Verdict)
			}
			if !strings.Contains(c.Why, tt.why) {
				t.Errorf("why %q, want it to say %q", c.Why, tt.why)
			}
			checkMetricKeys(t, metrics, threadKeys)
		})
	}
}

// checkMetricKeys checks that every metric has a valid key of its own, and
// that each metric missing from some runs is one the experiment declares
// conditional.
func checkMetricKeys(t *testing.T, metrics []lab.Metric, conditional []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range metrics {
		if !lab.ValidKey(m.Key) || seen[m.Key] {
			t.Errorf("%q: key %q is malformed or not its own", m.Name, m.Key)
		}
		seen[m.Key] = true
	}
	for _, k := range conditional {
		if !lab.ValidKey(k) {
			t.Errorf("conditional key %q is malformed", k)
		}
	}
}

// The metrics every run has, and those only a run with threads has, are
// exactly the keys the experiment declares.
func TestSpawnManyConditional(t *testing.T) {
	t.Parallel()
	full, _ := judgeSpawnMany(holdingSpawn())
	bare := holdingSpawn()
	bare.threads = grown{}
	some, _ := judgeSpawnMany(bare)
	have := map[string]bool{}
	for _, m := range some {
		have[m.Key] = true
	}
	var missing []string
	for _, m := range full {
		if !have[m.Key] {
			missing = append(missing, m.Key)
		}
	}
	if got, want := len(missing), len(threadKeys); got != want {
		t.Fatalf("a run without threads lacks %q, want exactly the conditional %q", missing, threadKeys)
	}
	for i := range missing {
		if missing[i] != threadKeys[i] {
			t.Errorf("a run without threads lacks %q, want the conditional %q", missing, threadKeys)
			break
		}
	}
	if exp := spawnMany(); len(exp.Conditional) != len(threadKeys) {
		t.Errorf("spawn-many declares %q conditional, want %q", exp.Conditional, threadKeys)
	}
}
