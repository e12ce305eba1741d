package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// variantTimes is what one variant of python-gil measured over its rounds.
type variantTimes struct {
	best    time.Duration   // fastest round
	cpu     time.Duration   // workers' CPU time in the fastest round
	slowest time.Duration   // slowest round
	walls   []time.Duration // every round
}

// busy is the CPUs the variant's workers kept busy in its fastest round.
func (v variantTimes) busy() float64 { return v.cpu.Seconds() / v.best.Seconds() }

// band is the variant's wall time over its rounds, in seconds; without
// rounds, its fastest.
func (v variantTimes) band() lab.Band {
	if len(v.walls) == 0 {
		if v.best <= 0 {
			return lab.Band{Unit: "s"}
		}
		return lab.Once(v.best.Seconds(), "s")
	}
	return lab.BandOfValues(v.seconds(), "s")
}

// seconds is the variant's wall time in each round.
func (v variantTimes) seconds() []float64 {
	s := make([]float64, len(v.walls))
	for i, w := range v.walls {
		s[i] = w.Seconds()
	}
	return s
}

// speedup is one worker's time over N workers', round against round: the
// script takes the variants in turns, round after round, so a slow spell
// of the machine slows both sides of a round and cancels in its ratio.
func speedup(one, many variantTimes) lab.Band {
	return lab.RoundByRound(one.seconds(), many.seconds(), one.band(), many.band())
}

// speedups is the speedup of each round.
func speedups(one, many variantTimes) []float64 {
	a, b := one.seconds(), many.seconds()
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		r[i] = a[i] / b[i]
	}
	return r
}

// ftMeasured is what the free-threaded build's threads measured.
type ftMeasured struct {
	t1, tn  variantTimes
	version string
	exe     string
	gil     bool // the build can run without a GIL, but its GIL was on
}

// gilMeasured is what python-gil measured, as its verdicts read it: the
// four variants of the default build (when it ran), the free-threaded
// build's threads (when there is one), the workers and the usable CPUs.
type gilMeasured struct {
	t1, tn, p1, pn variantTimes
	measured       bool   // the default build ran its four variants
	noGIL          string // why the default build's claims have nothing to judge
	ft             *ftMeasured
	ftWhy          string // why the free-threaded build was not measured
	n, cores       int    // workers; logical CPUs the run may use
	physical       int    // physical cores under them (fewer with hyper-threads); 0 means as many as cores
	load           lab.Load
}

func (m gilMeasured) threadSpeedup() float64  { return m.t1.best.Seconds() / m.tn.best.Seconds() }
func (m gilMeasured) processSpeedup() float64 { return m.p1.best.Seconds() / m.pn.best.Seconds() }

// judgeNoPython is every verdict when there was no Python to measure:
// nothing was measured, and why says so.
func judgeNoPython(why string) []lab.Claim {
	return []lab.Claim{
		claimThreadsNoHelp.Judge("nothing: "+why, lab.Inconclusive, why),
		claimProcsHelp.Judge("nothing: "+why, lab.Inconclusive, why),
		claimAnyBuild.Judge("nothing: "+why, lab.Inconclusive, why),
	}
}

// judgeGIL holds the three claims against what the builds measured.
func judgeGIL(m gilMeasured) []lab.Claim {
	var claims []lab.Claim
	if m.measured {
		claims = judgeDefaultBuild(m)
	} else {
		claims = judgeNoPython(m.noGIL)[:2]
	}
	return append(claims, judgeFreeThreaded(m))
}

// judgeDefaultBuild holds the claims about the GIL's build.
func judgeDefaultBuild(m gilMeasured) []lab.Claim {
	n, cores := m.n, m.cores
	// "Up to the number of cores": processes on two hyper-threads of one
	// core share its units, so the ideal counts physical cores.
	physical := cores
	if m.physical > 0 {
		physical = min(cores, m.physical)
	}
	ideal := min(n, physical)
	st, sp := speedup(m.t1, m.tn), speedup(m.p1, m.pn)
	tm := fmt.Sprintf("%s with %d threads (%.0f ms against %.0f ms for one, fastest rounds); together they kept %.2f CPUs busy",
		st, n, format.Round(format.Ms(m.tn.best), 3), format.Round(format.Ms(m.t1.best), 3), m.tn.busy())
	pm := fmt.Sprintf("%s with %d processes (%.0f ms against %.0f ms for one), keeping %.2f CPUs busy; about %d× is possible with %d core%s usable",
		sp, n, format.Round(format.Ms(m.pn.best), 3), format.Round(format.Ms(m.p1.best), 3), m.pn.busy(), ideal, physical, format.Plural(physical))
	if cores < 2 {
		why := "Only one CPU is usable here, so nothing can run at the same time whatever the GIL does: the single CPU hides the difference between threads and processes."
		return []lab.Claim{claimThreadsNoHelp.Judge(tm, lab.Inconclusive, why), claimProcsHelp.Judge(pm, lab.Inconclusive, why)}
	}
	// "Do not speed up": a speedup of about 1 at most (the rule's quarter).
	why := fmt.Sprintf("The threads finished faster together than one thread alone and kept %.2f CPUs busy, so they did run at the same time. With a GIL that should not happen for pure Python code.", m.tn.busy())
	if m.tn.busy() <= 1.25 {
		why = fmt.Sprintf("The clock says the threads were faster, yet together they kept only %.2f CPUs busy: they did not run Python at the same time. The one-thread rounds must have been slowed by something else, such as another program on their CPU that the load figure did not catch; run it again.", m.tn.busy())
	}
	claims := []lab.Claim{claimThreadsNoHelp.Decided(tm, lab.Decide(st, lab.AtMost(1).About(), m.load), why)}
	// "Close to N times faster, up to the number of cores": about the
	// ideal (the rule's quarter below it), and faster than the threads
	// (lab.More), beyond the noise of both.
	dp := lab.All(
		lab.Decide(sp, lab.AtLeast(float64(ideal)).About(), m.load),
		lab.Decide(lab.RoundByRound(speedups(m.p1, m.pn), speedups(m.t1, m.tn), sp, st), lab.AtLeast(lab.More), m.load),
	)
	return append(claims, claimProcsHelp.Decided(pm, dp, fmt.Sprintf(
		"The processes gained less than expected: they kept only %.2f CPUs busy, so other programs on this machine held part of the CPUs, or the loop was so short that starting the processes took a large share of it.", m.pn.busy())))
}

// judgeFreeThreaded holds the GIL claim, stated for every build, against
// the free-threaded build's threads: where that build is installed it is
// a differs, and why says what the build changes.
func judgeFreeThreaded(m gilMeasured) lab.Claim {
	ft := m.ft
	if ft == nil {
		return claimAnyBuild.Judge("not measured: no free-threaded CPython here", lab.Inconclusive, m.ftWhy)
	}
	st := speedup(ft.t1, ft.tn)
	fm := fmt.Sprintf("free-threaded CPython %s (%s): %s with %d threads (%.0f ms against %.0f ms for one), keeping %.2f CPUs busy",
		ft.version, ft.exe, st, m.n, format.Round(format.Ms(ft.tn.best), 3), format.Round(format.Ms(ft.t1.best), 3), ft.tn.busy())
	switch {
	case ft.gil:
		return claimAnyBuild.Judge(fm, lab.Inconclusive,
			"This build can run without a GIL, but its GIL was switched on for this run (PYTHON_GIL=1, or an extension module that needs it), so its threads took turns like the default build's. The claim about a build without a GIL was not tested.")
	case m.cores < 2:
		return claimAnyBuild.Judge(fm, lab.Inconclusive,
			"Only one CPU is usable here, so even threads without a GIL cannot run at the same time.")
	}
	// The claim is written to be refuted: stated for every build, it is
	// held to the same words as the default build's ("cannot speed up":
	// about 1 at most) and differs wherever the build without a GIL runs.
	return claimAnyBuild.Decided(fm, lab.Decide(st, lab.AtMost(1).About(), m.load), fmt.Sprintf(
		"As expected of this claim, written to be refuted: this is the free-threaded build (PEP 703), it has no GIL, so its threads ran Python bytecode at the same time and kept %.2f CPUs busy. The GIL claim is true of the default build, which is what python3 usually is; it is not true of CPython as such. The free-threaded build pays for it with slower single threads and extensions that must be rebuilt for it.",
		ft.tn.busy()))
}
