package cpuvsiobound

import (
	"fmt"
	"slices"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// Keys of the strategies' ratios; the page's summary shows the first.
const (
	keyMixedOverOne = "throughput_ratio.mixed_over_concurrent_one_cpu"
	keyMixedOverAll = "throughput_ratio.mixed_over_concurrent_all_cpus"
)

// median is the round with the median throughput: the one whose latency
// and CPU figures stand for the strategy.
func median(rs []stratResult) stratResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b stratResult) int {
		switch {
		case a.throughput < b.throughput:
			return -1
		case a.throughput > b.throughput:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

// mixedResult ends the run: every strategy's figures, the pool's lead
// over the others, and the verdicts.
func mixedResult(out *lab.Emitter, rs map[string][]stratResult, n, cores int) error {
	m := mixedMeasured{rounds: rs, cores: cores, load: out.Load()}
	var metrics []lab.Metric
	for _, s := range strategies {
		runs := rs[s.key]
		r := median(runs)
		k := s.metric
		tp := m.throughput(s.key)
		metrics = append(metrics,
			lab.Metric{Key: "throughput." + k, Name: "Throughput, " + s.label, Value: format.Round(tp.Mid, 2), Unit: "requests/s", N: r.processed,
				Note: fmt.Sprintf("median of %d round%s; that round: %d requests in %s, %.2f CPUs kept busy, and other programs %.2f meanwhile (/proc/stat)",
					len(runs), format.Plural(len(runs)), r.processed, r.wall.Round(time.Millisecond/10), r.busy, r.others)},
			r.lat.Metric("latency."+k, "Latency, "+s.label, "ms"),
			lab.Metric{Key: "requests.processed." + k, Name: "Requests processed, " + s.label, Value: float64(r.processed), Unit: "requests", Note: fmt.Sprintf("of %d", n)},
			lab.Metric{Key: "server.queries_answered." + k, Name: "Queries answered by the server, " + s.label, Value: float64(r.queries), Unit: "queries", Note: fmt.Sprintf("%d expected: two per request", r.queriesWanted)},
			lab.Metric{Key: "server.responses_received." + k, Name: "Responses received by the server, " + s.label, Value: float64(r.responses), Unit: "responses", Note: fmt.Sprintf("%d expected", r.respondWanted)},
		)
	}
	pool := m.throughput("mixed").Mid
	metrics = append(metrics,
		lab.Metric{Key: keyMixedOverOne, Name: "The pool's throughput over goroutines on one CPU", Value: format.Round(pool/m.throughput("concurrent-1cpu").Mid, 2), Unit: "×"},
		lab.Metric{Key: keyMixedOverAll, Name: "The pool's throughput over goroutines on all CPUs", Value: format.Round(pool/m.throughput("concurrent-all").Mid, 2), Unit: "×"},
		lab.Metric{Key: "throughput_ratio.mixed_over_sequential", Name: "The pool's throughput over sequential", Value: format.Round(pool/m.throughput("sequential").Mid, 2), Unit: "×"},
	)
	out.Result(metrics, judgeMixed(m))
	return nil
}
