package processesvsthreads

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
)

// counterRun is a shared-counter run of five rounds of 8,000,000 updates:
// the unguarded threads counted these, every other way counted all, at
// these ns per update (no lock, mutex, atomic, pipe).
func counterRun(noLock []int64, ns [4]float64) counterMeasured {
	m := counterMeasured{threads: 4, perThread: 2_000_000, made: 8_000_000,
		race: raceResult{ran: true, races: 1, report: []string{"WARNING: DATA RACE"}}}
	for i, c := range noLock {
		wobble := 1 + 0.01*float64(i%3)
		for j, w := range counterWays {
			counted := m.made
			if w.key == "no_lock" {
				counted = c
			}
			m.add(w.key, counterRound{counted: counted, wall: time.Duration(ns[j] * wobble * float64(m.made))})
		}
	}
	return m
}

var typicalNs = [4]float64{3.5, 25, 7, 6}

func TestJudgeCounter(t *testing.T) {
	t.Parallel()
	lossy := []int64{5_100_000, 4_870_000, 5_320_000, 4_990_000, 5_050_000}
	busy := lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
	for _, tc := range []struct {
		name  string
		m     func() counterMeasured
		claim int
		want  string
		why   string
	}{
		{"lost, differently each round", func() counterMeasured { return counterRun(lossy, typicalNs) }, 0, lab.Holds, ""},
		{"nothing lost", func() counterMeasured {
			return counterRun([]int64{8e6, 8e6, 8e6, 8e6, 8e6}, typicalNs)
		}, 0, lab.Differs, "Few or no updates were lost"},
		{"lost in one round of five", func() counterMeasured {
			return counterRun([]int64{8e6, 8e6, 7_999_000, 8e6, 8e6}, typicalNs)
		}, 0, lab.Differs, "Few or no updates were lost"},
		{"the same loss every round", func() counterMeasured {
			return counterRun([]int64{5e6, 5e6, 5e6, 5e6, 5e6}, typicalNs)
		}, 0, lab.Differs, "The same count came back every round"},
		{"a busy machine does not change a count", func() counterMeasured { m := counterRun(lossy, typicalNs); m.load = busy; return m }, 0, lab.Holds, ""},

		{"guarded: nothing lost, each dearer", func() counterMeasured { return counterRun(lossy, typicalNs) }, 1, lab.Holds, ""},
		{"guarded: the mutex lost one", func() counterMeasured {
			m := counterRun(lossy, typicalNs)
			m.rounds["mutex"][2].counted--
			return m
		}, 1, lab.Differs, "should not be possible"},
		{"guarded: an atomic add as quick as no lock", func() counterMeasured {
			return counterRun(lossy, [4]float64{3.5, 25, 3.4, 6})
		}, 1, lab.Differs, "did not cost clearly more"},
		{"guarded: on a busy machine", func() counterMeasured { m := counterRun(lossy, typicalNs); m.load = busy; return m }, 1, lab.Inconclusive, "busy"},

		{"pipe: every update counted", func() counterMeasured { return counterRun(lossy, typicalNs) }, 2, lab.Holds, ""},
		{"pipe: one lost", func() counterMeasured {
			m := counterRun(lossy, typicalNs)
			m.rounds["pipe"][0].counted--
			return m
		}, 2, lab.Differs, "a pipe does not allow"},

		{"detector: reported", func() counterMeasured { return counterRun(lossy, typicalNs) }, 3, lab.Holds, ""},
		{"detector: ran, found nothing", func() counterMeasured {
			m := counterRun(lossy, typicalNs)
			m.race.races = 0
			return m
		}, 3, lab.Differs, "sees only the races that happen"},
		{"detector: no toolchain", func() counterMeasured {
			m := counterRun(lossy, typicalNs)
			m.race = raceResult{why: "There is no Go toolchain (a go command) on this server's PATH."}
			return m
		}, 3, lab.Inconclusive, "no Go toolchain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := judgeCounter(tc.m())
			if len(claims) != 4 {
				t.Fatalf("%d claims, want 4", len(claims))
			}
			c := claims[tc.claim]
			if c.Verdict != tc.want || !strings.Contains(c.Why, tc.why) {
				t.Errorf("%q: %s (%s; measured %s), want %s saying %q", c.Claim, c.Verdict, c.Why, c.Measured, tc.want, tc.why)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%s without a why", c.Verdict)
			}
		})
	}
}

// TestCounterMetrics: every figure has a valid key of its own, the race
// detector's only when it ran, and the learner's guess finds its figure.
func TestCounterMetrics(t *testing.T) {
	t.Parallel()
	ran := counterMetrics(counterRun([]int64{5e6, 4e6, 6e6}, typicalNs))
	m := counterRun([]int64{5e6, 4e6, 6e6}, typicalNs)
	m.race = raceResult{why: "not asked"}
	checkMetricKeys(t, sharedCounter(), counterMetrics(m), ran)
	share, ok := lab.FindMetric(ran, keyLostShare)
	if !ok || share.Value != 37.5 {
		t.Errorf("%s = %v (found %v), want 37.5 (3,000,000 of 8,000,000 lost, median)", keyLostShare, share.Value, ok)
	}
	if _, ok := lab.FindMetric(counterMetrics(m), keyRaceFound); ok {
		t.Errorf("%s reported without a race-enabled build", keyRaceFound)
	}
}

// TestCounterOnEveryMachine: with two CPUs or more the unguarded threads
// meet and lose updates; on one CPU they meet only when the kernel stops
// one between its load and its store, and a round of a few milliseconds
// may see none of that: the verdict then says so, and why.
func TestCounterOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		lossy := []int64{5_100_000, 4_870_000, 5_320_000, 4_990_000, 5_050_000}
		want := lab.Holds
		if mc.CPUs < 2 {
			lossy, want = []int64{8e6, 8e6, 7_999_990, 8e6, 8e6}, lab.Differs
		}
		claims := judgeCounter(counterRun(lossy, typicalNs))
		if claims[0].Verdict != want {
			t.Errorf("%s: %s (%s), want %s", mc.Name, claims[0].Verdict, claims[0].Why, want)
		}
		for _, c := range claims[1:] {
			if c.Verdict != lab.Holds {
				t.Errorf("%s: %q: %s (%s)", mc.Name, c.Claim, c.Verdict, c.Why)
			}
		}
		if p := sharedCounter().Params[0].On(mc.CPUs); p.Default.(int) < min(mc.CPUs, 4) {
			t.Errorf("%s: %v threads by default", mc.Name, p.Default)
		}
	}
}
