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
	cores                        int      // CPUs the run may use
	tasks                        int      // tasks per batch
	load                         lab.Load // what other programs used of the CPUs meanwhile
}

// judgeScaling holds the three claims against what the curves measured.
func judgeScaling(m scalingMeasured) []lab.Claim {
	return []lab.Claim{
		judgeIO(m.ioAll, m.ioOne, m.most, m.cores, m.tasks, m.load),
		judgeCPU(m.cpuAll, m.most, m.cores, m.load),
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

// stillRising is how much faster the most workers must be than as many
// workers as cores for I/O-bound work to be "still speeding up".
const stillRising = 1.5

func judgeIO(all, one curveFigures, most, cores, tasks int, load lab.Load) lab.Claim {
	wc, sc := speedupNear(all, cores)
	measured := fmt.Sprintf("with %d workers: %s on all CPUs, %s on one CPU; with %d worker%s: %.1f× (%d usable CPU%s)",
		most, all.band(most), one.band(most), wc, format.Plural(wc), sc, cores, format.Plural(cores))
	if most <= cores {
		return claimIOScales.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than this machine has CPUs (%d). Raise the number of workers above %d to test the claim.", cores, cores))
	}
	want := min(float64(2*cores), 0.5*float64(min(most, tasks)))
	var ds []lab.Decision
	for _, c := range []curveFigures{all, one} {
		w, _ := speedupNear(c, cores)
		ds = append(ds, lab.Decide(c.band(most), lab.AtLeast(want), load), lab.Compare(c.band(most), c.band(w), lab.AtLeast(stillRising), load))
	}
	return claimIOScales.Decided(measured, lab.All(ds...), fmt.Sprintf(
		"The waiting tasks stopped gaining before they reached %.0f× (or half as much again as at the core count). Each answer takes a fixed delay, so the limit should be the number of tasks in flight; a very short delay (where the cost of each round trip dominates) or a machine so busy that waking each worker takes milliseconds flattens the curve.", want))
}

func judgeCPU(all curveFigures, most, cores int, load lab.Load) lab.Claim {
	sc := all.speedup[cores]
	bw := peakAt(all, func(w int) bool { return w > cores })
	beyond, peak := all.speedup[bw], maxSpeedup(all.speedup)
	measured := fmt.Sprintf("%s at %d worker%s (the core count), at most %.2f× beyond it; %d workers kept %.2f CPUs busy, %d workers %.2f",
		all.band(cores), cores, format.Plural(cores), beyond, cores, all.busyAt[cores], most, all.busyAt[most])
	switch {
	case cores < 2:
		return claimCPUStops.Judge(fmt.Sprintf("at most %.2f× with up to %d workers on the only usable CPU", peak, most), lab.Inconclusive,
			"This machine lets the run use one CPU, so there is no core count above one for the curve to climb to. It can show that computing gains nothing here (the next claim), not where the curve would stop on more cores.")
	case most <= cores || bw == 0:
		return claimCPUStops.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than CPUs (%d), so it could not show the curve flattening beyond them. Raise the number of workers.", cores))
	}
	pw := peakAt(all, func(int) bool { return true })
	reach := lab.Decide(all.band(cores), lab.AtLeast(0.7*float64(cores)), load)
	flat := lab.Compare(all.band(bw), all.band(cores), lab.AtMost(1.25), load)
	capped := lab.Decide(all.band(pw), lab.AtMost(1.25*float64(cores)), load)
	var problems []string
	if reach.Verdict == lab.Differs {
		problems = append(problems, fmt.Sprintf(
			"It levelled off at %.2f×, below the %d cores: %d workers kept only %.2f CPUs busy, so other programs on this machine held the rest while it ran.", sc, cores, cores, all.busyAt[cores]))
	}
	if flat.Verdict == lab.Differs {
		problems = append(problems, fmt.Sprintf(
			"It kept rising past the core count, which pure computation cannot do: with %d workers the process kept only %.2f CPUs busy, so other programs held part of the machine then, and the later points look better by comparison.", cores, all.busyAt[cores]))
	}
	if capped.Verdict == lab.Differs {
		problems = append(problems, "It rose above the core count, which pure computation cannot do; the one-worker batch must have been slowed by something else, such as another program on its CPU.")
	}
	return claimCPUStops.Decided(measured, lab.All(reach, flat, capped), strings.Join(problems, " "))
}

func judgeOneCPU(one curveFigures, most int, load lab.Load) lab.Claim {
	pw := peakAt(one, func(int) bool { return true })
	measured := fmt.Sprintf("at most %s (with %d worker%s); with the most workers the process kept %.2f CPUs busy", one.band(pw), pw, format.Plural(pw), one.busyAt[most])
	return claimOneCPU.Decided(measured, lab.Decide(one.band(pw), lab.AtMost(1.15), load),
		"On one CPU only one worker can compute at a time, so a gain here means the one-worker batch was slowed by something else on the same CPU while it ran. More rounds per point make that less likely.")
}

func maxSpeedup(m map[int]float64) float64 {
	best := 0.0
	for _, s := range m {
		best = math.Max(best, s)
	}
	return best
}
