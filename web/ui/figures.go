package ui

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"conclab/internal/lab"
)

// Figures from results, shown by the server: lesson pages fill summary
// tables from the newest runs, and the command line prints reports. They
// match static/js/format.js, so a cell filled on the server reads the same
// as one the page script fills.

// FindMetric decodes a result event and finds the first metric whose name
// contains every word, ignoring case (the data-fill convention).
func FindMetric(result json.RawMessage, words []string) (lab.Metric, bool) {
	var body struct {
		Metrics []lab.Metric `json:"metrics"`
	}
	if len(result) == 0 || json.Unmarshal(result, &body) != nil {
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

// LatestFigure is the value and unit of the first metric of experiment
// exp's newest finished run whose name holds every |-separated word of
// words; "" when there is no such run or metric.
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
	return Figure(m.Value, m.Unit)
}

// Figure prints a number with about three significant digits, and its
// unit when there is one.
func Figure(v float64, unit string) string {
	s := number(v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

func number(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a == 0:
		return "0"
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + " G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + " M"
	case a >= 1e4:
		return thousands(int64(math.Round(v)))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
