package cpuvsiobound

import (
	"fmt"

	"conclab/internal/lab"
)

// mixedMeasured is what mixed-pipeline measured, as its verdict reads it:
// each strategy's throughput, latency and CPU use, and the CPUs the pool
// was sized to.
type mixedMeasured struct {
	seq, one, mixed stratResult
	cores           int
}

// judgeMixed holds the claim that the mixed strategy wins against the
// three strategies' figures.
func judgeMixed(m mixedMeasured) lab.Claim {
	measured := fmt.Sprintf("mixed %.0f req/s (p50 %.1f ms, p99 %.1f ms) — %.2f× the single-CPU strategy's %.0f req/s (p50 %.1f ms) and %.1f× sequential's %.0f req/s (p50 %.0f ms); CPUs busy %.2f vs %.2f vs %.2f",
		m.mixed.throughput, m.mixed.lat.P50, m.mixed.lat.P99, m.mixed.throughput/m.one.throughput, m.one.throughput, m.one.lat.P50,
		m.mixed.throughput/m.seq.throughput, m.seq.throughput, m.seq.lat.P50, m.mixed.busy, m.one.busy, m.seq.busy)
	switch {
	case m.cores < 2:
		return claimMixedWins.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable here, so the pool has a single worker and the mixed strategy is the single-CPU strategy in other clothes. It still beats sequential; beating the single-CPU strategy needs a second core.")
	case m.mixed.throughput > 1.1*m.one.throughput && m.mixed.throughput > 1.1*m.seq.throughput && m.mixed.lat.P50 < m.one.lat.P50 && m.mixed.lat.P50 < m.seq.lat.P50:
		return claimMixedWins.Judge(measured, lab.Holds, "")
	case m.mixed.others > 0.5:
		// The pool is sized to the cores; if other programs held a good
		// part of them, the comparison says more about them than about
		// the strategy.
		return claimMixedWins.Judge(measured+fmt.Sprintf("; other programs kept %.2f CPUs busy during the mixed run", m.mixed.others), lab.Inconclusive, fmt.Sprintf(
			"Other programs on this machine kept %.2f of its %d CPUs busy while the mixed strategy ran, so its pool never had the cores it is sized for. Run it again when the machine is quieter.", m.mixed.others, m.cores))
	case m.mixed.othersUnknown:
		return claimMixedWins.Judge(measured, lab.Inconclusive,
			"The mixed strategy did not win, and this host would not say how busy its CPUs were meanwhile (/proc/stat could not be read), so a loss cannot be told apart from other programs holding the cores its pool is sized for.")
	case m.mixed.throughput >= 0.9*m.one.throughput && m.mixed.throughput > 1.1*m.seq.throughput:
		return claimMixedWins.Judge(measured, lab.Differs, fmt.Sprintf(
			"The mixed strategy was no more than 10%% ahead of the single-CPU one. It can only win on the computing, and it kept %.2f CPUs busy against %.2f: when computing is a small part of each request, a second core has little to add.",
			m.mixed.busy, m.one.busy))
	default:
		return claimMixedWins.Judge(measured, lab.Differs,
			"The mixed strategy lost, although the machine's other programs left its cores mostly free. Handing each hash to the pool costs two channel hand-offs per request, which only pays when the computing is large enough to keep more than one core busy.")
	}
}
