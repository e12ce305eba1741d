package lessons_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/lessons"
	"conclab/lessons/choosing"
	"conclab/web/ui"
)

func init() { checks["workload-lab"] = checkWorkloadLab }

var workloadStrategies = []string{"sequential", "one-cpu", "all-cpus", "processes", "mixed"}

// workload-lab in quick mode: 12 tasks.
func checkWorkloadLab(t *testing.T, r *labtest.Run) { checkWorkloadRun(t, r, 12) }

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
			t.Errorf("%s: wall %v ms, CPU %v ms, memory %v MB", k, row["wall"], row["cpu"], row["memory"])
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
	if s := r.Metric(t, "Speed-up", "fastest").Value; s < 1 {
		t.Errorf("fastest strategy is %v× sequential; sequential is one of the strategies, so it cannot be below 1", s)
	}
	if st := r.Metric(t, "Start-up of the process pool"); st.Value <= 0 {
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
			var n int
			fmt.Sscan(c.set["tasks"], &n)
			checkWorkloadRun(t, r, n)
			if m := r.Claims[0].Measured; !strings.HasPrefix(m, c.class+" workload") {
				t.Errorf("measured %q, want it to start with the class %q", m, c.class)
			}
		})
	}
}

// renderPage renders the lesson's content as the server would, with
// latest standing in for the scheduler.
func renderPage(t *testing.T, latest func(string) (lab.Info, bool)) string {
	t.Helper()
	exp, _ := lessons.Registry().Lookup("workload-lab")
	p := ui.Page{Panels: map[string]ui.PanelData{"workload-lab": ui.NewPanel(exp)}, Latest: latest}
	var buf bytes.Buffer
	if err := choosing.Page(p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var recapRowRE = regexp.MustCompile(`(?s)<tr data-recap="([^"]+)" data-state="([^"]+)">(.*?)</tr>`)

type recapHTMLRow struct{ exp, state, html string }

func recapRows(t *testing.T, page string) []recapHTMLRow {
	t.Helper()
	var rows []recapHTMLRow
	for _, m := range recapRowRE.FindAllStringSubmatch(page, -1) {
		rows = append(rows, recapHTMLRow{m[1], m[2], m[3]})
	}
	if len(rows) < 10 {
		t.Fatalf("the recap has %d rows, want at least 10", len(rows))
	}
	return rows
}

// Without any run (no scheduler, or one that has seen no runs), every row
// says so and links to where its experiment runs.
func TestRecapWithoutRuns(t *testing.T) {
	t.Parallel()
	none := func(string) (lab.Info, bool) { return lab.Info{}, false }
	for name, latest := range map[string]func(string) (lab.Info, bool){"nil Latest": nil, "no runs": none} {
		t.Run(name, func(t *testing.T) {
			page := renderPage(t, latest)
			for _, row := range recapRows(t, page) {
				if row.state != "none" || !strings.Contains(row.html, "no run yet") {
					t.Errorf("%s: state %q, want none with \"no run yet\"", row.exp, row.state)
				}
				if !strings.Contains(row.html, `#exp-`+row.exp+`"`) {
					t.Errorf("%s: no link to the experiment: %s", row.exp, row.html)
				}
			}
			for _, link := range []string{`href="/lessons/context-switching#exp-switch-cost"`, `href="/lessons/processes-vs-threads#exp-spawn-cost"`, `href="/lessons/choosing#exp-workload-lab"`} {
				if !strings.Contains(page, link) {
					t.Errorf("the recap has no link %s", link)
				}
			}
		})
	}
}

// With runs, a row shows the figure of the latest run by its metric words,
// with the run's time; a run without that figure says so; experiments
// without runs still say "no run yet". The switch-cost result comes from
// a real quick run, so the recap's words match the real metric names.
func TestRecapWithRuns(t *testing.T) {
	r := labtest.RunQuick(t, lessons.Registry(), "switch-cost", map[string]string{"across": "false"})
	result, err := json.Marshal(r.Last("result"))
	if err != nil {
		t.Fatal(err)
	}
	ended := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	runs := map[string]lab.Info{
		"switch-cost": {Experiment: "switch-cost", Ended: ended, Result: result},
		// A run whose result lacks the figure the recap looks for.
		"yield-batching": {Experiment: "yield-batching", Ended: ended, Result: json.RawMessage(`{"type":"result","metrics":[{"name":"Something else","value":1,"unit":"x"}]}`)},
	}
	latest := func(id string) (lab.Info, bool) { i, ok := runs[id]; return i, ok }
	page := renderPage(t, latest)

	goroutine := r.Metric(t, "Switch,", "goroutines, same CPU")
	counts := map[string]int{}
	for _, row := range recapRows(t, page) {
		counts[row.exp+"/"+row.state]++
		switch row.exp {
		case "switch-cost":
			if row.state != "ran" || !strings.Contains(row.html, "Mar 14, 09:26:53 UTC") || !strings.Contains(row.html, `datetime="2025-03-14T09:26:53Z"`) {
				t.Errorf("switch-cost row: state %q, want ran with the run's time: %s", row.state, row.html)
			}
		case "yield-batching":
			if row.state != "missing" || !strings.Contains(row.html, "not in the last run") {
				t.Errorf("yield-batching row: state %q, want missing: %s", row.state, row.html)
			}
		default:
			if row.state != "none" || !strings.Contains(row.html, "no run yet") {
				t.Errorf("%s row: state %q, want none", row.exp, row.state)
			}
		}
	}
	if counts["switch-cost/ran"] != 3 {
		t.Errorf("%d switch-cost rows filled, want 3 (goroutine, thread, process switch): %v", counts["switch-cost/ran"], counts)
	}
	if !strings.Contains(page, goroutine.Name) {
		t.Errorf("the recap does not name the metric %q it shows", goroutine.Name)
	}
}
