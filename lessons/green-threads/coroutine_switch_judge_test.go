package greenthreads

import (
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/internal/pingpong"
)

// pp is a ping-pong whose batches gave these ns per switch.
func pp(ns ...float64) pingpong.Result {
	return pingpong.Result{PerSwitch: ns, Rounds: 1000 * len(ns)}
}

// holdingCoro is a quiet two-CPU run in which both claims hold.
func holdingCoro() coroMeasured {
	return coroMeasured{
		switches: map[string]pingpong.Result{
			"coroutine": pp(38, 39, 40, 41, 42),
			"goroutine": pp(120, 125, 130, 135, 140),
			"thread":    pp(2500, 2600, 2700, 2800, 2900),
		},
		coro:   workRun{wall: 1200 * time.Millisecond, cpu: 1200 * time.Millisecond},
		goro:   workRun{wall: 620 * time.Millisecond, cpu: 1210 * time.Millisecond},
		usable: 2, tasks: 8,
	}
}

// TestCoroutinesOnEveryMachine: with the default settings (two tasks per
// CPU) the claims come out as their words call for on every machine
// shape: "goroutines can use them all" means all 64 on a 64-CPU server,
// not the 1.4 CPUs that once stood for it, and one CPU cannot show it.
func TestCoroutinesOnEveryMachine(t *testing.T) {
	t.Parallel()
	for _, mc := range labtest.Machines {
		m := holdingCoro()
		m.usable, m.tasks = mc.CPUs, 2*mc.CPUs
		m.goro = workRun{wall: time.Duration(float64(1200*time.Millisecond) / (0.95 * float64(mc.Cores))), cpu: 1200 * time.Millisecond}
		m.goro.cpu = time.Duration(0.95 * float64(mc.CPUs) * float64(m.goro.wall))
		_, claims := judgeCoroutineSwitch(m)
		want := lab.Holds
		if mc.CPUs < 2 {
			want = lab.Inconclusive
		}
		if c := claims[0]; c.Verdict != lab.Holds {
			t.Errorf("%s: %q: %s (%s), want holds", mc.Name, c.Claim, c.Verdict, c.Why)
		}
		if c := claims[1]; c.Verdict != want {
			t.Errorf("%s: %q: %s (%s), want %s", mc.Name, c.Claim, c.Verdict, c.Why, want)
		}
		if mc.CPUs >= 8 {
			m.goro.cpu = time.Duration(1.4 * float64(m.goro.wall))
			if _, c := judgeCoroutineSwitch(m); c[1].Verdict != lab.Differs {
				t.Errorf("%s: goroutines on 1.4 of %d CPUs: %s, want differs", mc.Name, mc.CPUs, c[1].Verdict)
			}
		}
		if p := coroutineSwitch().Params[1].On(mc.CPUs); p.Default.(int) < mc.CPUs {
			t.Errorf("%s: %v tasks by default, fewer than the CPUs", mc.Name, p.Default)
		}
	}
}

func TestJudgeCoroutineSwitch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim int
		edit  func(m *coroMeasured)
		want  string
		why   string // words of the reason that tell the branches apart
	}{
		{"cheapest: holds", 0, func(*coroMeasured) {}, lab.Holds, ""},
		{"cheapest: lowest median, overlapping batches", 0, func(m *coroMeasured) {
			m.switches["goroutine"] = pp(39, 40, 45, 50, 60)
		}, lab.Inconclusive, "reaches across"},
		{"cheapest: the goroutine switch won", 0, func(m *coroMeasured) { m.switches["goroutine"] = pp(30, 31, 32, 33, 34) }, lab.Differs, "was not the cheapest"},
		{"cheapest: a thread switch only four times dearer", 0, func(m *coroMeasured) { m.switches["thread"] = pp(160, 165, 170, 175, 180) }, lab.Differs, "five times"},
		{"cheapest: a kind not timed", 0, func(m *coroMeasured) { m.switches["thread"] = pingpong.Result{} }, lab.Inconclusive, "Not every kind"},

		{"one CPU: holds", 1, func(*coroMeasured) {}, lab.Holds, ""},
		{"one CPU: one usable CPU", 1, func(m *coroMeasured) { m.usable = 1 }, lab.Inconclusive, "Only one CPU"},
		{"one CPU: the coroutines' process used more", 1, func(m *coroMeasured) { m.coro.cpu = 1510 * time.Millisecond }, lab.Differs, "more than one CPU busy"},
		{"one CPU: the goroutines got no second CPU", 1, func(m *coroMeasured) { m.goro.cpu = 860 * time.Millisecond }, lab.Differs, "not about all of them"},
		{"one CPU: at the edge, 1.6 of 2 CPUs", 1, func(m *coroMeasured) { m.goro.cpu = 992 * time.Millisecond }, lab.Holds, ""},
		{"one CPU: work not timed", 1, func(m *coroMeasured) { m.goro = workRun{} }, lab.Inconclusive, "not timed"},
		{"one CPU: on a busy machine", 1, func(m *coroMeasured) { m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second} }, lab.Inconclusive, "busy"},
		{"cheapest: on a busy machine", 0, func(m *coroMeasured) { m.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second} }, lab.Inconclusive, "busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := holdingCoro()
			tt.edit(&m)
			metrics, claims := judgeCoroutineSwitch(m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
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
			checkMetricKeys(t, metrics, nil)
		})
	}
}

// The recap finds the coroutine switch, and the memory per goroutine, by
// the keys the lesson offers it.
func TestRecapKeys(t *testing.T) {
	t.Parallel()
	coro, _ := judgeCoroutineSwitch(holdingCoro())
	spawn, _ := judgeSpawnMany(holdingSpawn())
	results := map[string][]lab.Metric{"coroutine-switch": coro, "spawn-many": spawn}
	if len(Lesson.Recap) != 2 {
		t.Errorf("the lesson offers %d recap figures, want 2", len(Lesson.Recap))
	}
	for _, f := range Lesson.Recap {
		if _, ok := lab.FindMetric(results[f.Experiment], f.Key); !ok {
			t.Errorf("recap figure %q: %s has no metric %q", f.What, f.Experiment, f.Key)
		}
	}
}
