package processesvsthreads

import (
	"fmt"
	"slices"

	"conclab/internal/lab"
)

// counterMeasured is what shared-counter measured: every way's rounds, and
// what the race detector said.
type counterMeasured struct {
	threads, perThread int
	made               int64                     // updates made in each round, by every way
	rounds             map[string][]counterRound // by counterWays key, in round order
	race               raceResult
	load               lab.Load
}

func (m *counterMeasured) add(way string, r counterRound) {
	if m.rounds == nil {
		m.rounds = map[string][]counterRound{}
	}
	m.rounds[way] = append(m.rounds[way], r)
}

// lost is each round's updates lost by a way.
func (m counterMeasured) lost(way string) []float64 {
	var v []float64
	for _, r := range m.rounds[way] {
		v = append(v, float64(m.made-r.counted))
	}
	return v
}

// nsPer is each round's time per update of a way, in ns.
func (m counterMeasured) nsPer(way string) []float64 {
	var v []float64
	for _, r := range m.rounds[way] {
		v = append(v, float64(r.wall.Nanoseconds())/float64(max(m.made, 1)))
	}
	return v
}

// distinct counts the different counts a way ended its rounds with.
func (m counterMeasured) distinct(way string) int {
	var seen []int64
	for _, r := range m.rounds[way] {
		if !slices.Contains(seen, r.counted) {
			seen = append(seen, r.counted)
		}
	}
	return len(seen)
}

func counterMetrics(m counterMeasured) []lab.Metric {
	lost := lab.Summarize(m.lost("no_lock"))
	share := lab.Summarize(func() []float64 {
		v := m.lost("no_lock")
		for i := range v {
			v[i] = 100 * v[i] / float64(max(m.made, 1))
		}
		return v
	}())
	lm := lost.Metric("lost.no_lock", "Updates lost per round, threads, no lock", "updates")
	lm.Note = fmt.Sprintf("of %d made by %d threads each round", m.made, m.threads)
	sm := share.Metric(keyLostShare, "Share of the updates lost, threads, no lock", "%")
	metrics := []lab.Metric{lm, sm,
		{Key: "counted.distinct.no_lock", Name: "Different counts over the rounds, no lock", Value: float64(m.distinct("no_lock")), Unit: "counts", N: len(m.rounds["no_lock"])},
	}
	for _, w := range counterWays[1:] {
		metrics = append(metrics, lab.Metric{Key: "lost." + w.key, Name: "Most updates lost in a round, " + w.label, Value: slices.Max(append(m.lost(w.key), 0)), Unit: "updates"})
	}
	for _, w := range counterWays {
		c := lab.Summarize(m.nsPer(w.key)).Metric("ns_per_update."+w.key, "Time per update, "+w.label, "ns")
		c.Note = "wall time of the round ÷ updates made"
		metrics = append(metrics, c)
	}
	if m.race.ran {
		metrics = append(metrics, lab.Metric{Key: keyRaceFound, Name: "Data races the race detector reported", Value: float64(m.race.races), Unit: "races",
			Note: fmt.Sprintf("a race-enabled build (go build -race, %s) of two goroutines making the same increments", m.race.build.Round(1e6))})
	}
	return metrics
}

func judgeCounter(m counterMeasured) []lab.Claim {
	return []lab.Claim{judgeLost(m), judgeGuarded(m), judgeMessagesCounted(m), judgeDetector(m.race)}
}

// judgeLost: without a lock, updates are lost ("lose updates": at least one,
// in the middle half of the rounds) and the count differs from round to
// round ("a different number each time": two counts or more). Counts are
// not timings; the machine's load does not make them inconclusive.
func judgeLost(m counterMeasured) lab.Claim {
	lost := m.lost("no_lock")
	measured := fmt.Sprintf("%d threads made %d updates a round; lost per round: %v; %d different counts in %d rounds",
		m.threads, m.made, ints(lost), m.distinct("no_lock"), len(lost))
	if len(lost) == 0 {
		return claimLost.Judge(measured, lab.Inconclusive, "No round without a lock was run, so there is nothing to count.")
	}
	d := lab.All(
		lab.Decide(lab.BandOfValues(lost, "updates"), lab.AtLeast(1), lab.NotTimed),
		lab.Decide(lab.Once(float64(m.distinct("no_lock")), "counts"), lab.AtLeast(2), lab.NotTimed),
	)
	why := "The same count came back every round. Lost updates depend on exactly when the threads' loads and stores meet, which changes from run to run; more updates per round give them more chances to meet."
	if slices.Max(lost) == 0 || lab.BandOfValues(lost, "").Lo < 1 {
		why = "Few or no updates were lost: the threads seldom or never ran at the same instant. On one CPU they take turns, and an update is lost only when the kernel stops a thread between its load and its store; give the round more updates, or run it where two CPUs are free."
	}
	return claimLost.Decided(measured, d, why)
}

// judgeGuarded: a mutex and an atomic add lose nothing (at most 0, every
// round), and each costs more time per update than no lock (lab.More,
// round by round).
func judgeGuarded(m counterMeasured) lab.Claim {
	mu, at := m.lost("mutex"), m.lost("atomic")
	none := m.nsPer("no_lock")
	s := func(way string) float64 { return lab.Summarize(m.nsPer(way)).P50 }
	measured := fmt.Sprintf("most lost in a round: %v with a mutex, %v with an atomic add; per update %.1f ns with a mutex, %.1f ns atomic, %.1f ns with no lock",
		slices.Max(append(mu, 0)), slices.Max(append(at, 0)), s("mutex"), s("atomic"), s("no_lock"))
	if len(mu) == 0 || len(at) == 0 || len(none) == 0 {
		return claimGuarded.Judge(measured, lab.Inconclusive, "Not every way was run, so there is nothing to compare.")
	}
	d := lab.All(
		lab.Decide(lab.Once(slices.Max(mu), "updates"), lab.AtMost(0), lab.NotTimed),
		lab.Decide(lab.Once(slices.Max(at), "updates"), lab.AtMost(0), lab.NotTimed),
		lab.Decide(lab.Paired(m.nsPer("mutex"), none), lab.AtLeast(lab.More), m.load),
		lab.Decide(lab.Paired(m.nsPer("atomic"), none), lab.AtLeast(lab.More), m.load),
	)
	why := "An update was lost although every one was guarded: that should not be possible."
	if slices.Max(mu) == 0 && slices.Max(at) == 0 {
		why = "Nothing was lost, but a guarded update did not cost clearly more than an unguarded one here: with few threads that seldom meet, a free lock and an atomic add are nearly as quick as a plain store."
	}
	return claimGuarded.Decided(measured, d, why)
}

// judgeMessagesCounted: the owner of the counter counts every update sent.
func judgeMessagesCounted(m counterMeasured) lab.Claim {
	lost := m.lost("pipe")
	measured := fmt.Sprintf("%d processes sent %d updates a round through one pipe; the owner counted %v fewer", m.threads, m.made, ints(lost))
	if len(lost) == 0 {
		return claimMessages.Judge(measured, lab.Inconclusive, "No round through the pipe was run.")
	}
	return claimMessages.Decided(measured, lab.Decide(lab.Once(slices.Max(lost), "updates"), lab.AtMost(0), lab.NotTimed),
		"The owner counted fewer updates than were sent, which a pipe does not allow: bytes written to it arrive, in order, or the writer is told it failed.")
}

// judgeDetector: where a race-enabled build ran, it reported a race.
func judgeDetector(r raceResult) lab.Claim {
	if !r.ran {
		return claimDetector.Judge("not run: "+r.why, lab.Inconclusive, r.why)
	}
	measured := fmt.Sprintf("a race-enabled build of two goroutines making the unguarded increments reported %d data race(s)", r.races)
	return claimDetector.Decided(measured, lab.Decide(lab.Once(float64(r.races), "races"), lab.AtLeast(1), lab.NotTimed),
		"The race-enabled build ran and reported nothing. The detector sees only the races that happen while it watches: if the two goroutines never overlapped (one CPU, a short loop), their accesses were ordered after all.")
}

// ints writes counts without decimals.
func ints(v []float64) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.0f", x)
	}
	return s + "]"
}
