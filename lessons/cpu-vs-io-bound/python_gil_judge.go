package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/lab"
)

// variantTimes is what one variant of python-gil measured over its rounds.
type variantTimes struct {
	best    time.Duration // fastest round
	cpu     time.Duration // workers' CPU time in the fastest round
	slowest time.Duration // slowest round
}

// busy is the CPUs the variant's workers kept busy in its fastest round.
func (v variantTimes) busy() float64 { return v.cpu.Seconds() / v.best.Seconds() }

// gilMeasured is what python-gil measured, as its verdicts read it: the
// four variants, the number of workers and the usable CPUs.
type gilMeasured struct {
	t1, tn, p1, pn variantTimes
	n, cores       int
}

func (m gilMeasured) threadSpeedup() float64  { return m.t1.best.Seconds() / m.tn.best.Seconds() }
func (m gilMeasured) processSpeedup() float64 { return m.p1.best.Seconds() / m.pn.best.Seconds() }

// judgeNoPython is both verdicts when there was no Python with a GIL to
// measure: nothing was measured, and why says so.
func judgeNoPython(why string) []lab.Claim {
	return []lab.Claim{
		claimThreadsNoHelp.Judge("nothing: "+why, lab.Inconclusive, why),
		claimProcsHelp.Judge("nothing: "+why, lab.Inconclusive, why),
	}
}

// judgeGIL holds the two claims against the four variants' times.
func judgeGIL(m gilMeasured) []lab.Claim {
	st, sp := m.threadSpeedup(), m.processSpeedup()
	n, cores := m.n, m.cores
	ideal := min(n, cores)
	noise := 0.0 // the largest spread between a variant's slowest and fastest round
	for _, v := range []variantTimes{m.t1, m.tn, m.p1, m.pn} {
		noise = max(noise, v.slowest.Seconds()/v.best.Seconds()-1)
	}

	tm := fmt.Sprintf("%.2f× with %d threads (%.0f ms against %.0f ms for one); together they kept %.2f CPUs busy",
		st, n, ms(m.tn.best), ms(m.t1.best), m.tn.busy())
	pm := fmt.Sprintf("%.2f× with %d processes (%.0f ms against %.0f ms for one), keeping %.2f CPUs busy; at most %d× is possible on %d usable CPU%s",
		sp, n, ms(m.pn.best), ms(m.p1.best), m.pn.busy(), ideal, cores, plural(cores))
	if cores < 2 {
		why := "Only one CPU is usable here, so nothing can run at the same time whatever the GIL does: the single CPU hides the difference between threads and processes."
		return []lab.Claim{claimThreadsNoHelp.Judge(tm, lab.Inconclusive, why), claimProcsHelp.Judge(pm, lab.Inconclusive, why)}
	}
	var claims []lab.Claim
	switch {
	case st <= 1.25:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Holds, ""))
	case m.tn.busy() <= 1.1:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Inconclusive, fmt.Sprintf(
			"The clock says the threads were faster, but together they never kept more than %.2f CPUs busy: they did not run Python at the same time. The one-thread round was slowed by other programs on this machine, so this comparison is noise. Run it again.", m.tn.busy())))
	default:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Differs, fmt.Sprintf(
			"The threads finished faster together than one thread alone and kept %.2f CPUs busy, so they did run at the same time. With a GIL that should not happen for pure Python code.", m.tn.busy())))
	}
	switch {
	case sp >= 0.7*float64(ideal) && sp > 1.3*st:
		claims = append(claims, claimProcsHelp.Judge(pm, lab.Holds, ""))
	case noise > 0.25:
		claims = append(claims, claimProcsHelp.Judge(pm+fmt.Sprintf("; a variant took up to %.0f%% longer in one round than in another", 100*noise), lab.Inconclusive, fmt.Sprintf(
			"The processes gained less than expected, but other programs were competing for the CPUs: the same variant's rounds differed by up to %.0f%%, and the processes kept only %.2f CPUs busy. Run it again when the machine is quieter.", 100*noise, m.pn.busy())))
	default:
		claims = append(claims, claimProcsHelp.Judge(pm, lab.Differs, fmt.Sprintf(
			"The processes gained less than expected: they kept only %.2f CPUs busy, so other programs on this machine held part of the CPUs, or the loop was so short that starting the processes took a large share of it.", m.pn.busy())))
	}
	return claims
}
