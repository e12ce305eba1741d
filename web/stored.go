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
	"conclab/internal/protocol"
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
		if e.Type == protocol.EventLog {
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
	if c.Kind == protocol.ChartSched {
		return schedView(c, runs)
	}
	v := ui.ChartView{Chart: c}
	t := &chartTable{c: c}
	var ids, labels []string
	for _, run := range runs {
		ids = append(ids, run.id)
		if run.label != "" {
			labels = append(labels, run.label)
		}
		t.addRun(run)
	}
	v.Head = t.head()
	rows := append(t.rows, t.tail()...)
	if len(rows) > maxRows {
		v.More = len(rows) - maxRows
		rows = rows[:maxRows]
	}
	v.Rows = rows
	v.Runs = joinSpace(ids)
	v.Labels = joinSpace(labels)
	return v
}

// chartTable gathers a chart's data, run by run, into its table.
type chartTable struct {
	c     lab.Chart
	rows  [][]string // line and lanes charts: in the order they came
	bars  []bar      // a bars chart: the last of each label and series
	hists []histSeries
}

type bar struct {
	label, series string
	value, lo, hi float64
}

// addRun takes one run's events of the chart.
func (t *chartTable) addRun(run runEvents) {
	bySeries := map[string][][]string{}
	var order []string
	for _, ev := range run.evs {
		if ev.Chart != t.c.ID {
			continue
		}
		switch {
		case t.c.Kind == protocol.ChartLine && (ev.Type == protocol.EventPoint || ev.Type == protocol.EventPoints):
			xs, ys := numbers(ev.X), numbers(ev.Y)
			s := run.name(ev.Series)
			if _, ok := bySeries[s]; !ok {
				order = append(order, s)
			}
			for i := 0; i < len(xs) && i < len(ys); i++ {
				bySeries[s] = append(bySeries[s], []string{s, format.Number(xs[i]), format.Number(ys[i])})
			}
		case t.c.Kind == protocol.ChartBars && ev.Type == protocol.EventBar:
			b := bar{label: ev.Label, series: ev.Series, value: ev.Value, lo: ev.Lo, hi: ev.Hi}
			if run.label != "" {
				b.series = run.name(ev.Series)
			}
			if i := slices.IndexFunc(t.bars, func(x bar) bool { return x.label == b.label && x.series == b.series }); i >= 0 {
				t.bars[i] = b
			} else {
				t.bars = append(t.bars, b)
			}
		case t.c.Kind == protocol.ChartHist && ev.Type == protocol.EventHist:
			s := run.name(ev.Series)
			if i := slices.IndexFunc(t.hists, func(h histSeries) bool { return h.series == s }); i >= 0 {
				t.hists[i].bins = ev.Bins
			} else {
				t.hists = append(t.hists, histSeries{s, ev.Bins})
			}
		case t.c.Kind == protocol.ChartLanes && ev.Type == protocol.EventSpan:
			t.rows = append(t.rows, []string{run.name(ev.Lane), ev.Label, format.Number(ev.Start), format.Number(ev.End), format.Number(ev.End - ev.Start)})
		}
	}
	for _, s := range order {
		t.rows = append(t.rows, bySeries[s]...)
	}
}

// head is the table's header row.
func (t *chartTable) head() []string {
	switch t.c.Kind {
	case protocol.ChartLine:
		return []string{"Series", or(t.c.X, "x"), or(t.c.Y, "y")}
	case protocol.ChartBars:
		return []string{or(t.c.X, "What"), or(t.c.Y, "Value"), "Spread"}
	case protocol.ChartHist:
		return []string{"Series", or(t.c.X, "Range"), or(t.c.Y, "Count")}
	case protocol.ChartLanes:
		return []string{"Lane", "What", "Start (ms)", "End (ms)", "Length (ms)"}
	}
	return nil
}

// tail is the rows of a bars or hist chart, made once every run is in.
func (t *chartTable) tail() [][]string {
	var rows [][]string
	for _, b := range t.bars {
		what, spread := b.label, "–"
		if b.series != "" {
			what += " (" + b.series + ")"
		}
		if b.lo != b.hi {
			spread = format.Number(b.lo) + " – " + format.Number(b.hi)
		}
		rows = append(rows, []string{what, format.Number(b.value), spread})
	}
	for _, h := range t.hists {
		for _, b := range h.bins {
			if b[2] > 0 {
				rows = append(rows, []string{h.series, format.Number(b[0]) + " – " + format.Number(b[1]), format.Number(b[2])})
			}
		}
	}
	return rows
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
			case ev.Type == protocol.EventSpan:
				rows = append(rows, row{ev.Start, []string{format.Number(ev.Start), lane(ev.Lane), fmt.Sprintf("G%d (%s)", ev.G, ev.Label),
					strconv.FormatInt(ev.M, 10), fmt.Sprintf("ran %s ms, until %s", format.Number(ev.End-ev.Start), ev.Why)}})
			case ev.Type == protocol.EventMark:
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
		if ev.Type != protocol.EventRow || ev.Table != t.ID {
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
