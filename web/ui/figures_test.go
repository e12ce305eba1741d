package ui

import (
	"testing"

	"conclab/internal/lab"
)

func TestPageFigureFindsByKey(t *testing.T) {
	t.Parallel()
	p := Page{Latest: map[string]Measured{"switch-cost": {Metrics: []lab.Metric{
		{Key: "switch.goroutine.same_cpu", Name: "Switch, goroutines, same CPU", Value: 0.2, Unit: "µs"},
		{Key: "switch.thread.same_cpu", Name: "Switch, OS threads, same CPU", Value: 4, Unit: "µs"},
	}}}}
	for _, c := range []struct{ key, want string }{
		{"switch.thread.same_cpu", "4 µs"},
		{"switch.goroutine.same_cpu", "0.2 µs"},
		{"Switch, OS threads, same CPU", ""}, // a name is not a key
		{"switch.process.same_cpu", ""},
	} {
		if got := p.Figure("switch-cost", c.key); got != c.want {
			t.Errorf("Figure(%q) = %q, want %q", c.key, got, c.want)
		}
	}
	if got := (Page{}).Figure("switch-cost", "switch.thread.same_cpu"); got != "" {
		t.Errorf("Figure with no runs = %q, want empty", got)
	}
}
