package choosing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"conclab/internal/format"
	"conclab/internal/lab"
)

var claimRule = lab.Claim{
	Claim: "The rule of thumb for this workload's class picks the fastest strategy: I/O-bound → async or green threads " +
		"(goroutines on one CPU or on all CPUs); CPU-bound → parallel processes (the process pool, as multiprocessing or Web Workers would be); " +
		"mixed → async I/O plus a CPU worker pool.",
	Expected: "the rule's pick finishes first, or at most a tenth behind the fastest, round by round beyond the noise of the rounds (a CPU-bound workload needs two CPUs or more)",
}

// Workload classes, from the CPU share of a task as the learner set it.
const (
	ioBound  = "I/O-bound"
	cpuBound = "CPU-bound"
	mixed    = "mixed"
)

// classify names the workload's class from what one task does: waiting
// 80 % of the time or more is I/O-bound, computing 80 % or more is
// CPU-bound, anything between is mixed. A task that does neither still
// makes a request, so it counts as I/O.
func classify(cpuMs, ioMs float64) (string, float64) {
	share := 0.0
	if cpuMs+ioMs > 0 {
		share = cpuMs / (cpuMs + ioMs)
	}
	switch {
	case share <= 0.2:
		return ioBound, share
	case share >= 0.8:
		return cpuBound, share
	}
	return mixed, share
}

// picks are the strategies the rule of thumb recommends for a class.
func picks(class string) []string {
	switch class {
	case ioBound:
		return []string{kOneCPU, kAllCPUs}
	case cpuBound:
		// The seed's "parallel processes" (multiprocessing, Web Workers):
		// the process pool alone. The goroutines' CPU pool is all but a
		// copy of goroutines on all CPUs; counting it would let the rule
		// win whenever goroutines do, and never put processes at risk.
		return []string{kProcesses}
	}
	return []string{kMixed}
}

// noise is the relative gap under which two wall times count as a tie:
// the claim's own figure, "at most a tenth behind the fastest".
const noise = 0.10

// wallBand is a strategy's wall time over its rounds, as the verdict rule
// reads it.
func wallBand(t *tally) lab.Band { return lab.BandOf(t.wall(), "ms") }

// ratioOf is a's wall time over b's: round by round when both ran the same
// rounds (the strategies take turns, so a slow spell of the machine falls
// on both), from the spreads of their rounds otherwise.
func ratioOf(a, b *tally) lab.Band {
	return lab.RoundByRound(a.walls, b.walls, wallBand(a), wallBand(b))
}

// within is the verdict rule on "a took at most 10% longer than b",
// beyond the noise of both strategies' rounds.
func within(a, b *tally) lab.Decision {
	return lab.Decide(ratioOf(a, b), lab.AtMost(1+noise), lab.NotTimed)
}

// tied reports whether two strategies are within this machine's noise of
// each other: the slower one is not clearly more than 10% slower than the
// faster, by the verdict rule (its rounds' spread and the other's taken
// together). Interference from other programs only ever adds time, so a
// spread that straddles the 10% counts as a tie, not as a loss.
func tied(a, b *tally) bool {
	fast, slow := a, b
	if slow.wall().P50 < fast.wall().P50 {
		fast, slow = slow, fast
	}
	return within(slow, fast).Verdict != lab.Differs
}

// gap is how much slower b was than a, in percent of a.
func gap(a, b *tally) float64 { return (b.wall().P50/a.wall().P50 - 1) * 100 }

// rel is b's time next to a's, briefly: "+8%", "-3%" or, past double,
// "×2.4".
func rel(a, b *tally) string {
	if g := gap(a, b); g < 100 {
		return fmt.Sprintf("%+.0f%%", g)
	}
	return fmt.Sprintf("×%.1f", b.wall().P50/a.wall().P50)
}

// finish ranks the strategies, emits the ranking table and ends the run
// with the metrics and the verdict.
func (r *labRun) finish(cpuMs, ioMs, rate float64) error {
	m := labMeasured{cpuMs: cpuMs, ioMs: ioMs, tasks: r.w.n, delay: r.w.delay, workers: r.env.workers, rounds: r.rounds, tally: r.tally, load: r.out.Load()}
	class, share := classify(cpuMs, ioMs)
	rank := m.ranked()
	fastest := rank[0]
	r.out.Log(fmt.Sprintf("The workload is %s: a task computes %.0f%% of its time as set. The rule of thumb picks %s.", class, share*100, pickNames(class)))

	for i, t := range rank {
		var notes []string
		switch {
		case i == 0:
			notes = append(notes, "fastest")
		case tied(fastest, t):
			notes = append(notes, fmt.Sprintf("within noise of the fastest (%s)", rel(fastest, t)))
		}
		if slices.Contains(picks(class), t.s.key) {
			notes = append(notes, "the rule of thumb's pick")
		}
		if t.s.key == kProcesses {
			notes = append(notes, fmt.Sprintf("%.1f ms of it starting the processes", lab.Summarize(t.startups).P50))
		}
		w := t.wall()
		r.out.Row("ranking", strconv.Itoa(i+1), map[string]any{
			"rank": i + 1, "strategy": t.s.name, "wall": format.Sig(w.P50, 3), "vs": format.Sig(w.P50/fastest.wall().P50, 3),
			"cpu": format.Sig(t.cpu().P50, 3), "memory": format.Sig(float64(t.rss)/(1<<20), 3), "note": strings.Join(notes, "; "),
		})
	}

	metrics := r.metrics(rank, share, rate)
	r.out.Result(metrics, []lab.Claim{judgeWorkload(m)})
	return nil
}

func pickNames(class string) string {
	var names []string
	for _, k := range picks(class) {
		names = append(names, strategyByKey(k).name)
	}
	return strings.Join(names, " or ")
}

// keySpeedup is the key of the fastest strategy's speed-up over
// sequential, the figure the lab offers to the course's recap.
const keySpeedup = "speedup.fastest_over_sequential"

// metrics are the run's figures: each strategy's wall time, CPU time and
// memory, the speed-up of the fastest, and the workload as measured.
func (r *labRun) metrics(rank []*tally, share, rate float64) []lab.Metric {
	var out []lab.Metric
	how := fmt.Sprintf("median of %d round%s of %d tasks", r.rounds, format.Pick(r.rounds, "", "s"), r.w.n)
	for _, s := range strategies {
		t := r.tally[s.key]
		m := t.wall().Metric("wall."+s.metric(), "Wall time, "+s.name, "ms")
		m.Note = how
		out = append(out, m)
	}
	seq, fastest := r.tally[kSequential], rank[0]
	out = append(out, lab.Metric{Key: keySpeedup, Name: "Speed-up of the fastest strategy over sequential", Value: format.Sig(seq.wall().P50/fastest.wall().P50, 3), Unit: "×",
		Note: fmt.Sprintf("%s vs sequential, %s", fastest.s.name, how)})
	for _, s := range strategies {
		t := r.tally[s.key]
		m := t.cpu().Metric("cpu_time."+s.metric(), "CPU time, "+s.name, "ms")
		m.Note = "getrusage user + system; the pool's includes its worker processes"
		out = append(out, m)
	}
	for _, s := range strategies {
		t := r.tally[s.key]
		note := "peak resident memory of this process, sampled every 25 ms"
		if s.key == kProcesses {
			note = "this process's sampled peak plus each worker process's peak (getrusage maxrss)"
		}
		out = append(out, lab.Metric{Key: "memory.peak." + s.metric(), Name: "Peak memory, " + s.name, Value: format.Sig(float64(t.rss)/(1<<20), 3), Unit: "MiB", Note: note})
	}
	st := lab.Summarize(r.tally[kProcesses].startups)
	m := st.Metric("processes.startup", "Start-up of the process pool", "ms")
	m.Note = fmt.Sprintf("from starting %d worker process%s until the last said ready", r.env.workers, format.Pick(r.env.workers, "", "es"))
	out = append(out, m)

	first := seq.first
	n := float64(max(first.done, 1))
	out = append(out,
		lab.Metric{Key: "workload.cpu_share", Name: "Computing share of a task, as set", Value: format.Sig(share*100, 3), Unit: "%"},
		lab.Metric{Key: "workload.cpu_per_task", Name: "Computation per task, measured", Value: format.Sig(format.Ms(first.cpuWall)/n, 3), Unit: "ms", Note: "wall time hashing, first sequential round"},
		lab.Metric{Key: "workload.io_per_task", Name: "I/O wait per task, measured", Value: format.Sig(format.Ms(first.ioWall)/n, 3), Unit: "ms", Note: "connect, request and answer from the server, first sequential round"},
		lab.Metric{Key: "hash.rate", Name: "Hashing rate, one thread", Value: format.Sig(rate, 3), Unit: "SHA-256 rounds/ms", Note: "median of 3 calibration trials, CPU time of one thread"},
	)
	return out
}
