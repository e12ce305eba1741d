package processesvsthreads

import (
	"slices"
	"testing"

	"conclab/internal/lab"
)

// Helpers the verdict rules' tests share.

// spread is a summary of n samples with these quartiles.
func spread(n int, p25, p50, p75 float64) lab.Summary {
	return lab.Summary{N: n, Min: p25 / 2, P10: p25, P25: p25, P50: p50, P75: p75, P90: p75, P99: p75, Max: 2 * p75}
}

// checkClaim checks a verdict: the claim it is about, the outcome, and a
// measurement and (unless it holds) a reason.
func checkClaim(t *testing.T, c, claim lab.Claim, want string) {
	t.Helper()
	if c.Claim != claim.Claim || c.Verdict != want {
		t.Errorf("got %q %s, want %q %s", c.Claim, c.Verdict, claim.Claim, want)
	}
	if c.Measured == "" || (c.Verdict != lab.Holds && c.Why == "") {
		t.Errorf("got measured %q, why %q; want both for %s", c.Measured, c.Why, c.Verdict)
	}
}

// checkMetricKeys checks that every metric of each result has a valid key
// unique in it, and that a key the smallest result (the first) lacks but
// another has is one the experiment declares Conditional.
func checkMetricKeys(t *testing.T, e *lab.Experiment, results ...[]lab.Metric) {
	t.Helper()
	always := map[string]bool{}
	for i, metrics := range results {
		seen := map[string]bool{}
		for _, m := range metrics {
			switch {
			case !lab.ValidKey(m.Key):
				t.Errorf("metric %q has a malformed key %q", m.Name, m.Key)
			case seen[m.Key]:
				t.Errorf("two metrics have the key %q", m.Key)
			}
			seen[m.Key] = true
			if i == 0 {
				always[m.Key] = true
			} else if !always[m.Key] && !slices.Contains(e.Conditional, m.Key) {
				t.Errorf("%s: metric %s comes only in some runs but is not declared Conditional", e.ID, m.Key)
			}
		}
	}
	for _, k := range e.Conditional {
		if always[k] {
			t.Errorf("%s: %s is declared Conditional but the smallest result has it too", e.ID, k)
		}
	}
}
