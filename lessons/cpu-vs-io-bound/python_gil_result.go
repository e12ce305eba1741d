package cpuvsiobound

import (
	"fmt"

	"conclab/internal/lab"
)

// pythonUnavailable ends the run when there is no Python with a GIL to
// measure: status ok, both claims inconclusive, and why in plain words.
func pythonUnavailable(out *lab.Emitter, found float64, why string) error {
	metrics := []lab.Metric{{Name: "python3 found", Value: found, Unit: "", Note: "1 when python3 is on the PATH, 0 when it is not"}}
	out.Result(metrics, []lab.Claim{
		claimThreadsNoHelp.Judge("nothing: "+why, lab.Inconclusive, why),
		claimProcsHelp.Judge("nothing: "+why, lab.Inconclusive, why),
	})
	return nil
}

func gilResult(out *lab.Emitter, vs []*variant, n, cores int, info pyLine) error {
	t1, tn, p1, pn := vs[0], vs[1], vs[2], vs[3]
	st := t1.best.Seconds() / tn.best.Seconds()
	sp := p1.best.Seconds() / pn.best.Seconds()
	busy := func(v *variant) float64 { return v.cpu.Seconds() / v.best.Seconds() }
	metrics := []lab.Metric{
		{Name: "python3 found", Value: 1, Note: fmt.Sprintf("%s %s", info.Implementation, info.Version)},
		{Name: fmt.Sprintf("Speedup with %d threads", n), Value: round2(st), Unit: "×", Note: "time with 1 thread ÷ time with N"},
		{Name: fmt.Sprintf("Speedup with %d processes", n), Value: round2(sp), Unit: "×", Note: "time with 1 process ÷ time with N"},
	}
	for _, v := range vs {
		metrics = append(metrics, lab.Metric{Name: "Wall time, " + v.label, Value: ms(v.best), Unit: "ms", Note: "fastest round"})
	}
	for _, v := range []*variant{tn, pn} {
		metrics = append(metrics, lab.Metric{Name: "CPUs busy, " + v.label, Value: round2(busy(v)), Unit: "CPUs",
			Note: "CPU time of the workers (time.thread_time) ÷ wall time"})
	}
	ideal := min(n, cores)
	noise := 0.0 // the largest spread between a variant's slowest and fastest round
	for _, v := range vs {
		noise = max(noise, v.slowest.Seconds()/v.best.Seconds()-1)
	}

	tm := fmt.Sprintf("%.2f× with %d threads (%.0f ms against %.0f ms for one); together they kept %.2f CPUs busy",
		st, n, ms(tn.best), ms(t1.best), busy(tn))
	pm := fmt.Sprintf("%.2f× with %d processes (%.0f ms against %.0f ms for one), keeping %.2f CPUs busy; at most %d× is possible on %d usable CPU%s",
		sp, n, ms(pn.best), ms(p1.best), busy(pn), ideal, cores, plural(cores))
	var claims []lab.Claim
	if cores < 2 {
		why := "Only one CPU is usable here, so nothing can run at the same time whatever the GIL does: the single CPU hides the difference between threads and processes."
		claims = []lab.Claim{claimThreadsNoHelp.Judge(tm, lab.Inconclusive, why), claimProcsHelp.Judge(pm, lab.Inconclusive, why)}
		out.Result(metrics, claims)
		return nil
	}
	switch {
	case st <= 1.25:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Holds, ""))
	case busy(tn) <= 1.1:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Inconclusive, fmt.Sprintf(
			"The clock says the threads were faster, but together they never kept more than %.2f CPUs busy: they did not run Python at the same time. The one-thread round was slowed by other programs on this machine, so this comparison is noise. Run it again.", busy(tn))))
	default:
		claims = append(claims, claimThreadsNoHelp.Judge(tm, lab.Differs, fmt.Sprintf(
			"The threads finished faster together than one thread alone and kept %.2f CPUs busy, so they did run at the same time. With a GIL that should not happen for pure Python code.", busy(tn))))
	}
	switch {
	case sp >= 0.7*float64(ideal) && sp > 1.3*st:
		claims = append(claims, claimProcsHelp.Judge(pm, lab.Holds, ""))
	case noise > 0.25:
		claims = append(claims, claimProcsHelp.Judge(pm+fmt.Sprintf("; a variant took up to %.0f%% longer in one round than in another", 100*noise), lab.Inconclusive, fmt.Sprintf(
			"The processes gained less than expected, but other programs were competing for the CPUs: the same variant's rounds differed by up to %.0f%%, and the processes kept only %.2f CPUs busy. Run it again when the machine is quieter.", 100*noise, busy(pn))))
	default:
		claims = append(claims, claimProcsHelp.Judge(pm, lab.Differs, fmt.Sprintf(
			"The processes gained less than expected: they kept only %.2f CPUs busy, so other programs on this machine held part of the CPUs, or the loop was so short that starting the processes took a large share of it.", busy(pn))))
	}
	out.Result(metrics, claims)
	return nil
}
