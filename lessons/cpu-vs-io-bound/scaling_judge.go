package cpuvsiobound

import (
	"fmt"
	"math"
	"strings"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// curveFigures is what one curve of the scaling experiment measured, as
// its verdicts read it.
type curveFigures struct {
	speedup map[int]float64   // by worker count: the one-worker time ÷ the time with that many, fastest rounds
	rounds  map[int][]float64 // by worker count: that speedup, round by round
	busyAt  map[int]float64   // CPUs kept busy by the fastest batch of each point
}

// band is the speedup with w workers as the verdict rule reads it: its
// rounds when it has several, else the one figure.
func (c curveFigures) band(w int) lab.Band {
	if rs := c.rounds[w]; len(rs) > 1 {
		return lab.BandOfValues(rs, "×")
	}
	s, ok := c.speedup[w]
	if !ok {
		return lab.Band{Unit: "×"}
	}
	return lab.Once(s, "×")
}

// scalingMeasured is everything the scaling verdicts need: the four
// curves and the run's shape.
type scalingMeasured struct {
	ioAll, ioOne, cpuAll, cpuOne curveFigures
	most                         int      // the most workers, the last point of every curve
	cpus                         int      // logical CPUs the run may use
	cores                        int      // physical cores under them: fewer than cpus with hyper-threads
	tasks                        int      // tasks per batch
	load                         lab.Load // what other programs used of the CPUs meanwhile
}

// judgeScaling holds the three claims against what the curves measured.
func judgeScaling(m scalingMeasured) []lab.Claim {
	return []lab.Claim{
		judgeIO(m.ioAll, m.ioOne, m.most, m.cpus, m.tasks, m.load),
		judgeCPU(m.cpuAll, m.most, m.cpus, m.cores, m.load),
		judgeOneCPU(m.cpuOne, m.most, m.load),
	}
}

// speedupNear is the speedup at the largest worker count not above n.
func speedupNear(c curveFigures, n int) (int, float64) {
	bw, bs := 1, 1.0
	for w, s := range c.speedup {
		if w <= n && w >= bw {
			bw, bs = w, s
		}
	}
	return bw, bs
}

// peakAt is the worker count with the highest speedup, among those the
// filter keeps; 0 when there is none.
func peakAt(c curveFigures, keep func(w int) bool) int {
	best, bw := math.Inf(-1), 0
	for w, s := range c.speedup {
		if keep(w) && (s > best || (s == best && w < bw)) {
			best, bw = s, w
		}
	}
	return bw
}

// judgeIO: "keeps speeding up as workers are added, far past the number of
// cores". Far past is lab.Far times the CPUs (counting hyper-threads, the
// larger number): the speedup with the most workers must reach that, and
// still be above its figure at the CPU count (lab.More), on all CPUs and
// on one. A run without twice that many workers and tasks cannot show it.
func judgeIO(all, one curveFigures, most, cores, tasks int, load lab.Load) lab.Claim {
	wc, sc := speedupNear(all, cores)
	measured := fmt.Sprintf("with %d workers: %s on all CPUs, %s on one CPU; with %d worker%s: %.1f× (%d usable CPU%s)",
		most, all.band(most), one.band(most), wc, format.Plural(wc), sc, cores, format.Plural(cores))
	far := lab.Far * float64(cores)
	if float64(min(most, tasks)) < 2*far {
		return claimIOScales.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"To show speeding up far past the %d CPU%s (to %.0f×), the run needs at least %.0f workers and tasks; it had %d workers and %d tasks. Raise both.",
			cores, format.Plural(cores), far, 2*far, most, tasks))
	}
	var ds []lab.Decision
	for _, c := range []curveFigures{all, one} {
		w, _ := speedupNear(c, cores)
		ds = append(ds, lab.Decide(c.band(most), lab.AtLeast(far), load), lab.Compare(c.band(most), c.band(w), lab.AtLeast(lab.More), load))
	}
	return claimIOScales.Decided(measured, lab.All(ds...), fmt.Sprintf(
		"The waiting tasks stopped gaining before they reached %.0f×, five times the %d CPU%s. Each answer takes a fixed delay, so the limit should be the number of tasks in flight; a very short delay (where the cost of each round trip dominates) or a machine so busy that waking each worker takes milliseconds flattens the curve.",
		far, cores, format.Plural(cores)))
}

// judgeCPU: "stops speeding up at the number of cores". The cores are the
// physical ones: hyper-threads share a core's units, and whether they add
// speed is what the curve beyond the cores shows. About the cores at the
// core count, then about no more (the rule's quarter both ways).
func judgeCPU(all curveFigures, most, cpus, cores int, load lab.Load) lab.Claim {
	sc := all.speedup[cores]
	bw := peakAt(all, func(w int) bool { return w > cores })
	beyond, peak := all.speedup[bw], maxSpeedup(all.speedup)
	measured := fmt.Sprintf("%s at %d worker%s (the core count), at most %.2f× beyond it; %d workers kept %.2f CPUs busy, %d workers %.2f",
		all.band(cores), cores, format.Plural(cores), beyond, cores, all.busyAt[cores], most, all.busyAt[most])
	if cpus > cores {
		measured += fmt.Sprintf(" (%d logical CPUs on %d cores: hyper-threads)", cpus, cores)
	}
	switch {
	case cores < 2:
		return claimCPUStops.Judge(fmt.Sprintf("at most %.2f× with up to %d workers on the only usable CPU", peak, most), lab.Inconclusive,
			"This machine lets the run use one CPU, so there is no core count above one for the curve to climb to. It can show that computing gains nothing here (the next claim), not where the curve would stop on more cores.")
	case most <= cores || bw == 0:
		return claimCPUStops.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than cores (%d), so it could not show the curve flattening beyond them. Raise the number of workers.", cores))
	}
	pw := peakAt(all, func(int) bool { return true })
	reach := lab.Decide(all.band(cores), lab.AboutAsMuch(float64(cores)), load)
	flat := lab.Compare(all.band(bw), all.band(cores), lab.AtMost(1).About(), load)
	capped := lab.Decide(all.band(pw), lab.AtMost(float64(cores)).About(), load)
	var problems []string
	if reach.Verdict == lab.Differs {
		problems = append(problems, fmt.Sprintf(
			"At the core count it reached %.2f×, not about %d: %d workers kept %.2f CPUs busy.", sc, cores, cores, all.busyAt[cores]))
	}
	if flat.Verdict == lab.Differs || capped.Verdict == lab.Differs {
		if cpus > cores {
			problems = append(problems, fmt.Sprintf(
				"It kept rising past the %d cores, up to %.2f×: the machine's %d hyper-threads let a second worker on each core use the units the first leaves idle. That is extra speed from the same cores, usually a tenth to a third more, not more cores.", cores, peak, cpus-cores))
		} else {
			problems = append(problems, fmt.Sprintf(
				"It kept rising past the core count, which pure computation cannot do: with %d workers the process kept only %.2f CPUs busy, so other programs held part of the machine then, or the one-worker batch was slowed.", cores, all.busyAt[cores]))
		}
	}
	return claimCPUStops.Decided(measured, lab.All(reach, flat, capped), strings.Join(problems, " "))
}

// judgeOneCPU: "no speedup at all" on one CPU, read as about 1 at most
// (the rule's quarter, for the noise of one-worker batches).
func judgeOneCPU(one curveFigures, most int, load lab.Load) lab.Claim {
	pw := peakAt(one, func(int) bool { return true })
	measured := fmt.Sprintf("at most %s (with %d worker%s); with the most workers the process kept %.2f CPUs busy", one.band(pw), pw, format.Plural(pw), one.busyAt[most])
	return claimOneCPU.Decided(measured, lab.Decide(one.band(pw), lab.AtMost(1).About(), load),
		"On one CPU only one worker can compute at a time, so a gain here means the one-worker batch was slowed by something else on the same CPU while it ran. More rounds per point make that less likely.")
}

func maxSpeedup(m map[int]float64) float64 {
	best := 0.0
	for _, s := range m {
		best = math.Max(best, s)
	}
	return best
}
