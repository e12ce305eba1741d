package cpuvsiobound

import (
	"fmt"
	"math"
	"strings"

	"conclab/internal/lab"
)

// curveFigures is what one curve of the scaling experiment measured, as
// its verdicts read it.
type curveFigures struct {
	speedup map[int]float64 // by worker count: the one-worker time ÷ the time with that many
	busyAt  map[int]float64 // CPUs kept busy by the fastest batch of each point
	noise   float64         // largest slowest-to-fastest spread of a batch over its rounds, minus 1
}

// scalingMeasured is everything the scaling verdicts need: the four
// curves and the run's shape.
type scalingMeasured struct {
	ioAll, ioOne, cpuAll, cpuOne curveFigures
	most                         int // the most workers, the last point of every curve
	cores                        int // CPUs the run may use
	tasks                        int // tasks per batch
}

// judgeScaling holds the three claims against what the curves measured.
func judgeScaling(m scalingMeasured) []lab.Claim {
	return []lab.Claim{
		judgeIO(m.ioAll, m.ioOne, m.most, m.cores, m.tasks),
		noisy(judgeCPU(m.cpuAll, m.most, m.cores), m.cpuAll),
		noisy(judgeOneCPU(m.cpuOne, m.most), m.cpuOne),
	}
}

// noisy turns a differs into inconclusive when the curve's own rounds
// disagreed by more than a quarter: other programs were competing for the
// CPUs, and the disagreement is more likely theirs than the claim's. A
// claim that holds in spite of such noise still holds: noise can only
// slow batches down, and it did not make this curve look wrong.
func noisy(c lab.Claim, cv curveFigures) lab.Claim {
	if c.Verdict != lab.Differs || cv.noise <= 0.25 {
		return c
	}
	c.Measured += fmt.Sprintf("; the same batch took up to %.0f%% longer in one round than in another", 100*cv.noise)
	c.Verdict = lab.Inconclusive
	c.Why = fmt.Sprintf("Other programs were competing for the CPUs while this ran: the same batch took up to %.0f%% longer in one round than in another, more than the effect being judged. Run it again when the machine is quieter, or with more rounds.", 100*cv.noise)
	return c
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

func judgeIO(all, one curveFigures, most, cores, tasks int) lab.Claim {
	wc, sc := speedupNear(all, cores)
	measured := fmt.Sprintf("with %d workers: %.1f× on all CPUs, %.1f× on one CPU; with %d worker%s: %.1f× (%d usable CPU%s)",
		most, all.speedup[most], one.speedup[most], wc, plural(wc), sc, cores, plural(cores))
	if most <= cores {
		return claimIOScales.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than this machine has CPUs (%d). Raise the number of workers above %d to test the claim.", cores, cores))
	}
	want := min(float64(2*cores), 0.5*float64(min(most, tasks)))
	ok := true
	for _, c := range []curveFigures{all, one} {
		_, s := speedupNear(c, cores)
		if c.speedup[most] < want || c.speedup[most] < 1.5*s {
			ok = false
		}
	}
	if ok {
		return claimIOScales.Judge(measured, lab.Holds, "")
	}
	return claimIOScales.Judge(measured, lab.Differs,
		"The waiting tasks stopped gaining before they reached several times the core count. Each answer takes a fixed delay, so the limit should be the number of tasks in flight; a very short delay (where the cost of each round trip dominates) or a machine so busy that waking each worker takes milliseconds flattens the curve.")
}

func judgeCPU(all curveFigures, most, cores int) lab.Claim {
	sc := all.speedup[cores]
	beyond, peak := 0.0, maxSpeedup(all.speedup)
	for w, s := range all.speedup {
		if w > cores {
			beyond = math.Max(beyond, s)
		}
	}
	measured := fmt.Sprintf("%.2f× at %d worker%s (the core count), at most %.2f× beyond it; %d workers kept %.2f CPUs busy, %d workers %.2f",
		sc, cores, plural(cores), beyond, cores, all.busyAt[cores], most, all.busyAt[most])
	switch {
	case cores < 2:
		return claimCPUStops.Judge(fmt.Sprintf("at most %.2f× with up to %d workers on the only usable CPU", peak, most), lab.Inconclusive,
			"This machine lets the run use one CPU, so there is no core count above one for the curve to climb to. It can show that computing gains nothing here (the next claim), not where the curve would stop on more cores.")
	case most <= cores:
		return claimCPUStops.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than CPUs (%d), so it could not show the curve flattening beyond them. Raise the number of workers.", cores))
	}
	var problems []string
	if sc < 0.7*float64(cores) {
		problems = append(problems, fmt.Sprintf(
			"It levelled off at %.2f×, below the %d cores: %d workers kept only %.2f CPUs busy, so other programs on this machine held the rest while it ran.", sc, cores, cores, all.busyAt[cores]))
	}
	if beyond > 1.25*sc {
		problems = append(problems, fmt.Sprintf(
			"It kept rising past the core count, which pure computation cannot do: with %d workers the process kept only %.2f CPUs busy, so other programs held part of the machine then, and the later points look better by comparison.", cores, all.busyAt[cores]))
	}
	if peak > 1.25*float64(cores) {
		problems = append(problems, "It rose above the core count, which pure computation cannot do; the one-worker batch must have been slowed by something else, such as another program on its CPU.")
	}
	if len(problems) == 0 {
		return claimCPUStops.Judge(measured, lab.Holds, "")
	}
	return claimCPUStops.Judge(measured, lab.Differs, strings.Join(problems, " "))
}

func judgeOneCPU(one curveFigures, most int) lab.Claim {
	peak := maxSpeedup(one.speedup)
	measured := fmt.Sprintf("at most %.2f× at any worker count; with the most workers the process kept %.2f CPUs busy", peak, one.busyAt[most])
	if peak <= 1.15 {
		return claimOneCPU.Judge(measured, lab.Holds, "")
	}
	return claimOneCPU.Judge(measured, lab.Differs,
		"On one CPU only one worker can compute at a time, so a gain here means the one-worker batch was slowed by something else on the same CPU while it ran. More rounds per point make that less likely.")
}

func maxSpeedup(m map[int]float64) float64 {
	best := 0.0
	for _, s := range m {
		best = math.Max(best, s)
	}
	return best
}
