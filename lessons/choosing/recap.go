package choosing

import (
	"strings"
	"time"

	"github.com/a-h/templ"

	"conclab/internal/lab"
	"conclab/web/ui"
)

// The recap is a table of what this machine measured across the course.
// Each row names an experiment and the words of the metric it shows; the
// figure comes from the experiment's latest run that finished since the
// server started. An experiment that has not run, or does not exist yet,
// shows "no run yet" and a link to where it runs. Words match the way
// lessons/README.md's data-fill does: the first metric whose name contains
// every word, ignoring case.

// recapRow is one line of the recap.
type recapRow struct {
	exp    string   // experiment id
	lesson string   // slug of the lesson it belongs to
	what   string   // what the figure is, in the table's words
	claim  string   // what the course claims about it, briefly
	words  []string // words of the metric's name, lower case
}

// recapGroup is a titled block of rows.
type recapGroup struct {
	title string
	rows  []recapRow
}

var recapTable = []recapGroup{
	{"Switch costs", []recapRow{
		{"switch-cost", "context-switching", "Goroutine switch, same CPU", "far below a thread switch", []string{"switch,", "goroutines, same cpu"}},
		{"switch-cost", "context-switching", "OS thread switch, same CPU", "1–10 µs", []string{"switch,", "os threads, same cpu"}},
		{"switch-cost", "context-switching", "Process switch, same CPU", "10–100 µs", []string{"switch,", "processes, same cpu"}},
		{"coroutine-switch", "green-threads", "Coroutine switch (iter.Pull)", "the cheapest switch there is", []string{"coroutine", "switch"}},
		{"yield-batching", "context-switching", "One yield between goroutines", "costs far more than a tiny task", []string{"cost of one yield", "goroutines"}},
	}},
	{"Creation costs", []recapRow{
		{"spawn-cost", "processes-vs-threads", "Creating a process", "slowest to create", []string{"process"}},
		{"spawn-cost", "processes-vs-threads", "Creating an OS thread", "cheaper than a process", []string{"thread"}},
		{"spawn-cost", "processes-vs-threads", "Creating a goroutine", "cheapest of the three", []string{"goroutine"}},
	}},
	{"Memory per unit", []recapRow{
		{"memory-footprint", "processes-vs-threads", "Memory per process", "far more than a thread", []string{"memory", "process"}},
		{"memory-footprint", "processes-vs-threads", "Memory per OS thread", "stack reserved, mostly not resident", []string{"memory", "thread"}},
		{"spawn-many", "green-threads", "Memory per goroutine, many alive", "a few KB", []string{"memory", "goroutine"}},
	}},
	{"Communication", []recapRow{
		{"message-passing", "processes-vs-threads", "Pipe between processes", "slower than shared memory", []string{"pipe"}},
		{"message-passing", "processes-vs-threads", "Channel between goroutines", "shared memory inside one process", []string{"channel"}},
	}},
	{"Speed-ups", []recapRow{
		{"cpu-timeline", "concurrency-vs-parallelism", "CPU-bound tasks, all CPUs vs one", "towards the number of CPUs", []string{"speed-up"}},
		{"scaling", "cpu-vs-io-bound", "I/O-bound tasks, most workers", "grows far past the core count", []string{"speed-up", "i/o"}},
		{"scaling", "cpu-vs-io-bound", "CPU-bound tasks, most workers", "stops at the core count", []string{"speed-up", "cpu"}},
		{"workload-lab", Slug, "Your workload, fastest strategy vs sequential", "depends on the workload", []string{"speed-up", "fastest"}},
	}},
}

// lessonNames are the lessons the recap links to, as the course numbers them.
var lessonNames = map[string]string{
	"processes-vs-threads":       "1. Processes vs threads",
	"concurrency-vs-parallelism": "2. Concurrency vs parallelism",
	"context-switching":          "3. Context switching",
	"cpu-vs-io-bound":            "4. CPU-bound vs I/O-bound",
	"green-threads":              "6. Green threads and coroutines",
	Slug:                         "7. Choosing a model (above)",
}

// recapLine is a row as the page shows it.
type recapLine struct {
	recapRow
	ran    bool      // the experiment has a finished run since the server started
	found  bool      // and its result has a metric with the row's words
	ended  time.Time // when that run ended
	value  string    // the figure with its unit
	metric string    // the metric's full name
	n      int       // samples behind the figure, when it says
}

// recapLines fills the table from the latest runs. latest may be nil (a
// page rendered without a scheduler): every row then has no run.
func recapLines(latest func(string) (lab.Info, bool)) []recapGroupLines {
	var out []recapGroupLines
	for _, g := range recapTable {
		gl := recapGroupLines{title: g.title}
		for _, row := range g.rows {
			line := recapLine{recapRow: row}
			if latest != nil {
				if info, ok := latest(row.exp); ok {
					line.ran, line.ended = true, info.Ended
					if m, ok := ui.FindMetric(info.Result, row.words); ok {
						line.found, line.value, line.metric, line.n = true, ui.Figure(m.Value, m.Unit), m.Name, m.N
					}
				}
			}
			gl.lines = append(gl.lines, line)
		}
		out = append(out, gl)
	}
	return out
}

type recapGroupLines struct {
	title string
	lines []recapLine
}

func (r recapRow) link() templ.SafeURL {
	return templ.SafeURL("/lessons/" + r.lesson + "#exp-" + r.exp)
}

func (r recapRow) lessonName() string {
	if n, ok := lessonNames[r.lesson]; ok {
		return n
	}
	return r.lesson
}

func (r recapRow) metricWords() string { return strings.Join(r.words, "|") }

func (l recapLine) when() string     { return l.ended.UTC().Format("Jan 2, 15:04:05") + " UTC" }
func (l recapLine) datetime() string { return l.ended.UTC().Format(time.RFC3339) }

// recapFor is the recap of the page's latest runs.
func recapFor(p ui.Page) []recapGroupLines { return recapLines(p.Latest) }

// lineState is a row's data-state: ran (with its figure), missing (ran,
// but no figure by the row's words) or none (no run yet).
func lineState(l recapLine) string {
	switch {
	case l.found:
		return "ran"
	case l.ran:
		return "missing"
	}
	return "none"
}
