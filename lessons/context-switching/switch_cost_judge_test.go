package contextswitching

import (
	"errors"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
)

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

// b is a band of µs per switch: p10, median, p90 of 100 batches.
func b(lo, mid, hi float64) lab.Band { return lab.Band{Mid: mid, Lo: lo, Hi: hi, N: 100, Unit: "µs"} }

var (
	idle = lab.Load{Known: true, Others: 0.02, CPUs: 2, Wall: 8 * time.Second}
	busy = lab.Load{Known: true, Others: 0.9, CPUs: 2, Wall: 8 * time.Second}
)

// typical are figures with which every claim holds unless a case changes
// them: a cheap goroutine, threads within 1–10 µs, processes within
// 10–100 µs, a process switch clearly dearer than a thread switch both
// bare and in Go.
func typical() sameCPU {
	return sameCPU{
		goroutine: b(0.1, 0.12, 0.15), thread: b(2, 2.2, 2.4), process: b(20, 22, 24),
		bareThread: b(1.9, 2, 2.1), bareProcess: b(3.5, 3.8, 4.1), load: idle,
	}
}

func with(f func(*sameCPU)) sameCPU { s := typical(); f(&s); return s }

func TestJudgeSwitchCost(t *testing.T) {
	t.Parallel()
	pcid := perfMeasured{pcid: true}
	tests := []struct {
		name    string
		s       sameCPU
		claim   lab.Claim
		verdict string
		whyHas  string
	}{
		{"thread inside", typical(), claimThread, lab.Holds, ""},
		{"thread at 1 µs", with(func(s *sameCPU) { s.thread = b(1, 1.1, 1.3) }), claimThread, lab.Holds, ""},
		{"thread just under 1 µs, about", with(func(s *sameCPU) { s.thread = b(0.95, 0.98, 1.33) }), claimThread, lab.Holds, ""},
		{"thread at 10 µs", with(func(s *sameCPU) { s.thread = b(9, 10, 12) }), claimThread, lab.Holds, ""},
		{"thread below", with(func(s *sameCPU) { s.thread = b(0.5, 0.6, 0.7) }), claimThread, lab.Differs, "Faster than the textbook"},
		{"thread above", with(func(s *sameCPU) { s.thread = b(14, 15, 16) }), claimThread, lab.Differs, "Slower than the textbook"},
		{"thread straddling", with(func(s *sameCPU) { s.thread = b(0.6, 0.9, 1.2) }), claimThread, lab.Inconclusive, "reaches across"},
		{"thread on a busy machine", with(func(s *sameCPU) { s.load = busy }), claimThread, lab.Inconclusive, "busy"},
		{"thread not timed", with(func(s *sameCPU) { s.thread = lab.Band{} }), claimThread, lab.Inconclusive, "thread ping-pong"},

		{"process inside", typical(), claimProcess, lab.Holds, ""},
		{"process below", with(func(s *sameCPU) { s.process = b(2.5, 3, 3.5) }), claimProcess, lab.Differs, "Far below 10 µs"},
		{"process above", with(func(s *sameCPU) { s.process = b(140, 150, 160) }), claimProcess, lab.Differs, "Above 100 µs"},
		{"process straddling", with(func(s *sameCPU) { s.process = b(6, 9, 12) }), claimProcess, lab.Inconclusive, "reaches across"},
		{"process on a busy machine", with(func(s *sameCPU) { s.load = busy }), claimProcess, lab.Inconclusive, "busy"},
		{"process not timed", with(func(s *sameCPU) { s.process = lab.Band{} }), claimProcess, lab.Inconclusive, "process ping-pong"},

		{"process clearly dearer", typical(), claimProcVsThread, lab.Holds, ""},
		{"process dearer but within the noise", with(func(s *sameCPU) { s.thread, s.process = b(2, 2.5, 3), b(2.5, 3.4, 4) }), claimProcVsThread, lab.Inconclusive, "reaches across"},
		{"process about the same", with(func(s *sameCPU) { s.thread, s.process = b(2.2, 2.3, 2.4), b(2.1, 2.2, 2.3) }), claimProcVsThread, lab.Inconclusive, "reaches across"},
		{"process a little dearer, beyond the noise", with(func(s *sameCPU) { s.thread, s.process = b(2.2, 2.3, 2.4), b(2.5, 2.6, 2.7) }), claimProcVsThread, lab.Holds, ""},
		{"process cheaper", with(func(s *sameCPU) { s.process = b(1.4, 1.5, 1.6) }), claimProcVsThread, lab.Differs, "did not cost clearly more"},
		{"compare on a busy machine", with(func(s *sameCPU) { s.load = busy }), claimProcVsThread, lab.Inconclusive, "busy"},
		{"compare without threads", with(func(s *sameCPU) { s.thread = lab.Band{} }), claimProcVsThread, lab.Inconclusive, "No batch of the thread ping-pong"},
		{"compare without either", with(func(s *sameCPU) { s.thread, s.process = lab.Band{}, lab.Band{} }), claimProcVsThread, lab.Inconclusive, "thread or process ping-pongs"},

		{"goroutine far cheaper", typical(), claimGoroutine, lab.Holds, ""},
		{"goroutine under 1 µs but close to the thread", with(func(s *sameCPU) { s.goroutine, s.thread = b(0.45, 0.5, 0.55), b(1.9, 2, 2.1) }), claimGoroutine, lab.Differs, "not five times cheaper"},
		{"goroutine over 1 µs, yet far cheaper than either", with(func(s *sameCPU) { s.goroutine, s.thread = b(1.1, 1.2, 1.3), b(19, 20, 21) }), claimGoroutine, lab.Holds, ""},
		{"goroutine far cheaper than a thread, not a process", with(func(s *sameCPU) {
			s.goroutine, s.thread, s.process = b(0.3, 0.32, 0.34), b(1.9, 2, 2.1), b(1.0, 1.1, 1.2)
		}), claimGoroutine, lab.Differs, "five times"},
		{"goroutine straddling 5×", with(func(s *sameCPU) { s.goroutine, s.thread = b(0.3, 0.4, 0.5), b(1.8, 2, 2.2) }), claimGoroutine, lab.Inconclusive, "reaches across"},
		{"goroutine on a busy machine", with(func(s *sameCPU) { s.load = busy }), claimGoroutine, lab.Inconclusive, "busy"},
		{"goroutine not timed", with(func(s *sameCPU) { s.goroutine = lab.Band{} }), claimGoroutine, lab.Inconclusive, "goroutine ping-pong"},

		{"direct cost clearly dearer", typical(), claimDirect, lab.Holds, ""},
		{"direct cost a little dearer, beyond the noise", with(func(s *sameCPU) { s.bareThread, s.bareProcess = b(1.95, 2, 2.05), b(2.2, 2.26, 2.3) }), claimDirect, lab.Holds, ""},
		{"direct cost no more", with(func(s *sameCPU) { s.bareProcess = b(1.5, 1.6, 1.7) }), claimDirect, lab.Differs, "cost no more"},
		{"direct cost no more, the indirect named", with(func(s *sameCPU) { s.bareProcess = b(1.5, 1.6, 1.7) }), claimDirect, lab.Differs, "indirect cost"},
		{"direct cost within the noise", with(func(s *sameCPU) { s.bareProcess = b(1.8, 2.3, 2.8) }), claimDirect, lab.Inconclusive, "reaches across"},
		{"direct cost on a busy machine", with(func(s *sameCPU) { s.load = busy }), claimDirect, lab.Inconclusive, "busy"},
		{"direct cost not timed", with(func(s *sameCPU) { s.bareProcess = lab.Band{} }), claimDirect, lab.Inconclusive, "bare process ping-pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := judgeSwitchCost(tt.s, pcid)
			if len(claims) != 6 {
				t.Fatalf("got %d claims, want 6", len(claims))
			}
			checkVerdict(t, verdictOf(t, claims, tt.claim), tt.verdict, tt.whyHas)
		})
	}
}

// The reasons say what this CPU's TLB does: PCID spares a flush on a
// process switch, whether or not page-table isolation is on (isolation
// switches page tables on every kernel entry and exit, for threads as
// much as for processes); without PCID every process switch flushes.
func TestDirectCostNamesTheTLB(t *testing.T) {
	t.Parallel()
	same := with(func(s *sameCPU) { s.bareProcess = b(1.5, 1.6, 1.7) })
	for _, tt := range []struct {
		perf          perfMeasured
		want, wantNot string
	}{
		{perfMeasured{pcid: true}, "has PCID", "flushes the TLB"},
		{perfMeasured{pcid: false}, "flushes the TLB", "has PCID"},
		{perfMeasured{pcid: true, pti: true}, "thread switches pay that as much", "flushes the TLB"},
		{perfMeasured{pcid: false, pti: true}, "every system call", "has PCID"},
	} {
		got := judgeDirect(same, tt.perf)
		if !strings.Contains(got.Why, tt.want) || strings.Contains(got.Why, tt.wantNot) {
			t.Errorf("pcid %v, pti %v: why %q, want it to say %q and not %q", tt.perf.pcid, tt.perf.pti, got.Why, tt.want, tt.wantNot)
		}
	}
}

func TestJudgePerf(t *testing.T) {
	t.Parallel()
	ref := &perfRef{thread: 2, process: 3.8}
	tests := []struct {
		name    string
		m       perfMeasured
		s       sameCPU
		verdict string
		whyHas  string
	}{
		{"agrees", perfMeasured{ref: ref}, typical(), lab.Holds, ""},
		{"agrees at 25%", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.bareThread = b(2.3, 2.4, 2.5) }), lab.Holds, ""},
		{"thread below perf", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.bareThread = b(0.9, 1, 1.1) }), lab.Differs, "more than 25% apart"},
		{"process above perf", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.bareProcess = b(6, 7, 8) }), lab.Differs, "more than 25% apart"},
		{"spread across 25%", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.bareThread = b(1.8, 2.2, 2.8) }), lab.Inconclusive, "reaches across"},
		{"on a busy machine", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.load = busy }), lab.Inconclusive, "busy"},
		{"no perf", perfMeasured{}, typical(), lab.Inconclusive, "not installed"},
		{"perf failed", perfMeasured{err: errors.New("permission denied")}, typical(), lab.Inconclusive, "could not run here: permission denied"},
		{"no bare figure", perfMeasured{ref: ref}, with(func(s *sameCPU) { s.bareThread = lab.Band{} }), lab.Inconclusive, "bare thread ping-pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := judgePerf(tt.m, tt.s)
			checkVerdict(t, got, tt.verdict, tt.whyHas)
			if tt.name == "agrees" && !strings.Contains(got.Measured, "The Go ping-pongs") {
				t.Errorf("measured %q does not show the Go figures against perf", got.Measured)
			}
		})
	}
}

// The result keeps one key per figure, and names the conditional ones
// only when they were measured.
func TestSwitchCostResultKeys(t *testing.T) {
	t.Parallel()
	var same []pingKind
	for _, k := range pingKinds {
		if !k.cross {
			same = append(same, k)
		}
	}
	m := switchCostMeasured{kinds: same, results: map[string]measured{}}
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
	for _, want := range []string{"switch.goroutine.same_cpu", "switch.thread.same_cpu", "switch.process.same_cpu",
		"switch.bare_thread.same_cpu", "switch.bare_process.same_cpu", "ratio.bare.process_thread", "ratio.go.process_thread"} {
		if !got[want] {
			t.Errorf("no metric %s; got %v", want, got)
		}
	}

	m.kinds = pingKinds
	for _, k := range pingKinds {
		if k.cross {
			m.results[k.key] = m.results[k.kind]
		}
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

// Kinds that took turns in rounds are compared round by round: a slow
// spell of the machine that widened both bands (here, rounds 2 and 4 ran
// at 1.5× the cost) straddles every comparison's edge when the bands are
// paired end to end, and cancels round by round.
func TestSwitchCostComparesRoundByRound(t *testing.T) {
	t.Parallel()
	slow := func(v float64) []float64 { return []float64{v, 1.5 * v, v, 1.5 * v, v} }
	bandOf := func(v []float64) lab.Band { return lab.BandOfValues(v, "µs") }
	rounds := map[string][]float64{
		"goroutine": slow(0.3), "thread": slow(2), "process": {2.6, 3.9, 2.65, 3.95, 2.6},
		"bare_thread": slow(2), "bare_process": {2.4, 3.6, 2.45, 3.66, 2.4},
	}
	s := with(func(s *sameCPU) {
		s.goroutine, s.thread, s.process = bandOf(rounds["goroutine"]), bandOf(rounds["thread"]), bandOf(rounds["process"])
		s.bareThread, s.bareProcess = bandOf(rounds["bare_thread"]), bandOf(rounds["bare_process"])
	})
	perf := perfMeasured{ref: &perfRef{thread: 2, process: 2.4, threadRuns: slow(2), processRuns: slow(2.4)}}
	apart := func(s sameCPU) []lab.Claim {
		return []lab.Claim{judgeProcVsThread(s, perf), judgeGoroutine(s), judgePerf(perf, s), judgeDirect(s, perf)}
	}
	for _, got := range apart(s) {
		if got.Verdict != lab.Inconclusive {
			t.Errorf("bands paired end to end: %q %s, want inconclusive (%s)", got.Claim, got.Verdict, got.Measured)
		}
	}
	s.rounds = rounds
	for _, got := range apart(s) {
		if got.Verdict != lab.Holds {
			t.Errorf("round by round: %q %s, want holds (%s; %s)", got.Claim, got.Verdict, got.Measured, got.Why)
		}
		if !strings.Contains(got.Measured, "n = 5") && got.Claim != claimPerf.Claim && got.Claim != claimGoroutine.Claim {
			t.Errorf("%q: measured %q does not show the five rounds", got.Claim, got.Measured)
		}
	}
}
