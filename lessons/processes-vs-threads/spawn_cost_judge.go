package processesvsthreads

import (
	"fmt"

	"conclab/internal/lab"
)

// spawnMeasured is what spawn-cost measured: µs to create and finish one
// unit of each kind, one value per unit.
type spawnMeasured struct {
	n                          int // units of each kind asked for
	goroutine, thread, process lab.Summary
	binTrue                    *lab.Summary // nil without /bin/true
	load                       lab.Load     // what other programs used of the CPUs meanwhile
}

// set records the timings of one kind, by its spawnKind key.
func (m *spawnMeasured) set(key string, s lab.Summary) {
	switch key {
	case "goroutine":
		m.goroutine = s
	case "thread":
		m.thread = s
	case "process":
		m.process = s
	case "true":
		m.binTrue = &s
	}
}

// spawnMetrics are the result's figures: the median cost of each kind
// (spawn.<kind>) and the ratios between them (spawn.ratio.*).
func spawnMetrics(m spawnMeasured) []lab.Metric {
	note := fmt.Sprintf("%d units, one at a time, each timed from the request until it had finished", m.n)
	each := func(key, label string, s lab.Summary) lab.Metric {
		x := s.Metric(key, "Create and finish, "+label, "µs")
		x.Note = note
		return x
	}
	metrics := []lab.Metric{
		each("spawn.goroutine", "goroutine", m.goroutine),
		each("spawn.thread", "OS thread", m.thread),
		each("spawn.process", "process (this program)", m.process),
	}
	if m.binTrue != nil {
		metrics = append(metrics, each("spawn.process.bin_true", "process (/bin/true)", *m.binTrue))
	}
	metrics = append(metrics,
		lab.Metric{Key: "spawn.ratio.process_thread", Name: "Ratio process / thread", Value: m.process.P50 / m.thread.P50, Unit: "×", Note: "medians"},
		lab.Metric{Key: "spawn.ratio.thread_goroutine", Name: "Ratio thread / goroutine", Value: m.thread.P50 / m.goroutine.P50, Unit: "×", Note: "medians"},
	)
	if m.binTrue != nil {
		metrics = append(metrics, lab.Metric{Key: "spawn.ratio.program_bin_true", Name: "Ratio this program / /bin/true", Value: m.process.P50 / m.binTrue.P50, Unit: "×",
			Note: "what the Go runtime and this program's start-up add to a bare fork, exec and exit"})
	}
	return metrics
}

// judgeSpawnCost holds the order process > thread > goroutine, each step
// with the cheap end of the dearer kind above the dear end of the cheaper
// one (the verdict rule's comparison).
func judgeSpawnCost(m spawnMeasured) lab.Claim {
	g, t, p := m.goroutine, m.thread, m.process
	if g.N == 0 || t.N == 0 || p.N == 0 {
		return claimSpawnOrder.Judge(fmt.Sprintf("%d processes, %d threads and %d goroutines timed", p.N, t.N, g.N), lab.Inconclusive,
			"Some kind of unit was not timed at all, so there is nothing to put in order.")
	}
	bp, bt, bg := lab.BandOf(p, "µs"), lab.BandOf(t, "µs"), lab.BandOf(g, "µs")
	pt, tg := lab.Ratio(bp, bt), lab.Ratio(bt, bg)
	measured := fmt.Sprintf("process %s, thread %s, goroutine %s (medians of %d each): a process costs %s a thread, a thread %s a goroutine",
		micro(p.P50), micro(t.P50), micro(g.P50), p.N, pt, tg)
	// "Costs more": above 1 (lab.More), the cheap end of the dearer kind
	// above the dear end of the cheaper one.
	dpt, dtg := lab.Compare(bp, bt, lab.AtLeast(lab.More), m.load), lab.Compare(bt, bg, lab.AtLeast(lab.More), m.load)
	why := "A process did not cost more than a thread here, which would be very unusual; a heavily loaded machine can distort single timings, so run it again."
	if dtg.Verdict == lab.Differs {
		why = "A goroutine did not come out cheaper than a thread here. That would mean the thread was not really new; look at the evidence table's distinct ids."
	}
	return claimSpawnOrder.Decided(measured, lab.All(dpt, dtg), why)
}
