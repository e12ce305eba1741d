package ui

import (
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
	m, ok := p.Latest[exp]
	if !ok {
		return lab.Metric{}, false
	}
	return lab.FindMetric(m.Metrics, key)
}
