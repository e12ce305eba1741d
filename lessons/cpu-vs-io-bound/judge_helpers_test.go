package cpuvsiobound

import (
	"testing"

	"conclab/internal/lab"
)

// checkVerdict checks one judged claim: it is the declared claim, with the
// verdict wanted, something measured, and a why exactly when it is not a
// holds.
func checkVerdict(t *testing.T, got, claim lab.Claim, want string) {
	t.Helper()
	if got.Claim != claim.Claim || got.Expected != claim.Expected {
		t.Errorf("judged %q, want the claim %q", got.Claim, claim.Claim)
	}
	if got.Verdict != want {
		t.Errorf("verdict %s, want %s (measured %q, why %q)", got.Verdict, want, got.Measured, got.Why)
	}
	if got.Measured == "" {
		t.Error("nothing measured")
	}
	if (got.Why == "") != (want == lab.Holds) {
		t.Errorf("verdict %s with why %q: a why is needed for anything but holds, and only then", got.Verdict, got.Why)
	}
}
