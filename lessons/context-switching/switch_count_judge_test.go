package contextswitching

import (
	"strings"
	"testing"
	"time"
)

// rounds makes switch-count rounds from wall times in seconds, each with
// inv involuntary switches.
func rounds(inv int64, walls ...float64) []countRound {
	out := make([]countRound, len(walls))
	for i, w := range walls {
		out[i] = countRound{wall: time.Duration(w * float64(time.Second)), involuntary: inv}
	}
	return out
}

// contention is a switch-count run of k threads on nCPU CPUs in which
// one thread per CPU was switched inv1 times a round and the K threads
// invK times, each round taking one second.
func contention(k, nCPU int, inv1, invK int64) countMeasured {
	return countMeasured{k: k, nCPU: nCPU, units: 1e6, labels: [2]string{"one", "K"},
		rounds: [2][]countRound{rounds(inv1, 1, 1, 1), rounds(invK, 1, 1, 1)}}
}

// roundsOf makes rounds of one second with these involuntary switches.
func roundsOf(invs ...int64) []countRound {
	out := make([]countRound, len(invs))
	for i, inv := range invs {
		out[i] = countRound{wall: time.Second, involuntary: inv}
	}
	return out
}

func TestJudgeInvoluntary(t *testing.T) {
	t.Parallel()
	busyRun := contention(8, 1, 2, 100)
	busyRun.load = busy
	spread := countMeasured{k: 8, nCPU: 1, units: 1e6, labels: [2]string{"one", "K"},
		rounds: [2][]countRound{roundsOf(10, 20, 30), roundsOf(40, 130, 90)}}
	tests := []struct {
		name    string
		m       countMeasured
		verdict string
		whyHas  string
	}{
		{"many more", contention(8, 1, 2, 100), "holds", ""},
		{"exactly five times", contention(8, 1, 10, 50), "holds", ""},
		{"three times: not many", contention(8, 1, 10, 30), "differs", "not five times"},
		{"none without contention, ten with", contention(8, 1, 0, 10), "holds", ""},
		{"the rounds straddle five times", spread, "inconclusive", "reaches across"},
		{"only twice", contention(8, 1, 10, 20), "differs", "only 2.0×"},
		{"no more threads than CPUs", contention(2, 2, 3, 4), "inconclusive", "no more threads than CPUs"},
		{"baseline as high", contention(8, 1, 50, 40), "differs", "Even one thread per CPU"},
		{"baseline equal", contention(8, 1, 40, 40), "differs", "Even one thread per CPU"},
		{"on a busy machine", busyRun, "inconclusive", "busy"},
		{"no rounds", countMeasured{k: 8, nCPU: 1}, "inconclusive", "ran no round"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkVerdict(t, judgeInvoluntary(tt.m), tt.verdict, tt.whyHas)
		})
	}
}

func TestJudgeLostThroughput(t *testing.T) {
	t.Parallel()
	run := func(base, cont []float64) countMeasured {
		return countMeasured{k: 8, nCPU: 1, units: 1e6, labels: [2]string{"one", "K"},
			rounds: [2][]countRound{rounds(1, base...), rounds(400, cont...)}}
	}
	steady := []float64{1, 1, 1}      // no noise
	noisy := []float64{0.95, 1, 1.05} // about 10% between rounds
	busyRun := run(steady, []float64{1.2, 1.2, 1.2})
	busyRun.load = busy
	tests := []struct {
		name    string
		m       countMeasured
		verdict string
		whyHas  string
	}{
		{"clear loss", run(steady, []float64{1.1, 1.1, 1.1}), "holds", ""},
		{"loss beyond the noise", run(noisy, []float64{1.3, 1.3, 1.3}), "holds", ""},
		{"a clear loss in every round, round by round", run(noisy, []float64{1.05, 1.1, 1.15}), "holds", ""},
		{"a clear loss within the noise of the rounds", run(noisy, []float64{1.1, 1, 0.95}), "inconclusive", "reaches across"},
		{"a small loss beyond the noise", run(steady, []float64{1.01, 1.01, 1.01}), "differs", "Less than a 5% loss"},
		{"a loss of about 5%, within the noise", run(steady, []float64{1.04, 1.07, 1.05}), "inconclusive", "reaches across"},
		{"no loss", run(noisy, []float64{1, 1, 1}), "differs", "Less than a 5% loss"},
		{"a gain", run(steady, []float64{0.9, 0.9, 0.9}), "differs", "Less than a 5% loss"},
		{"on a busy machine", busyRun, "inconclusive", "busy"},
		{"no rounds", countMeasured{k: 8, nCPU: 1, units: 1e6}, "inconclusive", "no timed round"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgeLostThroughput(tt.m)
			checkVerdict(t, got, tt.verdict, tt.whyHas)
			if tt.name == "a gain" && !strings.Contains(got.Measured, "more work per second") {
				t.Errorf("measured = %q, want it to say more work per second", got.Measured)
			}
		})
	}
}

func TestSliceMs(t *testing.T) {
	t.Parallel()
	m := contention(8, 2, 0, 400) // 1 s rounds on 2 CPUs, 400 switches each
	if got, want := m.sliceMs(), 5.0; got != want {
		t.Errorf("sliceMs = %v, want %v", got, want)
	}
	if got := contention(8, 2, 0, 0).sliceMs(); got != 0 {
		t.Errorf("sliceMs without switches = %v, want 0", got)
	}
}
