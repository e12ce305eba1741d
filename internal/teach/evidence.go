package teach

import (
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// Run is one of the learner's stored runs, as an exercise reads it.
type Run struct {
	ID         string
	Experiment string
	Params     map[string]any
	Metrics    []lab.Metric
	Ended      time.Time
}

// Evidence is what the learner's runs showed for an exercise: the newest
// run matching each of its needs, in order (a zero Run where none does).
type Evidence struct {
	Runs []Run
	// Trace, when set, is told of every figure read; a test uses it to
	// check that an exercise reads only the keys its needs declare.
	Trace func(need int, key string)
}

// Metric is a figure of the run matching need i, found by key.
func (e Evidence) Metric(i int, key string) (lab.Metric, bool) {
	if e.Trace != nil {
		e.Trace(i, key)
	}
	if i < 0 || i >= len(e.Runs) {
		return lab.Metric{}, false
	}
	return lab.FindMetric(e.Runs[i].Metrics, key)
}

// Value is the number of a figure of the run matching need i.
func (e Evidence) Value(i int, key string) (float64, bool) {
	m, ok := e.Metric(i, key)
	return m.Value, ok
}

// Figure prints a figure of the run matching need i with its unit, as the
// pages print figures, or says it was not measured.
func (e Evidence) Figure(i int, key string) string {
	m, ok := e.Metric(i, key)
	switch {
	case !ok:
		return "(not measured in your run)"
	case m.Unit == "×":
		return format.Times(m.Value)
	}
	return format.Figure(m.Value, m.Unit)
}

// Complete reports whether a run matched every need.
func (e Evidence) Complete() bool {
	for _, r := range e.Runs {
		if r.ID == "" {
			return false
		}
	}
	return len(e.Runs) > 0
}

// Matches reports whether a run's parameters have the values the need
// sets. exp is the need's experiment: both sides are read through its
// parameters, so 4 and 4.0 and "4" are the same value.
func (n Need) Matches(exp *lab.Experiment, r Run) bool {
	if r.Experiment != n.Experiment {
		return false
	}
	want, err := exp.Validate(n.Params, false)
	if err != nil {
		return false
	}
	got, err := exp.Validate(known(exp, r.Params), false)
	if err != nil {
		return false
	}
	for k := range n.Params {
		if want[k] != got[k] {
			return false
		}
	}
	return true
}

// known keeps the parameters the experiment still takes: a run stored by
// an older version may carry one it has dropped.
func known(exp *lab.Experiment, params map[string]any) map[string]any {
	out := map[string]any{}
	for _, p := range exp.Params {
		if v, ok := params[p.Name]; ok {
			out[p.Name] = v
		}
	}
	return out
}

// Gather picks, for each need, the newest of runs that matches it. runs
// may be in any order; find looks experiments up.
func (x Exercise) Gather(runs []Run, find Experiments) Evidence {
	ev := Evidence{Runs: make([]Run, len(x.Needs))}
	for i, n := range x.Needs {
		exp, ok := find(n.Experiment)
		if !ok {
			continue
		}
		for _, r := range runs {
			if n.Matches(exp, r) && (ev.Runs[i].ID == "" || r.Ended.After(ev.Runs[i].Ended)) {
				ev.Runs[i] = r
			}
		}
	}
	return ev
}

// Outcome is how an answered exercise came out once its runs exist.
type Outcome struct {
	Right       bool
	Known       bool // false: the runs could not tell, and Right is false
	Explanation string
}

// Settle judges an answer against the learner's runs and writes the
// explanation from them. Call it only with complete evidence.
func (x Exercise) Settle(ev Evidence, value float64) Outcome {
	q := x.Asked()
	out := Outcome{Right: q.Correct(value), Known: true, Explanation: q.Explain}
	if x.Judge != nil {
		out.Right, out.Known = x.Judge(ev, value)
		out.Right = out.Right && out.Known
	}
	if x.Explain != nil {
		out.Explanation = x.Explain(ev)
	}
	return out
}

// ByRuns makes an exercise's Judge from a function that reads which
// choice the learner's runs make right (ok false when they cannot tell).
func ByRuns(right func(ev Evidence) (choice int, ok bool)) func(Evidence, float64) (bool, bool) {
	return func(ev Evidence, v float64) (bool, bool) {
		c, ok := right(ev)
		return ok && int(v) == c, ok
	}
}

// Ratio is a/b for two figures of the learner's runs (need i's key a over
// need j's key b); ok is false when either is missing or b is not
// positive.
func (e Evidence) Ratio(i int, a string, j int, b string) (float64, bool) {
	x, ok1 := e.Value(i, a)
	y, ok2 := e.Value(j, b)
	if !ok1 || !ok2 || y <= 0 {
		return 0, false
	}
	return x / y, true
}
