package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/lab"
)

// keyMixedOverOne is the key of the mixed strategy's lead over the
// single-CPU one, which the page's summary shows.
const keyMixedOverOne = "throughput_ratio.mixed_over_concurrent_one_cpu"

// mixedResult ends the run: every strategy's figures, the mixed
// strategy's lead, and the verdict.
func mixedResult(out *lab.Emitter, rs []stratResult, n, cores int) error {
	var metrics []lab.Metric
	for _, r := range rs {
		k := r.s.metric
		metrics = append(metrics,
			lab.Metric{Key: "throughput." + k, Name: "Throughput, " + r.s.label, Value: round2(r.throughput), Unit: "requests/s", N: r.processed,
				Note: fmt.Sprintf("%d requests in %s; %.2f CPUs kept busy, and other programs %.2f meanwhile (/proc/stat)", r.processed, r.wall.Round(time.Millisecond/10), r.busy, r.others)},
			r.lat.Metric("latency."+k, "Latency, "+r.s.label, "ms"),
			lab.Metric{Key: "requests.processed." + k, Name: "Requests processed, " + r.s.label, Value: float64(r.processed), Unit: "requests", Note: fmt.Sprintf("of %d", n)},
			lab.Metric{Key: "server.queries_answered." + k, Name: "Queries answered by the server, " + r.s.label, Value: float64(r.queries), Unit: "queries", Note: fmt.Sprintf("%d expected: two per request", r.queriesWanted)},
			lab.Metric{Key: "server.responses_received." + k, Name: "Responses received by the server, " + r.s.label, Value: float64(r.responses), Unit: "responses", Note: fmt.Sprintf("%d expected", r.respondWanted)},
		)
	}
	m := mixedMeasured{seq: rs[0], one: rs[1], mixed: rs[2], cores: cores}
	metrics = append(metrics,
		lab.Metric{Key: keyMixedOverOne, Name: "Mixed strategy's throughput over the single-CPU one", Value: round2(m.mixed.throughput / m.one.throughput), Unit: "×"},
		lab.Metric{Key: "throughput_ratio.mixed_over_sequential", Name: "Mixed strategy's throughput over sequential", Value: round2(m.mixed.throughput / m.seq.throughput), Unit: "×"},
	)
	out.Result(metrics, []lab.Claim{judgeMixed(m)})
	return nil
}
