package contextswitching

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
)

// yieldRun is a yield-batching run whose kinds did items at these rates
// (items per second), one per batch size, the same in each of its rounds
// but for spread, which scales the first round down and the last one up.
func yieldRun(spread float64, rates map[string][]float64) yieldMeasured {
	m := yieldMeasured{perRound: 1000, budget: time.Second, settings: map[string][]yieldSetting{}, load: idle}
	for _, k := range append(yieldKinds, asyncioKind) {
		rs, ok := rates[k.key]
		if !ok {
			continue
		}
		m.kinds = append(m.kinds, k)
		for i, r := range rs {
			for _, f := range []float64{1 - spread, 1, 1 + spread} {
				s := yieldSetting{batch: batchSizes[i], done: 1000}
				if r > 0 {
					s.wall = time.Duration(1000 / (r * f) * float64(time.Second))
				}
				m.settings[k.key] = append(m.settings[k.key], s)
			}
		}
	}
	return m
}

func TestJudgeBatching(t *testing.T) {
	t.Parallel()
	fast := []float64{1e6, 8e6, 5e7, 1e8, 1.1e8} // 100× from B = 1 to B = 1,000
	busyRun := yieldRun(0, map[string][]float64{"goroutine": fast, "thread": fast})
	busyRun.load = busy
	noPython := yieldRun(0, map[string][]float64{"goroutine": fast, "thread": fast})
	noPython.noPython = "python3 is not installed"
	tests := []struct {
		name    string
		m       yieldMeasured
		verdict string
		whyHas  string
	}{
		{"both gain", yieldRun(0.05, map[string][]float64{"goroutine": fast, "thread": fast}), lab.Holds, ""},
		{"asyncio gains too", yieldRun(0.05, map[string][]float64{"goroutine": fast, "thread": fast, "asyncio": {2e5, 1e6, 5e6, 1e7, 1.1e7}}), lab.Holds, ""},
		{"exactly 5×", yieldRun(0, map[string][]float64{"goroutine": fast, "thread": {1e6, 3e6, 4e6, 5e6, 5e6}}), lab.Holds, ""},
		{"about 5× within the noise", yieldRun(0.2, map[string][]float64{"goroutine": fast, "thread": {1e6, 3e6, 4e6, 5e6, 5e6}}), lab.Inconclusive, "reaches across"},
		{"threads gain less", yieldRun(0.05, map[string][]float64{"goroutine": fast, "thread": {1e6, 2e6, 3e6, 3e6, 4e6}}), lab.Differs, "less than five times"},
		{"asyncio gains less", yieldRun(0.05, map[string][]float64{"goroutine": fast, "thread": fast, "asyncio": {1e6, 2e6, 3e6, 4e6, 5e6}}), lab.Differs, "Python asyncio tasks"},
		{"no gain", yieldRun(0, map[string][]float64{"goroutine": {1e8, 1e8, 1e8, 1e8, 1e8}, "thread": fast}), lab.Differs, "less than five times"},
		{"on a busy machine", busyRun, lab.Inconclusive, "busy"},
		{"a kind not run", yieldRun(0, map[string][]float64{"goroutine": fast, "thread": {}}), lab.Inconclusive, "no ratio to judge"},
		{"nothing timed at B = 1", yieldRun(0, map[string][]float64{"goroutine": fast, "thread": {0, 3e6, 6e6, 9e6, 1e7}}), lab.Inconclusive, "no ratio to judge"},
		{"no python3", noPython, lab.Holds, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeBatching(tt.m)
			checkVerdict(t, got, tt.verdict, tt.whyHas)
			if tt.m.noPython != "" && !contains(got.Measured, "python3 is not installed") {
				t.Errorf("measured %q does not say python3 is missing", got.Measured)
			}
		})
	}
}

func TestYieldResult(t *testing.T) {
	t.Parallel()
	fast := []float64{1e6, 8e6, 5e7, 1e8, 1.25e8}
	metrics, _ := yieldResult(yieldRun(0, map[string][]float64{"goroutine": fast, "thread": {0, 1, 2, 3, 4}}))
	cost, ok := lab.FindMetric(metrics, "yield_cost.goroutine")
	if !ok {
		t.Fatal("no yield_cost.goroutine")
	}
	if want := 992.0; cost.Value != want { // 1000 ns − 8 ns per item
		t.Errorf("cost of one yield = %v ns, want %v", cost.Value, want)
	}
	if _, ok := lab.FindMetric(metrics, "yield_cost.thread"); ok {
		t.Error("a cost of one yield from a setting that did nothing")
	}
	if _, ok := lab.FindMetric(metrics, "throughput.thread.batch_10000"); !ok {
		t.Error("no throughput.thread.batch_10000")
	}
	if _, ok := lab.FindMetric(metrics, "throughput.asyncio.batch_1"); ok {
		t.Error("an asyncio figure from a run without python3")
	}
}

// TestYieldStoppedNote: a setting is said to have stopped at its time
// limit only when one of its rounds did fewer items than it was asked. At
// the default of 1,000,000 items each round is asked 333,332 (a third,
// shared by two workers), 999,996 in all: a run that did them all did not
// stop, though it did four fewer than the million.
func TestYieldStoppedNote(t *testing.T) {
	t.Parallel()
	per := yieldRoundItems(1_000_000)
	if per != 333_332 {
		t.Fatalf("yieldRoundItems(1,000,000) = %d, want 333,332", per)
	}
	for _, items := range []int{10_000, 40_000, 999_999, 1_000_000, 1_000_001, 5_000_000} {
		if n := yieldRoundItems(items); n > items/yieldRounds || n < items/yieldRounds-1 || n%2 != 0 {
			t.Errorf("yieldRoundItems(%d) = %d, want an even share of a third, %d or one less", items, n, items/yieldRounds)
		}
	}
	setting := func(done int) []yieldSetting {
		var out []yieldSetting
		for _, b := range batchSizes {
			for range yieldRounds {
				out = append(out, yieldSetting{batch: b, done: done, wall: time.Millisecond})
			}
		}
		return out
	}
	tests := []struct {
		name    string
		done    int
		stopped bool
	}{
		{"every round did all it was asked", per, false},
		{"every round stopped one short", per - 1, true},
		{"every round stopped half way", per / 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := yieldMeasured{perRound: per, budget: 2 * time.Second, kinds: yieldKinds[:1], settings: map[string][]yieldSetting{"goroutine": setting(tt.done)}, load: idle}
			metrics, _ := yieldResult(m)
			for _, b := range batchSizes {
				x, ok := lab.FindMetric(metrics, keyThroughput("goroutine", b))
				if !ok {
					t.Fatalf("no throughput at B = %d", b)
				}
				if got := strings.Contains(x.Note, "stopped at the 2s limit"); got != tt.stopped {
					t.Errorf("B = %d: note %q; says it stopped: %v, want %v", b, x.Note, got, tt.stopped)
				}
			}
		})
	}
	// One round short among full ones: that setting stopped, the others not.
	m := yieldMeasured{perRound: per, budget: 2 * time.Second, kinds: yieldKinds[:1], settings: map[string][]yieldSetting{"goroutine": setting(per)}, load: idle}
	m.settings["goroutine"][1].done = per - 7 // a round of B = 1
	metrics, _ := yieldResult(m)
	for _, b := range batchSizes {
		x, _ := lab.FindMetric(metrics, keyThroughput("goroutine", b))
		if got, want := strings.Contains(x.Note, "stopped"), b == 1; got != want {
			t.Errorf("B = %d with one short round at B = 1: note %q; says stopped: %v, want %v", b, x.Note, got, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
