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
	items    int                       // items per setting, as asked
	budget   time.Duration             // time limit per setting
	settings map[string][]yieldSetting // by yieldKind.key, in batchSizes order
}

// yieldSetting is one batch size of one kind.
type yieldSetting struct {
	batch int           // items between two yields (B)
	done  int           // items both workers did
	wall  time.Duration // how long they took
}

// rate is the setting's items per second; 0 when nothing was timed.
func (s yieldSetting) rate() float64 {
	if s.done <= 0 || s.wall <= 0 {
		return 0
	}
	return float64(s.done) / s.wall.Seconds()
}

// rateAt is a kind's rate at batch size b; 0 when it was not measured.
func (m yieldMeasured) rateAt(kind string, b int) float64 {
	for _, s := range m.settings[kind] {
		if s.batch == b {
			return s.rate()
		}
	}
	return 0
}

// keyYieldCost is the key of a kind's cost of one yield.
func keyYieldCost(kind string) string { return "yield_cost." + kind }

// yieldResult turns a run's measurements into its metrics and its claim.
func yieldResult(m yieldMeasured) ([]lab.Metric, lab.Claim) {
	var metrics []lab.Metric
	for _, k := range yieldKinds {
		for _, s := range m.settings[k.key] {
			met := lab.Metric{Key: fmt.Sprintf("throughput.%s.batch_%d", k.key, s.batch), Name: fmt.Sprintf("%s, B = %d", k.label, s.batch),
				Value: s.rate(), Unit: "items/s", N: s.done, Note: fmt.Sprintf("%d items in %s", s.done, s.wall.Round(time.Microsecond))}
			if s.done < m.items {
				met.Note += fmt.Sprintf(" (stopped at the %s limit)", m.budget)
			}
			metrics = append(metrics, met)
		}
	}
	// Cost of one yield: time per item at B = 1 minus time per item with
	// the largest batch, where yields are rare.
	first, last := batchSizes[0], batchSizes[len(batchSizes)-1]
	for _, k := range yieldKinds {
		r1, rn := m.rateAt(k.key, first), m.rateAt(k.key, last)
		if r1 <= 0 || rn <= 0 {
			continue // not measured: no figure rather than an infinite one
		}
		metrics = append(metrics, lab.Metric{Key: keyYieldCost(k.key), Name: "Cost of one yield, " + k.label, Value: math.Round((1/r1 - 1/rn) * 1e9), Unit: "ns",
			Note: "time per item at B = 1 minus time per item at B = 10,000"})
	}
	return metrics, judgeBatching(m)
}

// judgeBatching holds each kind's throughput at B = 1,000 against B = 1.
func judgeBatching(m yieldMeasured) lab.Claim {
	var measured, untimed []string
	holds := true
	for _, k := range yieldKinds {
		each, batch := m.rateAt(k.key, 1), m.rateAt(k.key, 1000)
		if each <= 0 || batch <= 0 {
			untimed = append(untimed, k.label)
			continue
		}
		ratio := batch / each
		measured = append(measured, fmt.Sprintf("%s: %.0f× (%.3g vs %.3g items/s)", k.label, ratio, batch, each))
		if ratio < 10 {
			holds = false
		}
	}
	if len(untimed) > 0 {
		return claimBatching.Judge("not measured: "+strings.Join(untimed, "; "), lab.Inconclusive,
			"For at least one kind, the settings with B = 1 or B = 1,000 did no timed items, so there is no ratio to judge. Run it again.")
	}
	claim := claimBatching.Judge("B = 1,000 vs B = 1 — "+strings.Join(measured, "; "), lab.Holds, "")
	if !holds {
		claim = claimBatching.Judge(claim.Measured, lab.Differs,
			"For at least one kind, batching gained less than 10×. That happens when a yield is cheap next to the work of one item, or when the other worker was not ready to run, so the yield came straight back.")
	}
	return claim
}
