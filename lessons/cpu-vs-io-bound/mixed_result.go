package cpuvsiobound

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// stratResult is what one strategy did with the burst.
type stratResult struct {
	s                            strategy
	processed                    int
	queries, responses           int64
	wall                         time.Duration
	busy                         float64 // CPUs this process kept busy on average
	others                       float64 // CPUs other programs kept busy meanwhile
	lat                          lab.Summary
	throughput                   float64 // requests per second
	queriesWanted, respondWanted int
}

// runStrategy serves the burst with one strategy against a fresh slow
// server, reporting progress every 100 ms while it runs.
func runStrategy(ctx context.Context, out *lab.Emitter, s strategy, pl *pipeline, single int) (stratResult, error) {
	srv, err := startServer()
	if err != nil {
		return stratResult{}, err
	}
	defer srv.Close(ctx)
	pl.addr = srv.Addr()
	if s.one {
		defer oneCPU(single)()
	}

	res := stratResult{s: s, queriesWanted: 2 * pl.n, respondWanted: pl.n}
	snapshot := func(final bool) {
		pl.mu.Lock()
		lats := append([]float64(nil), pl.latencies...)
		pl.mu.Unlock()
		el := time.Since(pl.t0)
		if final {
			el = res.wall
		}
		sum := lab.Summarize(lats)
		rps := float64(len(lats)) / el.Seconds()
		state := "running"
		if final {
			state = "finished"
		}
		row := map[string]any{"strategy": s.label, "processed": len(lats), "queries": srv.Answered(), "responses": srv.Responses(),
			"rps": round2(rps), "state": state}
		if len(lats) > 0 {
			row["p50"], row["p99"] = round2(sum.P50), round2(sum.P99)
			out.Bar("latency", "p50", s.label, round2(sum.P50), round2(sum.P50), round2(sum.P50))
			out.Bar("latency", "p99", s.label, round2(sum.P99), round2(sum.P99), round2(sum.P99))
		}
		if final {
			row["busy"], row["others"] = round2(res.busy), round2(res.others)
		}
		out.Bar("throughput", "", s.label, round2(rps), round2(rps), round2(rps))
		out.Row("strategies", s.key, row)
		res.lat, res.throughput, res.processed = sum, rps, len(lats)
	}

	before := probe.ProcessUsage()
	sys0, _, sysErr := probe.SystemCPU()
	pl.t0 = time.Now()
	finished := make(chan error, 1)
	go func() { finished <- s.serve(ctx, pl) }()

	// Sample the count every 25 ms; send the samples every 100 ms.
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var xs, ys []float64
	sample := func() {
		pl.mu.Lock()
		k := len(pl.latencies)
		pl.mu.Unlock()
		xs, ys = append(xs, ms(time.Since(pl.t0))), append(ys, float64(k))
	}
	flush := func() {
		if len(xs) > 0 {
			out.Points("done", s.label, xs, ys)
			xs, ys = nil, nil
		}
	}
	xs, ys = []float64{0}, []float64{0}
	for i := 1; ; i++ {
		select {
		case err := <-finished:
			res.wall = time.Since(pl.t0)
			own := probe.ProcessUsage().Sub(before).CPU()
			res.busy = own.Seconds() / res.wall.Seconds()
			if sys1, _, err := probe.SystemCPU(); err == nil && sysErr == nil {
				res.others = max(0, (sys1-sys0-own).Seconds()/res.wall.Seconds())
			}
			if err != nil {
				return res, err
			}
			sample()
			flush()
			srv.Close(ctx) // every response read and counted before the figures go out
			res.queries, res.responses = srv.Answered(), srv.Responses()
			snapshot(true)
			return res, nil
		case <-tick.C:
			sample()
			if i%4 == 0 {
				flush()
				snapshot(false)
			}
		}
	}
}

func mixedResult(out *lab.Emitter, rs []stratResult, n, cores int) error {
	var metrics []lab.Metric
	for _, r := range rs {
		metrics = append(metrics,
			lab.Metric{Name: "Throughput, " + r.s.label, Value: round2(r.throughput), Unit: "requests/s", N: r.processed,
				Note: fmt.Sprintf("%d requests in %s; %.2f CPUs kept busy, and other programs %.2f meanwhile (/proc/stat)", r.processed, r.wall.Round(time.Millisecond/10), r.busy, r.others)},
			r.lat.Named("Latency, "+r.s.label, "ms"),
			lab.Metric{Name: "Requests processed, " + r.s.label, Value: float64(r.processed), Unit: "requests", Note: fmt.Sprintf("of %d", n)},
			lab.Metric{Name: "Queries answered by the server, " + r.s.label, Value: float64(r.queries), Unit: "queries", Note: fmt.Sprintf("%d expected: two per request", r.queriesWanted)},
			lab.Metric{Name: "Responses received by the server, " + r.s.label, Value: float64(r.responses), Unit: "responses", Note: fmt.Sprintf("%d expected", r.respondWanted)},
		)
	}
	seq, one, mixed := rs[0], rs[1], rs[2]
	metrics = append(metrics,
		lab.Metric{Name: "Mixed strategy's throughput over the single-CPU one", Value: round2(mixed.throughput / one.throughput), Unit: "×"},
		lab.Metric{Name: "Mixed strategy's throughput over sequential", Value: round2(mixed.throughput / seq.throughput), Unit: "×"},
	)

	measured := fmt.Sprintf("mixed %.0f req/s (p50 %.1f ms, p99 %.1f ms) — %.2f× the single-CPU strategy's %.0f req/s (p50 %.1f ms) and %.1f× sequential's %.0f req/s (p50 %.0f ms); CPUs busy %.2f vs %.2f vs %.2f",
		mixed.throughput, mixed.lat.P50, mixed.lat.P99, mixed.throughput/one.throughput, one.throughput, one.lat.P50,
		mixed.throughput/seq.throughput, seq.throughput, seq.lat.P50, mixed.busy, one.busy, seq.busy)
	var claim lab.Claim
	switch {
	case cores < 2:
		claim = claimMixedWins.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable here, so the pool has a single worker and the mixed strategy is the single-CPU strategy in other clothes. It still beats sequential; beating the single-CPU strategy needs a second core.")
	case mixed.throughput > 1.1*one.throughput && mixed.throughput > 1.1*seq.throughput && mixed.lat.P50 < one.lat.P50 && mixed.lat.P50 < seq.lat.P50:
		claim = claimMixedWins.Judge(measured, lab.Holds, "")
	case mixed.others > 0.5:
		// The pool is sized to the cores; if other programs held a good
		// part of them, the comparison says more about them than about
		// the strategy.
		claim = claimMixedWins.Judge(measured+fmt.Sprintf("; other programs kept %.2f CPUs busy during the mixed run", mixed.others), lab.Inconclusive, fmt.Sprintf(
			"Other programs on this machine kept %.2f of its %d CPUs busy while the mixed strategy ran, so its pool never had the cores it is sized for. Run it again when the machine is quieter.", mixed.others, cores))
	case mixed.throughput >= 0.9*one.throughput && mixed.throughput > 1.1*seq.throughput:
		claim = claimMixedWins.Judge(measured, lab.Differs, fmt.Sprintf(
			"The mixed strategy was no more than 10%% ahead of the single-CPU one. It can only win on the computing, and it kept %.2f CPUs busy against %.2f: when computing is a small part of each request, a second core has little to add.",
			mixed.busy, one.busy))
	default:
		claim = claimMixedWins.Judge(measured, lab.Differs,
			"The mixed strategy lost, although the machine's other programs left its cores mostly free. Handing each hash to the pool costs two channel hand-offs per request, which only pays when the computing is large enough to keep more than one core busy.")
	}
	out.Result(metrics, []lab.Claim{claim})
	return nil
}
