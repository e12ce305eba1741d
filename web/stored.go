package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/store"
	"conclab/internal/tracefile"
	"conclab/web/ui"
)

// A stored run's panel, rendered on the server from its events: the
// verdicts, the metrics, the live tables as the run left them and each
// chart's data as a table, so that the page reads whole without
// JavaScript. static/js/stored.js draws the charts from the same events.

// drawn are the event types a stored panel is made of.
var drawn = []string{"row", "point", "points", "bar", "hist", "span", "mark", "log"}

// maxRows bounds a chart's table, as charts.js does.
const maxRows = 400

// compareLimit is how many runs "compare with…" offers.
const compareLimit = 50

func (s *Server) storedRun(r store.Run, me learner.ID) (ui.StoredRun, error) {
	stored, err := s.Store.Events(r.ID, drawn...)
	if err != nil {
		return ui.StoredRun{}, err
	}
	evs := decode(stored)
	v := ui.StoredRun{Host: s.Host, Run: s.row(r, me, false), Measured: r.Host, Error: r.Error, Source: r.Source,
		Created: r.Created, Started: r.Started, Ended: r.Ended, Imported: r.Imported,
		Events: r.Events, Dropped: r.Dropped, Lost: r.Lost, Running: !r.Finished()}
	if _, l, ok := s.Course.Find(r.Lesson); ok && l.Page != nil {
		i, _, _ := s.Course.Find(r.Lesson)
		ref := s.Course.Ref(i)
		v.Lesson = &ref
	}
	body := r.Body()
	v.Metrics, v.Claims = body.Metrics, body.Claims
	exp, known := s.Course.Registry().Lookup(r.Experiment)
	if known {
		v.Summary = exp.Summary
		if len(v.Claims) == 0 {
			v.Claims = exp.Claims // what it would have judged, with no verdict
		}
		for _, c := range exp.Charts {
			v.Charts = append(v.Charts, chartView(c, []runEvents{{id: r.ID, evs: evs}}))
		}
		for _, t := range exp.Tables {
			v.Tables = append(v.Tables, tableView(t, evs))
		}
	}
	if v.Trace, v.TraceCut, err = s.traceOf(r.ID); err != nil {
		return ui.StoredRun{}, err
	}
	v.Params = paramsOf(exp, r.Params)
	for _, e := range evs {
		if e.Type == "log" {
			v.Log = append(v.Log, e.Message)
		}
	}
	if r.Finished() {
		others, err := s.Store.Others(r.Experiment, r.ID, string(me), compareLimit)
		if err != nil {
			return v, err
		}
		v.Others = s.rows(others, me, false)
	}
	return v, nil
}

// traceOf is the size of the execution trace a run carries, if any, and
// whether it was cut.
func (s *Server) traceOf(id string) (int, bool, error) {
	evs, err := s.Store.Events(id, tracefile.FileType)
	if err != nil || len(evs) == 0 {
		return 0, false, err
	}
	var f tracefile.File
	if err := json.Unmarshal(evs[len(evs)-1].JSON, &f); err != nil {
		return 0, false, nil // a file event that does not decode offers nothing
	}
	return f.Bytes, f.Cut, nil
}

// paramsOf lists a run's parameters in the experiment's form order.
func paramsOf(exp *lab.Experiment, params map[string]any) []ui.KV {
	var out []ui.KV
	seen := map[string]bool{}
	if exp != nil {
		for _, p := range exp.Params {
			if v, ok := params[p.Name]; ok {
				out = append(out, ui.KV{Name: p.Name, Value: cell(v)})
				seen[p.Name] = true
			}
		}
	}
	var rest []string
	for k := range params {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, ui.KV{Name: k, Value: cell(params[k])})
	}
	return out
}

// cell prints a value the way the page script does.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return format.Number(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// runEvents are one run's events for a chart; label names the run in an
// overlay of several.
type runEvents struct {
	id, label string
	evs       []drawnEvent
}

// name is a series (or lane) of the run as an overlay names it: after the
// run, when there are several.
func (r runEvents) name(series string) string {
	switch {
	case r.label == "":
		return series
	case series == "":
		return r.label
	}
	return r.label + ": " + series
}

// or is s, or d when s is empty.
func or(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

// drawnEvent is any event a stored panel draws, decoded once.
type drawnEvent struct {
	Type    string          `json:"type"`
	Chart   string          `json:"chart"`
	Series  string          `json:"series"`
	Label   string          `json:"label"`
	Lane    string          `json:"lane"`
	X       json.RawMessage `json:"x"`
	Y       json.RawMessage `json:"y"`
	Value   float64         `json:"value"`
	Lo      float64         `json:"lo"`
	Hi      float64         `json:"hi"`
	Bins    [][3]float64    `json:"bins"`
	Start   float64         `json:"start"`
	End     float64         `json:"end"`
	Table   string          `json:"table"`
	Key     string          `json:"key"`
	Cells   map[string]any  `json:"cells"`
	Message string          `json:"message"`
	G       int64           `json:"g"`    // a sched chart's goroutine
	M       int64           `json:"m"`    // and thread
	Why     string          `json:"why"`  // how a sched span ended
	Text    string          `json:"text"` // what a sched mark means, in words
}

// decode reads the events a stored panel draws.
func decode(evs []store.Event) []drawnEvent {
	out := make([]drawnEvent, 0, len(evs))
	for _, e := range evs {
		var d drawnEvent
		if json.Unmarshal(e.JSON, &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

type histSeries struct {
	series string
	bins   [][3]float64
}

// chartView is a chart of one run, or of several overlaid (their series
// named after each run's label), with its data as a table.
func chartView(c lab.Chart, runs []runEvents) ui.ChartView {
	if c.Kind == "sched" {
		return schedView(c, runs)
	}
	v := ui.ChartView{Chart: c}
	var ids, labels []string
	var rows [][]string
	type bar struct {
		label, series string
		value, lo, hi float64
	}
	var bars []bar
	var hists []histSeries
	for _, run := range runs {
		ids = append(ids, run.id)
		if run.label != "" {
			labels = append(labels, run.label)
		}
		name := run.name
		bySeries := map[string][][]string{}
		var order []string
		for _, ev := range run.evs {
			if ev.Chart != c.ID {
				continue
			}
			switch {
			case c.Kind == "line" && (ev.Type == "point" || ev.Type == "points"):
				xs, ys := numbers(ev.X), numbers(ev.Y)
				s := name(ev.Series)
				if _, ok := bySeries[s]; !ok {
					order = append(order, s)
				}
				for i := 0; i < len(xs) && i < len(ys); i++ {
					bySeries[s] = append(bySeries[s], []string{s, format.Number(xs[i]), format.Number(ys[i])})
				}
			case c.Kind == "bars" && ev.Type == "bar":
				b := bar{label: ev.Label, series: ev.Series, value: ev.Value, lo: ev.Lo, hi: ev.Hi}
				if run.label != "" {
					b.series = name(ev.Series)
				}
				if i := slices.IndexFunc(bars, func(x bar) bool { return x.label == b.label && x.series == b.series }); i >= 0 {
					bars[i] = b
				} else {
					bars = append(bars, b)
				}
			case c.Kind == "hist" && ev.Type == "hist":
				s := name(ev.Series)
				if i := slices.IndexFunc(hists, func(h histSeries) bool { return h.series == s }); i >= 0 {
					hists[i].bins = ev.Bins
				} else {
					hists = append(hists, histSeries{s, ev.Bins})
				}
			case c.Kind == "lanes" && ev.Type == "span":
				rows = append(rows, []string{name(ev.Lane), ev.Label, format.Number(ev.Start), format.Number(ev.End), format.Number(ev.End - ev.Start)})
			}
		}
		for _, s := range order {
			rows = append(rows, bySeries[s]...)
		}
	}
	switch c.Kind {
	case "line":
		v.Head = []string{"Series", or(c.X, "x"), or(c.Y, "y")}
	case "bars":
		v.Head = []string{or(c.X, "What"), or(c.Y, "Value"), "Spread"}
		for _, b := range bars {
			what, spread := b.label, "–"
			if b.series != "" {
				what += " (" + b.series + ")"
			}
			if b.lo != b.hi {
				spread = format.Number(b.lo) + " – " + format.Number(b.hi)
			}
			rows = append(rows, []string{what, format.Number(b.value), spread})
		}
	case "hist":
		v.Head = []string{"Series", or(c.X, "Range"), or(c.Y, "Count")}
		for _, h := range hists {
			for _, b := range h.bins {
				if b[2] > 0 {
					rows = append(rows, []string{h.series, format.Number(b[0]) + " – " + format.Number(b[1]), format.Number(b[2])})
				}
			}
		}
	case "lanes":
		v.Head = []string{"Lane", "What", "Start (ms)", "End (ms)", "Length (ms)"}
	}
	if len(rows) > maxRows {
		v.More = len(rows) - maxRows
		rows = rows[:maxRows]
	}
	v.Rows = rows
	v.Runs = joinSpace(ids)
	v.Labels = joinSpace(labels)
	return v
}

func joinSpace(s []string) string { return strings.Join(s, " ") }

// schedView is a scheduler's lanes (kind "sched") as a table: its spans
// and marks in time order, as static/js/sched.js lists them.
func schedView(c lab.Chart, runs []runEvents) ui.ChartView {
	v := ui.ChartView{Chart: c, Head: []string{"Time (ms)", "P", "Goroutine", "Thread", "What happened"}}
	type row struct {
		at    float64
		cells []string
	}
	var rows []row
	var ids, labels []string
	for _, run := range runs {
		ids = append(ids, run.id)
		if run.label != "" {
			labels = append(labels, run.label)
		}
		lane := run.name
		for _, ev := range run.evs {
			switch {
			case ev.Chart != c.ID:
			case ev.Type == "span":
				rows = append(rows, row{ev.Start, []string{format.Number(ev.Start), lane(ev.Lane), fmt.Sprintf("G%d (%s)", ev.G, ev.Label),
					strconv.FormatInt(ev.M, 10), fmt.Sprintf("ran %s ms, until %s", format.Number(ev.End-ev.Start), ev.Why)}})
			case ev.Type == "mark":
				at, g := 0.0, "–"
				if x := numbers(ev.X); len(x) > 0 {
					at = x[0]
				}
				if ev.G > 0 {
					g = fmt.Sprintf("G%d", ev.G)
				}
				rows = append(rows, row{at, []string{format.Number(at), lane(ev.Lane), g, strconv.FormatInt(ev.M, 10), ev.Text}})
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.at, b.at) })
	for _, r := range rows[:min(len(rows), maxRows)] {
		v.Rows = append(v.Rows, r.cells)
	}
	v.More = max(0, len(rows)-maxRows)
	v.Runs, v.Labels = joinSpace(ids), joinSpace(labels)
	return v
}

// numbers reads a number or an array of numbers.
func numbers(raw json.RawMessage) []float64 {
	var one float64
	if json.Unmarshal(raw, &one) == nil {
		return []float64{one}
	}
	var many []float64
	json.Unmarshal(raw, &many)
	return many
}

// tableView is a live table as the run's row events left it: each row
// replaced by the next with its key, in the order rows first came.
func tableView(t lab.Table, evs []drawnEvent) ui.TableView {
	v := ui.TableView{Table: t}
	at := map[string]int{}
	for _, ev := range evs {
		if ev.Type != "row" || ev.Table != t.ID {
			continue
		}
		row := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			row[i] = cell(ev.Cells[c.Key])
		}
		if i, ok := at[ev.Key]; ok {
			v.Rows[i] = row
		} else {
			at[ev.Key] = len(v.Rows)
			v.Rows = append(v.Rows, row)
		}
	}
	return v
}
