package greenthreads

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
)

// spun is a run whose spinner ran from 100 to 400 ms with these gaps
// around it; longest is the longest of them.
func spun(during ...float64) coopRun {
	r := coopRun{beats: []float64{10, 12, 14, 16}, t0: 100, t1: 400, during: during}
	for _, g := range during {
		r.longest = max(r.longest, g)
	}
	return r
}

// holdingCoop is three runs in which every claim holds: the heartbeat
// waits for the whole spin with preemption off, a tick or two when the
// spinner yields, 10–20 ms with preemption on.
func holdingCoop() coopMeasured {
	off := spun(300)
	yield := spun(2, 2, 3)
	yield.yields, yield.ready.NsPerIter, yield.beatsDuring = 300, 1, 140
	on := spun(10, 12, 20, 11)
	on.beatsDuring = 25
	return coopMeasured{runs: map[string]coopRun{"off": off, "yield": yield, "on": on}, every: 1_000_000, tick: 2}
}

func TestJudgeCooperative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim int
		edit  func(runs map[string]coopRun)
		want  string
		why   string // words of the reason that tell the branches apart
	}{
		{"starves: holds", 0, func(map[string]coopRun) {}, lab.Holds, ""},
		{"starves: exactly 90% of the spin", 0, func(r map[string]coopRun) { r["off"] = spun(270) }, lab.Holds, ""},
		{"starves: the heartbeat got in", 0, func(r map[string]coopRun) { r["off"] = spun(100, 100, 100) }, lab.Differs, "GODEBUG"},
		{"starves: no heartbeats", 0, func(r map[string]coopRun) {
			off := r["off"]
			off.beats = off.beats[:1]
			r["off"] = off
		}, lab.Inconclusive, "Fewer than two heartbeats"},

		{"yield: holds", 1, func(map[string]coopRun) {}, lab.Holds, ""},
		{"yield: K so large it never yielded", 1, func(r map[string]coopRun) {
			y := spun(300)
			y.yields = 1
			r["yield"] = y
		}, lab.Inconclusive, "before it ever yielded"},
		{"yield: a large K, a long bound, still held", 1, func(r map[string]coopRun) {
			y := spun(60, 60, 60, 60, 60)
			y.yields, y.ready.NsPerIter = 5, 60 // 60 ms of work between yields
			r["yield"] = y
		}, lab.Holds, ""},
		{"yield: waited longer than the work accounts for", 1, func(r map[string]coopRun) {
			y := spun(12, 12, 13, 12, 3)
			y.yields, y.ready.NsPerIter = 300, 1 // 1 ms of work: at most 2 + 2 × 1 ms, about
			r["yield"] = y
		}, lab.Differs, "longer than the work between two yields"},
		{"yield: one stall in one fifth of the spin", 1, func(r map[string]coopRun) {
			y := spun(2, 2, 2, 12, 2, 2, 3, 2, 2, 2)
			y.yields, y.ready.NsPerIter = 300, 1
			r["yield"] = y
		}, lab.Holds, ""},
		{"yield: stalls in two fifths straddle the bound", 1, func(r map[string]coopRun) {
			y := spun(2, 2, 12, 2, 2, 3, 2, 12, 2, 2)
			y.yields, y.ready.NsPerIter = 300, 1
			r["yield"] = y
		}, lab.Inconclusive, "reaches across"},
		{"yield: at the bound's tolerance", 1, func(r map[string]coopRun) {
			y := spun(2, 3, 5)
			y.yields, y.ready.NsPerIter = 300, 1
			r["yield"] = y
		}, lab.Holds, ""},
		{"yield: on a busy machine", 1, func(map[string]coopRun) {}, lab.Inconclusive, "busy"},
		{"yield: no gaps around the spin", 1, func(r map[string]coopRun) {
			y := spun()
			y.yields = 300
			r["yield"] = y
		}, lab.Inconclusive, "nothing to judge"},

		{"preempt: holds", 2, func(map[string]coopRun) {}, lab.Holds, ""},
		{"preempt: on a busy machine", 2, func(map[string]coopRun) {}, lab.Inconclusive, "busy"},
		{"starves: holds on a busy machine too", 0, func(map[string]coopRun) {}, lab.Holds, ""},
		{"preempt: one long stall in one fifth", 2, func(r map[string]coopRun) {
			r["on"] = spun(11, 10, 12, 11, 60, 10, 11, 12, 10, 11, 12, 11, 10, 11, 12)
		}, lab.Holds, ""},
		{"preempt: long stalls in most fifths", 2, func(r map[string]coopRun) {
			r["on"] = spun(11, 10, 12, 11, 60, 10, 11, 62, 10, 11, 70, 11, 10, 11, 65)
		}, lab.Differs, "most fifths"},
		{"preempt: gaps shorter than preemption allows", 2, func(r map[string]coopRun) { r["on"] = spun(3, 3, 4, 3) }, lab.Differs, "shorter than 10 ms"},
		{"preempt: typical gap too long", 2, func(r map[string]coopRun) {
			on := spun(30, 30, 30)
			on.t1 = 1100
			r["on"] = on
		}, lab.Differs, "typical gap was longer"},
		{"preempt: starved", 2, func(r map[string]coopRun) { r["on"] = spun(300) }, lab.Differs, "starved even with preemption on"},
		{"preempt: no gaps around the spin", 2, func(r map[string]coopRun) { r["on"] = spun() }, lab.Inconclusive, "nothing to judge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := holdingCoop()
			tt.edit(m.runs)
			if strings.Contains(tt.name, "busy machine") {
				m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
			}
			metrics, claims := judgeCooperative(m)
			if len(claims) != 3 {
				t.Fatalf("got %d claims, want 3", len(claims))
			}
			c := claims[tt.claim]
			if c.Verdict != tt.want {
				t.Errorf("%q: got %s (%s; measured %s), want %s", c.Claim, c.Verdict, c.Why, c.Measured, tt.want)
			}
			if c.Verdict != lab.Holds && c.Why == "" {
				t.Errorf("%q is %s without a why", c.Claim, c.Verdict)
			}
			if !strings.Contains(c.Why, tt.why) {
				t.Errorf("why %q, want it to say %q", c.Why, tt.why)
			}
			checkMetricKeys(t, metrics, coopConditional)
		})
	}
}

// A run without gaps around the spin, and without a longest gap with
// preemption on, lacks exactly the conditional metrics.
func TestCooperativeConditional(t *testing.T) {
	t.Parallel()
	full, _ := judgeCooperative(holdingCoop())
	bare := coopMeasured{runs: map[string]coopRun{}, every: 1000, tick: 2}
	some, _ := judgeCooperative(bare)
	have := map[string]bool{}
	for _, m := range some {
		have[m.Key] = true
	}
	var missing []string
	for _, m := range full {
		if !have[m.Key] {
			missing = append(missing, m.Key)
		}
	}
	if strings.Join(missing, " ") != strings.Join(coopConditional, " ") {
		t.Errorf("a run without gaps lacks %q, want the conditional %q", missing, coopConditional)
	}
	if got := cooperative().Conditional; strings.Join(got, " ") != strings.Join(coopConditional, " ") {
		t.Errorf("cooperative declares %q conditional, want %q", got, coopConditional)
	}
}
