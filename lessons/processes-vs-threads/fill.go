package processesvsthreads

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"conclab/internal/lab"
	"conclab/web/ui"
)

// The comparison table at the end of the page shows figures from this
// lesson's runs. The page script fills a cell when a run finishes while
// the page is open; latestFigure fills it when the page is rendered, from
// the newest run since the server started, so a reload keeps the figures.

// latestFigure returns the value of the first metric of experiment exp's
// newest finished run whose name holds every |-separated word of words
// (ignoring case, as the page script does), formatted as the page script
// formats it; "" when there is no such run or metric.
func latestFigure(p ui.Page, exp, words string) string {
	if p.Latest == nil {
		return ""
	}
	info, ok := p.Latest(exp)
	if !ok || len(info.Result) == 0 {
		return ""
	}
	var res struct {
		Metrics []lab.Metric `json:"metrics"`
	}
	if json.Unmarshal(info.Result, &res) != nil {
		return ""
	}
	want := strings.Split(strings.ToLower(words), "|")
	for _, m := range res.Metrics {
		name := strings.ToLower(m.Name)
		all := true
		for _, w := range want {
			all = all && strings.Contains(name, w)
		}
		if all {
			return figure(m.Value) + " " + m.Unit
		}
	}
	return ""
}

// figure prints a number with about three significant digits, like fmt in
// static/js/format.js.
func figure(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a == 0:
		return "0"
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + " G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + " M"
	case a >= 1e4:
		return groupThousands(int64(math.Round(v)))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		s := strconv.FormatFloat(v, 'f', 2, 64)
		s = strings.TrimRight(s, "0")
		return strings.TrimSuffix(s, ".")
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func groupThousands(n int64) string {
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
