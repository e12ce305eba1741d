package cpuvsiobound

import (
	"testing"

	"conclab/internal/lab"
)

func strat(rps, p50, busy, others float64) stratResult {
	return stratResult{throughput: rps, lat: lab.Summary{N: 100, P50: p50, P99: 2 * p50}, busy: busy, others: others}
}

func TestJudgeMixed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    mixedMeasured
		want string
	}{
		{"holds: most throughput and lowest median", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(200, 300, 1, 0), mixed: strat(380, 160, 1.9, 0.1), cores: 2}, lab.Holds},
		{"differs: within 10% of the single-CPU strategy", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(360, 200, 1, 0), mixed: strat(380, 160, 1.2, 0.1), cores: 2}, lab.Differs},
		{"differs: lost", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(400, 150, 1, 0), mixed: strat(300, 200, 1.5, 0.2), cores: 2}, lab.Differs},
		{"differs: a lower median was not enough", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(380, 300, 1, 0), mixed: strat(390, 160, 1.9, 0), cores: 2}, lab.Differs},
		{"inconclusive: one usable CPU", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(200, 300, 1, 0), mixed: strat(200, 300, 1, 0), cores: 1}, lab.Inconclusive},
		{"inconclusive: other programs held the cores", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(200, 300, 1, 0), mixed: strat(190, 320, 1, 0.8), cores: 2}, lab.Inconclusive},
		{"inconclusive: how busy the machine was is unknown", mixedMeasured{seq: strat(30, 1700, 0.1, 0), one: strat(200, 300, 1, 0),
			mixed: stratResult{throughput: 190, lat: lab.Summary{P50: 320}, busy: 1, othersUnknown: true}, cores: 2}, lab.Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkVerdict(t, judgeMixed(tt.m), claimMixedWins, tt.want)
		})
	}
}
