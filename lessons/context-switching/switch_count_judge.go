package contextswitching

import (
	"fmt"
	"strconv"
	"time"

	"conclab/internal/lab"
)

// countMeasured is everything a switch-count run measured: the rules
// below turn it into metrics and verdicts without measuring anything.
type countMeasured struct {
	k, nCPU int       // contending threads, and the CPUs both settings used
	units   int64     // work units per round
	labels  [2]string // one thread per CPU, then K threads
	rounds  [2][]countRound
	load    lab.Load // what other programs used of the CPUs meanwhile
}

// countRound is one round of switch-count.
type countRound struct {
	wall        time.Duration
	voluntary   int64
	involuntary int64
}

// throughput summarises a setting's rounds in million units per second.
func (m countMeasured) throughput(setting int) lab.Summary {
	v := make([]float64, 0, len(m.rounds[setting]))
	for _, r := range m.rounds[setting] {
		if r.wall > 0 {
			v = append(v, float64(m.units)/r.wall.Seconds()/1e6)
		}
	}
	return lab.Summarize(v)
}

// involuntary is a setting's mean involuntary switches per round.
func (m countMeasured) involuntary(setting int) float64 {
	rs := m.rounds[setting]
	if len(rs) == 0 {
		return 0
	}
	var sum float64
	for _, r := range rs {
		sum += float64(r.involuntary)
	}
	return sum / float64(len(rs))
}

// switchBand is a setting's involuntary switches per round as a band, each
// round counted as at least one switch: a ratio to a round with none would
// be infinite, and one switch is as quiet as a CPU gets.
func (m countMeasured) switchBand(setting int) lab.Band {
	v := make([]float64, 0, len(m.rounds[setting]))
	for _, r := range m.rounds[setting] {
		v = append(v, max(1, float64(r.involuntary)))
	}
	return lab.BandOfValues(v, "switches")
}

// sliceMs is how long a contended thread ran, on average, between two
// involuntary switches: wall time × CPUs ÷ switches; 0 without switches.
func (m countMeasured) sliceMs() float64 {
	rs := m.rounds[1]
	invK := m.involuntary(1)
	if len(rs) == 0 || invK <= 0 {
		return 0
	}
	var wall time.Duration
	for _, r := range rs {
		wall += r.wall
	}
	wall /= time.Duration(len(rs))
	return wall.Seconds() * 1e3 * float64(m.nCPU) / invK
}

// switchCountResult turns a run's measurements into its metrics and claims.
func switchCountResult(m countMeasured) ([]lab.Metric, []lab.Claim) {
	note := "getrusage(RUSAGE_THREAD) summed over the threads, mean of " + strconv.Itoa(countRounds) + " rounds"
	metrics := []lab.Metric{
		{Key: "involuntary_switches.one_per_cpu", Name: "Involuntary switches, " + m.labels[0], Value: m.involuntary(0), Unit: "per round", Note: note},
		{Key: "involuntary_switches.contended", Name: "Involuntary switches, " + m.labels[1], Value: m.involuntary(1), Unit: "per round", Note: note},
		m.throughput(0).Metric("throughput.one_per_cpu", "Throughput, "+m.labels[0], "M units/s"),
		m.throughput(1).Metric("throughput.contended", "Throughput, "+m.labels[1], "M units/s"),
		{Key: "time_between_switches.contended", Name: "Time a thread ran between involuntary switches", Value: m.sliceMs(), Unit: "ms", Note: "wall time × CPUs ÷ involuntary switches, contended rounds"},
	}
	return metrics, []lab.Claim{judgeInvoluntary(m), judgeLostThroughput(m)}
}

// switchRounds is a setting's involuntary switches, round by round, each
// round counted as at least one switch.
func (m countMeasured) switchRounds(setting int) []float64 {
	v := make([]float64, 0, len(m.rounds[setting]))
	for _, r := range m.rounds[setting] {
		v = append(v, max(1, float64(r.involuntary)))
	}
	return v
}

// rateRounds is a setting's throughput, round by round, M units/s.
func (m countMeasured) rateRounds(setting int) []float64 {
	v := make([]float64, 0, len(m.rounds[setting]))
	for _, r := range m.rounds[setting] {
		if r.wall > 0 {
			v = append(v, float64(m.units)/r.wall.Seconds()/1e6)
		}
	}
	return v
}

// judgeInvoluntary holds the involuntary switches of K threads against
// those of one thread per CPU, round by round.
func judgeInvoluntary(m countMeasured) lab.Claim {
	inv1, invK, k := m.involuntary(0), m.involuntary(1), m.k
	if len(m.rounds[0]) == 0 || len(m.rounds[1]) == 0 {
		return claimInvoluntary.Judge("not measured", lab.Inconclusive, "A setting ran no round, so there are no switches to compare. Run it again.")
	}
	// The settings take turns, round after round, so they are compared
	// round by round: a busy spell of the machine falls on both.
	r := lab.RoundByRound(m.switchRounds(1), m.switchRounds(0), m.switchBand(1), m.switchBand(0))
	im := fmt.Sprintf("%.0f involuntary switches per round with %d threads vs %.0f with one thread per CPU: %s (each round counted as at least one switch)", invK, k, inv1, r)
	if k <= m.nCPU {
		return claimInvoluntary.Judge(im, lab.Inconclusive,
			"There were no more threads than CPUs, so there was nothing to contend for. Choose more threads than CPUs.")
	}
	// "Many" switches where one thread per CPU has almost none: far more
	// (lab.Far) than that background of timers and other programs.
	d := lab.Decide(r, lab.AtLeast(lab.Far), m.load)
	why := fmt.Sprintf("The contended threads were switched only %.1f× as often as one thread per CPU, not five times. The kernel gave each thread long time slices here, or something else kept these CPUs busy in both settings; more threads, or more work per round, give it more turns to hand out.", r.Mid)
	if inv1 >= invK {
		why = "Even one thread per CPU was pushed off its CPU at least as often: other programs on this machine were competing for the same CPUs during the run, so the contention was everywhere. Run it again when the machine is idle."
	}
	return claimInvoluntary.Decided(im, d, why)
}

// clearLoss is the share of throughput the claim calls a clear loss.
const clearLoss = 0.05

// judgeLostThroughput holds the throughput of one thread per CPU against
// that of K threads, round by round.
func judgeLostThroughput(m countMeasured) lab.Claim {
	base, cont := m.throughput(0), m.throughput(1)
	if base.N == 0 || cont.N == 0 {
		return claimLostThroughput.Judge("not measured", lab.Inconclusive, "A setting has no timed round, so there is no throughput to compare. Run it again.")
	}
	sliceMs := m.sliceMs()
	loss := 1 - cont.P50/base.P50
	change := fmt.Sprintf("%.1f%% less work per second", 100*loss)
	if loss < 0 {
		change = fmt.Sprintf("%.1f%% more work per second", -100*loss)
	}
	r := lab.RoundByRound(m.rateRounds(0), m.rateRounds(1), lab.BandOf(base, "M units/s"), lab.BandOf(cont, "M units/s"))
	lm := fmt.Sprintf("%s with %d threads: one thread per CPU did %s the work per second (%d rounds each); a thread ran %.1f ms between switches", change, m.k, r, base.N, sliceMs)
	// "A clear loss, 5% or more", the figure the claim states (and the
	// guess's choice): K threads do at most 95% of the work a second, so
	// one thread per CPU does 1/0.95 times theirs or more.
	d := lab.Decide(r, lab.AtLeast(1/(1-clearLoss)), m.load)
	why := fmt.Sprintf(
		"Less than a 5%% loss. The kernel let each thread run about %.1f ms before switching, so a few µs per switch is well under 1%% of the time. Switching eats throughput when it happens thousands of times more often (see yield-batching), or when every switch means refilling caches.", sliceMs)
	return claimLostThroughput.Decided(lm, d, why)
}
