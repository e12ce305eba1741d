package cpuvsiobound

import (
	"fmt"

	"conclab/internal/lab"
)

// mixedMeasured is what mixed-pipeline measured, as its verdicts read it:
// every round of each strategy, by strategy key, and the CPUs the pool was
// sized to.
type mixedMeasured struct {
	rounds map[string][]stratResult
	cores  int
	load   lab.Load // what other programs used of the CPUs meanwhile
}

// throughput is a strategy's requests per second over its rounds.
func (m mixedMeasured) throughput(key string) lab.Band {
	var v []float64
	for _, r := range m.rounds[key] {
		if r.throughput > 0 {
			v = append(v, r.throughput)
		}
	}
	return lab.BandOfValues(v, "requests/s")
}

// p50 is a strategy's median latency in its median round.
func (m mixedMeasured) p50(key string) float64 {
	if len(m.rounds[key]) == 0 {
		return 0
	}
	return median(m.rounds[key]).lat.P50
}

// busy is the CPUs a strategy kept busy in its median round.
func (m mixedMeasured) busy(key string) float64 {
	if len(m.rounds[key]) == 0 {
		return 0
	}
	return median(m.rounds[key]).busy
}

// judgeMixed holds both claims.
func judgeMixed(m mixedMeasured) []lab.Claim {
	return []lab.Claim{judgeMixedWins(m), judgePoolAdds(m)}
}

// judgeMixedWins: the pool, which overlaps the waits and computes on every
// core, against the strategies that do one or neither.
func judgeMixedWins(m mixedMeasured) lab.Claim {
	pool, one, seq := m.throughput("mixed"), m.throughput("concurrent-1cpu"), m.throughput("sequential")
	overOne, overSeq := lab.Ratio(pool, one), lab.Ratio(pool, seq)
	measured := fmt.Sprintf("the pool %.0f req/s (p50 %.1f ms) — %s the one-CPU strategy's %.0f req/s (p50 %.1f ms) and %s sequential's %.0f req/s (p50 %.0f ms); CPUs busy %.2f vs %.2f vs %.2f",
		pool.Mid, m.p50("mixed"), overOne, one.Mid, m.p50("concurrent-1cpu"), overSeq, seq.Mid, m.p50("sequential"),
		m.busy("mixed"), m.busy("concurrent-1cpu"), m.busy("sequential"))
	if m.cores < 2 {
		return claimMixedWins.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable here, so the pool has a single worker and is the one-CPU strategy in other clothes. It still beats sequential; beating the one-CPU strategy needs a second core.")
	}
	// "Beats": more throughput than each (lab.More), beyond the noise of
	// both (the ratio's band).
	dOne := lab.Decide(overOne, lab.AtLeast(lab.More), m.load)
	dSeq := lab.Decide(overSeq, lab.AtLeast(lab.More), m.load)
	why := fmt.Sprintf("The pool was not clearly ahead of the one-CPU strategy (%.2f×). It can only win on the computing, and it kept %.2f CPUs busy against %.2f: when computing is a small part of each request, a second core has little to add.",
		overOne.Mid, m.busy("mixed"), m.busy("concurrent-1cpu"))
	if dSeq.Verdict == lab.Differs {
		why = "The pool was not clearly ahead even of sequential service: the waits did not overlap, which points at a local server or a machine so slow that each hand-off took longer than the wait itself."
	}
	return claimMixedWins.Decided(measured, lab.All(dOne, dSeq), why)
}

// judgePoolAdds: the pool against plain goroutines on all CPUs, the
// fourth strategy: what does the pool add over Go's own scheduler?
func judgePoolAdds(m mixedMeasured) lab.Claim {
	pool, all := m.throughput("mixed"), m.throughput("concurrent-all")
	r := lab.Ratio(pool, all)
	measured := fmt.Sprintf("the pool %.0f req/s (p50 %.1f ms, %.2f CPUs busy) vs goroutines on all CPUs %.0f req/s (p50 %.1f ms, %.2f CPUs busy): %s",
		pool.Mid, m.p50("mixed"), m.busy("mixed"), all.Mid, m.p50("concurrent-all"), m.busy("concurrent-all"), r)
	if m.cores < 2 {
		return claimPoolAdds.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable here, so both strategies compute on one core and there is nothing for either to spread.")
	}
	// "Adds little": about as much throughput as plain goroutines, the
	// rule's quarter either way.
	d := lab.Decide(r, lab.AboutAsMuch(1), m.load)
	why := "The pool was clearly behind plain goroutines: every hash crossed two channel hand-offs to a worker and back, and with this little computing per request those hand-offs cost more than the pool saves."
	if d.Side == lab.Above {
		why = "The pool was clearly ahead of plain goroutines. With long computations Go preempts a goroutine every 10 ms or so, so all the requests' hashing interleaves and they finish together; the pool runs one hash per core to the end, so requests finish one by one and the CPUs never switch between half-done hashes."
	}
	return claimPoolAdds.Decided(measured, d, why)
}
