package lessons_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"conclab/internal/labtest"
	"conclab/lessons"
	"conclab/lessons/choosing"
	"conclab/web/ui"
)

func init() { checks["workload-lab"] = checkWorkloadLab }

var workloadStrategies = []string{"sequential", "one-cpu", "all-cpus", "processes", "mixed"}

// workload-lab in quick mode: 12 tasks.
func checkWorkloadLab(t *testing.T, r *labtest.Run) {
	checkWorkloadRun(t, r, 12)
}

// checkWorkloadRun checks what holds on any machine: every strategy
// completed every task with the same results, all five are ranked by
// wall time, and the claim got a verdict.
func checkWorkloadRun(t *testing.T, r *labtest.Run, tasks int) {
	t.Helper()
	rows := r.Rows("strategies")
	want := fmt.Sprintf("%d / %d", tasks, tasks)
	sum := rows["sequential"]["checksum"]
	if s, _ := sum.(string); s == "" {
		t.Errorf("sequential has no checksum: %v", rows["sequential"])
	}
	for _, k := range workloadStrategies {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no row for strategy %s", k)
			continue
		}
		if row["done"] != want {
			t.Errorf("%s: %v tasks done, want %s", k, row["done"], want)
		}
		if row["state"] != "finished" {
			t.Errorf("%s: state %v, want finished", k, row["state"])
		}
		if row["checksum"] != sum {
			t.Errorf("%s: checksum %v, sequential's %v: the strategies did not compute the same results", k, row["checksum"], sum)
		}
		if num(row["wall"]) <= 0 || num(row["cpu"]) <= 0 || num(row["memory"]) <= 0 {
			t.Errorf("%s: wall %v ms, CPU %v ms, memory %v MiB", k, row["wall"], row["cpu"], row["memory"])
		}
	}

	ranking := r.Rows("ranking")
	if len(ranking) != len(workloadStrategies) {
		t.Fatalf("ranking has %d rows, want %d: %v", len(ranking), len(workloadStrategies), ranking)
	}
	seen := map[string]bool{}
	prev := 0.0
	for i := 1; i <= len(workloadStrategies); i++ {
		row := ranking[fmt.Sprint(i)]
		if row == nil || num(row["rank"]) != float64(i) {
			t.Fatalf("ranking row %d: %v", i, row)
		}
		seen[fmt.Sprint(row["strategy"])] = true
		if w := num(row["wall"]); w < prev || w <= 0 {
			t.Errorf("rank %d has wall time %v ms after %v ms: not ranked by wall time", i, w, prev)
		} else {
			prev = w
		}
	}
	if len(seen) != len(workloadStrategies) {
		t.Errorf("the ranking names %d distinct strategies, want %d: %v", len(seen), len(workloadStrategies), seen)
	}
	if len(r.Claims) != 1 || r.Claims[0].Verdict == "" {
		t.Errorf("want one claim with a verdict, got %+v", r.Claims)
	}
	if s := r.Key(t, "speedup.fastest_over_sequential").Value; s < 1 {
		t.Errorf("fastest strategy is %v× sequential; sequential is one of the strategies, so it cannot be below 1", s)
	}
	if st := r.Key(t, "processes.startup"); st.Value <= 0 {
		t.Errorf("process pool start-up %v ms", st.Value)
	}
	if len(r.Of("bar")) < 2*len(workloadStrategies) || len(r.Of("points")) < len(workloadStrategies) {
		t.Errorf("live chart events: %d bars, %d points", len(r.Of("bar")), len(r.Of("points")))
	}
}

// TestWorkloadLabClasses runs the lab on an I/O-heavy, a CPU-heavy and a
// mixed workload: each completes, is ranked and gets a verdict, and the
// lab names the workload's class from the settings.
func TestWorkloadLabClasses(t *testing.T) {
	reg := lessons.Registry()
	cases := []struct {
		name  string
		set   map[string]string
		class string
	}{
		{"io-heavy", map[string]string{"tasks": "16", "cpu_ms": "0.1", "io_ms": "20"}, "I/O-bound"},
		{"cpu-heavy", map[string]string{"tasks": "8", "cpu_ms": "6", "io_ms": "0"}, "CPU-bound"},
		{"mixed", map[string]string{"tasks": "12", "cpu_ms": "2", "io_ms": "3"}, "mixed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := labtest.RunQuick(t, reg, "workload-lab", c.set)
			labtest.CheckContract(t, r)
			labtest.CheckKeys(t, r)
			var n int
			fmt.Sscan(c.set["tasks"], &n)
			checkWorkloadRun(t, r, n)
			if m := r.Claims[0].Measured; !strings.HasPrefix(m, c.class+" workload") {
				t.Errorf("measured %q, want it to start with the class %q", m, c.class)
			}
		})
	}
}

// The course's recap holds what the lessons offer, in course order, each
// with its lesson filled in; this lesson's own figure and lesson 4's two
// speedups are among them, by key, and the page renders them all.
func TestCourseRecapOffersTheseFigures(t *testing.T) {
	t.Parallel()
	recap := lessons.Course().Recap()
	want := map[string]ui.RecapFigure{
		"I/O-bound tasks, most workers":                 {Group: ui.RecapSpeedups, Experiment: "scaling", Key: "speedup.io_bound.all_cpus.most_workers"},
		"CPU-bound tasks, most workers":                 {Group: ui.RecapSpeedups, Experiment: "scaling", Key: "speedup.cpu_bound.all_cpus.most_workers"},
		"Your workload, fastest strategy vs sequential": {Group: ui.RecapSpeedups, Experiment: "workload-lab", Key: "speedup.fastest_over_sequential"},
	}
	last := 0
	for _, f := range recap {
		if f.Lesson.Number < last || f.Lesson.Slug == "" || f.Lesson.Title == "" {
			t.Errorf("recap figure %q: lesson %+v after lesson %d, want the course's lessons in order", f.What, f.Lesson, last)
		}
		last = f.Lesson.Number
		w, ok := want[f.What]
		if !ok {
			continue
		}
		delete(want, f.What)
		if f.Group != w.Group || f.Experiment != w.Experiment || f.Key != w.Key {
			t.Errorf("recap figure %q = %s %s %s, want %s %s %s", f.What, f.Group, f.Experiment, f.Key, w.Group, w.Experiment, w.Key)
		}
	}
	for what := range want {
		t.Errorf("the course's recap has no figure %q", what)
	}

	exp, _ := lessons.Registry().Lookup("workload-lab")
	p := ui.Page{Panels: map[string]ui.PanelData{"workload-lab": ui.NewPanel(exp)}, Recap: recap}
	var buf bytes.Buffer
	if err := choosing.Page(p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if n, want := strings.Count(buf.String(), `<tr data-recap="`), len(recap); n != want {
		t.Errorf("the page's recap has %d rows, want one per figure the course offers (%d)", n, want)
	}
}
