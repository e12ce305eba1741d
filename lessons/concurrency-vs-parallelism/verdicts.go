package concurrencyvsparallelism

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// verdictContext is what the verdicts need to know about the host.
type verdictContext struct {
	cpus    int           // CPUs the parallel and combined timelines were given
	cores   int           // physical cores under them; 0 means as many as cpus
	alone   time.Duration // one task's work timed alone on one CPU (calibrated)
	allowed int           // CPUs in the affinity mask
	quota   float64       // cgroup quota in CPUs, 0 for none
	asked   int           // CPUs the learner asked for
	load    lab.Load      // what other programs used of the CPUs meanwhile
}

// judgeTurns holds the concurrent timeline against the first claim.
func judgeTurns(r *phaseResult, load lab.Load) lab.Claim {
	if r == nil {
		return claimTurns.Judge("not run", lab.Inconclusive, "This run had no concurrent timeline. Choose the mode concurrent or all.")
	}
	cpu := r.cpus[0]
	sum, wall := r.cpuTime(), r.wall
	ratio := float64(wall) / float64(max(sum, 1))
	turns := turnChanges(r)
	others := wall - r.busy()[cpu]
	measured := fmt.Sprintf("%d turn changes on CPU %d among %d tasks; wall %.0f ms vs %.0f ms of CPU time summed (ratio %.2f)",
		turns, cpu, len(r.tasks), format.Ms(wall), format.Ms(sum), ratio)
	seen := r.cpusSeen()
	switch {
	case len(seen) != 1:
		return claimTurns.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The tasks were pinned to CPU %d but the samples saw CPUs %s: pinning did not hold on this host, so this is not a one-CPU run.", cpu, cpuList(seen)))
	case turns < len(r.tasks):
		return claimTurns.Judge(measured, lab.Differs,
			"The kernel let the tasks run one after another instead of taking turns. That happens when each task's work is shorter than a time slice; give the tasks more work.")
	case ratio < 1/(1+lab.AboutSlack):
		return claimTurns.Judge(measured, lab.Inconclusive,
			"The tasks' CPU time adds up to more than the wall time, which one CPU cannot do; the kernel's CPU-time accounting was too coarse for this short run.")
	}
	// "About the sum": the rule's quarter either way. One timeline gives
	// one ratio, so the rule has no spread to read.
	return claimTurns.Decided(measured, lab.Decide(lab.Once(ratio, "×"), lab.AboutAsMuch(1), load), fmt.Sprintf(
		"For %.0f ms of the %.0f ms none of the tasks was running on CPU %d: the kernel gave it to other programs on this machine (other runs, the system itself), so the wall time grew beyond the tasks' own CPU time.",
		format.Ms(others), format.Ms(wall), cpu))
}

// judgeOverlap holds the parallel timeline (or else the combined one)
// against the second claim.
func judgeOverlap(results map[string]*phaseResult, vc verdictContext) lab.Claim {
	r := results["parallel"]
	if r == nil {
		r = results["combined"]
	}
	if r == nil {
		return claimOverlap.Judge("not run", lab.Inconclusive, "This run had only the concurrent timeline. Choose parallel, combined or all.")
	}
	n := vc.cpus
	seen := r.cpusSeen()
	// The claim is about the wall time: against the concurrent timeline's
	// (the same tasks on one CPU) when it ran, else against one CPU doing
	// every task's work one after another, as timed alone.
	sp, ref := r.speedup(vc.alone), fmt.Sprintf("%d × %.0f ms of work timed alone", len(r.tasks), format.Ms(vc.alone))
	if c := results["concurrent"]; c != nil && r.mode == "parallel" && r.wall > 0 {
		sp, ref = float64(c.wall)/float64(r.wall), fmt.Sprintf("the concurrent timeline's %.0f ms", format.Ms(c.wall))
	}
	ov := r.overlap()
	measured := fmt.Sprintf("%s timeline on %d CPU%s: the tasks ran on CPU %s, at least two of them at once for %.0f of %.0f ms; by the wall clock %.2f× as fast as one CPU (%s ÷ wall %.0f ms), keeping %.2f CPUs busy",
		r.mode, n, format.Pick(n, "", "s"), cpuList(seen), format.Ms(ov), format.Ms(r.wall), sp, ref, format.Ms(r.wall), r.busyCPUs())
	if n == 1 {
		why := "You chose one CPU, so the tasks could only take turns. Choose 2 or more CPUs to see them overlap."
		if vc.asked > 1 {
			why = "Only one CPU is usable here: " + usableWhy(vc.allowed, vc.quota) +
				". With one CPU the tasks can only take turns, so parallelism cannot be shown on this host."
		}
		return claimOverlap.Judge(measured, lab.Inconclusive, why)
	}
	if len(seen) < 2 {
		return claimOverlap.Judge(measured, lab.Differs,
			"Every sample came from one CPU, so the tasks never ran in parallel; the kernel kept them together even though they were allowed elsewhere.")
	}
	// "Drops toward 1/N": a speedup of about N by the wall clock (the
	// rule's quarter); "overlap in time": for most of it (lab.Most).
	d := lab.All(
		lab.Decide(lab.Once(sp, "×"), lab.AboutAsMuch(float64(n)), vc.load),
		lab.Decide(lab.Once(float64(ov)/float64(max(r.wall, 1)), ""), lab.AtLeast(lab.Most), vc.load),
	)
	why := fmt.Sprintf("The tasks did overlap, but less than %d CPUs allow: %s. On a busy host other runs and programs take CPU time the tasks were counting on.", n, gaps(r))
	if vc.cores > 0 && vc.cores < n {
		why = fmt.Sprintf("The %d CPUs sit on %d physical cores: the others are hyper-threads, which share a core's units. The tasks kept %.2f CPUs busy, yet finished only %.2f× as fast as one CPU: two threads on one core each compute slower. Choose %d CPUs or fewer to give each task a core of its own.",
			n, vc.cores, r.busyCPUs(), sp, vc.cores)
	}
	return claimOverlap.Decided(measured, d, why)
}

// gaps says, for each CPU, how long it ran none of the tasks between the
// start and the last moment a task ran there: time other programs had.
func gaps(r *phaseResult) string {
	busy := r.busy()
	var parts []string
	for cpu, list := range r.byCPU() {
		var last time.Duration
		for _, s := range list {
			last = max(last, s.end)
		}
		parts = append(parts, fmt.Sprintf("CPU %d ran none of the tasks for %.0f of its %.0f ms", cpu, format.Ms(max(0, last-busy[cpu])), format.Ms(last)))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// cpuList writes CPU numbers as "0, 1".
func cpuList(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, ", ")
}
