package choosing

import (
	"fmt"
	"slices"
	"strings"

	"conclab/internal/lab"
)

// judge holds the rule of thumb against the ranking. The rule's pick
// holds when it finished first or within noise of first; a tie is called
// a tie, with the reason it is one. When the pick lost by more than noise
// the verdict is differs, and why says what cost it the race.
func (r *labRun) judge(class string, share float64, rank []*tally, pick *tally) lab.Claim {
	fastest := rank[0]
	measured := fmt.Sprintf("%s workload (%.0f%% computing, as set). The rule picks %s: %.1f ms", class, share*100, pick.s.name, pick.wall().P50)
	if pick == fastest {
		measured += ", the fastest."
	} else {
		measured += fmt.Sprintf(". Fastest: %s, %.1f ms.", fastest.s.name, fastest.wall().P50)
	}
	measured += fmt.Sprintf(" Medians of %d round%s of %d tasks.", r.rounds, plural(r.rounds, "s"), r.w.n)
	if r.env.workers < 2 && class != ioBound {
		return claimRule.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable on this host, so no strategy can compute in parallel and the rule's advice for computation cannot be tested here.")
	}

	var others []*tally // strategies within noise of first, besides the pick
	for _, t := range rank {
		if t != pick && tied(fastest, t) && tied(pick, t) {
			others = append(others, t)
		}
	}
	switch {
	case pick == fastest && len(others) == 0:
		next := rank[1]
		measured += fmt.Sprintf(" The next, %s, was %.0f%% slower.", next.s.name, gap(pick, next))
		return claimRule.Judge(measured, lab.Holds, r.aside(class, pick))
	case pick == fastest || tied(fastest, pick):
		var names []string
		for _, t := range others {
			names = append(names, fmt.Sprintf("%s (%+.0f%%)", t.s.name, gap(pick, t)))
		}
		measured += " Within noise of the pick: " + strings.Join(names, ", ") + "."
		why := "A tie rather than a clear win: these finished within this machine's noise of each other (under 10% apart, or the slower one's best round was as fast as the other's median). " +
			r.tieReason(class, pick, others)
		return claimRule.Judge(measured, lab.Holds, strings.TrimSpace(why+" "+r.aside(class, pick)))
	}
	return claimRule.Judge(measured, lab.Differs, r.missReason(class, pick, fastest))
}

func has(ts []*tally, key string) bool {
	return slices.ContainsFunc(ts, func(t *tally) bool { return t.s.key == key })
}

// tieReason says why strategies came out level.
func (r *labRun) tieReason(class string, pick *tally, others []*tally) string {
	switch {
	case pick.s.key == kMixed && has(others, kAllCPUs):
		return "Go's goroutines on all CPUs already spread the computation over every core, which is what the CPU pool is for; " +
			"the pool changes how long each task waits for a CPU, not the total."
	case class == ioBound && (has(others, kAllCPUs) || has(others, kMixed)):
		return "With this little computation one CPU keeps up: while every task waits, more CPUs have nothing to do."
	case has(others, kProcesses):
		return "The work was large enough to pay for starting the pool's processes."
	}
	return "The difference is smaller than what this machine varies by from run to run."
}

// aside notes what the process pool cost, when the rule allowed it and
// another pick won.
func (r *labRun) aside(class string, pick *tally) string {
	pool := r.tally[kProcesses]
	if class != cpuBound || pick == pool || tied(pick, pool) {
		return ""
	}
	return fmt.Sprintf("The process pool came in %.0f%% behind: starting its %d process%s took %.1f ms, and every task crossed a pipe twice.",
		gap(pick, pool), r.env.workers, plural(r.env.workers, "es"), lab.Summarize(pool.startups).P50)
}

// missReason explains why the rule's pick lost by more than noise.
func (r *labRun) missReason(class string, pick, fastest *tally) string {
	n := float64(r.w.n)
	first := r.tally[kSequential].first
	cpuPer := ms(first.cpuWall) / max(float64(first.done), 1)
	ioPer := r.w.delay.Seconds() * 1000
	seqTotal := r.tally[kSequential].wall().P50
	head := fmt.Sprintf("%s finished in %.1f ms; the rule's pick, %s, took %.1f ms, %.0f%% longer, which is more than this machine's noise. ",
		capital(fastest.s.name), fastest.wall().P50, pick.s.name, pick.wall().P50, gap(fastest, pick))
	var why string
	switch {
	case class == ioBound && fastest.s.key != kOneCPU && n*cpuPer > 0.3*ioPer:
		why = fmt.Sprintf("Each task mostly waits, but the waits overlap: all %d tasks together waited about one wait (%.1f ms), "+
			"while their computation added up to %.1f ms, which one CPU has to do one task after another. The computation set the pace, "+
			"so the strategies with all CPUs won. Async on one CPU wins when the total computation is small next to a single wait.",
			r.w.n, ioPer, n*cpuPer)
	case seqTotal < 30:
		why = fmt.Sprintf("The tasks are tiny: the whole job took %.1f ms one task at a time, so fixed costs (starting processes, "+
			"handing work to a pool, starting goroutines) weigh more than what running in parallel saves.", seqTotal)
	case class == cpuBound && fastest.s.key == kAllCPUs:
		why = fmt.Sprintf("Goroutines on all CPUs are already parallel workers: Go's scheduler runs them on every core. The process pool "+
			"also paid %.1f ms to start its processes and a pipe round trip per task; the CPU pool a hand-off per task.",
			lab.Summarize(r.tally[kProcesses].startups).P50)
	case class == mixed && fastest.s.key == kAllCPUs:
		why = "Go's scheduler already runs the goroutines' computation in parallel on every core, so handing it to a separate pool " +
			"only added a hand-off per task and a queue in front of the CPUs."
	case class == mixed && fastest.s.key == kOneCPU:
		why = "The computation was small next to the waits, so one CPU kept up with it, and the CPU pool's hand-offs cost more than the extra CPUs gave."
	default:
		why = "The machine may have been busy with other work during some strategies; run it again to see whether the order repeats."
	}
	if r.rounds == 1 {
		why += " With one round there is no spread to judge the noise by; more rounds show whether this repeats."
	}
	return head + why
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
