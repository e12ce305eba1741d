package ui

import (
	"encoding/json"
	"testing"

	"conclab/internal/lab"
)

// Figure must print numbers as static/js/format.js does.
func TestFigure(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.3614, "0.361"}, {1, "1"}, {3.5, "3.5"}, {16.104, "16.1"}, {20, "20"},
		{99.996, "100"}, {1442.4, "1442"}, {28714.2, "28,714"}, {-28714.2, "-28,714"}, {1.06e6, "1.06 M"}, {1.2e9, "1.2 G"},
	} {
		if got := Figure(c.in, ""); got != c.want {
			t.Errorf("Figure(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Figure(4.68, "µs"); got != "4.68 µs" {
		t.Errorf("with a unit: %q", got)
	}
}

func TestFindMetric(t *testing.T) {
	t.Parallel()
	res, _ := json.Marshal(map[string]any{"type": "result", "metrics": []lab.Metric{
		{Name: "Switch, goroutines, same CPU", Value: 0.2, Unit: "µs"},
		{Name: "Switch, OS threads, same CPU", Value: 4, Unit: "µs"},
	}})
	if m, ok := FindMetric(res, []string{"switch,", "os threads"}); !ok || m.Value != 4 {
		t.Errorf("FindMetric = %+v, %v", m, ok)
	}
	if _, ok := FindMetric(res, []string{"process"}); ok {
		t.Error("found a metric that is not there")
	}
	p := Page{Latest: func(string) (lab.Info, bool) { return lab.Info{Result: res}, true }}
	if got := p.LatestFigure("switch-cost", "GOROUTINES|same"); got != "0.2 µs" {
		t.Errorf("LatestFigure = %q", got)
	}
	if got := (Page{}).LatestFigure("switch-cost", "x"); got != "" {
		t.Errorf("LatestFigure without a scheduler = %q", got)
	}
}
