package concurrencyvsparallelism

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/internal/probe"
)

// msd is a duration of so many milliseconds.
func msd(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// on is a span of a task on a CPU, in ms since the phase started.
func on(cpu int, start, end float64) span { return span{start: msd(start), end: msd(end), cpu: cpu} }

// timeline is a measured phase: each task's spans and CPU time (ms), and
// the wall time (ms).
type timeline struct {
	mode  string
	cpus  []int
	wall  float64
	tasks []taskTimeline
}

type taskTimeline struct {
	name  string
	cpuMs float64
	spans []span
}

func (tl timeline) result() *phaseResult {
	r := &phaseResult{mode: tl.mode, cpus: tl.cpus, wall: msd(tl.wall), spans: map[string][]span{}}
	for _, tt := range tl.tasks {
		r.tasks = append(r.tasks, &task{name: tt.name, cpus: tl.cpus, usage: probe.Usage{User: msd(tt.cpuMs)}})
		r.spans[tt.name] = tt.spans
	}
	return r
}

// alternating is A and B taking turns on one CPU, four turns each of
// turn ms, each task using cpuMs of CPU in all.
func alternating(cpu int, turn, cpuMs, wall float64) *phaseResult {
	tl := timeline{mode: "concurrent", cpus: []int{cpu}, wall: wall}
	a := taskTimeline{name: "A", cpuMs: cpuMs}
	b := taskTimeline{name: "B", cpuMs: cpuMs}
	for i := range 4 {
		t0 := float64(2*i) * turn
		a.spans = append(a.spans, on(cpu, t0, t0+turn))
		b.spans = append(b.spans, on(cpu, t0+turn, t0+2*turn))
	}
	tl.tasks = []taskTimeline{a, b}
	return tl.result()
}

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

// busyLoad is a machine whose other programs kept one of two CPUs busy.
var busyLoad = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}

func TestJudgeTurns(t *testing.T) {
	t.Parallel()
	moved := alternating(0, 75, 300, 600)
	moved.spans["B"][1].cpu = 1
	oneAfterOther := timeline{mode: "concurrent", cpus: []int{0}, wall: 600, tasks: []taskTimeline{
		{"A", 300, []span{on(0, 0, 300)}}, {"B", 300, []span{on(0, 300, 600)}},
	}}.result()
	tests := []struct {
		name    string
		r       *phaseResult
		verdict string
		whyHas  string
	}{
		{"sum of CPU times", alternating(0, 75, 300, 610), lab.Holds, ""},
		{"wall at 1.25 × the sum", alternating(0, 75, 300, 750), lab.Holds, ""},
		{"wall at 0.85 × the sum", alternating(0, 75, 300, 510), lab.Holds, ""},
		{"wall beyond about the sum", alternating(0, 75, 300, 760), lab.Differs, "gave it to other programs"},
		{"wall well under the sum", alternating(0, 75, 300, 470), lab.Inconclusive, "accounting was too coarse"},
		{"one after the other", oneAfterOther, lab.Differs, "instead of taking turns"},
		{"on a busy machine", alternating(0, 75, 300, 610), lab.Inconclusive, "busy"},
		{"pinning did not hold", moved, lab.Inconclusive, "pinning did not hold"},
		{"not run", nil, lab.Inconclusive, "no concurrent timeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			load := lab.Load{}
			if tt.name == "on a busy machine" {
				load = busyLoad
			}
			checkVerdict(t, judgeTurns(tt.r, load), tt.verdict, tt.whyHas)
		})
	}
}

// sideBySide is A on CPU 0 and B on CPU 1, each running from its start
// to its end (ms), each using cpuMs of CPU.
func sideBySide(mode string, cpuMs, aEnd, bStart, bEnd float64) *phaseResult {
	return timeline{mode: mode, cpus: []int{0, 1}, wall: max(aEnd, bEnd), tasks: []taskTimeline{
		{"A", cpuMs, []span{on(0, 0, aEnd)}}, {"B", cpuMs, []span{on(1, bStart, bEnd)}},
	}}.result()
}

func TestJudgeOverlap(t *testing.T) {
	t.Parallel()
	two := verdictContext{cpus: 2, allowed: 2, asked: 2, alone: msd(300)}
	hyper := verdictContext{cpus: 2, cores: 1, allowed: 2, asked: 2, alone: msd(300)}
	together := timeline{mode: "parallel", cpus: []int{0, 1}, wall: 600, tasks: []taskTimeline{
		{"A", 300, []span{on(0, 0, 300)}}, {"B", 300, []span{on(0, 300, 600)}},
	}}.result()
	tests := []struct {
		name    string
		phases  map[string]*phaseResult
		vc      verdictContext
		verdict string
		whyHas  string
	}{
		{"in parallel", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 300, 0, 300)}, two, lab.Holds, ""},
		{"against the concurrent timeline", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 300, 0, 300), "concurrent": alternating(0, 75, 300, 600)}, two, lab.Holds, ""},
		{"speedup at 0.8 × N", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 375, 0, 375)}, two, lab.Holds, ""},
		{"combined when parallel did not run", map[string]*phaseResult{"combined": sideBySide("combined", 300, 300, 0, 300)}, two, lab.Holds, ""},
		{"speedup short of 0.8 × N", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 380, 0, 380)}, two, lab.Differs, "less than 2 CPUs allow"},
		// Two busy CPUs are not a speedup: two hyper-threads of one core
		// each ran the whole time and used 480 ms of CPU for 300 ms of
		// work. CPU time ÷ wall says 2; the wall clock says 1.25.
		{"two busy hyper-threads, not twice as fast", map[string]*phaseResult{"parallel": sideBySide("parallel", 480, 480, 0, 480)}, hyper, lab.Differs, "hyper-threads"},
		{"overlap under half the wall", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 300, 200, 500)}, two, lab.Differs, "CPU 1 ran none of the tasks for 200"},
		{"all on one CPU", map[string]*phaseResult{"parallel": together}, two, lab.Differs, "Every sample came from one CPU"},
		{"one CPU chosen", map[string]*phaseResult{"parallel": together}, verdictContext{cpus: 1, allowed: 2, asked: 1}, lab.Inconclusive, "You chose one CPU"},
		{"one CPU usable", map[string]*phaseResult{"parallel": together}, verdictContext{cpus: 1, allowed: 1, asked: 2}, lab.Inconclusive, "Only one CPU is usable here"},
		{"one CPU of quota", map[string]*phaseResult{"parallel": together}, verdictContext{cpus: 1, allowed: 4, quota: 1, asked: 2}, lab.Inconclusive, "cgroup quota"},
		{"in parallel on a busy machine", map[string]*phaseResult{"parallel": sideBySide("parallel", 300, 300, 0, 300)}, verdictContext{cpus: 2, allowed: 2, asked: 2, alone: msd(300), load: busyLoad}, lab.Inconclusive, "busy"},
		{"only concurrent ran", map[string]*phaseResult{"concurrent": alternating(0, 75, 300, 610)}, two, lab.Inconclusive, "only the concurrent timeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkVerdict(t, judgeOverlap(tt.phases, tt.vc), tt.verdict, tt.whyHas)
		})
	}
}

// With the concurrent and parallel timelines the result has the recap's
// speedup; the turn length, conditional, only where a turn ended.
func TestTimelineResult(t *testing.T) {
	t.Parallel()
	tm := timelineMeasured{
		phases: map[string]*phaseResult{
			"concurrent": alternating(0, 75, 300, 600),
			"parallel":   sideBySide("parallel", 300, 300, 0, 300),
		},
		host:       verdictContext{cpus: 2, allowed: 2, asked: 2, alone: msd(300)},
		sampleCost: 100 * time.Nanosecond,
		chunk:      30 * time.Microsecond,
	}
	metrics, claims := timelineResult(tm)
	if len(claims) != 2 {
		t.Fatalf("%d claims, want 2", len(claims))
	}
	seen := map[string]bool{}
	for _, m := range metrics {
		if !lab.ValidKey(m.Key) || seen[m.Key] {
			t.Errorf("metric %q: key %q malformed or repeated", m.Name, m.Key)
		}
		seen[m.Key] = true
	}
	if m, ok := lab.FindMetric(metrics, keySpeedupOverConcurrent); !ok || m.Value != 2 {
		t.Errorf("%s = %v (found %v), want 2", keySpeedupOverConcurrent, m.Value, ok)
	}
	if !seen["turn_length.concurrent"] || seen["turn_length.parallel"] {
		t.Errorf("turn lengths: concurrent %v, parallel %v; want only the concurrent one", seen["turn_length.concurrent"], seen["turn_length.parallel"])
	}
	conditional := map[string]bool{}
	for _, k := range timelineConditional() {
		conditional[k] = true
	}
	for _, key := range []string{"wall_time.parallel", "cpu_time.sum.parallel", "speedup.parallel", "cpus_busy.parallel", "work.per_task", "turn_changes.parallel", "cpus_seen.parallel", "getcpu_cost"} {
		if !seen[key] {
			t.Errorf("no metric %s", key)
		}
		if conditional[key] {
			t.Errorf("%s is declared conditional", key)
		}
	}
}

// parallelOn is the parallel timeline of n tasks of 300 ms of work on a
// quiet machine of this shape: one task per CPU, CPUs spread over the
// cores first; a task that shares its core with another takes 1.6 times
// as long (hyper-threads give a core about a quarter more, not double).
func parallelOn(mc labtest.Machine, n int) *phaseResult {
	tl := timeline{mode: "parallel"}
	for i := range n {
		work := 300.0
		if n > mc.Cores && i%mc.Cores < n-mc.Cores {
			work = 480
		}
		tl.cpus = append(tl.cpus, i)
		tl.tasks = append(tl.tasks, taskTimeline{taskName(i), work, []span{on(i, 0, work+5)}})
		tl.wall = max(tl.wall, work+5)
	}
	return tl.result()
}

// TestOverlapOnEveryMachine: with the default (every usable CPU) the
// parallel claim holds by the wall clock where each task has a core of
// its own, is inconclusive on one CPU, and differs with hyper-threads —
// where CPU time ÷ wall, the figure once called speedup, would have said
// it held.
func TestOverlapOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		n := max(2, mc.CPUs)
		if mc.CPUs < 2 {
			n = 1
		}
		r := parallelOn(mc, n)
		vc := verdictContext{cpus: n, cores: min(n, mc.Cores), allowed: mc.CPUs, asked: max(2, mc.CPUs), alone: msd(300)}
		c := judgeOverlap(map[string]*phaseResult{"parallel": r}, vc)
		want := lab.Holds
		switch {
		case n < 2:
			want = lab.Inconclusive
		case mc.SMT():
			want = lab.Differs
			if r.busyCPUs() < 0.9*float64(n) {
				t.Errorf("%s: the hyper-threads kept only %.2f CPUs busy; the case is meant to keep all %d busy", mc.Name, r.busyCPUs(), n)
			}
		}
		if c.Verdict != want {
			t.Errorf("%s: %s (%s; measured %s), want %s", mc.Name, c.Verdict, c.Why, c.Measured, want)
		}
		if mc.SMT() {
			// One CPU per core: the claim holds again.
			r := parallelOn(mc, mc.Cores)
			vc := verdictContext{cpus: mc.Cores, cores: mc.Cores, allowed: mc.CPUs, asked: mc.Cores, alone: msd(300)}
			if c := judgeOverlap(map[string]*phaseResult{"parallel": r}, vc); c.Verdict != lab.Holds {
				t.Errorf("%s, one CPU per core: %s (%s)", mc.Name, c.Verdict, c.Why)
			}
		}
		if p := cpuTimeline().Params[2].On(mc.CPUs); p.Max < float64(mc.CPUs) || p.Default.(int) < min(mc.CPUs, 2) {
			t.Errorf("%s: cpus up to %v, default %v", mc.Name, p.Max, p.Default)
		}
	}
}
