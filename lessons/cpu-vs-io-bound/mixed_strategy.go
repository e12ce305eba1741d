package cpuvsiobound

import (
	"context"
	"errors"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
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
	othersUnknown                bool    // /proc/stat could not be read, so others is not known
	lat                          lab.Summary
	throughput                   float64 // requests per second
	queriesWanted, respondWanted int
}

// runStrategy serves the burst with one strategy against a fresh slow
// server, reporting progress every 100 ms while it runs; only the first
// round draws its line on the chart of requests answered.
func runStrategy(ctx context.Context, out *lab.Emitter, s strategy, pl *pipeline, single, round int) (_ stratResult, err error) {
	srv, err := kit.StartSlowServer(nil)
	if err != nil {
		return stratResult{}, err
	}
	defer srv.Close(ctx)
	pl.addr = srv.Addr()
	if s.one {
		restore, perr := oneCPU(single)
		if perr != nil {
			return stratResult{}, perr
		}
		defer func() { err = errors.Join(err, restore()) }()
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
			"rps": format.Round(rps, 2), "state": state}
		if len(lats) > 0 {
			row["p50"], row["p99"] = format.Round(sum.P50, 2), format.Round(sum.P99, 2)
			out.Bar("latency", "p50", s.label, format.Round(sum.P50, 2), format.Round(sum.P50, 2), format.Round(sum.P50, 2))
			out.Bar("latency", "p99", s.label, format.Round(sum.P99, 2), format.Round(sum.P99, 2), format.Round(sum.P99, 2))
		}
		if final {
			row["busy"], row["others"] = format.Round(res.busy, 2), format.Round(res.others, 2)
		}
		out.Bar("throughput", "", s.label, format.Round(rps, 2), format.Round(rps, 2), format.Round(rps, 2))
		out.Row("strategies", s.key, row)
		res.lat, res.throughput, res.processed = sum, rps, len(lats)
	}

	before := probe.ProcessUsage()
	sys0, _, sysErr := probe.SystemCPU()
	pl.t0 = time.Now()
	finished := make(chan error, 1)
	go func() { finished <- s.serve(ctx, pl) }()

	// Sample the count every 25 ms; the series and the live figures go
	// out at most every 100 ms.
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var done *lab.Series
	if round == 0 {
		done = out.Series("done", s.label)
		done.Add(0, 0)
	}
	live := lab.NewThrottle(0)
	sample := func() {
		if done == nil {
			return
		}
		pl.mu.Lock()
		k := len(pl.latencies)
		pl.mu.Unlock()
		done.Add(format.Round(format.Ms(time.Since(pl.t0)), 3), float64(k))
	}
	for {
		select {
		case err := <-finished:
			res.wall = time.Since(pl.t0)
			own := probe.ProcessUsage().Sub(before).CPU()
			res.busy = own.Seconds() / res.wall.Seconds()
			if sys1, _, err := probe.SystemCPU(); err == nil && sysErr == nil {
				res.others = max(0, (sys1-sys0-own).Seconds()/res.wall.Seconds())
			} else {
				res.othersUnknown = true
			}
			if err != nil {
				return res, err
			}
			sample()
			if done != nil {
				done.Flush()
			}
			srv.Close(ctx) // every response read and counted before the figures go out
			res.queries, res.responses = srv.Answered(), srv.Responses()
			snapshot(true)
			return res, nil
		case <-tick.C:
			sample()
			if live.Due() {
				snapshot(false)
			}
		}
	}
}
