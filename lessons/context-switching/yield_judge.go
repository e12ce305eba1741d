package contextswitching

import (
	"fmt"
	"math"
	"strings"
	"time"

	"conclab/internal/lab"
)

// yieldMeasured is everything a yield-batching run measured: the rule
// below turns it into metrics and a verdict without measuring anything.
type yieldMeasured struct {
	perRound int                       // items each round was asked to do (yieldRoundItems)
	budget   time.Duration             // time limit per setting (over all its rounds)
	kinds    []yieldKind               // the kinds measured, in order
	settings map[string][]yieldSetting // by yieldKind.key: every round, in batchSizes order
	noPython string                    // why the asyncio variant did not run, if it did not
	load     lab.Load                  // what other programs used of the CPUs meanwhile
}

// yieldSetting is one round of one batch size of one kind.
type yieldSetting struct {
	batch int           // items between two yields (B)
	done  int           // items both workers did
	wall  time.Duration // how long they took
}

// rate is the round's items per second; 0 when nothing was timed.
func (s yieldSetting) rate() float64 {
	if s.done <= 0 || s.wall <= 0 {
		return 0
	}
	return float64(s.done) / s.wall.Seconds()
}

// rounds are a kind's rounds at batch size b.
func (m yieldMeasured) rounds(kind string, b int) []yieldSetting {
	var out []yieldSetting
	for _, s := range m.settings[kind] {
		if s.batch == b {
			out = append(out, s)
		}
	}
	return out
}

// band is a kind's rate at batch size b over its rounds; rounds that did
// nothing are left out, and none at all is not measured.
func (m yieldMeasured) band(kind string, b int) lab.Band {
	var rates []float64
	for _, s := range m.rounds(kind, b) {
		if r := s.rate(); r > 0 {
			rates = append(rates, r)
		}
	}
	return lab.BandOfValues(rates, "items/s")
}

// rateAt is a kind's median rate at batch size b; 0 when it was not
// measured.
func (m yieldMeasured) rateAt(kind string, b int) float64 {
	if bd := m.band(kind, b); bd.N > 0 {
		return bd.Mid
	}
	return 0
}

// keyYieldCost is the key of a kind's cost of one yield.
func keyYieldCost(kind string) string { return "yield_cost." + kind }

// keyThroughput is the key of a kind's throughput at batch size b.
func keyThroughput(kind string, b int) string { return fmt.Sprintf("throughput.%s.batch_%d", kind, b) }

// yieldResult turns a run's measurements into its metrics and its claim.
func yieldResult(m yieldMeasured) ([]lab.Metric, lab.Claim) {
	var metrics []lab.Metric
	for _, k := range m.kinds {
		for _, b := range batchSizes {
			rs := m.rounds(k.key, b)
			if len(rs) == 0 {
				continue
			}
			done, wall, stopped := 0, time.Duration(0), false
			for _, r := range rs {
				done, wall = done+r.done, wall+r.wall
				stopped = stopped || r.done < m.perRound
			}
			met := lab.Metric{Key: keyThroughput(k.key, b), Name: fmt.Sprintf("%s, B = %d", k.label, b),
				Value: m.rateAt(k.key, b), Unit: "items/s", N: done, Note: fmt.Sprintf("median of %d rounds; %d items in %s in all", len(rs), done, wall.Round(time.Microsecond))}
			if stopped {
				met.Note += fmt.Sprintf(" (stopped at the %s limit)", m.budget)
			}
			metrics = append(metrics, met)
		}
	}
	// Cost of one yield: time per item at B = 1 minus time per item with
	// the largest batch, where yields are rare.
	first, last := batchSizes[0], batchSizes[len(batchSizes)-1]
	for _, k := range m.kinds {
		r1, rn := m.rateAt(k.key, first), m.rateAt(k.key, last)
		if r1 <= 0 || rn <= 0 {
			continue // not measured: no figure rather than an infinite one
		}
		metrics = append(metrics, lab.Metric{Key: keyYieldCost(k.key), Name: "Cost of one yield, " + k.label, Value: math.Round((1/r1 - 1/rn) * 1e9), Unit: "ns",
			Note: "time per item at B = 1 minus time per item at B = 10,000, medians"})
	}
	return metrics, judgeBatching(m)
}

// judgeBatching holds each kind's throughput at B = 1,000 against B = 1,
// round for round.
func judgeBatching(m yieldMeasured) lab.Claim {
	var measured, untimed []string
	var ds []lab.Decision
	var short []string
	for _, k := range m.kinds {
		each, batch := m.band(k.key, 1), m.band(k.key, 1000)
		if each.N == 0 || batch.N == 0 {
			untimed = append(untimed, k.label)
			continue
		}
		r := lab.Ratio(batch, each)
		measured = append(measured, fmt.Sprintf("%s: %s (%.3g vs %.3g items/s)", k.label, r, batch.Mid, each.Mid))
		// "Far more": batching every 1,000 items gives lab.Far times the
		// throughput of yielding after each, beyond the noise of both.
		d := lab.Decide(r, lab.AtLeast(lab.Far), m.load)
		if d.Verdict == lab.Differs {
			short = append(short, fmt.Sprintf("%s gained %.1f×", k.label, r.Mid))
		}
		ds = append(ds, d)
	}
	if len(untimed) > 0 {
		return claimBatching.Judge("not measured: "+strings.Join(untimed, "; "), lab.Inconclusive,
			"For at least one kind, the settings with B = 1 or B = 1,000 did no timed items, so there is no ratio to judge. Run it again.")
	}
	text := "B = 1,000 vs B = 1 — " + strings.Join(measured, "; ")
	if m.noPython != "" {
		text += ". " + m.noPython
	}
	return claimBatching.Decided(text, lab.All(ds...), fmt.Sprintf(
		"Batching gained less than five times here (%s). That happens when a yield is cheap next to the work of one item, or when the other worker was not ready to run, so the yield came straight back.", strings.Join(short, "; ")))
}
