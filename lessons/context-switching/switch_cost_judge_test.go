package contextswitching

import (
	"errors"
	"strings"
	"testing"

	"conclab/internal/lab"
)

// at is a distribution of batch timings, in µs per switch.
func at(v ...float64) lab.Summary { return lab.Summarize(v) }

// verdictOf finds a claim's verdict among judged claims.
func verdictOf(t *testing.T, claims []lab.Claim, c lab.Claim) lab.Claim {
	t.Helper()
	for _, got := range claims {
		if got.Claim == c.Claim {
			return got
		}
	}
	t.Fatalf("no verdict for %q", c.Claim)
	return lab.Claim{}
}

// checkVerdict checks a judged claim's verdict, and that anything but
// holds says why (and holds does not).
func checkVerdict(t *testing.T, got lab.Claim, want, whyHas string) {
	t.Helper()
	if got.Verdict != want {
		t.Errorf("verdict = %s (%s; %s), want %s", got.Verdict, got.Measured, got.Why, want)
	}
	if (got.Verdict == lab.Holds) != (got.Why == "") {
		t.Errorf("verdict %s with why %q", got.Verdict, got.Why)
	}
	if got.Measured == "" {
		t.Error("nothing measured")
	}
	if !strings.Contains(got.Why, whyHas) {
		t.Errorf("why = %q, want it to say %q", got.Why, whyHas)
	}
}

func TestJudgeSwitchCost(t *testing.T) {
	t.Parallel()
	// Typical figures: every claim holds with these unless a case changes them.
	g, th, p := at(0.1, 0.12, 0.15), at(2, 2.2, 2.4), at(20, 22, 24)
	tests := []struct {
		name    string
		s       sameCPU
		claim   lab.Claim
		verdict string
		whyHas  string
	}{
		{"thread inside", sameCPU{g, th, p}, claimThread, lab.Holds, ""},
		{"thread at 1 µs", sameCPU{g, at(1), p}, claimThread, lab.Holds, ""},
		{"thread at 10 µs", sameCPU{g, at(10), p}, claimThread, lab.Holds, ""},
		{"thread below", sameCPU{g, at(0.9), p}, claimThread, lab.Differs, "Faster than the textbook"},
		{"thread above", sameCPU{g, at(10.5), p}, claimThread, lab.Differs, "Slower than the textbook"},
		{"thread not timed", sameCPU{g, at(), p}, claimThread, lab.Inconclusive, "thread ping-pong"},

		{"process inside", sameCPU{g, th, p}, claimProcess, lab.Holds, ""},
		{"process at 10 µs", sameCPU{g, th, at(10)}, claimProcess, lab.Holds, ""},
		{"process at 100 µs", sameCPU{g, th, at(100)}, claimProcess, lab.Holds, ""},
		{"process below", sameCPU{g, th, at(3)}, claimProcess, lab.Differs, "Far below 10 µs"},
		{"process above", sameCPU{g, th, at(150)}, claimProcess, lab.Differs, "Above 100 µs"},
		{"process not timed", sameCPU{g, th, at()}, claimProcess, lab.Inconclusive, "process ping-pong"},

		{"process clearly dearer", sameCPU{g, th, p}, claimProcVsThread, lab.Holds, ""},
		{"process dearer but overlapping", sameCPU{g, at(2, 2.5, 3), at(1, 3, 10)}, claimProcVsThread, lab.Inconclusive, "overlap"},
		{"process within 5%", sameCPU{g, at(2, 2.2, 2.4), at(2.1, 2.25, 2.4)}, claimProcVsThread, lab.Differs, "about the same"},
		{"process cheaper", sameCPU{g, th, at(1.5)}, claimProcVsThread, lab.Differs, "about the same"},
		{"compare without threads", sameCPU{g, at(), p}, claimProcVsThread, lab.Inconclusive, "No batch of the thread ping-pong"},
		{"compare without either", sameCPU{g, at(), at()}, claimProcVsThread, lab.Inconclusive, "thread or process ping-pongs"},

		{"goroutine far cheaper", sameCPU{g, th, p}, claimGoroutine, lab.Holds, ""},
		{"goroutine under 1 µs but close", sameCPU{at(0.5), at(2), p}, claimGoroutine, lab.Differs, "not far below"},
		{"goroutine over 1 µs", sameCPU{at(1.2), at(20), p}, claimGoroutine, lab.Differs, "not far below"},
		{"goroutine not timed", sameCPU{at(), th, p}, claimGoroutine, lab.Inconclusive, "goroutine ping-pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := judgeSwitchCost(tt.s)
			if len(claims) != 4 {
				t.Fatalf("got %d claims, want 4", len(claims))
			}
			checkVerdict(t, verdictOf(t, claims, tt.claim), tt.verdict, tt.whyHas)
		})
	}
}

func TestJudgePerf(t *testing.T) {
	t.Parallel()
	same := sameCPU{at(0.1), at(2), at(4)}
	ref := &perfRef{thread: 2, process: 4}
	tests := []struct {
		name    string
		m       perfMeasured
		s       sameCPU
		verdict string
		whyHas  string
	}{
		{"agrees", perfMeasured{ref: ref, pcid: true}, same, lab.Holds, ""},
		{"agrees at 25%", perfMeasured{ref: ref, pcid: true}, sameCPU{at(0.1), at(2.5), at(3)}, lab.Holds, ""},
		{"thread below perf", perfMeasured{ref: ref, pcid: true}, sameCPU{at(0.1), at(1), at(4)}, lab.Differs, "differ by more than 25%"},
		{"process above perf", perfMeasured{ref: ref, pcid: true}, sameCPU{at(0.1), at(2), at(6)}, lab.Differs, "above perf's"},
		{"process above perf, TLB flushed", perfMeasured{ref: ref, pcid: false}, sameCPU{at(0.1), at(2), at(6)}, lab.Differs, "flushes the TLB"},
		{"process above perf, PTI on", perfMeasured{ref: ref, pcid: true, pti: true}, sameCPU{at(0.1), at(2), at(6)}, lab.Differs, "flushes the TLB"},
		{"no perf", perfMeasured{}, same, lab.Inconclusive, "not installed"},
		{"perf failed", perfMeasured{err: errors.New("permission denied")}, same, lab.Inconclusive, "could not run here: permission denied"},
		{"no figure of our own", perfMeasured{ref: ref}, sameCPU{at(0.1), at(), at(4)}, lab.Inconclusive, "thread ping-pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgePerf(tt.m, tt.s)
			checkVerdict(t, got, tt.verdict, tt.whyHas)
			if tt.name == "process above perf" && strings.Contains(got.Why, "TLB (no PCID") {
				t.Errorf("why blames the TLB on a CPU with PCID and no PTI: %q", got.Why)
			}
		})
	}
}

// The result keeps one key per figure, and names the conditional ones
// only when they were measured.
func TestSwitchCostResultKeys(t *testing.T) {
	t.Parallel()
	m := switchCostMeasured{kinds: pingKinds[:3], results: map[string]measured{}}
	for _, k := range m.kinds {
		r := measured{}
		r.PerSwitch = []float64{1, 2, 3}
		m.results[k.key] = r
	}
	keys := func(metrics []lab.Metric) map[string]bool {
		out := map[string]bool{}
		for _, met := range metrics {
			if !lab.ValidKey(met.Key) || out[met.Key] {
				t.Errorf("metric %q: key %q malformed or repeated", met.Name, met.Key)
			}
			out[met.Key] = true
		}
		return out
	}
	conditional := map[string]bool{}
	for _, k := range switchCostConditional() {
		conditional[k] = true
	}
	metrics, _ := switchCostResult(m)
	got := keys(metrics)
	for k := range got {
		if conditional[k] {
			t.Errorf("a same-CPU run without perf has the conditional key %s", k)
		}
	}
	for _, want := range []string{"switch.goroutine.same_cpu", "switch.thread.same_cpu", "switch.process.same_cpu"} {
		if !got[want] {
			t.Errorf("no metric %s; got %v", want, got)
		}
	}

	m.kinds = pingKinds
	for _, k := range pingKinds[3:] {
		m.results[k.key] = m.results[k.kind]
	}
	m.perf.ref = &perfRef{thread: 2, process: 4}
	metrics, _ = switchCostResult(m)
	got = keys(metrics)
	for k := range conditional {
		if !got[k] {
			t.Errorf("a full run with perf lacks the conditional key %s", k)
		}
	}
}
