package choosing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// labMeasured is what the lab measured, as its verdict reads it: the
// workload as set, the CPUs the pools used, and every strategy's rounds.
type labMeasured struct {
	cpuMs, ioMs float64       // a task's computation and wait, as set
	tasks       int           // tasks in the workload
	delay       time.Duration // the server's delay per task
	workers     int           // the pools' size: the CPUs work can really run on
	rounds      int           // rounds every strategy ran
	tally       map[string]*tally
	load        lab.Load // what other programs used of the CPUs meanwhile
}

// judgeWorkload holds the rule of thumb for the workload's class against
// the strategies' measured wall times.
func judgeWorkload(m labMeasured) lab.Claim {
	class, share := classify(m.cpuMs, m.ioMs)
	for _, s := range strategies {
		if t := m.tally[s.key]; t == nil || len(t.walls) == 0 {
			return claimRule.Judge(fmt.Sprintf("%s workload (%.0f%% computing, as set); %s has no finished round", class, share*100, s.name), lab.Inconclusive,
				fmt.Sprintf("%s never finished a round, so there is no ranking of all five strategies to hold the rule against.", capital(s.name)))
		}
	}
	rank := m.ranked()
	return m.judge(class, share, rank, m.pick(class, rank))
}

// ranked returns the strategies from fastest to slowest median wall time.
func (m labMeasured) ranked() []*tally {
	out := make([]*tally, 0, len(strategies))
	for _, s := range strategies {
		out = append(out, m.tally[s.key])
	}
	slices.SortStableFunc(out, func(a, b *tally) int {
		switch wa, wb := a.wall().P50, b.wall().P50; {
		case wa < wb:
			return -1
		case wa > wb:
			return 1
		}
		return 0
	})
	return out
}

// pick is the fastest of the strategies the rule recommends for class.
func (m labMeasured) pick(class string, rank []*tally) *tally {
	return rank[slices.IndexFunc(rank, func(t *tally) bool { return slices.Contains(picks(class), t.s.key) })]
}

// judge holds the rule of thumb against the ranking. pick is the fastest
// of the strategies the rule recommends. The claim holds when it finished
// first or within noise of first; a tie is called a tie, with the reason
// it is one. When the pick lost by more than noise the verdict is differs,
// and why says what cost it the race.
func (m labMeasured) judge(class string, share float64, rank []*tally, pick *tally) lab.Claim {
	fastest := rank[0]
	measured := fmt.Sprintf("%s workload (%.0f%% computing, as set). The rule picks %s", class, share*100, pickNames(class))
	if len(picks(class)) > 1 {
		measured += fmt.Sprintf("; the better of them, %s, took %.1f ms", pick.s.name, pick.wall().P50)
	} else {
		measured += fmt.Sprintf(": %.1f ms", pick.wall().P50)
	}
	if pick == fastest {
		measured += ", the fastest."
	} else {
		measured += fmt.Sprintf(". Fastest: %s, %.1f ms.", fastest.s.name, fastest.wall().P50)
	}
	measured += fmt.Sprintf(" Medians of %d round%s of %d tasks.", m.rounds, format.Pick(m.rounds, "", "s"), m.tasks)
	if m.workers < 2 && class != ioBound {
		return claimRule.Judge(measured, lab.Inconclusive,
			"Only one CPU is usable on this host, so no strategy can compute in parallel and the rule's advice for computation cannot be tested here.")
	}

	if m.load.Busy() {
		// The rule's busy verdict, whatever the ranking: the wall times
		// are partly other programs'.
		d := lab.Decide(ratioOf(pick, rank[0]), lab.AtMost(1+noise), m.load)
		return claimRule.Judge(measured, lab.Inconclusive, d.Why)
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
		measured += fmt.Sprintf(" The next, %s, took %s.", next.s.name, longer(pick, next))
		return claimRule.Judge(measured, lab.Holds, m.asides(class, pick))
	case pick == fastest || within(pick, fastest).Verdict == lab.Holds:
		var names []string
		for _, t := range others {
			names = append(names, fmt.Sprintf("%s (%s)", t.s.name, rel(pick, t)))
		}
		measured += " Within noise of it: " + strings.Join(names, ", ") + "."
		why := "A tie rather than a clear win: these finished within 10% of each other, beyond the spread of their rounds. " + m.tieReason(class, pick, others)
		return claimRule.Judge(measured, lab.Holds, strings.TrimSpace(why+" "+m.asides(class, pick)))
	}
	if d := within(pick, fastest); d.Verdict == lab.Inconclusive {
		measured += fmt.Sprintf(" The pick took %s the fastest's time.", ratioOf(pick, fastest))
		return claimRule.Judge(measured, lab.Inconclusive, d.Why)
	}
	return claimRule.Judge(measured, lab.Differs, m.missReason(class, pick, fastest))
}

// longer says how much longer b took than a: "19% longer" or, past
// double, "3.2× as long".
func longer(a, b *tally) string {
	if g := gap(a, b); g < 100 {
		return fmt.Sprintf("%.0f%% longer", g)
	}
	return fmt.Sprintf("%.1f× as long", b.wall().P50/a.wall().P50)
}

// tieReason says why strategies came out level.
func (m labMeasured) tieReason(class string, pick *tally, others []*tally) string {
	keys := []string{pick.s.key}
	for _, t := range others {
		keys = append(keys, t.s.key)
	}
	both := func(a, b string) bool { return slices.Contains(keys, a) && slices.Contains(keys, b) }
	switch {
	case pick.s.key == kOneCPU:
		total := float64(m.tasks) * m.cpuPerTask()
		if total < format.Ms(m.delay) {
			return fmt.Sprintf("With this little computation (%.1f ms for all %d tasks, less than one wait of %.1f ms) one CPU keeps up: "+
				"while the tasks wait, more CPUs have nothing to do.", total, m.tasks, format.Ms(m.delay))
		}
		return fmt.Sprintf("One CPU kept pace with all of them although the computation added up to %.1f ms. The other CPUs may have been "+
			"busy with other programs: this machine is shared, and the host panel says how many CPUs it has.", total)
	case both(kMixed, kAllCPUs):
		return "Go's goroutines on all CPUs already spread the computation over every core, which is what the CPU pool is for; " +
			"the pool changes how long each task waits for a CPU, not the total."
	case slices.Contains(keys, kProcesses):
		return "The work was large enough to pay for starting the pool's processes."
	}
	return "The difference is smaller than what this machine varies by from run to run."
}

// cpuPerTask is the time one task spent hashing in the first sequential
// round, in ms.
func (m labMeasured) cpuPerTask() float64 {
	first := m.tally[kSequential].first
	return format.Ms(first.cpuWall) / max(float64(first.done), 1)
}

// asides say what cost the strategies the rule allowed but that lost:
// the process pool's start-up for CPU-bound work, and the one CPU of
// async for I/O-bound work whose computation adds up.
func (m labMeasured) asides(class string, pick *tally) string {
	var out []string
	if pool := m.tally[kProcesses]; class == cpuBound && pick != pool && !tied(pick, pool) {
		out = append(out, fmt.Sprintf("The process pool took %s: starting its %d process%s took %.1f ms, and every task crossed a pipe twice.",
			longer(pick, pool), m.workers, format.Pick(m.workers, "", "es"), lab.Summarize(pool.startups).P50))
	}
	if one := m.tally[kOneCPU]; class == ioBound && pick != one && !tied(pick, one) {
		out = append(out, fmt.Sprintf("Async on one CPU took %s. %s", longer(pick, one), m.overlapNote()))
	}
	return strings.Join(out, " ")
}

// overlapNote explains why one CPU falls behind on work that mostly
// waits: the waits overlap, the computation does not.
func (m labMeasured) overlapNote() string {
	return fmt.Sprintf("Each task mostly waits, but the waits overlap: all %d tasks together waited about one wait (%.1f ms), "+
		"while their computation added up to %.1f ms, which one CPU has to do one task after another and all CPUs share out.",
		m.tasks, format.Ms(m.delay), float64(m.tasks)*m.cpuPerTask())
}

// missReason explains why the rule's pick lost by more than noise.
func (m labMeasured) missReason(class string, pick, fastest *tally) string {
	seqTotal := m.tally[kSequential].wall().P50
	head := fmt.Sprintf("%s finished in %.1f ms; the rule's pick, %s, took %s (%.1f ms), which is more than this machine's noise. ",
		capital(fastest.s.name), fastest.wall().P50, pick.s.name, longer(fastest, pick), pick.wall().P50)
	var why string
	switch {
	case seqTotal < 30:
		why = fmt.Sprintf("The tasks are tiny: the whole job took %.1f ms one task at a time, so fixed costs (starting processes, "+
			"handing work to a pool, starting goroutines) weigh more than what running in parallel saves.", seqTotal)
	case class == cpuBound && (fastest.s.key == kAllCPUs || fastest.s.key == kMixed):
		why = fmt.Sprintf("Goroutines are already parallel workers: Go's scheduler runs them on every core, with or without a pool in front. The process pool "+
			"paid %.1f ms to start its processes and a pipe round trip per task. In a language whose threads cannot compute in parallel (CPython's) the process pool is the way to every core; in Go it is the dearer one.",
			lab.Summarize(m.tally[kProcesses].startups).P50)
	case class == mixed && fastest.s.key == kAllCPUs:
		why = "Go's scheduler already runs the goroutines' computation in parallel on every core, so handing it to a separate pool " +
			"only added a hand-off per task and a queue in front of the CPUs."
	case class == mixed && fastest.s.key == kOneCPU:
		why = "The computation was small next to the waits, so one CPU kept up with it, and the CPU pool's hand-offs cost more than the extra CPUs gave."
	default:
		why = "The machine may have been busy with other work during some strategies; run it again to see whether the order repeats."
	}
	if m.rounds == 1 {
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
