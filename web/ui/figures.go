package ui

import (
	"encoding/json"
	"strings"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// Figure is the value and unit of the metric with this key in experiment
// exp's newest run that finished ok; "" when there is no such run or
// metric. Lesson pages fill their summary tables with it.
func (p Page) Figure(exp, key string) string {
	m, ok := p.LatestMetric(exp, key)
	if !ok {
		return ""
	}
	return format.Figure(m.Value, m.Unit)
}

// LatestMetric is the metric with this key in experiment exp's newest run
// that finished ok.
func (p Page) LatestMetric(exp, key string) (lab.Metric, bool) {
	if p.Trace != nil {
		p.Trace(exp, key)
	}
	if p.Latest == nil {
		return lab.Metric{}, false
	}
	info, ok := p.Latest(exp)
	if !ok || len(info.Result) == 0 {
		return lab.Metric{}, false
	}
	body, err := lab.DecodeResult(info.Result)
	if err != nil {
		return lab.Metric{}, false
	}
	return lab.FindMetric(body.Metrics, key)
}

// LatestFigure finds a figure by the words of its metric's name.
//
// Deprecated: names are for people; find figures by key with Figure.
// LatestFigure goes once every lesson page uses keys.
func (p Page) LatestFigure(exp, words string) string {
	if p.Latest == nil {
		return ""
	}
	info, ok := p.Latest(exp)
	if !ok {
		return ""
	}
	m, ok := FindMetric(info.Result, strings.Split(words, "|"))
	if !ok {
		return ""
	}
	return format.Figure(m.Value, m.Unit)
}

// FindMetric finds the first metric whose name holds every word.
//
// Deprecated: find metrics by key with lab.FindMetric.
func FindMetric(result json.RawMessage, words []string) (lab.Metric, bool) {
	body, err := lab.DecodeResult(result)
	if err != nil {
		return lab.Metric{}, false
	}
	for _, m := range body.Metrics {
		name := strings.ToLower(m.Name)
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(name, strings.ToLower(w))
		}
		if ok {
			return m, true
		}
	}
	return lab.Metric{}, false
}

// Figure prints a number and its unit.
//
// Deprecated: use format.Figure.
func Figure(v float64, unit string) string { return format.Figure(v, unit) }
