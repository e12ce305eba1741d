package ui

import (
	"encoding/json"
	"testing"

	"conclab/internal/lab"
)

func TestPageFigureFindsByKey(t *testing.T) {
	t.Parallel()
	res, _ := json.Marshal(map[string]any{"type": "result", "metrics": []lab.Metric{
		{Key: "switch.goroutine.same_cpu", Name: "Switch, goroutines, same CPU", Value: 0.2, Unit: "µs"},
		{Key: "switch.thread.same_cpu", Name: "Switch, OS threads, same CPU", Value: 4, Unit: "µs"},
	}})
	p := Page{Latest: func(string) (lab.Info, bool) { return lab.Info{Result: res}, true }}
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
		t.Errorf("Figure without a scheduler = %q, want empty", got)
	}
}
