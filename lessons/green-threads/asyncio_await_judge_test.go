package greenthreads

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
)

// loop is a run in which the other tasks do 6,000 chunks a second alone
// and, during each of three 100 ms waits, these many chunks: awaits first,
// then blocking reads.
func loop(await, blocking []int) awaitMeasured {
	m := awaitMeasured{version: "3.11.2", delay: 100 * time.Millisecond, tasks: 4, alone: 6000, threads: 1, waiters: map[int64]bool{7: true}}
	for _, n := range await {
		m.add(awaitWait{mode: "await", wall: 100 * time.Millisecond, others: n})
	}
	for _, n := range blocking {
		m.add(awaitWait{mode: "blocking", wall: 100 * time.Millisecond, others: n})
	}
	return m
}

func TestJudgeAsyncioAwait(t *testing.T) {
	t.Parallel()
	busy := loop([]int{600, 610, 590}, []int{0, 0, 0})
	busy.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
	twoThreads := loop([]int{600, 610, 590}, []int{0, 0, 0})
	twoThreads.threads = 2
	tests := []struct {
		name  string
		m     awaitMeasured
		claim int // 0: await frees the thread, 1: blocking stops the loop
		want  string
		why   string
	}{
		{"await: holds", loop([]int{600, 610, 590}, []int{0, 0, 0}), 0, lab.Holds, ""},
		{"await: others slowed to a third", loop([]int{200, 190, 210}, []int{0, 0, 0}), 0, lab.Differs, "slowed down"},
		{"await: waits on both sides of half", loop([]int{200, 300, 400}, []int{0, 0, 0}), 0, lab.Inconclusive, "reaches across"},
		{"await: on a busy machine", busy, 0, lab.Inconclusive, "busy"},
		{"await: tasks on two threads", twoThreads, 0, lab.Inconclusive, "more than one thread"},
		{"await: no awaits", loop(nil, []int{0}), 0, lab.Inconclusive, "No await was timed"},

		{"blocking: holds", loop([]int{600}, []int{0, 0, 0}), 1, lab.Holds, ""},
		{"blocking: others kept going", loop([]int{600}, []int{500, 550, 600}), 1, lab.Differs, "did not hold the loop's thread"},
		{"blocking: on both sides of 5%", loop([]int{600}, []int{0, 30, 60}), 1, lab.Inconclusive, "reaches across"},
		{"blocking: holds on a busy machine too", func() awaitMeasured { m := loop([]int{600}, []int{0, 0}); m.load = busy.load; return m }(), 1, lab.Holds, ""},
		{"blocking: no blocking reads", loop([]int{600}, nil), 1, lab.Inconclusive, "No blocking read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			metrics, claims := awaitResult(tt.m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
			}
			c := claims[tt.claim]
			if c.Verdict != tt.want {
				t.Errorf("%q: got %s (%s; measured %s), want %s", c.Claim, c.Verdict, c.Why, c.Measured, tt.want)
			}
			if (c.Verdict == lab.Holds) != (c.Why == "") {
				t.Errorf("%q is %s with why %q", c.Claim, c.Verdict, c.Why)
			}
			if !strings.Contains(c.Why, tt.why) {
				t.Errorf("why %q, want it to say %q", c.Why, tt.why)
			}
			checkMetricKeys(t, metrics, awaitConditional)
		})
	}
}

// Without python3 both claims are inconclusive and say why.
func TestJudgeNoLoop(t *testing.T) {
	t.Parallel()
	for i, c := range judgeNoLoop("python3 is not installed") {
		if c.Verdict != lab.Inconclusive || c.Why != "python3 is not installed" {
			t.Errorf("claim %d: %s, %q", i, c.Verdict, c.Why)
		}
	}
}

// A full result has every conditional key; a run without python3 has
// only the one that says so.
func TestAwaitConditional(t *testing.T) {
	t.Parallel()
	metrics, _ := awaitResult(loop([]int{600}, []int{0}))
	have := map[string]bool{}
	for _, m := range metrics {
		have[m.Key] = true
	}
	for _, k := range awaitConditional {
		if !have[k] {
			t.Errorf("a full run lacks %s", k)
		}
	}
	if !have[keyAwaitPython] || len(metrics) != len(awaitConditional)+1 {
		t.Errorf("keys %v, want python.found and the conditional ones", have)
	}
}
